import { describe, expect, it } from 'vitest';
import { ShapeError } from '../src/runtime/errors.js';
import {
  absoluteToRelative,
  absoluteToRelativeRotations,
  globalRotationsOf,
  inverseRodrigues,
  nbfCamera,
  projectPerspective,
  projectWeakPerspective,
  relativeToAbsoluteRotations,
  rodrigues,
  smplForward,
  smplForwardFromRotations,
  SMALL_ANGLE,
} from '../src/smpl/cpu-forward.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import type { BodyModel } from '../src/smpl/types.js';
import { Rng } from '../src/util/random.js';

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

/** Rotation from a unit quaternion: a construction independent of Rodrigues' formula. */
function rotationViaQuaternion(x: number, y: number, z: number): number[] {
  const a = Math.hypot(x, y, z);
  const [ux, uy, uz] = a > 0 ? [x / a, y / a, z / a] : [1, 0, 0];
  const w = Math.cos(a / 2);
  const s = Math.sin(a / 2);
  const [qx, qy, qz] = [ux * s, uy * s, uz * s];
  return [
    1 - 2 * (qy * qy + qz * qz), 2 * (qx * qy - qz * w), 2 * (qx * qz + qy * w),
    2 * (qx * qy + qz * w), 1 - 2 * (qx * qx + qz * qz), 2 * (qy * qz - qx * w),
    2 * (qx * qz - qy * w), 2 * (qy * qz + qx * w), 1 - 2 * (qx * qx + qy * qy),
  ];
}

function randomAxisAngle(rng: Rng, angle: number): [number, number, number] {
  const v = [rng.normal(), rng.normal(), rng.normal()];
  const n = Math.hypot(v[0], v[1], v[2]);
  return [(v[0] / n) * angle, (v[1] / n) * angle, (v[2] / n) * angle];
}

/** 4×4 homogeneous helpers for the independent forward pass below. */
type M4 = number[];
const mul4 = (a: M4, b: M4): M4 => {
  const c = new Array<number>(16).fill(0);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) for (let k = 0; k < 4; k++) c[4 * i + j] += a[4 * i + k] * b[4 * k + j];
  return c;
};
const homogeneous = (R: ArrayLike<number>, t: ArrayLike<number>): M4 => [R[0], R[1], R[2], t[0], R[3], R[4], R[5], t[1], R[6], R[7], R[8], t[2], 0, 0, 0, 1];
const I3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/**
 * SMPL forward written a second way: dense weights, 4×4 matrices, the rest pose removed by multiplying
 * with the inverse rest transform (translation by −J_j), pose feature built from quaternion rotations.
 */
