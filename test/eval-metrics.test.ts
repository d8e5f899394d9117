import { describe, expect, it } from 'vitest';
import { Rng } from '../src/util/random.js';
import { ShapeError } from '../src/runtime/errors.js';
import {
  MetricAccumulator,
  geodesicAngles,
  joint2dError,
  jointPositionErrors,
  mpjpe,
  mpjpeBatch,
  paMpjpe,
  paMpjpeBatch,
  procrustesAlign,
  procrustesTransform,
  pve,
  summarise,
  svd3,
} from '../src/eval/metrics.js';

const rng = new Rng(7);

function randomPoints(n: number, spread = 0.5): Float64Array {
  return Float64Array.from({ length: 3 * n }, () => rng.uniform(-spread, spread));
}

function randomAxis(): [number, number, number] {
  const a = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(a[0], a[1], a[2]);
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** Rotation by theta about unit axis k, 3×3 row-major (Rodrigues). */
function axisAngle(k: [number, number, number], theta: number): Float64Array {
  const [x, y, z] = k;
  const c = Math.cos(theta), s = Math.sin(theta), C = 1 - c;
  return new Float64Array([
    c + x * x * C, x * y * C - z * s, x * z * C + y * s,
    y * x * C + z * s, c + y * y * C, y * z * C - x * s,
    z * x * C - y * s, z * y * C + x * s, c + z * z * C,
  ]);
}

function randomRotation(): Float64Array {
  return axisAngle(randomAxis(), rng.uniform(0.3, Math.PI - 0.3));
}

function matmul3(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) out[3 * r + c] += a[3 * r + k] * b[3 * k + c];
  return out;
}

function transpose3(a: ArrayLike<number>): Float64Array {
  return Float64Array.from({ length: 9 }, (_, i) => a[3 * (i % 3) + Math.floor(i / 3)]);
}

