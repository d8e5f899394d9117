import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { maxPool, avgPool, globalAvgPool, resizeBilinear, resizeNearest } from '../src/autodiff/grads/spatial.js';
import { reduce, softmax, logSoftmax } from '../src/autodiff/grads/reduce.js';
import { reshape, transpose, slice, pad, concat } from '../src/autodiff/grads/shape.js';
import { batchNormTraining, batchNormFrozen } from '../src/autodiff/grads/norm.js';
import { batchNormRef } from '../src/kernels/batchnorm.ref.js';
import { resizeBackward } from '../src/autodiff/kernels/resize-backward.js';
import { resizeBackwardRef } from '../src/autodiff/kernels/resize-backward.ref.js';
import { poolRef, globalAvgPoolRef } from '../src/kernels/pool.ref.js';
import { resizeBilinearRef, resizeNearestRef } from '../src/kernels/resize.ref.js';
import { reduceRef } from '../src/kernels/reduce.ref.js';
import { softmaxRef, logSoftmaxRef } from '../src/kernels/softmax.ref.js';
import { reshapeRef } from '../src/kernels/reshape.ref.js';
import { transposeRef } from '../src/kernels/transpose.ref.js';
import { sliceRef } from '../src/kernels/slice.ref.js';
import { padRef } from '../src/kernels/pad.ref.js';
import { concatRef } from '../src/kernels/concat.ref.js';
import type { ReduceOp } from '../src/kernels/reduce.js';
import type { PoolOptions } from '../src/kernels/pool.js';

const rng = new Rng(555);
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const rand = (s: readonly number[]) => rng.uniformArray(sizeOf(s), -1, 1);
const check = (gpu: Parameters<typeof checkGradients>[1], ref: Parameters<typeof checkGradients>[2], shapes: number[][], inputs = shapes.map(rand)) =>
  checkGradients(testRuntime(), gpu, ref, inputs, shapes);

describe('pooling and resize gradients against finite differences', () => {
  const pools: [number[], PoolOptions][] = [
    [[2, 5, 6, 3], { size: 2 }],
    [[2, 7, 5, 6], { size: 3, strides: 2, padding: 'same' }],
    [[1, 6, 6, 5], { size: [3, 2], strides: 1, padding: 'valid' }], // overlapping windows
  ];
  for (const [shape, options] of pools) {
    it(`max and average pooling of [${shape}] ${JSON.stringify(options)}`, () => {
      check(([x]) => maxPool(x, options), ([x]) => poolRef('max', x, shape, options).data, [shape]);
      check(([x]) => avgPool(x, options), ([x]) => poolRef('avg', x, shape, options).data, [shape]);
    });
  }
  it('global average pooling, small and large images (two-level sum)', () => {
    for (const shape of [[2, 3, 5, 6], [2, 13, 11, 3]]) check(([x]) => globalAvgPool(x), ([x]) => globalAvgPoolRef(x, shape).data, [shape]);
  });
  const resizes: [number[], [number, number], object][] = [
    [[2, 4, 5, 3], [7, 9], {}],
    [[1, 9, 7, 5], [4, 3], {}],
    [[2, 4, 5, 3], [7, 3], { alignCorners: true }],
    [[1, 5, 4, 6], [9, 10], { halfPixelCenters: false }],
    [[1, 1, 4, 2], [3, 4], { alignCorners: true }],
  ];
  for (const [shape, size, options] of resizes) {
    it(`bilinear and nearest resize [${shape}] → ${size} ${JSON.stringify(options)}`, () => {
      check(([x]) => resizeBilinear(x, size, options), ([x]) => resizeBilinearRef(x, shape, size, options).data, [shape]);
      check(([x]) => resizeNearest(x, size, options), ([x]) => resizeNearestRef(x, shape, size, options).data, [shape]);
    });
  }
  it('the resize backward kernel matches its reference on a big upsampling (NBF: 128 → 512 style)', () => {
    const rt = testRuntime();
    const inShape = [1, 16, 12, 13];
    const dyShape = [1, 64, 48, 13];
    const dy = rand(dyShape);
    rt.scope(() => {
      for (const kind of ['bilinear', 'nearest'] as const) {
        expectTensorClose(resizeBackward(kind, rt.tensor(dy, dyShape), inShape), resizeBackwardRef(kind, dy, dyShape, inShape), inShape, 1e-5);
      }
    });
  });
});

describe('reduction and softmax gradients against finite differences', () => {
  const cases: [number[], number | number[] | undefined, boolean][] = [
    [[7, 5], 1, false],
    [[7, 5], 0, true],
    [[2, 3, 5, 6], [1, 2], false],
    [[2, 3, 5, 6], [0, 3], true],
    [[3, 4, 5], undefined, false],
  ];
  for (const op of ['sum', 'mean', 'max', 'min'] as ReduceOp[]) {
    it(`${op} over several axis sets`, () => {
      for (const [shape, axes, keepDims] of cases) {
        check(([x]) => reduce(op, x, axes, keepDims), ([x]) => reduceRef(op, x, shape, axes, keepDims).data, [shape]);
      }
    });
  }
  it('max splits the gradient evenly among ties', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor([1, 3, 3, 2, 5, 5, 5, 0], [2, 4]);
      checkGradients(rt, ([t]) => reduce('max', t, 1), ([t]) => reduceRef('max', t, [2, 4], 1).data, [Float32Array.from([0.5, 0.9, 0.1, 0.2, 0.7, 0.3, 0.6, 0.8])], [[2, 4]]);
      void x;
    });
  });
  it('softmax and logSoftmax along the last and an inner axis, K = 13 and K = 300 (composed path)', () => {
    for (const [shape, axis] of [[[4, 13], -1], [[2, 5, 3, 7], 1], [[3, 300], -1]] as [number[], number][]) {
      check(([x]) => softmax(x, axis), ([x]) => softmaxRef(x, shape, axis), [shape]);
      check(([x]) => logSoftmax(x, axis), ([x]) => logSoftmaxRef(x, shape, axis), [shape]);
    }
  });
});

