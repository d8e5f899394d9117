import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose, maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { batchNorm, foldBatchNorm } from '../src/kernels/batchnorm.js';
import { batchNormRef, foldBatchNormRef, type BatchNormRefParams } from '../src/kernels/batchnorm.ref.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { ShapeError } from '../src/runtime/errors.js';
import { conv2d } from '../src/kernels/conv2d.js';
import type { Runtime } from '../src/runtime/runtime.js';

const rng = new Rng(31337);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

function randomParams(channels: number, withScale: boolean, withOffset: boolean): BatchNormRefParams {
  return {
    mean: rng.uniformArray(channels, -1, 1),
    variance: rng.uniformArray(channels, 0.05, 3),
    scale: withScale ? rng.uniformArray(channels, -2, 2) : undefined,
    offset: withOffset ? rng.uniformArray(channels, -1, 1) : undefined,
    epsilon: 1e-3,
  };
}

function upload(rt: Runtime, p: BatchNormRefParams) {
  const vec = (v: ArrayLike<number>) => rt.tensor(v, [v.length]);
  return {
    mean: vec(p.mean),
    variance: vec(p.variance),
    scale: p.scale && vec(p.scale),
    offset: p.offset && vec(p.offset),
    epsilon: p.epsilon,
  };
}

describe('batchNorm', () => {
  const shapes = [[2, 5, 7, 3], [3, 4, 3, 6], [2, 3, 9, 13], [7, 5], [2, 6, 5, 1], [1, 11, 9, 64]];
  for (const shape of shapes) {
    for (const [withScale, withOffset] of [[true, true], [false, true], [true, false], [false, false]]) {
      it(`matches the float64 reference on [${shape.join(', ')}]${withScale ? ' +scale' : ''}${withOffset ? ' +offset' : ''}`, () => {
        const rt = testRuntime();
        const channels = shape[shape.length - 1];
        const x = rng.uniformArray(sizeOf(shape), -3, 3);
        const params = randomParams(channels, withScale, withOffset);
        rt.scope(() => expectTensorClose(batchNorm(rt.tensor(x, shape), upload(rt, params)), batchNormRef(x, channels, params), shape));
      });
    }
  }

  it('keeps padding lanes 0 even with epsilon 0', () => {
    const rt = testRuntime();
    const params = { ...randomParams(5, true, true), epsilon: 0 };
    const x = rng.uniformArray(2 * 3 * 5);
    // expectTensorClose checks the 3 padding lanes of each row, where variance 0 + ε 0 would give NaN.
    rt.scope(() => expectTensorClose(batchNorm(rt.tensor(x, [2, 3, 5]), upload(rt, params)), batchNormRef(x, 5, params), [2, 3, 5]));
  });

  it('rejects parameters of the wrong shape, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 3 * 3 * 5), [2, 3, 3, 5]);
      const good = upload(rt, randomParams(5, true, true));
      expect(() => batchNorm(x, { ...good, mean: rt.tensor([1, 2, 3], [3]) })).toThrow(ShapeError);
      expect(() => batchNorm(x, { ...good, mean: rt.tensor([1, 2, 3], [3]) })).toThrow(/mean must have shape \[5\].*input \[2, 3, 3, 5\].*got \[3\]/);
      expect(() => batchNorm(x, { ...good, scale: rt.tensor(new Float32Array(10), [2, 5]) })).toThrow(/scale must have shape \[5\]/);
      expect(() => batchNorm(x, { ...good, epsilon: -1 })).toThrow(/epsilon must be a finite number/);
      expect(() => batchNorm(x, { ...good, epsilon: undefined as unknown as number })).toThrow(/epsilon/);
      expect(() => foldBatchNorm(rt.tensor(new Float32Array(36), [3, 3, 1, 4]), null, good)).toThrow(/mean must have shape \[4\].*weights \[3, 3, 1, 4\]/);
      expect(() => foldBatchNorm(rt.tensor(new Float32Array(45), [3, 3, 1, 5]), rt.tensor([1, 2], [2]), good)).toThrow(/bias must have shape \[5\]/);
    });
  });
});