function det3(m: ArrayLike<number>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/** s·R·p + t applied to n points. */
function transform(p: ArrayLike<number>, s: number, R: ArrayLike<number>, t: ArrayLike<number>): Float64Array {
  const n = p.length / 3;
  const out = new Float64Array(p.length);
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < 3; r++) {
      out[3 * i + r] = s * (R[3 * r] * p[3 * i] + R[3 * r + 1] * p[3 * i + 1] + R[3 * r + 2] * p[3 * i + 2]) + t[r];
    }
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function expectProperRotation(R: ArrayLike<number>): void {
  expect(det3(R)).toBeCloseTo(1, 12);
  expect(maxAbsDiff(matmul3(transpose3(R), R), [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-12);
}

function sse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

describe('MPJPE', () => {
  it('is 0 for identical inputs, also after a common translation', () => {
    const p = randomPoints(24);
    expect(mpjpe(p, p, 24)).toBe(0);
    const shifted = transform(p, 1, [1, 0, 0, 0, 1, 0, 0, 0, 1], [3, -2, 5]);
    expect(mpjpe(shifted, p, 24)).toBeLessThan(1e-14);
  });

  it('matches a hand-computed example', () => {
    // Root-relative pred: (0,0,0), (1,0,0), (0,2,0); target: (0,0,0), (0,0,3), (0,2,0).
    const pred = [0, 0, 0, 1, 0, 0, 0, 2, 0];
    const target = [1, 1, 1, 1, 1, 4, 1, 3, 1];
    expect(mpjpe(pred, target, 3)).toBeCloseTo(Math.sqrt(10) / 3, 15);
    expect(Array.from(jointPositionErrors(pred, target, 3))).toEqual([0, Math.sqrt(10), 0]);
    // Rooted at joint 2 instead: pred relative (0,-2,0), (1,-2,0), 0; target (0,-2,0), (0,-2,3), 0.
    expect(mpjpe(pred, target, 3, 2)).toBeCloseTo(Math.sqrt(10) / 3, 15);
    // Rooted at joint 1: pred (-1,0,0), 0, (-1,2,0); target (0,0,-3), 0, (0,2,-3): both sqrt(10).
    expect(mpjpe(pred, target, 3, 1)).toBeCloseTo((2 * Math.sqrt(10)) / 3, 15);
  });

  it('batched helper agrees with the per-example function', () => {
    const B = 4, J = 17;
    const pred = randomPoints(B * J), target = randomPoints(B * J);
    const batch = mpjpeBatch(pred, target, B, J, 3);
    for (let b = 0; b < B; b++) {
      const sl = (a: Float64Array) => a.subarray(b * J * 3, (b + 1) * J * 3);
      expect(batch[b]).toBe(mpjpe(sl(pred), sl(target), J, 3));
    }
  });
});

describe('Procrustes alignment and PA-MPJPE', () => {
  it('is 0 for identical inputs', () => {
    const p = randomPoints(24);
    expect(paMpjpe(p, p, 24)).toBeLessThan(1e-14);
    const T = procrustesTransform(p, p, 24);
    expect(T.scale).toBeCloseTo(1, 13);
    expect(maxAbsDiff(T.rotation, [1, 0, 0, 0, 1, 0, 0, 0, 1])).toBeLessThan(1e-13);
  });

  it('undoes a known similarity: PA-MPJPE ≈ 0 while MPJPE > 0', () => {
    for (let trial = 0; trial < 20; trial++) {
      const target = randomPoints(24);
      const s = rng.uniform(0.5, 2), R = randomRotation(), t = [rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-3, 3)];
      const pred = transform(target, s, R, t);
      expect(mpjpe(pred, target, 24)).toBeGreaterThan(0.01);
      expect(paMpjpe(pred, target, 24)).toBeLessThan(1e-12);
      expect(maxAbsDiff(procrustesAlign(pred, target, 24), target)).toBeLessThan(1e-12);
      // The recovered transform is the inverse one: scale 1/s, rotation Rᵀ.
      const T = procrustesTransform(pred, target, 24);
      expect(T.scale).toBeCloseTo(1 / s, 12);
      expect(maxAbsDiff(T.rotation, transpose3(R))).toBeLessThan(1e-12);
      expectProperRotation(T.rotation);
      expect(maxAbsDiff(transform(pred, T.scale, T.rotation, T.translation), target)).toBeLessThan(1e-12);
    }
  });

  it('handles coplanar, collinear and tiny point sets', () => {
    // Coplanar (rank-2 cross-covariance): alignment must still be exact and proper.
    const planar = Float64Array.from({ length: 3 * 10 }, (_, i) => (i % 3 === 2 ? 0 : rng.uniform(-1, 1)));
    const R = randomRotation();
    const pred = transform(planar, 0.8, R, [1, 2, 3]);
    expect(paMpjpe(pred, planar, 10)).toBeLessThan(1e-12);
    expectProperRotation(procrustesTransform(pred, planar, 10).rotation);
    // Collinear: the rotation is not unique, the alignment still is.
    const line = Float64Array.from({ length: 3 * 5 }, (_, i) => [1, 2, -1][i % 3] * Math.floor(i / 3));
    const linePred = transform(line, 2, randomRotation(), [0, 1, 0]);
    expect(paMpjpe(linePred, line, 5)).toBeLessThan(1e-12);
    expectProperRotation(procrustesTransform(linePred, line, 5).rotation);
    // One point, or a prediction with no spread: maps to the target centroid.
    expect(paMpjpe([1, 2, 3], [4, 5, 6], 1)).toBe(0);
    const collapsed = procrustesAlign([1, 1, 1, 1, 1, 1], [0, 0, 0, 2, 0, 0], 2);
    expect(Array.from(collapsed)).toEqual([1, 0, 0, 1, 0, 0]);
  });

  it('a mirrored prediction stays a proper rotation (reflection fix)', () => {
    const target = randomPoints(24);
    const mirror = [-1, 0, 0, 0, 1, 0, 0, 0, 1];
    const pred = transform(target, 1, mirror, [0, 0, 0]);
    const T = procrustesTransform(pred, target, 24);
    expectProperRotation(T.rotation);
    expect(T.scale).toBeGreaterThan(0);
    // Without allowing reflections the mirror image cannot be matched exactly.
    expect(paMpjpe(pred, target, 24)).toBeGreaterThan(1e-3);
    // And the result is the best proper similarity: perturbing the rotation never lowers the SSE.
    const aligned = procrustesAlign(pred, target, 24);
    const best = sse(aligned, target);
    for (let k = 0; k < 50; k++) {
      const dR = axisAngle(randomAxis(), rng.uniform(-0.05, 0.05));
      const R2 = matmul3(dR, T.rotation);
      // Re-fit translation for the perturbed rotation (centroid matching) with the same scale.
      const moved = transform(pred, T.scale, R2, [0, 0, 0]);
      const shift = [0, 1, 2].map((c) => {
        let d = 0;
        for (let i = 0; i < 24; i++) d += target[3 * i + c] - moved[3 * i + c];
        return d / 24;
      });
      expect(sse(transform(pred, T.scale, R2, shift), target)).toBeGreaterThanOrEqual(best - 1e-12);
    }
  });

  it('is least squares optimal on noisy data', () => {
    const target = randomPoints(24);
    const pred = transform(target, 1.2, randomRotation(), [0.3, -0.1, 2]);
    for (let i = 0; i < pred.length; i++) pred[i] += rng.normal(0, 0.02);
    const T = procrustesTransform(pred, target, 24);
    const best = sse(procrustesAlign(pred, target, 24), target);
    for (let k = 0; k < 50; k++) {
      const R2 = matmul3(axisAngle(randomAxis(), rng.uniform(-0.02, 0.02)), T.rotation);
      const s2 = T.scale * (1 + rng.uniform(-0.02, 0.02));
      const t2 = [0, 1, 2].map((c) => T.translation[c] + rng.uniform(-0.01, 0.01));
      expect(sse(transform(pred, s2, R2, t2), target)).toBeGreaterThanOrEqual(best - 1e-12);
    }
  });

  it('batched helper agrees with the per-example function', () => {
    const B = 3, J = 14;
    const pred = randomPoints(B * J), target = randomPoints(B * J);
    const batch = paMpjpeBatch(pred, target, B, J);
    for (let b = 0; b < B; b++) {
      const sl = (a: Float64Array) => a.subarray(b * J * 3, (b + 1) * J * 3);
      expect(batch[b]).toBeCloseTo(paMpjpe(sl(pred), sl(target), J), 14);
    }
  });
});

describe('svd3', () => {
  it('reconstructs random, rank-deficient and reflected matrices', () => {
    const cases: number[][] = [
      Array.from({ length: 9 }, () => rng.normal()),
      [1, 2, 3, 2, 4, 6, -1, -2, -3], // rank 1
      [1, 0, 0, 0, 1, 0, 0, 0, 0], // rank 2
      [-1, 0, 0, 0, 1, 0, 0, 0, 1], // reflection
      [0, 0, 0, 0, 0, 0, 0, 0, 0],
      [1, 1e-9, 0, 0, 1, 0, 0, 0, 1e-12],
    ];
    for (const m of cases) {
      const { u, s, v } = svd3(m);
      expect(s[0]).toBeGreaterThanOrEqual(s[1]);
      expect(s[1]).toBeGreaterThanOrEqual(s[2]);
      expect(s[2]).toBeGreaterThanOrEqual(0);
      const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
      expect(maxAbsDiff(matmul3(transpose3(u), u), I)).toBeLessThan(1e-13);
      expect(maxAbsDiff(matmul3(transpose3(v), v), I)).toBeLessThan(1e-13);
      const us = Float64Array.from(u, (x, i) => x * s[i % 3]);
      expect(maxAbsDiff(matmul3(us, transpose3(v)), m)).toBeLessThan(1e-13);
    }
  });
});

describe('PVE', () => {
  it('is 0 for identical vertices and handles root alignment both ways', () => {
    const V = 50;
    const target = randomPoints(V);
    expect(pve(target, target, V)).toBe(0);
    const pred = transform(target, 1, [1, 0, 0, 0, 1, 0, 0, 0, 1], [1, -2, 0.5]);
    expect(pve(pred, target, V)).toBeCloseTo(Math.hypot(1, -2, 0.5), 14);
    const targetRoot = [0.1, 0.2, 0.3];
    const predRoot = [1.1, -1.8, 0.8];
    expect(pve(pred, target, V, { predRoot, targetRoot })).toBeLessThan(1e-14);
    expect(pve(pred, target, V, [1, -2, 0.5])).toBeLessThan(1e-14);
  });

  it('matches a hand-computed example', () => {
    // Vertex errors 0 and 2 after moving the predicted root (0,0,1) onto the target root (0,0,0).
    const pred = [0, 0, 1, 2, 0, 1];
    const target = [0, 0, 0, 0, 0, 0];
    expect(pve(pred, target, 2, { predRoot: [0, 0, 1], targetRoot: [0, 0, 0] })).toBe(1);
    expect(pve(pred, target, 2)).toBeCloseTo((1 + Math.sqrt(5)) / 2, 15);
  });
});

describe('2D joint error', () => {
  it('matches a hand-computed example, with and without visibility', () => {
    const pred = [0, 0, 3, 4, 10, 10];
    const target = [0, 0, 0, 0, 10, 12];
    expect(joint2dError(pred, target, 3)).toBeCloseTo((0 + 5 + 2) / 3, 15);
    expect(joint2dError(pred, target, 3, [1, 1, 0])).toBe(2.5);
    expect(joint2dError(pred, target, 3, [0, 0, 0])).toBeNaN();
    expect(joint2dError(target, target, 3)).toBe(0);
  });
});

describe('geodesic angles', () => {
  it('is 0 for identical rotations', () => {
    const J = 24;
    const rots = new Float64Array(9 * J);
    for (let j = 0; j < J; j++) rots.set(randomRotation(), 9 * j);
    for (const a of geodesicAngles(rots, rots, J)) expect(a).toBeLessThan(1e-14);
  });

  it('recovers θ for a relative rotation by θ about a random axis, including near 0 and π', () => {
    const thetas = [0, 1e-9, 1e-6, 1e-3, 0.5, 1, 2, 3, Math.PI - 1e-3, Math.PI - 1e-6, Math.PI - 1e-9, Math.PI];
    const J = thetas.length;
    const pred = new Float64Array(9 * J), target = new Float64Array(9 * J);
    for (let j = 0; j < J; j++) {
      const base = randomRotation();
      pred.set(base, 9 * j);
      target.set(matmul3(base, axisAngle(randomAxis(), thetas[j])), 9 * j); // Rpᵀ Rt = rotation by θ
    }
    const got = geodesicAngles(pred, target, J);
    for (let j = 0; j < J; j++) {
      const tol = Math.max(1e-14, 1e-6 * thetas[j]);
      expect(Math.abs(got[j] - thetas[j]), `θ = ${thetas[j]}`).toBeLessThan(tol + 4e-15);
    }
  });

  it('is robust to trace slightly outside [-1, 3]', () => {
    const scaledUp = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1], (x) => x * (1 + 1e-9)); // trace > 3
    const flip = Float64Array.from(axisAngle([0, 0, 1], Math.PI), (x) => x * (1 + 1e-9)); // trace < -1
    const I = [1, 0, 0, 0, 1, 0, 0, 0, 1];
    const got = geodesicAngles([...I, ...I], [...scaledUp, ...flip], 2);
    expect(got[0]).toBe(0);
    expect(got[1]).toBeCloseTo(Math.PI, 12);
    for (const a of got) expect(Number.isFinite(a)).toBe(true);
  });
});