function referenceForward(m: BodyModel, betas: number[], pose: number[], trans: number[]) {
  const V = m.vertexCount;
  const J = m.jointCount;
  const shaped: number[] = [];
  for (let v = 0; v < V; v++) {
    for (let a = 0; a < 3; a++) {
      let s = m.vTemplate[3 * v + a];
      betas.forEach((b, k) => (s += b * m.shapedirs[(3 * v + a) * m.shapeCount + k]));
      shaped.push(s);
    }
  }
  const dense = Array.from({ length: J }, () => new Array<number>(V).fill(0));
  for (let j = 0; j < J; j++) for (let k = m.jRegressor.rowStart[j]; k < m.jRegressor.rowStart[j + 1]; k++) dense[j][m.jRegressor.colIndex[k]] += m.jRegressor.values[k];
  const Jr = dense.map((row) => [0, 1, 2].map((a) => row.reduce((s, w, v) => s + w * shaped[3 * v + a], 0)));
  const R = Array.from({ length: J }, (_, j) => rotationViaQuaternion(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2]));
  const feature: number[] = [];
  for (let j = 1; j < J; j++) for (let e = 0; e < 9; e++) feature.push(R[j][e] - I3[e]);
  const posed = shaped.slice();
  if (m.posedirs) for (let i = 0; i < V * 3; i++) feature.forEach((f, p) => (posed[i] += f * m.posedirs![i * m.poseFeatureCount + p]));
  const G: M4[] = [];
  for (let j = 0; j < J; j++) {
    const p = m.parents[j];
    const offset = p < 0 ? Jr[j] : Jr[j].map((x, a) => x - Jr[p][a]);
    const local = homogeneous(R[j], offset);
    G.push(p < 0 ? local : mul4(G[p], local));
  }
  const A = G.map((g, j) => mul4(g, homogeneous(I3, Jr[j].map((x) => -x))));
  const denseW = Array.from({ length: V }, () => new Array<number>(J).fill(0));
  for (let v = 0; v < V; v++) for (let k = 0; k < m.skin.influences; k++) denseW[v][m.skin.joints[v * m.skin.influences + k]] += m.skin.weights[v * m.skin.influences + k];
  const vertices: number[] = [];
  for (let v = 0; v < V; v++) {
    const T = new Array<number>(16).fill(0);
    for (let j = 0; j < J; j++) for (let e = 0; e < 16; e++) T[e] += denseW[v][j] * A[j][e];
    for (let a = 0; a < 3; a++) vertices.push(T[4 * a] * posed[3 * v] + T[4 * a + 1] * posed[3 * v + 1] + T[4 * a + 2] * posed[3 * v + 2] + T[4 * a + 3] + trans[a]);
  }
  const joints = G.flatMap((g) => [g[3] + trans[0], g[7] + trans[1], g[11] + trans[2]]);
  return { vertices, joints, feature, restJoints: Jr.flat() };
}

describe('rodrigues', () => {
  const rng = new Rng(1);
  it('matches the quaternion construction for angles from 0 to beyond π', () => {
    for (const angle of [0, 1e-9, 1e-5, SMALL_ANGLE * 0.999, SMALL_ANGLE * 1.001, 0.01, 0.5, 1.7, 3.1, Math.PI, 4.5]) {
      for (let t = 0; t < 5; t++) {
        const [x, y, z] = randomAxisAngle(rng, angle);
        expect(maxAbsDiff(rodrigues(x, y, z), rotationViaQuaternion(x, y, z))).toBeLessThan(1e-15 * 8);
      }
    }
  });

  it('is smooth across the small-angle switch: the series and the exact formula agree there', () => {
    const axis = randomAxisAngle(rng, 1);
    const below = rodrigues(axis[0] * SMALL_ANGLE * (1 - 1e-12), axis[1] * SMALL_ANGLE * (1 - 1e-12), axis[2] * SMALL_ANGLE * (1 - 1e-12));
    const above = rodrigues(axis[0] * SMALL_ANGLE * (1 + 1e-12), axis[1] * SMALL_ANGLE * (1 + 1e-12), axis[2] * SMALL_ANGLE * (1 + 1e-12));
    expect(maxAbsDiff(below, above)).toBeLessThan(1e-15);
    // Central difference of R(θ) along θx at θ = 0 gives [e_x]× (the generator), not noise.
    const h = 1e-6;
    const plus = rodrigues(h, 0, 0);
    const minus = rodrigues(-h, 0, 0);
    const derivative = Array.from(plus, (p, i) => (p - minus[i]) / (2 * h));
    expect(maxAbsDiff(derivative, [0, 0, 0, 0, 0, -1, 0, 1, 0])).toBeLessThan(1e-9);
  });
});

