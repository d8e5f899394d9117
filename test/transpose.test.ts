import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { transpose } from '../src/kernels/transpose.js';
import { transposeRef } from '../src/kernels/transpose.ref.js';
import { reshape } from '../src/kernels/reshape.js';
import { reshapeRef } from '../src/kernels/reshape.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(4242);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

function randomPerm(n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe('transpose', () => {
  it('matches the reference for every permutation of rank 2-4 odd shapes (wrapping textures)', () => {
    const rt = testRuntime();
    for (const shape of [[7, 5], [2, 3, 5], [3, 7, 9, 6], [2, 5, 3, 13]]) {
      const x = rng.uniformArray(sizeOf(shape));
      for (const perm of permutations(shape.length)) {
        const ref = transposeRef(x, shape, perm);
        rt.scope(() => expectTensorClose(transpose(rt.tensor(x, shape), perm), ref.data, ref.shape, 0));
      }
    }
  });

  it('handles rank 5 and 6 with random permutations, including ones that keep the last axis', () => {
    const rt = testRuntime();
    for (const shape of [[2, 3, 1, 5, 7], [2, 1, 3, 2, 5, 3], [3, 2, 2, 3, 2, 9]]) {
      const x = rng.uniformArray(sizeOf(shape));
      const perms = [randomPerm(shape.length), randomPerm(shape.length), [...randomPerm(shape.length - 1), shape.length - 1]];
      for (const perm of perms) {
        const ref = transposeRef(x, shape, perm);
        rt.scope(() => expectTensorClose(transpose(rt.tensor(x, shape), perm), ref.data, ref.shape, 0));
      }
    }
  });

  it('reverses the axes by default and returns a view for the identity', () => {
    const rt = testRuntime();
    const shape = [3, 4, 6];
    const x = rng.uniformArray(sizeOf(shape));
    rt.scope(() => {
      const ref = transposeRef(x, shape);
      expect(ref.shape).toEqual([6, 4, 3]);
      expectTensorClose(transpose(rt.tensor(x, shape)), ref.data, ref.shape, 0);
      const t = rt.tensor(x, shape);
      const same = transpose(t, [0, 1, 2]);
      expect(same.texture).toBe(t.texture);
      expectTensorClose(same, x, shape, 0);
    });
  });

  it('rejects perms that are not permutations, naming perm and shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(6), [2, 3]);
      expect(() => transpose(t, [0])).toThrow(ShapeError);
      expect(() => transpose(t, [0, 0])).toThrow(/perm \[0, 0\] is not a permutation .* shape \[2, 3\]/);
      expect(() => transpose(t, [0, 2])).toThrow(/perm \[0, 2\]/);
      expect(() => transpose(t, [1, 0, 2])).toThrow(/each of the 2 axes of shape \[2, 3\]/);
    });
  });
});

describe('reshape', () => {
  const cases: [number[], number[]][] = [
    [[3, 7, 9, 6], [21, 54]],       // last dim changes, neither a multiple of 4: repack kernel
    [[2, 5, 3, 13], [-1, 5]],       // −1 inferred
    [[6, 35], [5, 42]],
    [[2, 3, 5], [30]],
    [[30], [2, 3, 5]],
    [[1], []],                      // to a scalar
    [[4, 8], [2, 16]],              // both multiples of 4: texel copy
    [[2, 3, 5], [6, 5]],            // last dim kept: free view
    [[3, 7, 9, 6], [7, 3, 2, 3, 9]],
  ];
  for (const [from, to] of cases) {
    it(`reshapes [${from}] to [${to}]`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(from));
      const ref = reshapeRef(x, from, to);
      rt.scope(() => expectTensorClose(reshape(rt.tensor(x, from), to), ref.data, ref.shape, 0));
    });
  }

  it('is free (shares the texture) when the last dim is unchanged', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(rng.uniformArray(30), [2, 3, 5]);
      expect(reshape(t, [6, 5]).texture).toBe(t.texture);
      expect(reshape(t, [3, 10]).texture).not.toBe(t.texture);
    });
  });

  it('rejects bad target shapes, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(30), [2, 3, 5]);
      expect(() => reshape(t, [4, 8])).toThrow(/cannot reshape \[2, 3, 5\] \(30 values\) to \[4, 8\]/);
      expect(() => reshape(t, [-1, -1])).toThrow(/more than one −1/);
      expect(() => reshape(t, [-1, 7])).toThrow(/cannot infer the −1 in \[-1, 7\]/);
      expect(() => reshape(t, [30, 0])).toThrow(ShapeError);
    });
  });
});
