/**
 * Strided conv2d input gradient by phase decomposition (conv2dBackwardInputByPhases,
 * src/autodiff/kernels/conv-backward.ts; shaders/conv2d_backward_phase_filter.glsl and
 * conv2d_backward_interleave.glsl) against the transposed-convolution scatter in float64
 * (conv2d-transpose.ref.ts), and ad.conv2d's gradient through it against finite differences.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { conv2d } from '../src/autodiff/grads/linear.js';
import { conv2dGeometry, type Conv2dPadding } from '../src/kernels/conv2d.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { conv2dTransposeRef } from '../src/kernels/conv2d-transpose.ref.js';
import { conv2dBackwardInputByPhases, phaseAxes, type ConvWindow } from '../src/autodiff/kernels/conv-backward.js';
import { conv2dBackwardInputByPhasesRef } from '../src/autodiff/kernels/conv-backward-phases.ref.js';

const rng = new Rng(47);
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const rand = (s: readonly number[]) => rng.uniformArray(sizeOf(s), -1, 1);
const int = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));

interface Case { x: number[]; w: number[]; strides: [number, number]; padding: Conv2dPadding }

/** dY, W, the resolved window and the float64 input gradient (transposed-convolution scatter) of a case. */
function setup(c: Case) {
  const g = conv2dGeometry(c.x, c.w, { strides: c.strides, padding: c.padding });
  const window: ConvWindow = { strides: c.strides, dilations: [1, 1], padding: g.padding, groups: 1 };
  const dy = rand(g.outShape);
  const w = rand(c.w);
  const want = conv2dTransposeRef(dy, g.outShape, w, c.w, { strides: c.strides, padding: g.padding, outputShape: c.x }).data;
  return { dyShape: g.outShape, dy, w, window, want };
}

const fixed: Case[] = [
  { x: [2, 9, 11, 5], w: [3, 3, 5, 7], strides: [2, 2], padding: 'same' }, // odd sizes: phases of unequal size
  { x: [3, 8, 8, 6], w: [3, 3, 6, 10], strides: [2, 2], padding: 'same' }, // even 'same': pad [0, 1]
  { x: [2, 10, 9, 3], w: [1, 1, 3, 5], strides: [2, 2], padding: 'same' }, // 1×1: 3 of 4 phases have no taps
  { x: [2, 9, 10, 7], w: [1, 1, 7, 2], strides: [2, 2], padding: 'valid' },
  { x: [2, 11, 13, 6], w: [2, 2, 6, 3], strides: [2, 2], padding: 'valid' }, // leftover rows get 0
  { x: [1, 17, 14, 5], w: [5, 5, 5, 6], strides: [2, 2], padding: 'same' },
  { x: [2, 13, 12, 3], w: [5, 3, 3, 9], strides: [3, 3], padding: 'same' }, // 9 phases: two interleave passes
  { x: [2, 14, 11, 5], w: [3, 2, 5, 4], strides: [3, 2], padding: 'valid' },
  { x: [2, 12, 13, 6], w: [3, 5, 6, 5], strides: [2, 3], padding: [2, 0, 1, 3] }, // explicit asymmetric
  { x: [1, 10, 9, 4], w: [2, 3, 4, 5], strides: [2, 2], padding: [1, 0, 0, 2] },
  { x: [2, 7, 8, 5], w: [1, 1, 5, 3], strides: [2, 2], padding: [1, 0, 2, 1] }, // padding past the kernel: output offsets
  { x: [2, 6, 9, 5], w: [3, 3, 5, 4], strides: [2, 1], padding: 'same' }, // stride 1 along one axis
];

function checkCase(c: Case, label: string): void {
  const rt = testRuntime();
  const { dyShape, dy, w, window, want } = setup(c);
  const ref = conv2dBackwardInputByPhasesRef(dy, dyShape, w, c.w, c.x, window);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(ref[i] - want[i]) > 1e-9) throw new Error(`${label}: the phase reference differs from the scatter at ${i}: ${ref[i]} vs ${want[i]}`);
  }
  rt.scope(() => {
    const got = conv2dBackwardInputByPhases(rt.tensor(dy, dyShape), rt.tensor(w, c.w), c.x, window);
    expect(got, label).not.toBeNull();
    expectTensorClose(got!, want, c.x, 1e-5);
  });
}