describe('inverseRodrigues', () => {
  const rng = new Rng(2);
  it('recovers axis-angle vectors for angles in [0, π), including tiny ones', () => {
    for (const angle of [0, 1e-12, 1e-7, 1e-4, 0.003, 0.2, 1, 2, 2.6, 2.7, 3, 3.14]) {
      for (let t = 0; t < 6; t++) {
        const v = randomAxisAngle(rng, angle);
        const back = inverseRodrigues(rodrigues(...v));
        expect(maxAbsDiff(back, v)).toBeLessThan(angle > 3 ? 1e-10 : 1e-13);
      }
    }
  });

  it('is robust at and next to π, where the axis sign is ambiguous', () => {
    for (const angle of [Math.PI - 1e-6, Math.PI - 1e-10, Math.PI]) {
      for (let t = 0; t < 8; t++) {
        const v = randomAxisAngle(rng, angle);
        const R = rodrigues(...v);
        const back = inverseRodrigues(R);
        expect(Math.hypot(...back)).toBeCloseTo(angle, 9);
        expect(maxAbsDiff(rodrigues(back[0], back[1], back[2]), R)).toBeLessThan(1e-12);
      }
    }
    // Axis-aligned half turns: R = diag(1, −1, −1) etc.
    expect(maxAbsDiff(inverseRodrigues([1, 0, 0, 0, -1, 0, 0, 0, -1]).map(Math.abs), [Math.PI, 0, 0])).toBeLessThan(1e-15);
    expect(maxAbsDiff(inverseRodrigues([-1, 0, 0, 0, -1, 0, 0, 0, 1]).map(Math.abs), [0, 0, Math.PI])).toBeLessThan(1e-15);
  });
});

describe('absolute ↔ relative rotations', () => {
  it('absoluteToRelative inverts the chain composition (NBF export)', () => {
    const rng = new Rng(3);
    const m = makeRandomBodyModel(4);
    const pose = Array.from({ length: 72 }, () => 0);
    for (let j = 0; j < 24; j++) pose.splice(3 * j, 3, ...randomAxisAngle(rng, rng.uniform(0, 3)));
    const local = new Float64Array(24 * 9);
    for (let j = 0; j < 24; j++) rodrigues(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2], local, 9 * j);
    const global = relativeToAbsoluteRotations(local, m.parents);
    expect(maxAbsDiff(absoluteToRelativeRotations(global, m.parents), local)).toBeLessThan(1e-14);
    expect(maxAbsDiff(absoluteToRelative(global, m.parents), pose)).toBeLessThan(1e-12);
    // The forward pass's global frames hold the same rotations.
    expect(maxAbsDiff(globalRotationsOf(smplForward(m, { pose })), global)).toBeLessThan(1e-14);
    expect(() => absoluteToRelative(new Float64Array(10), m.parents)).toThrow(ShapeError);
  });
});

