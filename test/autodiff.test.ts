import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients as checkGradientsOn, type RefFn } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { valueAndGrad, GradientAccumulator, recordOp } from '../src/autodiff/tape.js';
import { KernelProfiler } from '../src/runtime/profiler.js';
import { binary } from '../src/kernels/elementwise.js';
import * as ad from '../src/autodiff/grads/elementwise.js';
import { reduceToShape, broadcastTo } from '../src/autodiff/kernels/reduce-to-shape.js';
import { reduceToShapeRef, broadcastToRef } from '../src/autodiff/kernels/reduce-to-shape.ref.js';
import { unaryRef, binaryRef } from '../src/kernels/elementwise.ref.js';
import { UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../src/kernels/elementwise.js';
import { ShapeError } from '../src/runtime/errors.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rng = new Rng(99);
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

function checkGradients(gpu: (xs: Tensor[]) => Tensor, ref: RefFn, inputs: Float32Array[], shapes: number[][]): void {
  checkGradientsOn(testRuntime(), gpu, ref, inputs, shapes);
}

describe('reduceToShape and broadcastTo kernels', () => {
  const cases: [number[], number[]][] = [
    [[7, 5], [5]],
    [[7, 5], [7, 1]],
    [[7, 5], []],
    [[2, 3, 5], [3, 1]],
    [[3, 7, 9, 6], [1, 7, 1, 6]],
    [[2, 5, 3, 13], [2, 1, 1, 13]],
    [[2, 2, 3, 5, 6], [2, 1, 3, 1, 1]],
    [[600, 9], [9]], // 600 rows: past one texture row, and past one 256-term block
    [[5], [5]],
    [[1], []],
  ];
  it('sums over broadcast dims like the reference (odd sizes, wrapping textures)', () => {
    const rt = testRuntime();
    for (const [big, small] of cases) {
      const x = rng.uniformArray(sizeOf(big));
      rt.scope(() => expectTensorClose(reduceToShape(rt.tensor(x, big), small), reduceToShapeRef(x, big, small), small));
    }
  });
  it('broadcasts back like the reference', () => {
    const rt = testRuntime();
    for (const [big, small] of cases) {
      const g = rng.uniformArray(sizeOf(small));
      rt.scope(() => expectTensorClose(broadcastTo(rt.tensor(g, small), big), broadcastToRef(g, small, big), big));
    }
  });
  it('rejects shapes that do not reduce, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      expect(() => reduceToShape(rt.zeros([4, 6]), [4, 3])).toThrow(ShapeError);
      expect(() => reduceToShape(rt.zeros([4, 6]), [4, 3])).toThrow(/\[4, 6\] down to \[4, 3\]/);
      expect(() => broadcastTo(rt.zeros([2, 3]), [4, 3])).toThrow(/\[2, 3\] and \[4, 3\] cannot broadcast/);
    });
  });
});

function unaryInput(op: UnaryOp, n: number): Float32Array {
  // Away from kinks (relu/abs at 0, clamp bounds, max/min thresholds) where the derivative jumps.
  const x = op === 'log' || op === 'sqrt' || op === 'rdivScalar' ? rng.uniformArray(n, 0.3, 3) : rng.uniformArray(n, -2, 2);
  for (let i = 0; i < n; i++) {
    for (const kink of [0, -0.5, 0.7, 0.1, -0.1]) if (Math.abs(x[i] - kink) < 1e-3) x[i] = kink + 0.05;
  }
  return x;
}

