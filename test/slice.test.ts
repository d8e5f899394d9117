import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { slice } from '../src/kernels/slice.js';
import { sliceRef } from '../src/kernels/slice.ref.js';
import { pad } from '../src/kernels/pad.js';
import { padRef } from '../src/kernels/pad.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(99);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('slice', () => {
  const cases: [number[], number[], number[]][] = [
    [[7, 5], [2, 1], [3, 3]],                        // last dim offset 1: per-lane path
    [[7, 13], [1, 4], [5, -1]],                      // offset 4: whole-texel path, size −1
    [[2, 3, 5], [1, 0, 0], [1, -1, -1]],             // batch slice: whole texels
    [[3, 7, 9, 6], [1, 2, 3, 1], [2, 4, 5, 4]],
    [[3, 7, 9, 6], [0, 0, 0, 0], [-1, -1, -1, 3]],
    [[2, 5, 3, 13], [0, 1, 1, 8], [2, 3, 2, 5]],     // offset 8: aligned, partial last texel
    [[2, 5, 3, 13], [1, 0, 2, 3], [1, 5, 1, 10]],
    [[2, 3, 2, 3, 2, 7], [1, 1, 0, 1, 1, 2], [1, 2, 2, 2, 1, 5]],
    [[9], [4], [1]],
  ];
  for (const [shape, begin, size] of cases) {
    it(`slices [${shape}] from [${begin}] by [${size}]`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape));
      const ref = sliceRef(x, shape, begin, size);
      rt.scope(() => expectTensorClose(slice(rt.tensor(x, shape), begin, size), ref.data, ref.shape, 0));
    });
  }

  it('returns a view when the slice is the whole tensor', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(rng.uniformArray(30), [2, 3, 5]);
      expect(slice(t, [0, 0, 0], [-1, 3, -1]).texture).toBe(t.texture);
    });
  });

  it('rejects blocks outside the tensor, naming the dim and shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(30), [2, 3, 5]);
      expect(() => slice(t, [0, 0], [1, 1])).toThrow(/must each have 3 entries for shape \[2, 3, 5\]/);
      expect(() => slice(t, [0, 3, 0], [1, 1, 1])).toThrow(/begin\[1\] = 3 is outside dim 1 \(size 3\)/);
      expect(() => slice(t, [0, 1, 0], [1, 3, 1])).toThrow(/size\[1\] = 3 from begin 1 does not fit dim 1/);
      expect(() => slice(t, [0, 0, 0], [1, 0, 1])).toThrow(ShapeError);
      expect(() => slice(t, [-1, 0, 0], [1, 1, 1])).toThrow(ShapeError);
    });
  });
});

describe('pad', () => {
  const cases: [number[], [number, number][], number][] = [
    [[7, 5], [[1, 2], [3, 0]], 0],                       // last-dim before 3: per-lane path
    [[7, 5], [[0, 0], [4, 3]], -1.5],                    // before 4: whole-texel path
    [[2, 3, 5], [[1, 0], [0, 2], [0, 0]], 2],            // leading dims only
    [[3, 7, 9, 6], [[0, 1], [2, 1], [1, 1], [1, 2]], 0.25],
    [[2, 5, 3, 13], [[1, 1], [0, 0], [2, 0], [8, 1]], 0],
    [[2, 3, 2, 3, 2, 7], [[0, 1], [1, 0], [0, 0], [1, 1], [0, 1], [2, 3]], 3],
    [[1], [[5, 6]], 7],
  ];
  for (const [shape, paddings, value] of cases) {
    it(`pads [${shape}] by ${JSON.stringify(paddings)} with ${value}`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape));
      const ref = padRef(x, shape, paddings, value);
      rt.scope(() => expectTensorClose(pad(rt.tensor(x, shape), paddings, value), ref.data, ref.shape, 0));
    });
  }

  it('undoes with slice', () => {
    const rt = testRuntime();
    const shape = [3, 5, 7];
    const x = rng.uniformArray(sizeOf(shape));
    rt.scope(() => {
      const padded = pad(rt.tensor(x, shape), [[1, 2], [0, 3], [2, 5]], 9);
      expectTensorClose(slice(padded, [1, 0, 2], shape), x, shape, 0);
    });
  });

  it('rejects bad paddings, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(6), [2, 3]);
      expect(() => pad(t, [[1, 1]])).toThrow(/\[before, after\] for each of the 2 dims of shape \[2, 3\]/);
      expect(() => pad(t, [[1, 1], [-1, 0]])).toThrow(/paddings\[1\] = \[-1,0\]/);
      expect(() => pad(t, [[1, 1], [0.5, 0]])).toThrow(ShapeError);
    });
  });
});
