/**
 * Training-mode batch norm on dedicated kernels: batch statistics (batchnorm_variance + reduce_rows),
 * the running-average update (batchnorm_running), the backward sums (batchnorm_backward_reduce +
 * reduce_rows) and the input gradient (batchnorm_backward), against float64 references; the whole
 * recorded op against central finite differences; memory over repeated training steps.
 * The test runtime poisons every output with NaN, so an unwritten texel fails the comparison.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { batchNormRunningUpdate, batchNormStats } from '../src/kernels/batchnorm-training.js';
import { batchNormRunningUpdateRef, batchNormStatsRef, batchNormTrainingRef } from '../src/kernels/batchnorm-training.ref.js';
import { batchNormBackwardInput, batchNormBackwardSums, batchNormSumsRow } from '../src/autodiff/kernels/batchnorm-backward.js';
import { batchNormBackwardRef } from '../src/autodiff/kernels/batchnorm-backward.ref.js';
import { batchNormTraining, type RunningStats } from '../src/autodiff/grads/norm.js';
import { mul } from '../src/autodiff/grads/elementwise.js';
import { sum } from '../src/autodiff/grads/reduce.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import type { Runtime, MultiKernelCall } from '../src/runtime/runtime.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rng = new Rng(2024);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Random activations with per-channel means in [−shift, shift] and spreads in [0.2, 2]. */
function activations(shape: readonly number[], shift = 1): Float32Array {
  const c = shape[shape.length - 1];
  const centre = rng.uniformArray(c, -shift, shift);
  const spread = rng.uniformArray(c, 0.2, 2);
  const x = rng.uniformArray(sizeOf(shape), -1, 1);
  return x.map((v, i) => centre[i % c] + spread[i % c] * v);
}

/** Counts kernel draws (runMulti calls) made by fn. */
function countDraws(rt: Runtime, fn: () => void): string[] {
  const original = rt.runMulti.bind(rt);
  const kernels: string[] = [];
  rt.runMulti = (call: MultiKernelCall) => {
    kernels.push(call.kernel);
    return original(call);
  };
  try {
    fn();
  } finally {
    rt.runMulti = original;
  }
  return kernels;
}

// Odd spatial sizes, channels not multiples of 4, batch > 1; rows from 7 (one partial) through 2 310
// (three reduction passes) to 65 536 (16·64·64, four passes: the largest statistics the benchmark takes).
const SHAPES = [[7, 5], [2, 5, 7, 3], [3, 9, 5, 5], [2, 3, 9, 13], [40, 3], [2, 33, 35, 6], [3, 7, 1]];
const LARGE = [16, 64, 64, 5];

describe('batch statistics (batchnorm_variance + reduce_rows)', () => {
  for (const shape of [...SHAPES, LARGE]) {
    it(`mean and biased variance match float64 on ${fmt(shape)}`, () => {
      const rt = testRuntime();
      const c = shape[shape.length - 1];
      const x = activations(shape);
      const want = batchNormStatsRef(x, c);
      rt.scope(() => {
        const { mean, variance } = batchNormStats(rt.tensor(x, shape));
        expectTensorClose(mean, want.mean, [c], 2e-6);
        expectTensorClose(variance, want.variance, [c], 1e-5);
      });
    });
  }
  it('two-pass variance stays accurate when |mean| ≫ std (100 vs 0.2–2) over 65 536 rows', () => {
    const rt = testRuntime();
    const c = LARGE[3];
    const x = activations(LARGE, 100);
    const want = batchNormStatsRef(x, c);
    rt.scope(() => {
      const { mean, variance } = batchNormStats(rt.tensor(x, LARGE));
      expectTensorClose(mean, want.mean, [c], 1e-6);
      // relative to the variance itself (floor 0.01, variances are ≥ 0.013)
      expectTensorClose(variance, want.variance, [c], 1e-4, 0.01);
    });
  });
});

describe('batchNormTraining forward', () => {
  for (const shape of [...SHAPES, LARGE]) {
    for (const [withScale, withOffset] of [[true, true], [true, false], [false, true], [false, false]]) {
      if (shape === LARGE && !(withScale && withOffset)) continue;
      it(`y matches float64 on ${fmt(shape)}${withScale ? ' +scale' : ''}${withOffset ? ' +offset' : ''}`, () => {
        const rt = testRuntime();
        const c = shape[shape.length - 1];
        const x = activations(shape);
        const scale = withScale ? rng.uniformArray(c, -2, 2) : undefined;
        const offset = withOffset ? rng.uniformArray(c, -1, 1) : undefined;
        const want = batchNormTrainingRef(x, c, { scale, offset, epsilon: 1e-3 });
        rt.scope(() => {
          const y = batchNormTraining(rt.tensor(x, shape), {
            scale: scale && rt.tensor(scale, [c]),
            offset: offset && rt.tensor(offset, [c]),
            epsilon: 1e-3,
          });
          expectTensorClose(y, want, shape, 2e-5);
        });
      });
    }
  }
});