describe('summarise', () => {
  it('gives mean, median and p90', () => {
    const s = summarise([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
    expect(s).toMatchObject({ count: 10, mean: 5.5, median: 5.5, min: 1, max: 10 });
    expect(s.p90).toBeCloseTo(9.1, 12);
    expect(summarise([3, 1, 2]).median).toBe(2);
    expect(summarise([]).count).toBe(0);
    expect(summarise([]).mean).toBeNaN();
    expect(() => summarise([1, NaN])).toThrow(/values\[1\]/);
  });
});

describe('MetricAccumulator', () => {
  it('yields means, per-joint degrees, a table and JSON', () => {
    const acc = new MetricAccumulator({ lengthScale: 1000, lengthUnit: 'mm', jointNames: ['pelvis', 'knee'] });
    acc.add({ mpjpe: 0.1, paMpjpe: 0.05, pve: 0.12, px: 4, jointAngles: [0, Math.PI / 2] });
    acc.add({ mpjpe: 0.2, paMpjpe: 0.07, pve: 0.14, px: NaN, jointAngles: [Math.PI / 6, Math.PI / 6] });
    acc.add({ mpjpe: 0.3 });
    expect(acc.count).toBe(3);
    const means = acc.means();
    expect(means.mpjpe).toBeCloseTo(200, 10);
    expect(means.paMpjpe).toBeCloseTo(60, 10);
    expect(means.pve).toBeCloseTo(130, 10);
    expect(means.px).toBe(4); // pixels are not scaled; NaN counts as not measured
    const perJoint = acc.perJointAnglesDeg();
    expect(perJoint[0]).toBeCloseTo(15, 10);
    expect(perJoint[1]).toBeCloseTo(60, 10);
    const rep = JSON.parse(JSON.stringify(acc));
    expect(rep.examples).toBe(3);
    expect(rep.mpjpe.count).toBe(3);
    expect(rep.mpjpe.median).toBeCloseTo(200, 10);
    expect(rep.px.count).toBe(1);
    expect(rep.angles.jointNames).toEqual(['pelvis', 'knee']);
    expect(rep.angles.meanDeg).toBeCloseTo(37.5, 10);
    const table = acc.formatTable();
    expect(table).toMatch(/MPJPE \(mm\)\s+3\s+200\.00/);
    expect(table).toMatch(/knee\s+60\.00/);
  });

  it('reports unrecorded metrics as null and rejects bad values', () => {
    const acc = new MetricAccumulator();
    expect(acc.report()).toMatchObject({ examples: 0, mpjpe: null, angles: null });
    acc.add({ jointAngles: [0.1, 0.2, 0.3] });
    expect(() => acc.add({ jointAngles: [0.1, 0.2] })).toThrow(/jointAngles has length 2, expected 3/);
    expect(() => acc.add({ mpjpe: Infinity })).toThrow(/mpjpe/);
    expect(() => acc.add({ pve: NaN })).toThrow(/pve/);
    expect(acc.count).toBe(1);
  });
});

describe('argument checks', () => {
  it('bad lengths throw naming the argument and the expected length', () => {
    const p12 = new Float64Array(12);
    expect(() => mpjpe(new Float64Array(9), p12, 4)).toThrow(ShapeError);
    expect(() => mpjpe(new Float64Array(9), p12, 4)).toThrow(/mpjpe: pred has length 9, expected 12/);
    expect(() => mpjpe(p12, new Float64Array(15), 4)).toThrow(/target has length 15, expected 12/);
    expect(() => paMpjpe(p12, [1, 2], 4)).toThrow(/paMpjpe: target has length 2, expected 12/);
    expect(() => procrustesAlign([1, 2, 3, 4], [1, 2, 3], 1)).toThrow(/pred has length 4, expected 3/);
    expect(() => pve(p12, p12, 5)).toThrow(/predVertices has length 12, expected 15/);
    expect(() => pve(p12, p12, 4, [1, 2])).toThrow(/rootOffset has length 2, expected 3/);
    expect(() => pve(p12, p12, 4, { predRoot: [0, 0, 0], targetRoot: [0, 0] })).toThrow(/rootOffset.targetRoot has length 2, expected 3/);
    expect(() => joint2dError([1, 2, 3], [1, 2, 3, 4], 2)).toThrow(/pred2d has length 3, expected 4/);
    expect(() => joint2dError([1, 2, 3, 4], [1, 2, 3, 4], 2, [1])).toThrow(/visible has length 1, expected 2/);
    expect(() => geodesicAngles(new Float64Array(18), new Float64Array(9), 2)).toThrow(/targetRotations has length 9, expected 18/);
    expect(() => mpjpeBatch(p12, p12, 2, 4)).toThrow(/pred has length 12, expected 24/);
    expect(() => mpjpe(p12, p12, 4, 4)).toThrow(/root must be an integer joint index in \[0, 3\]/);
    expect(() => mpjpe(p12, p12, 0)).toThrow(/J must be a positive integer/);
    expect(() => mpjpe(undefined as unknown as number[], p12, 4)).toThrow(/pred must be an array of 12 numbers/);
  });
});
