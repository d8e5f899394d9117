import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { reduce, sum, mean, max, min, REDUCE_BLOCK, type ReduceOp } from '../src/kernels/reduce.js';
import { reduceRef } from '../src/kernels/reduce.ref.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(777);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const OPS: ReduceOp[] = ['sum', 'mean', 'max', 'min'];

/**
 * Tolerance of sums and means: |gpu − exact| ≤ SUM_TOL · Σ|x| over the reduced elements (the usual
 * bound for float32 summation, which cannot promise a relative error on a sum that cancels to ~0).
 * Blocked sums keep the float32 error near eps·(B + log_B n) · Σ|x| rather than eps·n · Σ|x|.
 * max and min are exact.
 */
const SUM_TOL = 1e-5;

function expectReduction(out: Tensor, op: ReduceOp, x: Float32Array, shape: number[], axes: number[] | undefined, keepDims: boolean): void {
  const ref = reduceRef(op, x, shape, axes, keepDims);
  if (op === 'max' || op === 'min') {
    expectTensorClose(out, ref.data, ref.shape, 0);
    return;
  }
  // Shape, padding lanes and unwritten (NaN) texels via expectTensorClose; the value bound below.
  expectTensorClose(out, ref.data, ref.shape, Infinity);
  const bound = reduceRef(op, x.map(Math.abs), shape, axes, keepDims).data;
  const got = out.readSync();
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - ref.data[i]);
    if (!(err <= SUM_TOL * bound[i] + 1e-30)) {
      throw new Error(`${op} over [${axes}] of [${shape}]: element ${i} is ${got[i]}, want ${ref.data[i]} (error ${err} > ${SUM_TOL}·Σ|x| = ${SUM_TOL * bound[i]})`);
    }
  }
}

function subsets(rank: number): number[][] {
  const all: number[][] = [];
  for (let mask = 1; mask < 1 << rank; mask++) all.push(Array.from({ length: rank }, (_, i) => i).filter((i) => mask & (1 << i)));
  return all;
}

describe('reductions over every set of axes', () => {
  const shapes = [[7], [7, 5], [2, 3, 5], [3, 7, 9, 6], [2, 5, 3, 13]];
  for (const op of OPS) {
    for (const shape of shapes) {
      it(`${op} over every axis subset of [${shape}], keepDims on and off`, () => {
        const rt = testRuntime();
        const x = rng.uniformArray(sizeOf(shape), -2, 2);
        for (const axes of subsets(shape.length)) {
          for (const keepDims of [false, true]) {
            rt.scope(() => expectReduction(reduce(op, rt.tensor(x, shape), axes, keepDims), op, x, shape, axes, keepDims));
          }
        }
      });
    }
  }

  it('takes a single axis, negative axes and undefined (= every axis)', () => {
    const rt = testRuntime();
    const shape = [3, 4, 7];
    const x = rng.uniformArray(sizeOf(shape));
    rt.scope(() => {
      const t = rt.tensor(x, shape);
      expectReduction(sum(t, -1), 'sum', x, shape, [2], false);
      expectReduction(mean(t, [-3, -1], true), 'mean', x, shape, [0, 2], true);
      expectReduction(max(t), 'max', x, shape, undefined, false);
      expect(max(t).shape).toEqual([]);
      expectReduction(min(t, 1), 'min', x, shape, [1], false);
      expectReduction(sum(t, []), 'sum', x, shape, [], false);
    });
  });
});

describe('multi-pass reductions', () => {
  it(`reduces axes longer than one block (${REDUCE_BLOCK}) through several passes`, () => {
    const rt = testRuntime();
    const cases: [number[], number[]][] = [
      [[2, 1100, 3, 5], [1]],       // rows: 1100 → 35 → 2 → 1
      [[3, 5000], [1]],             // segments: 1250 texels → 40 → 1
      [[41, 3, 57, 7], [0, 2]],     // two runs, neither the last axis
      [[37, 3, 29, 45], [0, 2, 3]], // a row run, then a segment run
      [[1500, 3], [0, 1]],
    ];
    for (const [shape, axes] of cases) {
      const x = rng.uniformArray(sizeOf(shape), -1, 1);
      for (const op of OPS) {
        for (const keepDims of [false, true]) {
          rt.scope(() => expectReduction(reduce(op, rt.tensor(x, shape), axes, keepDims), op, x, shape, axes, keepDims));
        }
      }
    }
  });

  it('sums 10^6 elements to a scalar within 1e-5 of Σ|x| (positive and mixed-sign data)', () => {
    const rt = testRuntime();
    const shape = [10, 100, 100, 10];
    for (const [lo, hi] of [[0, 1], [-1, 1]]) {
      const x = rng.uniformArray(sizeOf(shape), lo, hi);
      for (const op of OPS) {
        rt.scope(() => expectReduction(reduce(op, rt.tensor(x, shape)), op, x, shape, undefined, false));
      }
    }
  });

  it('keeps the mean of 10^6 positive values to a relative 1e-5 (single texel, no cancellation)', () => {
    const rt = testRuntime();
    const x = rng.uniformArray(1_000_003, 0.5, 1.5);
    const want = reduceRef('mean', x, [x.length]).data[0];
    rt.scope(() => {
      const got = mean(rt.tensor(x, [x.length])).readSync()[0];
      expect(Math.abs(got - want) / want).toBeLessThan(1e-5);
    });
  });
});

describe('reduction errors', () => {
  it('rejects bad and repeated axes, naming them and the shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(6), [2, 3]);
      expect(() => sum(t, 2)).toThrow(ShapeError);
      expect(() => sum(t, [0, 2])).toThrow(/sum: axis 2 is out of range for shape \[2, 3\] \(valid axes are -2..1\)/);
      expect(() => mean(t, [1, -1])).toThrow(/axis -1 is repeated in axes \[1, -1\]/);
      expect(() => max(t, 0.5)).toThrow(/axis 0.5/);
      expect(() => reduce('prod' as ReduceOp, t)).toThrow(/unknown reduction "prod"/);
    });
  });
});
