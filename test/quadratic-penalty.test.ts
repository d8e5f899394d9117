/**
 * The refinement's fused priors (src/kernels/quadratic-penalty.ts): value and gradient against the
 * float64 reference on odd shapes (C not a multiple of 4, several rows), every combination of terms,
 * outputs poisoned; the gradient against central differences; bad input named.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { quadraticPenalty, quadraticPenaltyBackward } from '../src/kernels/quadratic-penalty.js';
import { quadraticPenaltyRef } from '../src/kernels/quadratic-penalty.ref.js';
import * as ad from '../src/autodiff/grads/losses.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(515);
const SHAPES = [[1, 3], [1, 69], [9, 69], [3, 10], [2, 5, 7], [4, 1]];
const TERMS = [
  { weight: 0.7 },
  { weight: 0.2, start: true, startWeight: 1.3 },
  { bounds: true, boundsWeight: 2.5 },
  { weight: 0.05, start: true, startWeight: 0.4, bounds: true, boundsWeight: 3 },
];

/** Bounds around 0 with x drawn wider, so that values fall below, inside and above them. */
function bounds(C: number): { lo: Float32Array; hi: Float32Array } {
  const lo = rng.uniformArray(C, -1, -0.2);
  const hi = Float32Array.from(lo, (l) => l + rng.uniform(0.3, 1.2));
  return { lo, hi };
}

describe('quadratic_penalty and its backward against the float64 reference', () => {
  for (const shape of SHAPES) {
    for (const terms of TERMS) {
      it(`x [${shape}], terms ${JSON.stringify(terms)}`, () => {
        const rt = testRuntime();
        const C = shape[shape.length - 1];
        const size = shape.reduce((p, d) => p * d, 1);
        const x = rng.uniformArray(size, -2, 2);
        const s = rng.uniformArray(size, -1, 1);
        const { lo, hi } = bounds(C);
        rt.scope(() => {
          const gpuTerms = {
            weight: terms.weight,
            ...(terms.start ? { start: rt.tensor(s, shape), startWeight: terms.startWeight } : {}),
            ...(terms.bounds ? { lo: rt.tensor(lo, [1, C]), hi: rt.tensor(hi, [C]), boundsWeight: terms.boundsWeight } : {}),
          };
          const want = quadraticPenaltyRef(x, C, {
            weight: terms.weight, ...(terms.start ? { start: s, startWeight: terms.startWeight } : {}),
            ...(terms.bounds ? { lo, hi, boundsWeight: terms.boundsWeight } : {}),
          });
          const xt = rt.tensor(x, shape);
          expectTensorClose(quadraticPenalty(xt, gpuTerms), [want.value], [], 1e-5);
          const dy = rt.tensor([-0.75], []);
          expectTensorClose(quadraticPenaltyBackward(xt, dy, gpuTerms), Array.from(want.grad, (g) => -0.75 * g), shape, 1e-5);
        });
      });
    }
  }

  it('the recorded op\'s gradient matches central differences (start and bounds are constants)', () => {
    const rt = testRuntime();
    const shape = [3, 13];
    const C = 13;
    const x = rng.uniformArray(39, -2, 2);
    const s = rng.uniformArray(39, -1, 1);
    const { lo, hi } = bounds(C);
    // Keep x off the bounds by more than the difference step, where E's second derivative jumps.
    for (let i = 0; i < x.length; i++) for (const b of [lo[i % C], hi[i % C]]) if (Math.abs(x[i] - b) < 1e-3) x[i] += 0.01;
    checkGradients(rt,
      ([xt, st, lot, hit]) => ad.quadraticPenalty(xt, { weight: 0.3, start: st, startWeight: 0.8, lo: lot, hi: hit, boundsWeight: 1.7 }),
      ([xv, sv, lov, hiv]) => [quadraticPenaltyRef(xv, C, { weight: 0.3, start: sv, startWeight: 0.8, lo: lov, hi: hiv, boundsWeight: 1.7 }).value],
      [x, s, lo, hi], [shape, shape, [1, C], [1, C]], { check: [0] });
  });

  it('names what is wrong with its input', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(6), [2, 3]);
      expect(() => quadraticPenalty(x, { start: rt.tensor(new Float32Array(6), [3, 2]) })).toThrow(ShapeError);
      expect(() => quadraticPenalty(x, { start: rt.tensor(new Float32Array(6), [3, 2]) })).toThrow(/start \[3, 2\] differs from x \[2, 3\]/);
      expect(() => quadraticPenalty(x, { lo: rt.tensor(new Float32Array(3), [1, 3]) })).toThrow(NbfError);
      expect(() => quadraticPenalty(x, { lo: rt.tensor(new Float32Array(4), [4]), hi: rt.tensor(new Float32Array(4), [4]) })).toThrow(/lo \[4\] must hold the 3 values/);
      expect(() => quadraticPenaltyBackward(x, rt.tensor(new Float32Array(2), [2]), { weight: 1 })).toThrow(/dy must hold one value/);
    });
  });
});