describe('running averages (batchnorm_running)', () => {
  it('the kernel matches m·old + (1 − m)·k·batch', () => {
    const rt = testRuntime();
    for (const c of [1, 5, 13]) {
      const old = rng.uniformArray(c, -1, 2);
      const batch = rng.uniformArray(c, -1, 2);
      rt.scope(() => {
        const got = batchNormRunningUpdate(rt.tensor(old, [c]), rt.tensor(batch, [c]), 0.95, 1.25);
        expectTensorClose(got, batchNormRunningUpdateRef(old, batch, 0.95, 1.25), [c], 1e-6);
      });
    }
  });
  for (const [shape, momentum] of [[[3, 5, 7, 13], 0.9], [[2, 33, 35, 6], 0.99], [[40, 3], 0]] as const) {
    it(`batchNormTraining updates them as the reference on ${fmt(shape)}, momentum ${momentum}, and frees the old ones`, () => {
      const rt = testRuntime();
      const c = shape[shape.length - 1];
      const rows = sizeOf(shape) / c;
      const x = activations(shape);
      const oldMean = rng.uniformArray(c, -1, 1);
      const oldVar = rng.uniformArray(c, 0.5, 2);
      const stats = batchNormStatsRef(x, c);
      rt.scope(() => {
        const running: RunningStats = { mean: rt.keep(rt.tensor(oldMean, [c])), variance: rt.keep(rt.tensor(oldVar, [c])) };
        const [m0, v0] = [running.mean, running.variance];
        batchNormTraining(rt.tensor(x, shape), { epsilon: 1e-3, running, momentum });
        expect(m0.isDisposed && v0.isDisposed).toBe(true);
        expectTensorClose(running.mean, batchNormRunningUpdateRef(oldMean, stats.mean, momentum), [c], 2e-6);
        expectTensorClose(running.variance, batchNormRunningUpdateRef(oldVar, stats.variance, momentum, rows / (rows - 1)), [c], 1e-5);
        running.mean.dispose();
        running.variance.dispose();
      });
    });
  }
});

describe('backward kernels (batchnorm_backward_reduce + reduce_rows, batchnorm_backward)', () => {
  for (const shape of [...SHAPES, LARGE]) {
    for (const epsilon of [1e-3, 0]) {
      it(`Σdy, Σdy·x̂, dγ, dβ and dx match float64 on ${fmt(shape)}, ε = ${epsilon}`, () => {
        const rt = testRuntime();
        const c = shape[shape.length - 1];
        const rows = sizeOf(shape) / c;
        const x = activations(shape);
        const dy = rng.uniformArray(sizeOf(shape), -1, 1);
        const scale = rng.uniformArray(c, -2, 2);
        const want = batchNormBackwardRef(dy, x, c, epsilon, scale);
        const wantNoScale = batchNormBackwardRef(dy, x, c, epsilon);
        // Sums over M rows of terms of size ~1: compare with a floor of √M (their random-walk size).
        const floor = Math.sqrt(rows);
        rt.scope(() => {
          const xt = rt.tensor(x, shape);
          const dyt = rt.tensor(dy, shape);
          const { mean, variance } = batchNormStats(xt);
          const saved = { mean, variance, epsilon };
          const sums = batchNormBackwardSums(dyt, xt, saved);
          const both = new Float64Array(2 * c);
          both.set(want.sumDy, 0);
          both.set(want.sumDyXhat, c);
          expectTensorClose(sums, both, [2, c], 1e-5, floor);
          expectTensorClose(batchNormSumsRow(sums, 0), want.sumDy, [c], 1e-5, floor);
          expectTensorClose(batchNormSumsRow(sums, 1), want.sumDyXhat, [c], 1e-5, floor);
          const dxTol = rows > 10000 ? 1e-4 : 2e-5;
          expectTensorClose(batchNormBackwardInput(dyt, xt, saved, sums, rt.tensor(scale, [c])), want.dx, shape, dxTol);
          expectTensorClose(batchNormBackwardInput(dyt, xt, saved, sums), wantNoScale.dx, shape, dxTol);
        });
      });
    }
  }
});

