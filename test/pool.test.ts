import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose, maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { avgPool, avgPoolBackward, globalAvgPool, maxPool, maxPoolBackward, maxPoolWithArgmax, windowGeometry, GLOBAL_POOL_SINGLE_PASS_MAX, type PoolOptions } from '../src/kernels/pool.js';
import { globalAvgPoolRef, poolBackwardRef, poolRef } from '../src/kernels/pool.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(4242);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// Odd sizes, channels not multiples of 4, batch > 1, every padding mode, square and oblong windows.
const CASES: { shape: number[]; options: PoolOptions }[] = [
  { shape: [2, 7, 9, 3], options: { size: 2 } },
  { shape: [3, 9, 7, 5], options: { size: 3, strides: 2, padding: 'same' } },
  { shape: [2, 8, 11, 6], options: { size: [3, 2], strides: [1, 2], padding: 'same' } },
  { shape: [2, 13, 10, 13], options: { size: 5, strides: 1, padding: 'same' } },
  { shape: [1, 11, 11, 1], options: { size: 3, strides: 3, padding: 'valid' } },
  { shape: [2, 6, 9, 7], options: { size: [2, 4], strides: [3, 1], padding: [1, 0, 2, 3] } },
  { shape: [3, 5, 5, 4], options: { size: 3, strides: 2, padding: 1 } },
  { shape: [2, 4, 6, 9], options: { size: 1, strides: 2 } },
  // Stride 1 with 'valid' and uneven explicit padding: the backward's constant-bound loop (UNIT_STRIDES)
  // with outputs smaller than the input and windows cut on one side only.
  { shape: [2, 6, 7, 5], options: { size: [2, 3], strides: 1 } },
  { shape: [1, 5, 8, 6], options: { size: [1, 5], strides: 1, padding: [0, 0, 2, 1] } },
];

function describeCase(c: { shape: number[]; options: PoolOptions }): string {
  return `[${c.shape.join(',')}] ${JSON.stringify(c.options)}`;
}

