import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose, maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { absoluteToRelativeRotations, inverseRodrigues, rodrigues as rodriguesRef } from '../src/smpl/cpu-forward.js';
import { det3, nearestRotationRef } from '../src/smpl/gpu/rotations.ref.js';
import {
  axisAngle, orthogonalise, orthogonaliseBackward, relativeRotations, relativeRotationsBackward, rodrigues, rodriguesBackward,
} from '../src/smpl/gpu/kernels.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(4242);

/** Random axis-angle vectors with angles in [0, maxAngle), plus exact zeros and tiny angles mixed in. */
function randomAxisAngles(count: number, maxAngle = 3): Float64Array {
  const out = new Float64Array(count * 3);
  for (let i = 0; i < count; i++) {
    const kind = i % 7;
    const scale = kind === 0 ? 0 : kind === 1 ? 1e-5 : kind === 2 ? 0.3 : rng.uniform(0, maxAngle);
    const axis = [rng.normal(), rng.normal(), rng.normal()];
    const len = Math.hypot(axis[0], axis[1], axis[2]);
    for (let k = 0; k < 3; k++) out[3 * i + k] = (axis[k] / len) * scale;
  }
  return out;
}

function rotationsOf(thetas: Float64Array): Float64Array {
  const n = thetas.length / 3;
  const out = new Float64Array(n * 9);
  for (let i = 0; i < n; i++) rodriguesRef(thetas[3 * i], thetas[3 * i + 1], thetas[3 * i + 2], out, 9 * i);
  return out;
}

/** Central differences of a scalar function of x (float64). */
function numericGradient(f: (x: Float64Array) => number, x: Float64Array, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  const y = Float64Array.from(x);
  for (let i = 0; i < x.length; i++) {
    y[i] = x[i] + h;
    const up = f(y);
    y[i] = x[i] - h;
    const down = f(y);
    y[i] = x[i];
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/** Gradient tolerance: largest error relative to the largest gradient entry (float32 kernels, float64 FD). */
function expectGradientClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-3): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  expect(maxRelError(got, want, scale)).toBeLessThanOrEqual(tol);
}

describe('smpl_rodrigues', () => {
  it('matches the float64 Rodrigues map in [N, J, 3] and [N, J·3] layouts, zero and tiny angles included', () => {
    const rt = testRuntime();
    for (const [n, j] of [[1, 1], [3, 24], [5, 7]]) {
      const thetas = randomAxisAngles(n * j);
      rt.scope(() => {
        expectTensorClose(rodrigues(rt.tensor(thetas, [n, j, 3]), n * j), rotationsOf(thetas), [n * j, 9]);
        expectTensorClose(rodrigues(rt.tensor(thetas, [n, j * 3]), n * j), rotationsOf(thetas), [n * j, 9]);
      });
    }
  });

  it('backward matches central differences, also at exactly zero angle', () => {
    const rt = testRuntime();
    const count = 29;
    const thetas = randomAxisAngles(count);
    const weights = Float64Array.from({ length: count * 9 }, () => rng.normal());
    rt.scope(() => {
      for (const shape of [[count, 3], [1, count * 3]]) {
        const got = rodriguesBackward(rt.tensor(thetas, shape), rt.tensor(weights, [count, 9]));
        expect([...got.shape]).toEqual(shape);
        const want = numericGradient((x) => dot(rotationsOf(x), weights), thetas);
        expectGradientClose(got.readSync(), want);
      }
      // At θ = 0 the derivative is exact: ∂R/∂θ_i = [e_i]×, so dθ = (G21 − G12, G02 − G20, G10 − G01).
      const g = rt.tensor(weights.subarray(0, 9), [1, 9]);
      const zero = rodriguesBackward(rt.tensor([0, 0, 0], [1, 3]), g).readSync();
      const w = weights;
      const exact = [w[7] - w[5], w[2] - w[6], w[3] - w[1]];
      expect(maxRelError(zero, exact)).toBeLessThan(1e-6);
    });
  });

  it('round-trips through smpl_axis_angle for angles up to π, near π included', () => {
    const rt = testRuntime();
    const thetas = randomAxisAngles(40, Math.PI - 1e-3);
    // Two rotations within 0.01 of π, where the axis comes from the symmetric part.
    thetas.set([0, Math.PI - 0.005, 0, 0.6 * (Math.PI - 0.01), -0.8 * (Math.PI - 0.01), 0], 0);
    rt.scope(() => {
      const r = rodrigues(rt.tensor(thetas, [40, 3]), 40);
      const back = axisAngle(r);
      // Float32 rotation entries limit the recovered angle near π to about 1e-3 (sin a ≈ 0 there).
      expectTensorClose(back, thetas, [40, 3], 2e-3);
      const want = new Float64Array(40 * 3);
      const rot = rotationsOf(thetas);
      for (let i = 0; i < 40; i++) inverseRodrigues(rot, 9 * i, want, 3 * i);
      expectTensorClose(axisAngle(rt.tensor(rot, [40, 9])), want, [40, 3], 1e-5 * 100);
    });
  });
});