describe('batchNormTraining backward against central differences of the float64 reference', () => {
  const cases: [number[], boolean, boolean][] = [
    [[2, 3, 5, 5], true, true],
    [[3, 5, 3, 3], true, false],
    [[2, 3, 7, 13], false, true],
    [[40, 3], false, false],
    [[3, 7, 6], true, true],
  ];
  for (const [shape, withScale, withOffset] of cases) {
    it(`dx${withScale ? ', dγ' : ''}${withOffset ? ', dβ' : ''} on ${fmt(shape)}`, () => {
      const c = shape[shape.length - 1];
      const shapes = [shape, [c], [c]];
      const inputs = [activations(shape), rng.uniformArray(c, 0.5, 1.5), rng.uniformArray(c, -1, 1)];
      const check = [0, ...(withScale ? [1] : []), ...(withOffset ? [2] : [])];
      checkGradients(
        testRuntime(),
        ([x, g, b]) => batchNormTraining(x, { scale: withScale ? g : undefined, offset: withOffset ? b : undefined, epsilon: 1e-3 }),
        ([x, g, b]) => batchNormTrainingRef(x, c, { scale: withScale ? g : undefined, offset: withOffset ? b : undefined, epsilon: 1e-3 }),
        inputs,
        shapes,
        { check },
      );
    });
  }
  it('only γ and β as parameters (x a constant): no dx is computed', () => {
    const shape = [2, 5, 3, 6];
    const shapes = [shape, [6], [6]];
    const inputs = [activations(shape), rng.uniformArray(6, 0.5, 1.5), rng.uniformArray(6, -1, 1)];
    const rt = testRuntime();
    const draws = countDraws(rt, () =>
      checkGradients(rt, ([x, g, b]) => batchNormTraining(x, { scale: g, offset: b, epsilon: 1e-3 }), ([x, g, b]) => batchNormTrainingRef(x, 6, { scale: g, offset: b, epsilon: 1e-3 }), inputs, shapes, { check: [1, 2] }),
    );
    expect(draws).not.toContain('batchnorm_backward');
  });
});

describe('cost and memory', () => {
  it('forward + backward of one norm: 4 dedicated kernels (2 of them first passes of reductions) and ≤ 13 draws', () => {
    const rt = testRuntime();
    const shape = [4, 16, 16, 6]; // 1 024 rows: each tree is 2 passes
    rt.scope(() => {
      const x = rt.tensor(activations(shape), shape);
      const seed = rt.tensor(rng.uniformArray(sizeOf(shape), -1, 1), shape);
      const scale = rt.tensor(rng.uniformArray(6, 0.5, 1.5), [6]);
      const offset = rt.tensor(rng.uniformArray(6, -1, 1), [6]);
      const running: RunningStats = { mean: rt.keep(rt.zeros([6])), variance: rt.keep(rt.fill([6], 1)) };
      const draws = countDraws(rt, () => {
        valueAndGrad((p: Tensor[]) => batchNormTraining(p[0], { scale: p[1], offset: p[2], epsilon: 1e-3, running, momentum: 0.9 }))([x, scale, offset], seed);
      });
      // forward: mean 2 reduce_rows + variance 1 + 1 reduce_rows + normalise 1 + running 2;
      // backward: sums 1 + 1 reduce_rows, dx 1, dγ and dβ rows 2 (small window copies)
      expect(draws.filter((k) => k === 'batchnorm' || k === 'batchnorm_variance' || k === 'batchnorm_backward_reduce' || k === 'batchnorm_backward').length).toBe(4);
      expect(draws.length).toBeLessThanOrEqual(13);
      running.mean.dispose();
      running.variance.dispose();
    });
  });

  it('outside a tape nothing is retained; under repeated training steps memory stays flat', () => {
    const rt = testRuntime();
    const shape = [3, 9, 7, 5];
    const x = rt.keep(rt.tensor(activations(shape), shape));
    const weights = rt.keep(rt.tensor(rng.uniformArray(sizeOf(shape), -1, 1), shape));
    const params = { gamma: rt.keep(rt.tensor(rng.uniformArray(5, 0.5, 1.5), [5])), beta: rt.keep(rt.tensor(rng.uniformArray(5, -1, 1), [5])) };
    const running: RunningStats = { mean: rt.keep(rt.zeros([5])), variance: rt.keep(rt.fill([5], 1)) };

    const idle = rt.memory();
    rt.scope(() => batchNormTraining(x, { scale: params.gamma, offset: params.beta, epsilon: 1e-3, running })).dispose();
    expect(rt.memory().tensors).toBe(idle.tensors);
    expect(rt.memory().liveTextures).toBe(idle.liveTextures);

    const step = valueAndGrad((p: Record<string, Tensor>) =>
      sum(mul(batchNormTraining(x, { scale: p.gamma, offset: p.beta, epsilon: 1e-3, running, momentum: 0.9 }), weights)),
    );
    const train = (n: number) => {
      for (let i = 0; i < n; i++) {
        rt.scope(() => {
          const { value, grads } = step(params);
          expect(grads.gamma.shape).toEqual([5]);
          return value;
        }).dispose();
      }
    };
    train(3);
    const before = rt.memory();
    train(25);
    const after = rt.memory();
    expect(after.tensors).toBe(before.tensors);
    expect(after.liveTextures).toBe(before.liveTextures);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.pooledBytes).toBeLessThanOrEqual(before.pooledBytes);
    for (const t of [x, weights, params.gamma, params.beta, running.mean, running.variance]) t.dispose();
  });
});
