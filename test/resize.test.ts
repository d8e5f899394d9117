import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { resizeBilinear, resizeNearest, type ResizeOptions } from '../src/kernels/resize.js';
import { resizeBilinearRef, resizeNearestRef } from '../src/kernels/resize.ref.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(99);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

const MODES: [string, ResizeOptions][] = [
  ['half-pixel centres (default)', {}],
  ['align corners', { alignCorners: true }],
  ['legacy (neither)', { alignCorners: false, halfPixelCenters: false }],
];

// Up- and down-sampling by integer and non-integer factors, odd sizes, channels not multiples of 4,
// batch > 1, one-pixel inputs and outputs.
const CASES: { shape: number[]; size: [number, number] }[] = [
  { shape: [2, 5, 7, 3], size: [11, 13] },
  { shape: [3, 9, 8, 5], size: [4, 3] },
  { shape: [2, 4, 4, 6], size: [16, 8] },
  { shape: [2, 7, 3, 13], size: [7, 10] },
  { shape: [1, 1, 1, 2], size: [3, 5] },
  { shape: [2, 6, 5, 1], size: [1, 1] },
  { shape: [1, 13, 17, 4], size: [32, 24] },
  { shape: [2, 3, 5, 7], size: [9, 25] },
];

describe('resizeBilinear / resizeNearest vs float64 reference', () => {
  for (const [modeName, options] of MODES) {
    for (const c of CASES) {
      it(`${modeName}: [${c.shape.join(', ')}] → ${c.size.join('×')}`, () => {
        const rt = testRuntime();
        const x = rng.uniformArray(sizeOf(c.shape), -4, 4);
        rt.scope(() => {
          const input = rt.tensor(x, c.shape);
          const bilinear = resizeBilinearRef(x, c.shape, c.size, options);
          expectTensorClose(resizeBilinear(input, c.size, options), bilinear.data, bilinear.shape);
          // Nearest copies values: the chosen pixels must be exactly the reference's.
          const nearest = resizeNearestRef(x, c.shape, c.size, options);
          expectTensorClose(resizeNearest(input, c.size, options), nearest.data, nearest.shape, 0);
        });
      });
    }
  }
});

describe('resize follows TensorFlow on small worked examples', () => {
  const image = [1, 2, 3, 4]; // 2×2, one channel
  const run = (fn: typeof resizeBilinear, size: [number, number], options: ResizeOptions, x = image, shape = [1, 2, 2, 1]) => {
    const rt = testRuntime();
    return rt.scope(() => Array.from(fn(rt.tensor(x, shape), size, options).readSync()));
  };

  it('bilinear, half-pixel centres: 2×2 → 4×4 (tf.image.resize)', () => {
    expect(run(resizeBilinear, [4, 4], {})).toEqual([1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4]);
  });
  it('bilinear, align corners: 2×2 → 3×3', () => {
    expect(run(resizeBilinear, [3, 3], { alignCorners: true })).toEqual([1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4]);
  });
  it('bilinear, legacy: 2×2 → 4×4 (tf.compat.v1 default)', () => {
    expect(run(resizeBilinear, [4, 4], { halfPixelCenters: false })).toEqual([1, 1.5, 2, 2, 2, 2.5, 3, 3, 3, 3.5, 4, 4, 3, 3.5, 4, 4]);
  });
  it('nearest on a 1×3 row → 1×2 in each mode', () => {
    const row = [10, 20, 30];
    expect(run(resizeNearest, [1, 2], {}, row, [1, 1, 3, 1])).toEqual([10, 30]); // ⌊(o+½)·1.5⌋ = 0, 2
    expect(run(resizeNearest, [1, 2], { alignCorners: true }, row, [1, 1, 3, 1])).toEqual([10, 30]); // round(o·2) = 0, 2
    expect(run(resizeNearest, [1, 2], { halfPixelCenters: false }, row, [1, 1, 3, 1])).toEqual([10, 20]); // ⌊o·1.5⌋ = 0, 1
    // Align corners rounds halves up: 1×2 → 1×4 samples 0, ⅓, ⅔, 1 → 0, 0, 1, 1; 1×3 → 1×5: 0, ½, 1, 1½, 2 → 0, 1, 1, 2, 2.
    expect(run(resizeNearest, [1, 4], { alignCorners: true }, [10, 20], [1, 1, 2, 1])).toEqual([10, 10, 20, 20]);
    expect(run(resizeNearest, [1, 5], { alignCorners: true }, row, [1, 1, 3, 1])).toEqual([10, 20, 20, 30, 30]);
  });
});

describe('resize errors', () => {
  it('rejects bad inputs, sizes and flag combinations, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 3 * 3 * 5), [2, 3, 3, 5]);
      expect(() => resizeBilinear(rt.tensor(new Float32Array(6), [2, 3]), [4, 4])).toThrow(ShapeError);
      expect(() => resizeBilinear(rt.tensor(new Float32Array(6), [2, 3]), [4, 4])).toThrow(/resizeBilinear: input must be NHWC.*\[2, 3\]/);
      expect(() => resizeNearest(x, [0, 4])).toThrow(/resizeNearest: size must be \[height, width\].*\[0,4\]/);
      expect(() => resizeNearest(x, [4] as unknown as [number, number])).toThrow(/size must be \[height, width\]/);
      expect(() => resizeBilinear(x, [4, 4], { alignCorners: true, halfPixelCenters: true })).toThrow(NbfError);
      expect(() => resizeBilinear(x, [4, 4], { alignCorners: true, halfPixelCenters: true })).toThrow(/cannot both be true/);
      expect(() => resizeBilinear(x, [20000, 4])).toThrow(/above 16384/);
    });
  });

  it('does not leak tensors', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      const x = rt.tensor(rng.uniformArray(2 * 3 * 3 * 5), [2, 3, 3, 5]);
      resizeBilinear(x, [5, 6]);
      resizeNearest(x, [5, 6]);
    });
    expect(rt.memory().tensors).toBe(before);
  });
});
