/** jointHeatmaps (shaders/joint_heatmaps.glsl) against its float64 CPU reference. */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { jointHeatmaps } from '../src/kernels/joint-heatmaps.js';
import { jointHeatmapsRef } from '../src/kernels/joint-heatmaps.ref.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(1515);

// Odd image sizes, joint counts not multiples of 4, batch > 1, outputs wrapping past one texture row;
// joints inside, on the border and outside the image.
const CASES: { N: number; J: number; H: number; W: number; sigma: number }[] = [
  { N: 2, J: 5, H: 7, W: 9, sigma: 1.3 },
  { N: 3, J: 13, H: 11, W: 5, sigma: 0.7 },
  { N: 2, J: 24, H: 17, W: 19, sigma: 2.5 },
  { N: 1, J: 1, H: 1, W: 3, sigma: 0.5 },
  { N: 3, J: 6, H: 33, W: 31, sigma: 4 },
];

describe('jointHeatmaps vs float64 reference', () => {
  for (const c of CASES) {
    it(`[${c.N}, ${c.J}, 2] → [${c.N}, ${c.H}, ${c.W}, ${c.J}], σ ${c.sigma}`, () => {
      const rt = testRuntime();
      const joints = new Float32Array(c.N * c.J * 2);
      for (let i = 0; i < joints.length; i += 2) {
        joints[i] = rng.uniform(-2, c.W + 2);
        joints[i + 1] = rng.uniform(-2, c.H + 2);
      }
      const want = jointHeatmapsRef(joints, c.N, c.J, c.H, c.W, c.sigma);
      rt.scope(() => expectTensorClose(jointHeatmaps(rt.tensor(joints, [c.N, c.J, 2]), c.H, c.W, c.sigma), want, [c.N, c.H, c.W, c.J], 2e-5));
    });
  }

  it('peaks at 1 on the pixel whose centre holds the joint; a non-finite joint gives an empty map', () => {
    const rt = testRuntime();
    const joints = Float32Array.from([3.5, 2.5, NaN, 1, 6.5, Infinity, 0.5, 4.5]); // [2, 2, 2]
    const out = rt.scope(() => jointHeatmaps(rt.tensor(joints, [2, 2, 2]), 5, 7, 1).readSync());
    const at = (n: number, y: number, x: number, j: number) => out[((n * 5 + y) * 7 + x) * 2 + j];
    expect(at(0, 2, 3, 0)).toBeCloseTo(1, 6);
    expect(at(0, 2, 4, 0)).toBeCloseTo(Math.exp(-0.5), 6);
    expect(at(1, 4, 0, 1)).toBeCloseTo(1, 6);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) {
      expect(at(0, y, x, 1)).toBe(0);
      expect(at(1, y, x, 0)).toBe(0);
    }
  });

  it('names the bad shape or value', () => {
    const rt = testRuntime();
    rt.scope(() => {
      expect(() => jointHeatmaps(rt.tensor(new Float32Array(6), [2, 3]), 4, 4, 1)).toThrow(ShapeError);
      expect(() => jointHeatmaps(rt.tensor(new Float32Array(9), [1, 3, 3]), 4, 4, 1)).toThrow(/\[N, J, 2\].*\[1, 3, 3\]/);
      expect(() => jointHeatmaps(rt.tensor(new Float32Array(6), [1, 3, 2]), 0, 4, 1)).toThrow(/height must be an integer/);
      expect(() => jointHeatmaps(rt.tensor(new Float32Array(6), [1, 3, 2]), 4, 4, 0)).toThrow(NbfError);
    });
  });
});