describe('maxPool / avgPool', () => {
  for (const c of CASES) {
    it(`match the float64 reference on ${describeCase(c)}`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(c.shape), -3, 3);
      rt.scope(() => {
        const input = rt.tensor(x, c.shape);
        const maxRef = poolRef('max', x, c.shape, c.options);
        const avgRef = poolRef('avg', x, c.shape, c.options);
        expectTensorClose(maxPool(input, c.options), maxRef.data, maxRef.shape);
        expectTensorClose(avgPool(input, c.options), avgRef.data, avgRef.shape);
        const routed = maxPoolWithArgmax(input, c.options);
        expectTensorClose(routed.output, maxRef.data, maxRef.shape);
        // Indices are integers: they must match exactly.
        expectTensorClose(routed.argmax, maxRef.argmax!, maxRef.shape, 0);
      });
    });
  }

  it("'same' average pooling divides by the valid positions only (TF semantics)", () => {
    const rt = testRuntime();
    // All ones: every output must be exactly 1, also at the borders where the window is clipped.
    rt.scope(() => {
      const out = avgPool(rt.tensor(new Float32Array(2 * 5 * 5 * 3).fill(1), [2, 5, 5, 3]), { size: 3, strides: 2, padding: 'same' });
      expectTensorClose(out, new Float64Array(2 * 3 * 3 * 3).fill(1), [2, 3, 3, 3], 0);
    });
  });

  it('max pooling ignores padding even when every value is negative', () => {
    const rt = testRuntime();
    const x = rng.uniformArray(1 * 4 * 4 * 2, -5, -1);
    const ref = poolRef('max', x, [1, 4, 4, 2], { size: 3, strides: 1, padding: 'same' });
    expect(ref.data.every((v) => v < 0)).toBe(true);
    rt.scope(() => expectTensorClose(maxPool(rt.tensor(x, [1, 4, 4, 2]), { size: 3, strides: 1, padding: 'same' }), ref.data, ref.shape));
  });

  it('argmax takes the first maximum on ties and points inside the input for -inf inputs', () => {
    const rt = testRuntime();
    rt.scope(() => {
      // Constant input: the first valid window position wins. Top-left output of a 'same' 3×3 window
      // starts at (-1,-1), so its first valid position is (1,1) → index 4.
      const constant = maxPoolWithArgmax(rt.tensor(new Float32Array(3 * 3 * 2).fill(7), [1, 3, 3, 2]), { size: 3, strides: 2, padding: 'same' });
      const ref = poolRef('max', new Float32Array(18).fill(7), [1, 3, 3, 2], { size: 3, strides: 2, padding: 'same' });
      expect(Array.from(constant.argmax.readSync())).toEqual(Array.from(ref.argmax!));
      expect(constant.argmax.readSync()[0]).toBe(4);
      const negInf = maxPoolWithArgmax(rt.tensor(new Float32Array(3 * 3).fill(-Infinity), [1, 3, 3, 1]), { size: 2, strides: 1, padding: 'same' });
      expect(Array.from(negInf.output.readSync()).every((v) => v === -Infinity)).toBe(true);
      expect(Array.from(negInf.argmax.readSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0]);
    });
  });

  it('strides default to the window size', () => {
    const rt = testRuntime();
    const x = rng.uniformArray(2 * 6 * 6 * 3);
    const ref = poolRef('max', x, [2, 6, 6, 3], { size: 2, strides: 2 });
    rt.scope(() => expectTensorClose(maxPool(rt.tensor(x, [2, 6, 6, 3]), { size: 2 }), ref.data, [2, 3, 3, 3]));
  });

  it('rejects bad shapes and options with errors naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]);
      expect(() => maxPool(rt.tensor(new Float32Array(15), [5, 3]), { size: 2 })).toThrow(/NHWC.*\[5, 3\]/);
      expect(() => maxPool(x, { size: 6 })).toThrow(ShapeError);
      expect(() => maxPool(x, { size: 6 })).toThrow(/6×6 window.*5×5 input/);
      expect(() => avgPool(x, { size: 2, padding: 2 })).toThrow(/smaller than the 2×2 window/);
      expect(() => avgPool(x, { size: 0 })).toThrow(/size must be positive integers/);
      expect(() => avgPool(x, { size: 2, strides: [1, 2, 3] as unknown as [number, number] })).toThrow(/strides must be a number or \[height, width\]/);
      expect(() => avgPool(x, { size: 2, padding: 'full' as 'same' })).toThrow(/padding must be 'same', 'valid'/);
      expect(() => globalAvgPool(rt.tensor(new Float32Array(6), [2, 3]))).toThrow(/globalAvgPool.*\[2, 3\]/);
    });
  });

  it('does not leak tensors', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      const x = rt.tensor(rng.uniformArray(2 * 20 * 20 * 5), [2, 20, 20, 5]);
      maxPoolWithArgmax(x, { size: 3, strides: 2, padding: 'same' });
      globalAvgPool(x);
    });
    expect(rt.memory().tensors).toBe(before);
  });
});