describe('elementwise gradients against finite differences', () => {
  const params: Partial<Record<UnaryOp, [number, number]>> = {
    leakyRelu: [0.2, 0], elu: [1.3, 0], clamp: [-0.5, 0.7], addScalar: [1.5, 0], subScalar: [0.25, 0],
    rsubScalar: [2, 0], mulScalar: [-1.75, 0], divScalar: [3, 0], rdivScalar: [2, 0], powScalar: [3, 0],
    maxScalar: [0.1, 0], minScalar: [-0.1, 0],
  };
  const shapes = [[7, 5], [2, 3, 13], [3, 7, 9, 6]];
  it('every unary op on odd shapes, batch > 1', () => {
    for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
      const [alpha, beta] = params[op] ?? [0, 0];
      for (const shape of shapes) {
        const x = unaryInput(op, sizeOf(shape));
        try {
          checkGradients(([t]) => ad.unaryOp(op, t, alpha, beta), ([v]) => unaryRef(op, v, alpha, beta), [x], [shape]);
        } catch (e) {
          throw new Error(`${op} on [${shape}]: ${(e as Error).message}`);
        }
      }
    }
  });

  const pairs: [number[], number[]][] = [
    [[7, 5], [7, 5]],
    [[2, 3, 5], [5]],
    [[2, 3, 5], [3, 1]],
    [[3, 1, 6], [1, 4, 6]],
    [[1], [3, 7, 9, 6]],
    [[2, 2, 3, 5, 6], [2, 1, 3, 1, 1]],
  ];
  it('every binary op with broadcasting: gradients summed back to each input shape', () => {
    for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
      for (const [sa, sb] of pairs) {
        let a = rng.uniformArray(sizeOf(sa), -2, 2);
        let b = rng.uniformArray(sizeOf(sb), -2, 2);
        if (op === 'pow') { a = rng.uniformArray(sizeOf(sa), 0.5, 2); b = rng.uniformArray(sizeOf(sb), -1.5, 1.5); }
        if (op === 'div') b = rng.uniformArray(sizeOf(sb), 0.5, 2);
        try {
          checkGradients(([x, y]) => ad.binaryOp(op, x, y), ([x, y]) => binaryRef(op, x, sa, y, sb).data, [a, b], [sa, sb]);
        } catch (e) {
          throw new Error(`${op} [${sa}] ∘ [${sb}]: ${(e as Error).message}`);
        }
      }
    }
  });

  it('a composite function: chain rule, fan-out and reuse of one input', () => {
    const sa = [3, 5, 7];
    const sb = [7];
    const a = rng.uniformArray(sizeOf(sa));
    const b = rng.uniformArray(sizeOf(sb));
    checkGradients(
      ([x, w]) => ad.mean(ad.mul(ad.tanh(ad.add(x, w)), ad.sigmoid(ad.mul(x, x)))),
      ([x, w]) => {
        const s = binaryRef('add', x, sa, w, sb).data;
        const t = unaryRef('tanh', s);
        const q = unaryRef('sigmoid', binaryRef('mul', x, sa, x, sa).data);
        let total = 0;
        for (let i = 0; i < t.length; i++) total += t[i] * q[i];
        return [total / t.length];
      },
      [a, b],
      [sa, sb],
    );
  });

  it('sum, sumTo, broadcastTo and view are differentiable', () => {
    const shape = [4, 3, 6];
    const x = rng.uniformArray(sizeOf(shape));
    checkGradients(([t]) => ad.sumTo(ad.square(t), [3, 1]), ([v]) => reduceToShapeRef(unaryRef('square', v), shape, [3, 1]), [x], [shape]);
    checkGradients(([t]) => ad.broadcastTo(ad.view(t, [2, 2, 3, 6]), [2, 2, 3, 6]), ([v]) => v, [x], [shape]);
    checkGradients(([t]) => ad.sum(ad.exp(t)), ([v]) => [unaryRef('exp', v).reduce((p, q) => p + q, 0)], [x], [shape]);
  });
});