describe('strided input gradient by phases', () => {
  for (const c of fixed) {
    it(`x [${c.x}] ⊛ w [${c.w}] strides [${c.strides}] ${JSON.stringify(c.padding)}`, () => checkCase(c, JSON.stringify(c)));
  }

  it('random shapes: strides 2 and 3, kernels 1–5, same / valid / explicit padding, batch > 1', () => {
    let checked = 0;
    while (checked < 24) {
      const s = [2, 3][int(0, 1)];
      const k = [1, 2, 3, 5];
      const x = [int(1, 3), int(3, 15), int(3, 15), int(1, 9)];
      const w = [k[int(0, 3)], k[int(0, 3)], x[3], int(1, 9)];
      const kind = int(0, 2);
      const padding: Conv2dPadding = kind === 0 ? 'same' : kind === 1 ? 'valid' : [int(0, w[0]), int(0, w[0]), int(0, w[1]), int(0, w[1])];
      const c: Case = { x, w, strides: rng.uniform() < 0.8 ? [s, s] : [s, 5 - s], padding };
      try {
        conv2dGeometry(c.x, c.w, { strides: c.strides, padding: c.padding });
      } catch {
        continue; // the kernel does not fit
      }
      checkCase(c, JSON.stringify(c));
      checked++;
    }
  });

  it('declines stride 1, dilation > 1 and groups > 1', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const dy = rt.tensor(rand([1, 4, 4, 4]), [1, 4, 4, 4]);
      const w = rt.tensor(rand([3, 3, 4, 4]), [3, 3, 4, 4]);
      const base: ConvWindow = { strides: [2, 2], dilations: [1, 1], padding: [0, 1, 0, 1], groups: 1 };
      expect(conv2dBackwardInputByPhases(dy, w, [1, 4, 4, 4], { ...base, strides: [1, 1], padding: [1, 1, 1, 1] })).toBeNull();
      expect(conv2dBackwardInputByPhases(dy, w, [1, 8, 8, 4], { ...base, dilations: [2, 2] })).toBeNull();
      expect(conv2dBackwardInputByPhases(dy, rt.tensor(rand([3, 3, 2, 4]), [3, 3, 2, 4]), [1, 8, 8, 4], { ...base, groups: 2 })).toBeNull();
    });
  });

  it('phase geometry: a 3×3 stride-2 "same" conv of an even size splits into 2- and 1-tap phases', () => {
    // 64 → 32, padding [0, 1]: rows 2u use taps 0, 2 of dY rows u−1, u; rows 2u+1 tap 1 of dY row u.
    expect(phaseAxes(64, 32, 3, 2, 0)).toEqual([
      { rows: 32, start: 0, taps: 2, padBefore: 1, padAfter: 0, offset: 0 },
      { rows: 32, start: 1, taps: 1, padBefore: 0, padAfter: 0, offset: 0 },
    ]);
    expect(phaseAxes(8, 4, 1, 2, 0).map((a) => a.taps)).toEqual([1, 0]);
  });
});

describe('ad.conv2d gradients through the phase path against finite differences', () => {
  const cases: { x: number[]; w: number[]; strides: number | [number, number]; padding: Conv2dPadding }[] = [
    { x: [2, 7, 6, 3], w: [3, 3, 3, 5], strides: 2, padding: 'same' },
    { x: [2, 7, 5, 5], w: [1, 1, 5, 3], strides: 2, padding: 'same' },
    { x: [1, 8, 9, 3], w: [2, 3, 3, 2], strides: [3, 2], padding: [1, 0, 0, 2] },
  ];
  for (const c of cases) {
    it(`x [${c.x}] ⊛ w [${c.w}] strides ${JSON.stringify(c.strides)} ${JSON.stringify(c.padding)}`, () => {
      const shapes = [c.x, c.w];
      checkGradients(
        testRuntime(),
        ([x, w]) => conv2d(x, w, { strides: c.strides, padding: c.padding }),
        ([x, w]) => conv2dRef(x, c.x, w, c.w, { strides: c.strides, padding: c.padding }).data,
        shapes.map(rand),
        shapes,
      );
    });
  }
});