describe('smpl_orthogonalise', () => {
  function noisyRotations(count: number, noise: number): Float64Array {
    const r = rotationsOf(randomAxisAngles(count));
    for (let i = 0; i < r.length; i++) r[i] += rng.normal(0, noise);
    return r;
  }

  it('projects noisy rotations, general matrices and reflections onto proper rotations', () => {
    const rt = testRuntime();
    const count = 37;
    const inputs = [noisyRotations(count, 0.2), Float64Array.from({ length: count * 9 }, () => rng.normal())];
    // Reflections: noisy rotations with one row negated (det −1). Noise keeps the singular values
    // distinct: for an exact reflection (all σ = 1) the nearest rotation is not unique.
    const reflections = noisyRotations(count, 0.2);
    for (let i = 0; i < count; i++) for (let k = 0; k < 3; k++) reflections[9 * i + 3 * (i % 3) + k] *= -1;
    inputs.push(reflections);
    rt.scope(() => {
      for (const m of inputs) {
        const want = new Float64Array(count * 9);
        for (let i = 0; i < count; i++) want.set(nearestRotationRef(m, 9 * i), 9 * i);
        const got = orthogonalise(rt.tensor(m, [1, count, 9]), count);
        // A general random matrix can be ill-conditioned (σ2 + σ3 small), which float32 cannot resolve
        // to 1e-5; noisy rotations and reflections are well-conditioned.
        expectTensorClose(got, want, [count, 9], m === inputs[1] ? 1e-3 : 1e-5);
        const r = got.readSync();
        for (let i = 0; i < count; i++) {
          expect(det3(r.subarray(9 * i, 9 * i + 9))).toBeCloseTo(1, 5);
          expect(det3(want.subarray(9 * i, 9 * i + 9))).toBeCloseTo(1, 10);
        }
      }
      // A reflection's nearest rotation differs from the plain polar factor (which is the reflection itself).
      const flip = orthogonalise(rt.tensor([1, 0, 0, 0, 1, 0, 0, 0, -1], [1, 9]), 1).readSync();
      expect(det3(flip)).toBeCloseTo(1, 6);
    });
  });

  it('backward matches central differences (noisy rotations and reflections)', () => {
    const rt = testRuntime();
    const count = 11;
    const m = noisyRotations(count, 0.3);
    for (let k = 0; k < 3; k++) m[9 * 3 + k] *= -1; // one reflection
    const weights = Float64Array.from({ length: count * 9 }, () => rng.normal());
    const loss = (x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < count; i++) s += dot(nearestRotationRef(x, 9 * i), weights.subarray(9 * i, 9 * i + 9));
      return s;
    };
    rt.scope(() => {
      for (const shape of [[count, 9], [1, count * 9]]) {
        const got = orthogonaliseBackward(rt.tensor(m, shape), rt.tensor(weights, [count, 9]));
        expect([...got.shape]).toEqual(shape);
        expectGradientClose(got.readSync(), numericGradient(loss, m));
      }
    });
  });
});

describe('smpl_relative', () => {
  it('makes global rotations parent-relative, and its backward matches central differences', () => {
    const rt = testRuntime();
    const model = makeRandomBodyModel(5, { vertexCount: 12 });
    const gpu = GpuBodyModel.upload(rt, model);
    const n = 3;
    const J = model.jointCount;
    const abs = rotationsOf(randomAxisAngles(n * J));
    const want = new Float64Array(n * J * 9);
    for (let b = 0; b < n; b++) want.set(absoluteToRelativeRotations(abs.subarray(b * J * 9, (b + 1) * J * 9), model.parents), b * J * 9);
    const weights = Float64Array.from({ length: n * J * 9 }, () => rng.normal());
    const loss = (x: Float64Array) => {
      let s = 0;
      for (let b = 0; b < n; b++) s += dot(absoluteToRelativeRotations(x.subarray(b * J * 9, (b + 1) * J * 9), model.parents), weights.subarray(b * J * 9, (b + 1) * J * 9));
      return s;
    };
    rt.scope(() => {
      const t = rt.tensor(abs, [n * J, 9]);
      expectTensorClose(relativeRotations(gpu, t), want, [n * J, 9]);
      expectGradientClose(relativeRotationsBackward(gpu, t, rt.tensor(weights, [n * J, 9])).readSync(), numericGradient(loss, abs));
      expect(() => relativeRotations(gpu, rt.tensor(new Float32Array(9 * 5), [5, 9]))).toThrow(ShapeError);
    });
    gpu.dispose();
  });
});