describe('maxPoolBackward / avgPoolBackward', () => {
  // L(x) = Σ g ⊙ pool(x); the kernels must give dL/dx. The float64 references are checked by central
  // differences of the forward reference, and the GPU kernels against the references and the
  // differences. Inputs are distinct random values, so a step of 1e-6 never changes which is the max.
  function centralDifferences(mode: 'max' | 'avg', x: Float32Array, shape: number[], g: Float32Array, options: PoolOptions): Float64Array {
    const xs = Float64Array.from(x);
    const loss = () => poolRef(mode, xs, shape, options).data.reduce((s, v, i) => s + g[i] * v, 0);
    const h = 1e-6;
    const grad = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) {
      const keep = xs[i];
      xs[i] = keep + h;
      const up = loss();
      xs[i] = keep - h;
      grad[i] = (up - loss()) / (2 * h);
      xs[i] = keep;
    }
    return grad;
  }

  for (const c of CASES) {
    it(`match central differences on ${describeCase(c)}`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(c.shape), -3, 3);
      const outShape = poolRef('max', x, c.shape, c.options).shape;
      const g = rng.uniformArray(sizeOf(outShape));
      for (const mode of ['max', 'avg'] as const) {
        const numeric = centralDifferences(mode, x, c.shape, g, c.options);
        const ref = poolBackwardRef(mode, x, c.shape, g, c.options);
        expect(maxRelError(ref, numeric)).toBeLessThan(1e-6);
        rt.scope(() => {
          const dy = rt.tensor(g, outShape);
          const input = rt.tensor(x, c.shape);
          const dx = mode === 'max'
            ? maxPoolBackward(dy, maxPoolWithArgmax(input, c.options).argmax, c.shape, c.options)
            : avgPoolBackward(dy, c.shape, c.options);
          expectTensorClose(dx, ref, c.shape);
        });
      }
    });
  }

  it('rejects gradients that do not match the forward shapes', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const dy = rt.tensor(new Float32Array(2 * 3 * 3 * 4), [2, 3, 3, 4]);
      const options: PoolOptions = { size: 3, strides: 2, padding: 'same' };
      expect(() => avgPoolBackward(dy, [2, 7, 6, 4], options)).toThrow(/gradient \[2, 3, 3, 4\] does not match the pooled output \[2, 4, 3, 4\] of input \[2, 7, 6, 4\]/);
      expect(() => maxPoolBackward(dy, rt.tensor(new Float32Array(36), [1, 3, 3, 4]), [2, 6, 6, 4], options)).toThrow(/argmax \[1, 3, 3, 4\] does not match/);
      expect(() => avgPoolBackward(dy, [6, 6, 4], options)).toThrow(/inputShape must be the forward input's NHWC shape/);
      expect(() => avgPoolBackward(dy, [2, 0, 6, 4], options)).toThrow(ShapeError);
    });
  });
});

describe('globalAvgPool', () => {
  const shapes = [
    [3, 5, 7, 6], // one pass
    [2, 1, 1, 9], // one pixel
    [2, 17, 19, 5], // two levels (323 pixels)
    [1, 40, 37, 3], // two levels, uneven last chunk
    [2, 7, 7, 13], // ResNet's final 7×7
  ];
  for (const shape of shapes) {
    it(`matches the float64 reference on [${shape.join(', ')}] (${shape[1] * shape[2] > GLOBAL_POOL_SINGLE_PASS_MAX ? 'two levels' : 'one pass'})`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape), -2, 2);
      const ref = globalAvgPoolRef(x, shape);
      rt.scope(() => expectTensorClose(globalAvgPool(rt.tensor(x, shape)), ref.data, ref.shape));
    });
  }
});

describe('windowGeometry', () => {
  it("follows TF's 'same' rule: output ceil(in/stride), the odd padding pixel after", () => {
    expect(windowGeometry(7, 8, [3, 3], [2, 2], [1, 1], 'same', 't')).toEqual({ outHeight: 4, outWidth: 4, padTop: 1, padBottom: 1, padLeft: 0, padRight: 1 });
    expect(windowGeometry(5, 5, [3, 3], [1, 1], [2, 2], 'same', 't')).toEqual({ outHeight: 5, outWidth: 5, padTop: 2, padBottom: 2, padLeft: 2, padRight: 2 });
    expect(windowGeometry(9, 9, [3, 3], [2, 2], [1, 1], 'valid', 't')).toMatchObject({ outHeight: 4, outWidth: 4 });
    expect(windowGeometry(9, 9, [3, 3], [2, 2], [1, 1], [1, 0, 0, 2], 't')).toMatchObject({ outHeight: 4, outWidth: 5 });
  });
});
