import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { numericGradient } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { l1Loss, l2Loss, smoothL1Loss, euclideanLoss, softmaxCrossEntropy, l2Regularization } from '../src/autodiff/grads/losses.js';
import { loss, LOSS_KINDS, type LossKind } from '../src/kernels/losses.js';
import { lossRef } from '../src/kernels/losses.ref.js';
import { ShapeError } from '../src/runtime/errors.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rng = new Rng(2024);
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const LOSS_FNS = { l1: l1Loss, l2: l2Loss, smoothL1: smoothL1Loss, euclidean: euclideanLoss, softmaxCrossEntropy } as const;
const SHAPES = [[3, 5], [2, 7, 2], [4, 3, 6], [2, 5, 3, 13]];

function targetsFor(kind: LossKind, shape: number[]): Float32Array {
  if (kind !== 'softmaxCrossEntropy') return rng.uniformArray(sizeOf(shape), -2, 2);
  const k = shape[shape.length - 1];
  return Float32Array.from({ length: sizeOf(shape) / k }, () => rng.int(0, k - 1));
}

// Pull predictions away from targets by more than the finite-difference step, so |d| and smooth L1's
// threshold are never straddled.
function predictionsFor(kind: LossKind, target: Float32Array, shape: number[]): Float32Array {
  const p = rng.uniformArray(sizeOf(shape), -2, 2);
  if (kind === 'softmaxCrossEntropy') return p;
  for (let i = 0; i < p.length; i++) {
    const d = p[i] - target[i];
    if (Math.abs(d) < 0.01 || Math.abs(Math.abs(d) - 0.8) < 0.01) p[i] += 0.05;
  }
  return p;
}

describe('loss values against the float64 reference', () => {
  for (const kind of Object.keys(LOSS_KINDS) as LossKind[]) {
    it(`${kind}: unweighted and per-example weighted, odd shapes`, () => {
      const rt = testRuntime();
      for (const shape of SHAPES) {
        const t = targetsFor(kind, shape);
        const p = predictionsFor(kind, t, shape);
        const w = Float32Array.from({ length: shape[0] }, (_, i) => (i === 1 ? 0 : rng.uniform(0.2, 2)));
        const tShape = kind === 'softmaxCrossEntropy' ? shape.slice(0, -1) : shape;
        rt.scope(() => {
          const pt = rt.tensor(p, shape);
          const tt = rt.tensor(t, tShape);
          expectTensorClose(loss(kind, pt, tt, { beta: 0.8 }), [lossRef(kind, p, t, shape, { beta: 0.8 })], [], 1e-5);
          expectTensorClose(loss(kind, pt, tt, { beta: 0.8, weights: rt.tensor(w, [shape[0]]) }), [lossRef(kind, p, t, shape, { beta: 0.8, weights: w })], [], 1e-5);
        });
      }
    });
  }

  it('a mask of all zeros gives 0, not NaN, and a zero gradient', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const p = rt.tensor(rng.uniformArray(12), [3, 4]);
      const t = rt.tensor(rng.uniformArray(12), [3, 4]);
      const { value, grads } = valueAndGrad(([x]: Tensor[]) => l1Loss(x, t, { weights: rt.zeros([3]) }))([p]);
      expect(Array.from(value.readSync())).toEqual([0]);
      expectTensorClose(grads[0], new Float64Array(12), [3, 4]);
    });
  });

  it('cross-entropy ignores labels outside [0, K) in both sum and count; large segmentation-like input', () => {
    const rt = testRuntime();
    const shape = [2, 30, 40, 13]; // 2400 rows: many 256-term blocks in the GPU sum
    const logits = rng.uniformArray(sizeOf(shape), -4, 4);
    const labels = Float32Array.from({ length: 2400 }, (_, i) => (i % 7 === 0 ? 255 : i % 11 === 0 ? -1 : rng.int(0, 12)));
    rt.scope(() => {
      const got = loss('softmaxCrossEntropy', rt.tensor(logits, shape), rt.tensor(labels, [2, 30, 40]));
      expectTensorClose(got, [lossRef('softmaxCrossEntropy', logits, labels, shape)], [], 1e-5);
    });
  });

  it('rejects mismatched shapes and weights with clear errors', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const p = rt.zeros([4, 3]);
      expect(() => l2Loss(p, rt.zeros([4, 2]))).toThrow(/\[4, 3\] and targets \[4, 2\] differ/);
      expect(() => softmaxCrossEntropy(p, rt.zeros([5]))).toThrow(/4 rows but labels \[5\] hold 5 values/);
      expect(() => l1Loss(p, p, { weights: rt.zeros([3]) })).toThrow(ShapeError);
      expect(() => l1Loss(p, p, { weights: rt.zeros([3]) })).toThrow(/4 examples/);
      expect(() => smoothL1Loss(p, p, { beta: 0 })).toThrow(/beta must be > 0/);
    });
  });
});

describe('loss gradients against finite differences', () => {
  for (const kind of Object.keys(LOSS_KINDS) as LossKind[]) {
    it(`${kind}: predictions${kind === 'softmaxCrossEntropy' ? '' : ' and targets'}, weighted, batch > 1`, () => {
      const rt = testRuntime();
      for (const shape of SHAPES) {
        const t = targetsFor(kind, shape);
        const p = predictionsFor(kind, t, shape);
        const w = Float32Array.from({ length: shape[0] }, (_, i) => (i === 0 ? 0 : rng.uniform(0.2, 2)));
        const tShape = kind === 'softmaxCrossEntropy' ? shape.slice(0, -1) : shape;
        const options = { beta: 0.8, weights: w };
        rt.scope(() => {
          const wt = rt.tensor(w, [shape[0]]);
          const pt = rt.tensor(p, shape);
          const tt = rt.tensor(t, tShape);
          const f = LOSS_FNS[kind];
          const ref = ([pp, tt2]: Float64Array[]) => [lossRef(kind, pp, tt2, shape, options)];
          const dPredWant = numericGradient(ref, [p, t], 0);
          if (kind === 'softmaxCrossEntropy') {
            const { grads } = valueAndGrad(([x]: Tensor[]) => f(x, tt, { beta: 0.8, weights: wt }))([pt]);
            expectTensorClose(grads[0], dPredWant, shape, 1e-3);
          } else {
            const { grads } = valueAndGrad(([x, y]: Tensor[]) => f(x, y, { beta: 0.8, weights: wt }))([pt, tt]);
            expectTensorClose(grads[0], dPredWant, shape, 1e-3);
            expectTensorClose(grads[1], numericGradient(ref, [p, t], 1), shape, 1e-3);
          }
        });
      }
    });
  }

  it('L2 regularisation is λ·½Σw² with gradient λ·w', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const a = rng.uniformArray(15);
      const b = rng.uniformArray(7);
      const { value, grads } = valueAndGrad((p: { a: Tensor; b: Tensor }) => l2Regularization(p, 1e-4))({ a: rt.tensor(a, [3, 5]), b: rt.tensor(b, [7]) });
      let sq = 0;
      for (const v of [...a, ...b]) sq += v * v;
      expectTensorClose(value, [0.5e-4 * sq], [], 1e-5);
      expectTensorClose(grads.a, Array.from(a, (v) => 1e-4 * v), [3, 5], 1e-5);
      expectTensorClose(grads.b, Array.from(b, (v) => 1e-4 * v), [7], 1e-5);
    });
  });
});
