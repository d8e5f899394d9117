import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { Rng } from '../src/util/random.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { add, mul, relu, sigmoid, mulScalar } from '../src/kernels/elementwise.js';
import { transpose } from '../src/kernels/transpose.js';
import { slice } from '../src/kernels/slice.js';
import { pad } from '../src/kernels/pad.js';
import { concat } from '../src/kernels/concat.js';
import { reshape } from '../src/kernels/reshape.js';
import { sum, mean, max, min } from '../src/kernels/reduce.js';
import { softmax, logSoftmax } from '../src/kernels/softmax.js';
import { argmax } from '../src/kernels/argmax.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(5);

/** One step of a mixed workload on x [2, 5, 3, 7]: 20 kernel calls, elementwise and data movement. */
function mixedStep(x: Tensor, step: number): Tensor[] {
  const a = relu(x);
  const b = add(a, mulScalar(x, 0.5));
  const t = transpose(b, [0, 3, 1, 2]);        // last axis moves
  const t2 = transpose(b, [1, 0, 2, 3]);       // last axis stays
  const s = slice(t, [0, 1, 0, 1], [2, 5, -1, 2]);
  const p = pad(s, [[0, 1], [1, 0], [0, 0], [2, 1]], step % 3);
  const c = concat([b, x, a, t2.runtime.view(t2, [2, 5, 3, 7]), b], step % 4);
  const r = reshape(c, [-1, 5]);
  const r2 = reshape(r, [c.size / 3, 3]);
  const sm = softmax(b, step % 4);
  const ls = logSoftmax(b, -1);
  const am = argmax(sm, 1);
  const red = [sum(b, [1, 3]), mean(b), max(b, 0, true), min(b, [2, 3])];
  const long = sum(reshape(r2, [-1]));
  return [p, r2, mul(sm, ls), am, sigmoid(red[0]), ...red, long];
}

describe('memory', () => {
  it('1000 mixed kernel calls inside scopes leave live textures, bytes and tensors where they started', () => {
    const rt = testRuntime();
    const x = rt.tensor(rng.uniformArray(2 * 5 * 3 * 7, -2, 2), [2, 5, 3, 7]);
    const start = rt.memory();
    // Count real dispatches (every kernel goes through runMulti).
    let dispatches = 0;
    const runMulti = rt.runMulti.bind(rt);
    rt.runMulti = (call) => {
      dispatches++;
      return runMulti(call);
    };
    let peakTensors = 0;
    let kept: Tensor;
    try {
      kept = rt.scope(() => {
        let last: Tensor[] = [];
        for (let step = 0; dispatches < 1000; step++) {
          // Every other step in a nested scope that returns its results: they move to the outer scope.
          last = step % 2 === 0 ? mixedStep(x, step) : rt.scope(() => mixedStep(x, step));
          peakTensors = Math.max(peakTensors, rt.memory().tensors);
        }
        return last[0];
      });
    } finally {
      rt.runMulti = runMulti;
    }
    expect(dispatches).toBeGreaterThanOrEqual(1000);
    // The outer scope really held hundreds of tensors before it ended.
    expect(peakTensors).toBeGreaterThan(start.tensors + 500);
    // Only the returned tensor outlives the scope.
    expect(rt.memory().tensors).toBe(start.tensors + 1);
    expect(rt.memory().liveTextures).toBe(start.liveTextures + 1);
    kept.dispose();
    const end = rt.memory();
    expect(end.liveTextures).toBe(start.liveTextures);
    expect(end.liveBytes).toBe(start.liveBytes);
    expect(end.tensors).toBe(start.tensors);
    x.dispose();
  });

  it('a scope that throws midway frees what it made', () => {
    const rt = testRuntime();
    const x = rt.tensor(rng.uniformArray(30), [2, 3, 5]);
    const start = rt.memory();
    expect(() =>
      rt.scope(() => {
        for (let i = 0; i < 20; i++) softmax(transpose(pad(x, [[1, 1], [0, 0], [2, 0]]), [2, 0, 1]), 1);
        concat([x, sum(x, 2)], 0); // ranks differ: throws
      }),
    ).toThrow(ShapeError);
    const end = rt.memory();
    expect(end.liveTextures).toBe(start.liveTextures);
    expect(end.liveBytes).toBe(start.liveBytes);
    expect(end.tensors).toBe(start.tensors);
    x.dispose();
  });
});