describe('smplForward (CPU, float64)', () => {
  it('matches an independently written forward pass on random models and parameters', () => {
    const rng = new Rng(6);
    for (const seed of [1, 2, 3]) {
      const m = makeRandomBodyModel(seed, { vertexCount: 23 + seed * 4, shapeCount: 10, influences: seed + 1 });
      const betas = Array.from({ length: seed === 2 ? 6 : 10 }, () => rng.normal(0, 1.5));
      const pose = Array.from({ length: 72 }, () => rng.normal(0, 0.6));
      const trans = [rng.normal(), rng.normal(), rng.uniform(2, 20)];
      const got = smplForward(m, { betas, pose, trans });
      const want = referenceForward(m, betas, pose, trans);
      expect(maxAbsDiff(got.vertices, want.vertices)).toBeLessThan(1e-12);
      expect(maxAbsDiff(got.joints, want.joints)).toBeLessThan(1e-12);
      expect(maxAbsDiff(got.poseFeature, want.feature)).toBeLessThan(1e-14);
      expect(maxAbsDiff(got.restJoints, want.restJoints)).toBeLessThan(1e-14);
    }
  });

  it('returns the template and regressed joints for zero parameters', () => {
    const m = makeRandomBodyModel(8);
    const r = smplForward(m);
    expect(maxAbsDiff(r.vertices, m.vTemplate)).toBeLessThan(1e-15);
    expect(maxAbsDiff(r.joints, r.restJoints)).toBeLessThan(1e-15);
    expect(r.poseFeature.every((x) => x === 0)).toBe(true);
  });

  it('rotates rigidly about the root joint for a root-only pose (no pose blend), then translates', () => {
    const m = makeRandomBodyModel(9);
    const root = [0.3, -1.2, 0.5];
    const trans = [0.1, 0.2, 5];
    const pose = [...root, ...new Array(69).fill(0)];
    const r = smplForward(m, { pose, trans, betas: [0.5, -0.3] });
    const R = rodrigues(root[0], root[1], root[2]);
    const j0 = r.restJoints.subarray(0, 3);
    for (let v = 0; v < m.vertexCount; v++) {
      const d = [0, 1, 2].map((a) => r.shapedVertices[3 * v + a] - j0[a]);
      for (let a = 0; a < 3; a++) {
        const want = R[3 * a] * d[0] + R[3 * a + 1] * d[1] + R[3 * a + 2] * d[2] + j0[a] + trans[a];
        expect(Math.abs(r.vertices[3 * v + a] - want)).toBeLessThan(1e-13);
      }
    }
  });

  it('is translation-equivariant in the template (regressor rows sum to 1)', () => {
    const m = makeRandomBodyModel(10);
    const shifted = { ...m, vTemplate: m.vTemplate.map((x, i) => x + [0.3, -0.7, 1.1][i % 3]) };
    const pose = Array.from({ length: 72 }, (_, i) => Math.sin(i) * 0.4);
    const a = smplForward(m, { pose, trans: [0.3, -0.7, 1.1] });
    const b = smplForward(shifted, { pose });
    // Pose blend acts on the template too, but the shift moves every rest vertex and joint alike.
    expect(maxAbsDiff(a.joints, b.joints)).toBeLessThan(1e-13);
    expect(maxAbsDiff(a.vertices, b.vertices)).toBeLessThan(1e-13);
  });

  it('smplForwardFromRotations equals smplForward for the same rotations', () => {
    const m = makeRandomBodyModel(12);
    const pose = Array.from({ length: 72 }, (_, i) => Math.cos(i * 1.3) * 0.5);
    const a = smplForward(m, { pose, betas: [1, 2, 3] });
    const b = smplForwardFromRotations(m, a.rotations, [1, 2, 3]);
    expect(maxAbsDiff(a.vertices, b.vertices)).toBe(0);
  });

  it('rejects wrong parameter sizes with ShapeErrors', () => {
    const m = makeRandomBodyModel(13);
    expect(() => smplForward(m, { pose: new Array(69).fill(0) })).toThrow(/pose: 69 numbers, expected 72/);
    expect(() => smplForward(m, { betas: new Array(11).fill(0) })).toThrow(/betas: 11 coefficients, but the body model .* has 10/);
    expect(() => smplForward(m, { trans: [1, 2] })).toThrow(ShapeError);
    expect(() => smplForwardFromRotations(m, new Float64Array(9))).toThrow(/rotations: 9 numbers, expected 216/);
  });
});

describe('projection', () => {
  it('projects perspectively with NBF camera and refuses points at the camera', () => {
    const cam = nbfCamera(512);
    expect(cam.focalLength).toBe(5000);
    expect(nbfCamera(224).focalLength).toBe(2187.5);
    const uv = projectPerspective([0.1, -0.2, 0, 0, 0, 10], cam, [0, 0, 20]);
    expect(Array.from(uv)).toEqual([256 + (5000 * 0.1) / 20, 256 - (5000 * 0.2) / 20, 256, 256]);
    const uv2 = projectPerspective([1, 1, 2], { focalLength: [100, 200], principalPoint: [5, 7] });
    expect(Array.from(uv2)).toEqual([55, 107]);
    expect(() => projectPerspective([0, 0, 0], cam)).toThrow(/point 0 is at depth 0 .*camera translation missing/);
    expect(() => projectPerspective([0, 0], cam)).toThrow(ShapeError);
  });

  it('projects weak-perspectively', () => {
    expect(Array.from(projectWeakPerspective([1, 2, 3, -1, 0, 9], 2, [0.5, -0.5]))).toEqual([2.5, 3.5, -1.5, -0.5]);
    expect(() => projectWeakPerspective([1, 2, 3], 1, [0, 0, 0])).toThrow(ShapeError);
  });
});