describe('foldBatchNorm', () => {
  const cases = [
    { x: [2, 6, 7, 3], w: [3, 3, 3, 5], strides: 1, padding: 'same' as const, groups: 1, bias: true },
    { x: [3, 5, 5, 6], w: [3, 3, 2, 9], strides: 2, padding: 'valid' as const, groups: 3, bias: false },
    { x: [2, 7, 5, 4], w: [3, 3, 1, 4], strides: 1, padding: 'same' as const, groups: 4, bias: true }, // depthwise
  ];
  for (const c of cases) {
    it(`conv + batch norm equals the folded conv (x [${c.x.join(',')}], w [${c.w.join(',')}], groups ${c.groups})`, () => {
      const rt = testRuntime();
      const cout = c.w[3];
      const x = rng.uniformArray(sizeOf(c.x));
      const w = rng.uniformArray(sizeOf(c.w));
      const b = c.bias ? rng.uniformArray(cout) : undefined;
      const params = randomParams(cout, true, true);
      const convOptions = { strides: c.strides, padding: c.padding, groups: c.groups };
      const conv = conv2dRef(x, c.x, w, c.w, { ...convOptions, bias: b });
      const convThenBn = batchNormRef(conv.data, cout, params);

      rt.scope(() => {
        const folded = foldBatchNorm(rt.tensor(w, c.w), b && rt.tensor(b, [cout]), upload(rt, params));
        const want = foldBatchNormRef(w, b, cout, params);
        expectTensorClose(folded.weights, want.weights, c.w);
        expectTensorClose(folded.bias, want.bias, [cout]);
        const foldedConv = conv2dRef(x, c.x, folded.weights.readSync(), c.w, { ...convOptions, bias: folded.bias.readSync() });
        expect(maxRelError(foldedConv.data, convThenBn)).toBeLessThan(1e-5);
        // The GPU batch norm applied to the conv output gives the same as well.
        expectTensorClose(batchNorm(rt.tensor(conv.data, conv.shape), upload(rt, params)), convThenBn, conv.shape);
      });
    });
  }

  it('GPU conv2d + batchNorm equals GPU conv2d with the folded weights', () => {
    const rt = testRuntime();
    const xShape = [2, 9, 7, 5];
    const wShape = [3, 3, 5, 11];
    const params = randomParams(11, true, true);
    rt.scope(() => {
      const x = rt.tensor(rng.uniformArray(sizeOf(xShape)), xShape);
      const w = rt.tensor(rng.uniformArray(sizeOf(wShape)), wShape);
      const b = rt.tensor(rng.uniformArray(11), [11]);
      const bn = upload(rt, params);
      const options = { strides: 2, padding: 'same' as const };
      const separate = batchNorm(conv2d(x, w, { ...options, bias: b }), bn);
      const folded = foldBatchNorm(w, b, bn);
      const fused = conv2d(x, folded.weights, { ...options, bias: folded.bias });
      expectTensorClose(fused, separate.readSync(), separate.shape);
    });
  });

  it('folds dense [K, C] weights without scale or offset', () => {
    const rt = testRuntime();
    const params = randomParams(7, false, false);
    const w = rng.uniformArray(11 * 7);
    rt.scope(() => {
      const folded = foldBatchNorm(rt.tensor(w, [11, 7]), undefined, upload(rt, params));
      const want = foldBatchNormRef(w, undefined, 7, params);
      expectTensorClose(folded.weights, want.weights, [11, 7]);
      expectTensorClose(folded.bias, want.bias, [7]);
    });
  });

  it('does not leak tensors', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      const params = upload(rt, randomParams(5, true, true));
      foldBatchNorm(rt.tensor(rng.uniformArray(45), [3, 3, 1, 5]), rt.tensor(rng.uniformArray(5), [5]), params);
      batchNorm(rt.tensor(rng.uniformArray(10), [2, 5]), params);
    });
    expect(rt.memory().tensors).toBe(before);
  });
});
