import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { softmax, logSoftmax, SOFTMAX_FUSED_MAX_CHANNELS, SOFTMAX_FUSED_MAX_OTHER } from '../src/kernels/softmax.js';
import { softmaxRef, logSoftmaxRef } from '../src/kernels/softmax.ref.js';
import { argmax, ARGMAX_BLOCK } from '../src/kernels/argmax.js';
import { argmaxRef } from '../src/kernels/argmax.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(31337);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const SHAPES = [[7], [7, 5], [2, 3, 5], [3, 7, 9, 6], [2, 5, 3, 13], [2, 1, 3, 2, 3, 7]];

/**
 * softmax values lie in (0, 1]: compared with an absolute floor of 1 (|error| ≤ 1e-5). logSoftmax is
 * compared relatively with floor 1; its error is that of x − m − log s in float32 (a few ulps of the
 * largest of |x|, |m|, log s).
 */
describe('softmax and logSoftmax (fused kernel for short axes, composed for the longer ones here)', () => {
  for (const shape of SHAPES) {
    it(`match the reference along every axis of [${shape}]`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape), -6, 6);
      for (let axis = -1; axis < shape.length; axis++) {
        rt.scope(() => {
          const t = rt.tensor(x, shape);
          expectTensorClose(softmax(t, axis), softmaxRef(x, shape, axis), shape, 1e-5);
          expectTensorClose(logSoftmax(t, axis), logSoftmaxRef(x, shape, axis), shape, 1e-5);
        });
      }
    });
  }

  it('stays finite for large logits (the max is subtracted first) and sums to 1', () => {
    const rt = testRuntime();
    const shape = [3, 6];
    const x = Float32Array.from([1000, 999, 998, -1000, 0, 1, -500, -501, -499, -502, -500, -500, 80, 90, 88, 89, 87, 86]);
    rt.scope(() => {
      const t = rt.tensor(x, shape);
      const p = softmax(t);
      expectTensorClose(p, softmaxRef(x, shape), shape, 1e-5);
      expectTensorClose(logSoftmax(t), logSoftmaxRef(x, shape), shape, 1e-5);
      const values = p.readSync();
      for (let r = 0; r < 3; r++) expect(values.subarray(6 * r, 6 * r + 6).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      expectTensorClose(softmax(t, 0), softmaxRef(x, shape, 0), shape, 1e-5);
    });
  });
});

describe('softmax over long axes (composed tree reductions)', () => {
  it(`matches the reference for axes longer than ${SOFTMAX_FUSED_MAX_CHANNELS} (channels) / ${SOFTMAX_FUSED_MAX_OTHER} (other axes)`, () => {
    const rt = testRuntime();
    const cases: [number[], number][] = [
      [[3, 1001], -1], [[5, SOFTMAX_FUSED_MAX_CHANNELS + 1], 1], [[2, 300, 5], 1], [[700, 3], 0],
      [[2, SOFTMAX_FUSED_MAX_OTHER + 1, 3, 6], 1],
    ];
    for (const [shape, axis] of cases) {
      const x = rng.uniformArray(sizeOf(shape), -10, 10);
      rt.scope(() => {
        const t = rt.tensor(x, shape);
        expectTensorClose(softmax(t, axis), softmaxRef(x, shape, axis), shape, 1e-5);
        expectTensorClose(logSoftmax(t, axis), logSoftmaxRef(x, shape, axis), shape, 1e-5);
      });
    }
  });

  it('leaves no intermediate tensors behind', () => {
    const rt = testRuntime();
    const t = rt.tensor(rng.uniformArray(2 * 400), [2, 400]); // composed path
    const before = rt.memory();
    const out = softmax(t);
    expect(rt.memory().tensors).toBe(before.tensors + 1);
    expect(rt.memory().liveTextures).toBe(before.liveTextures + 1);
    out.dispose();
    t.dispose();
  });

  it('rejects bad axes, naming the axis and shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(6), [2, 3]);
      expect(() => softmax(t, 2)).toThrow(/softmax: axis 2 is out of range for shape \[2, 3\]/);
      expect(() => logSoftmax(t, -3)).toThrow(ShapeError);
      expect(() => softmax(rt.tensor([1], []))).toThrow(/a scalar has no axes/);
    });
  });
});

describe('argmax', () => {
  for (const shape of SHAPES) {
    it(`matches the reference along every axis of [${shape}]`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape), -5, 5);
      for (let axis = 0; axis < shape.length; axis++) {
        const ref = argmaxRef(x, shape, axis);
        rt.scope(() => expectTensorClose(argmax(rt.tensor(x, shape), axis), ref.data, ref.shape, 0));
      }
    });
  }

  it('takes the first index among ties, on both kinds of axis', () => {
    const rt = testRuntime();
    // Values from a small set, so ties are common; negative values so padding zeros cannot win.
    const shape = [4, 9, 7];
    const x = Float32Array.from({ length: sizeOf(shape) }, () => -rng.int(1, 3));
    for (const axis of [0, 1, 2]) {
      const ref = argmaxRef(x, shape, axis);
      rt.scope(() => expectTensorClose(argmax(rt.tensor(x, shape), axis), ref.data, ref.shape, 0));
    }
    rt.scope(() => expect(Array.from(argmax(rt.tensor([-2, -1, -1, -3, -1], [5])).readSync())).toEqual([1]));
  });

  it(`takes a tree of passes along axes longer than one block (${ARGMAX_BLOCK}), both kinds of axis`, () => {
    const rt = testRuntime();
    const cases: [number[], number][] = [
      [[3, 2001], 1],        // 501 texels → 16 partials → 1
      [[2, 70000], -1],      // three passes
      [[1100, 3, 5], 0],     // rows: 1100 → 35 → 2 → 1
      [[2, 40, 7], 1],
    ];
    for (const [shape, axis] of cases) {
      const x = rng.uniformArray(sizeOf(shape));
      const ref = argmaxRef(x, shape, axis);
      rt.scope(() => expectTensorClose(argmax(rt.tensor(x, shape), axis), ref.data, ref.shape, 0));
    }
  });

  it('keeps the first of tied maxima across passes, and frees its partials', () => {
    const rt = testRuntime();
    // The maximum 5 appears at 3000, 4000 and 9000 of a 10000-long axis; at 700 and 2 of axis 0.
    const row = new Float32Array(10000).fill(-1);
    row[9000] = 5; row[4000] = 5; row[3000] = 5; row[2999] = 4;
    const column = new Float32Array(1500 * 3).fill(0);
    for (const i of [700, 2, 1400]) column[i * 3 + 1] = 2;
    const before = rt.memory();
    rt.scope(() => {
      expect(Array.from(argmax(rt.tensor(row, [1, 10000]), 1).readSync())).toEqual([3000]);
      expect(Array.from(argmax(rt.tensor(column, [1500, 3]), 0).readSync())).toEqual([0, 2, 0]);
    });
    expect(rt.memory().liveTextures).toBe(before.liveTextures);
  });

  it('rejects bad axes, naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(6), [3, 2]);
      expect(() => argmax(t, 2)).toThrow(/argmax: axis 2 is out of range for shape \[3, 2\]/);
      expect(() => argmax(t, -3)).toThrow(ShapeError);
    });
  });
});