describe('tape mechanics', () => {
  it('returns named gradients, zeros for unused parameters, and frees every intermediate', () => {
    const rt = testRuntime();
    const w = rt.keep(rt.tensor([1, 2, 3], [3]));
    const unused = rt.keep(rt.tensor([5, 5], [2]));
    const before = rt.memory();
    const { value, grads } = valueAndGrad((p: { w: Tensor; unused: Tensor }) => ad.sum(ad.square(p.w)))({ w, unused });
    expect(Array.from(value.readSync())).toEqual([14]);
    expect(Array.from(grads.w.readSync())).toEqual([2, 4, 6]);
    expect(Array.from(grads.unused.readSync())).toEqual([0, 0]);
    const after = rt.memory();
    // Exactly the value and two gradients are new.
    expect(after.tensors - before.tensors).toBe(3);
    value.dispose();
    grads.w.dispose();
    grads.unused.dispose();
    expect(rt.memory().liveTextures).toBe(before.liveTextures);
    expect(rt.memory().tensors).toBe(before.tensors);
    w.dispose();
    unused.dispose();
  });

  it('survives user scopes inside f (recorded outputs are kept by the tape)', () => {
    const rt = testRuntime();
    const w = rt.tensor([0.5, -1, 2], [3]);
    const { value, grads } = valueAndGrad(([p]: Tensor[]) => {
      const h = rt.scope(() => ad.mulScalar(ad.exp(p), 2));
      return ad.sum(h);
    })([w]);
    expectTensorClose(grads[0], [0.5, -1, 2].map((v) => 2 * Math.exp(v)), [3]);
    value.dispose();
    grads[0].dispose();
    w.dispose();
  });

  it('a backward may return dy itself, for several inputs, and gradients add up across uses', () => {
    const rt = testRuntime();
    // A custom op a + b whose backward hands the same tensor (dy) to both inputs.
    const plus = (a: Tensor, b: Tensor) => recordOp('plus', [a, b], binary('add', a, b), (dy) => [dy, dy]);
    rt.scope(() => {
      const p = rt.tensor([1, 2, 3], [3]);
      const q = rt.tensor([4, 5, 6], [3]);
      const before = rt.memory().tensors;
      const { value, grads } = valueAndGrad(([a, b]: Tensor[]) => ad.sum(ad.mul(plus(plus(a, a), b), a)))([p, q]);
      // f = Σ (2a + b)·a → df/da = 4a + b, df/db = a
      expect(Array.from(value.readSync())).toEqual([60]);
      expect(Array.from(grads[0].readSync())).toEqual([8, 13, 18]);
      expect(Array.from(grads[1].readSync())).toEqual([1, 2, 3]);
      expect(rt.memory().tensors - before).toBe(3);
    });
  });

  it('the gradients of add, sub and shifts are dY itself: no backward draw but the negation sub\'s b needs', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const p = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
      const q = rt.tensor([0.5, -1, 2], [3]);
      const target = rt.tensor([1, 1, 1, 1, 1, 1], [2, 3]); // a constant: no gradient wanted
      // f = Σ ((p + q) − target + 2)·p − Σ (q − p): df/dp = 2p + q + 2, df/dq_j = Σ_i p_ij − 2
      const f = ([a, b]: Tensor[]) => ad.sub(ad.sum(ad.mul(ad.addScalar(ad.sub(ad.add(a, b), target), 2), a)), ad.sum(ad.sub(b, a)));
      const profiler = new KernelProfiler(rt);
      profiler.start();
      const { value, grads } = valueAndGrad(f)([p, q]);
      profiler.stop();
      expect(value.readSync()[0]).toBeCloseTo(143.5, 4); // 125.5 − (−18)
      expect(Array.from(grads[0].readSync())).toEqual([4.5, 5, 10, 10.5, 11, 16]);
      expect(Array.from(grads[1].readSync())).toEqual([3, 5, 7]);
      const draws = new Map(profiler.report().byKernel.map((k) => [k.key, k.calls]));
      expect(draws.get('binary_backward') ?? 0).toBe(2); // the mul's two partials; add and sub have none
      expect(draws.get('unary_backward') ?? 0).toBe(0); // addScalar passes dY through
      // Negations: the outer sub's b (a sum of parameters) and the inner q − p's b (p); not target's.
      expect(draws.get('unary') ?? 0).toBe(3); // addScalar forward + 2 negations
    });
  });

  it('non-scalar values need a seed of their shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const w = rt.tensor([1, 2], [2]);
      expect(() => valueAndGrad(([p]: Tensor[]) => ad.square(p))([w])).toThrow(/needs a seed tensor/);
      expect(() => valueAndGrad(([p]: Tensor[]) => ad.square(p))([w], rt.tensor([1, 1, 1], [3]))).toThrow(/seed has shape \[3\]/);
      const { grads } = valueAndGrad(([p]: Tensor[]) => ad.square(p))([w], rt.tensor([3, -1], [2]));
      expect(Array.from(grads[0].readSync())).toEqual([6, -4]);
    });
  });

  it('accumulates gradients across micro-batches on the GPU (sum and mean)', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const w = rt.tensor([1, -2, 3, 0.5, 7], [5]);
      const acc = new GradientAccumulator();
      const f = valueAndGrad((p: { w: Tensor }) => ad.sum(ad.mulScalar(ad.square(p.w), 0.5)));
      for (let i = 0; i < 3; i++) {
        const { value, grads } = f({ w });
        value.dispose();
        acc.add(grads);
      }
      expect(acc.count).toBe(3);
      const mean = acc.take({ average: true });
      expectTensorClose(mean.w, [1, -2, 3, 0.5, 7], [5]);
      acc.add(f({ w }).grads);
      acc.add(f({ w }).grads);
      expectTensorClose(acc.take().w, [2, -4, 6, 1, 14], [5]);
      expect(acc.count).toBe(0);
    });
  });

  it('without an active tape the differentiable ops are the plain kernels and record nothing', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor([1, 4, 9], [3]);
      expectTensorClose(ad.sqrt(x), [1, 2, 3], [3]);
    });
  });
});