describe('data-movement gradients against finite differences', () => {
  it('reshape (free and repacking), transpose, slice, pad', () => {
    check(([x]) => reshape(x, [6, 5]), ([x]) => reshapeRef(x, [2, 3, 5], [6, 5]).data, [[2, 3, 5]]);
    check(([x]) => reshape(x, [5, 6]), ([x]) => reshapeRef(x, [2, 3, 5], [5, 6]).data, [[2, 3, 5]]);
    check(([x]) => transpose(x, [2, 0, 1]), ([x]) => transposeRef(x, [2, 3, 5], [2, 0, 1]).data, [[2, 3, 5]]);
    check(([x]) => transpose(x, [0, 2, 1, 3]), ([x]) => transposeRef(x, [2, 3, 5, 6], [0, 2, 1, 3]).data, [[2, 3, 5, 6]]);
    check(([x]) => slice(x, [1, 0, 2], [2, -1, 3]), ([x]) => sliceRef(x, [3, 4, 6], [1, 0, 2], [2, -1, 3]).data, [[3, 4, 6]]);
    check(([x]) => pad(x, [[1, 0], [2, 1], [0, 3]], 0.5), ([x]) => padRef(x, [2, 3, 5], [[1, 0], [2, 1], [0, 3]], 0.5).data, [[2, 3, 5]]);
  });
  it('concat of several inputs (more than one pass) along inner and last axes', () => {
    const shapes = [[2, 3, 5], [2, 1, 5], [2, 4, 5], [2, 2, 5], [2, 3, 5]];
    check((xs) => concat(xs, 1), (xs) => concatRef(xs, shapes, 1).data, shapes);
    const last = [[3, 2], [3, 5], [3, 1]];
    check((xs) => concat(xs, -1), (xs) => concatRef(xs, last, -1).data, last);
  });
});

/** Float64 training-mode batch norm over the rows of [rows, C]. */
function batchNormTrainRef(x: ArrayLike<number>, shape: number[], gamma: ArrayLike<number>, beta: ArrayLike<number>, eps: number): Float64Array {
  const c = shape[shape.length - 1];
  const rows = x.length / c;
  const out = new Float64Array(x.length);
  for (let k = 0; k < c; k++) {
    let m = 0;
    for (let r = 0; r < rows; r++) m += x[r * c + k];
    m /= rows;
    let v = 0;
    for (let r = 0; r < rows; r++) v += (x[r * c + k] - m) ** 2;
    v /= rows;
    for (let r = 0; r < rows; r++) out[r * c + k] = ((x[r * c + k] - m) / Math.sqrt(v + eps)) * gamma[k] + beta[k];
  }
  return out;
}

describe('batch norm in training mode', () => {
  it('gradients for x, γ and β against finite differences (NHWC, C not a multiple of 4)', () => {
    for (const shape of [[2, 3, 4, 5], [6, 7]]) {
      const c = shape[shape.length - 1];
      const shapes = [shape, [c], [c]];
      const inputs = [rand(shape), rng.uniformArray(c, 0.5, 1.5), rand([c])];
      checkGradients(
        testRuntime(),
        ([x, g, b]) => batchNormTraining(x, { scale: g, offset: b, epsilon: 1e-3 }),
        ([x, g, b]) => batchNormTrainRef(x, shape, g, b, 1e-3),
        inputs,
        shapes,
      );
    }
  });
  it('frozen (inference) batch norm: gradients for x, γ, β, mean and variance', () => {
    const shape = [2, 3, 3, 6];
    const shapes = [shape, [6], [6], [6], [6]];
    const inputs = [rand(shape), rng.uniformArray(6, 0.5, 1.5), rand([6]), rand([6]), rng.uniformArray(6, 0.5, 2)];
    checkGradients(
      testRuntime(),
      ([x, g, b, m, v]) => batchNormFrozen(x, { scale: g, offset: b, mean: m, variance: v, epsilon: 1e-3 }),
      ([x, g, b, m, v]) => batchNormRef(x, 6, { scale: g, offset: b, mean: m, variance: v, epsilon: 1e-3 }),
      inputs,
      shapes,
    );
  });
  it('updates running averages on the GPU (unbiased variance) and frees the old ones', () => {
    const rt = testRuntime();
    const shape = [4, 3];
    const x = rand(shape);
    rt.scope(() => {
      const running = { mean: rt.keep(rt.tensor([1, 1, 1], [3])), variance: rt.keep(rt.tensor([2, 2, 2], [3])) };
      const oldMean = running.mean;
      batchNormTraining(rt.tensor(x, shape), { epsilon: 1e-3, running, momentum: 0.9 });
      expect(oldMean.isDisposed).toBe(true);
      const mean = [0, 1, 2].map((k) => (x[k] + x[3 + k] + x[6 + k] + x[9 + k]) / 4);
      const varU = [0, 1, 2].map((k) => [0, 1, 2, 3].reduce((s, r) => s + (x[r * 3 + k] - mean[k]) ** 2, 0) / 3);
      expectTensorClose(running.mean, mean.map((m) => 0.9 + 0.1 * m), [3]);
      expectTensorClose(running.variance, varU.map((v) => 1.8 + 0.1 * v), [3]);
      running.mean.dispose();
      running.variance.dispose();
      expect(() => batchNormTraining(rt.tensor(x, shape), { epsilon: 1e-3, scale: rt.zeros([4]) })).toThrow(/scale must have shape \[3\]/);
    });
  });
});
