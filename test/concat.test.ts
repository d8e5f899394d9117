import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { concat } from '../src/kernels/concat.js';
import { concatRef } from '../src/kernels/concat.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(2024);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Shapes equal to `base` except along `axis`, where they take the given sizes. */
function shapesAlong(base: number[], axis: number, sizes: number[]): number[][] {
  return sizes.map((s) => base.map((d, i) => (i === axis ? s : d)));
}

function check(shapes: number[][], axis: number): void {
  const rt = testRuntime();
  const data = shapes.map((s) => rng.uniformArray(sizeOf(s)));
  const ref = concatRef(data, shapes, axis);
  rt.scope(() => {
    const out = concat(shapes.map((s, k) => rt.tensor(data[k], s)), axis);
    expectTensorClose(out, ref.data, ref.shape, 0);
  });
}

describe('concat', () => {
  const bases = [[7, 5], [2, 3, 5], [3, 7, 9, 6], [2, 5, 3, 13], [2, 1, 3, 2, 3, 7]];
  for (const base of bases) {
    for (let axis = 0; axis < base.length; axis++) {
      it(`joins 2-3 tensors of [${base}] along axis ${axis}`, () => {
        check(shapesAlong(base, axis, [base[axis], 3]), axis);
        check(shapesAlong(base, axis, [1, base[axis], 2]), axis);
      });
    }
  }

  it('joins channel counts that are not multiples of 4 (lanes re-pack across texels)', () => {
    check([[3, 5], [3, 3], [3, 9], [3, 1]], 1);
    check([[2, 4, 6], [2, 4, 7]], -1);
  });

  it('moves whole texels when every channel offset is a multiple of 4', () => {
    check([[3, 5, 8], [3, 5, 4], [3, 5, 7]], 2);
    check([[7, 4], [7, 12], [7, 8], [7, 1]], 1);
    check([[2, 3, 4], [2, 3, 4], [2, 3, 4], [2, 3, 4], [2, 3, 4], [2, 3, 6]], 2);
  });

  it('chains passes for more than 4 inputs, on both kinds of axis', () => {
    check(shapesAlong([3, 5, 6], 0, [1, 2, 3, 1, 2, 1, 3, 2, 1]), 0);
    check(shapesAlong([3, 5, 6], 2, [1, 2, 3, 5, 2, 1, 3]), 2);
  });

  it('frees its intermediate passes', () => {
    const rt = testRuntime();
    const parts = Array.from({ length: 7 }, () => rt.tensor(rng.uniformArray(10), [2, 5]));
    const before = rt.memory();
    const out = concat(parts, 0);
    const after = rt.memory();
    expect(after.liveTextures).toBe(before.liveTextures + 1);
    expect(after.tensors).toBe(before.tensors + 1);
    out.dispose();
    parts.forEach((p) => p.dispose());
  });

  it('returns a view for a single tensor', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(rng.uniformArray(6), [2, 3]);
      expect(concat([t], 1).texture).toBe(t.texture);
    });
  });

  it('rejects mismatched shapes and bad axes, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const a = rt.tensor(new Float32Array(6), [2, 3]);
      const b = rt.tensor(new Float32Array(8), [2, 4]);
      const c = rt.tensor(new Float32Array(4), [4]);
      expect(() => concat([a, b], 0)).toThrow(/tensor 1 has shape \[2, 4\], which does not match \[2, 3\] outside axis 0/);
      expect(() => concat([a, c], 0)).toThrow(ShapeError);
      expect(() => concat([a, b], 2)).toThrow(/axis 2 is out of range for shape \[2, 3\]/);
      expect(() => concat([a, b], -3)).toThrow(/axis -3 is out of range/);
      expect(() => concat([], 0)).toThrow(/non-empty/);
      expect(concat([a, b], 1).shape).toEqual([2, 7]);
    });
  });
});
