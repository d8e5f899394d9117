/**
 * SMPL's forward pass in float64 on the CPU: an independent implementation of the maths in
 * docs/body-model.md, and the reference the GPU body-model layer is tested against.
 *
 * Matrices are row-major: a 3×3 rotation is 9 numbers (r00 r01 r02 r10 ...), a rigid transform 3×4 is
 * 12 numbers (rotation rows with the translation as 4th column).
 */
import { NbfError, ShapeError } from '../runtime/errors.js';
import type { BodyModel } from './types.js';

/** Below this angle (radians) Rodrigues' coefficients come from their Taylor series, not sin/cos. */
export const SMALL_ANGLE = 1e-4;

/**
 * Rotation matrix of an axis-angle vector (x, y, z) = angle·axis:
 * R = I + s·[θ]× + c·[θ]×², s = sin(a)/a, c = (1 − cos a)/a², a = |θ|.
 * c is evaluated as ½·(sin(a/2)/(a/2))², which has no cancellation; for a < SMALL_ANGLE both
 * coefficients use their series (error O(a⁶) ≈ 1e-24), so the map and its gradient are smooth at 0.
 */
export function rodrigues(x: number, y: number, z: number, out = new Float64Array(9), offset = 0): Float64Array {
  const a2 = x * x + y * y + z * z;
  const a = Math.sqrt(a2);
  let s: number;
  let c: number;
  if (a < SMALL_ANGLE) {
    s = 1 - a2 / 6 + (a2 * a2) / 120;
    c = 0.5 - a2 / 24 + (a2 * a2) / 720;
  } else {
    s = Math.sin(a) / a;
    const half = Math.sin(a / 2) / (a / 2);
    c = 0.5 * half * half;
  }
  // [θ]×² = θθᵀ − a²·I
  out[offset + 0] = 1 + c * (x * x - a2);
  out[offset + 1] = -s * z + c * x * y;
  out[offset + 2] = s * y + c * x * z;
  out[offset + 3] = s * z + c * x * y;
  out[offset + 4] = 1 + c * (y * y - a2);
  out[offset + 5] = -s * x + c * y * z;
  out[offset + 6] = -s * y + c * x * z;
  out[offset + 7] = s * x + c * y * z;
  out[offset + 8] = 1 + c * (z * z - a2);
  return out;
}

/**
 * Axis-angle vector (angle in [0, π]) of a rotation matrix (9 numbers, row-major, from `offset`).
 * Away from π the axis comes from the skew part (R − Rᵀ)/2 = sin(a)·[n]×, scaled by a/sin(a) (a series
 * near 0); near π the skew part vanishes, so the axis comes from the symmetric part
 * (R + Rᵀ)/2 − cos(a)·I = (1 − cos a)·nnᵀ, using its largest column, signed to agree with the skew part.
 */
export function inverseRodrigues(m: ArrayLike<number>, offset = 0, out = new Float64Array(3), outOffset = 0): Float64Array {
  const r = (i: number, j: number) => m[offset + 3 * i + j];
  const vx = (r(2, 1) - r(1, 2)) / 2;
  const vy = (r(0, 2) - r(2, 0)) / 2;
  const vz = (r(1, 0) - r(0, 1)) / 2;
  const sinA = Math.sqrt(vx * vx + vy * vy + vz * vz);
  const cosA = (r(0, 0) + r(1, 1) + r(2, 2) - 1) / 2;
  const angle = Math.atan2(sinA, cosA);
  let nx: number, ny: number, nz: number;
  if (cosA > -0.9) {
    // a/sin(a) = 1 + a²/6 + 7a⁴/360 + ...; exact form once sin(a) is not tiny.
    const scale = angle < 1e-3 ? 1 + (angle * angle) / 6 + (7 * angle ** 4) / 360 : angle / sinA;
    out[outOffset] = vx * scale;
    out[outOffset + 1] = vy * scale;
    out[outOffset + 2] = vz * scale;
    return out;
  }
  const oneMinusCos = 1 - cosA;
  const d0 = (r(0, 0) - cosA) / oneMinusCos;
  const d1 = (r(1, 1) - cosA) / oneMinusCos;
  const d2 = (r(2, 2) - cosA) / oneMinusCos;
  const s01 = (r(0, 1) + r(1, 0)) / (2 * oneMinusCos);
  const s02 = (r(0, 2) + r(2, 0)) / (2 * oneMinusCos);
  const s12 = (r(1, 2) + r(2, 1)) / (2 * oneMinusCos);
  if (d0 >= d1 && d0 >= d2) [nx, ny, nz] = [d0, s01, s02];
  else if (d1 >= d2) [nx, ny, nz] = [s01, d1, s12];
  else [nx, ny, nz] = [s02, s12, d2];
  const len = Math.hypot(nx, ny, nz);
  let sign = 1 / len;
  if (nx * vx + ny * vy + nz * vz < 0) sign = -sign;
  out[outOffset] = nx * sign * angle;
  out[outOffset + 1] = ny * sign * angle;
  out[outOffset + 2] = nz * sign * angle;
  return out;
}

/** c = aᵀ·b for 3×3 row-major matrices (a at aOff, b at bOff). */
function mulTransposedA(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, out: Float64Array, outOff: number): void {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      out[outOff + 3 * i + j] = a[aOff + i] * b[bOff + j] + a[aOff + 3 + i] * b[bOff + 3 + j] + a[aOff + 6 + i] * b[bOff + 6 + j];
    }
  }
}

/** Parent-relative rotation matrices from global ones: R_rel[j] = R_abs[parent]ᵀ·R_abs[j] (root: R_abs[0]). */
export function absoluteToRelativeRotations(globalRotations: ArrayLike<number>, parents: ArrayLike<number>): Float64Array {
  const J = parents.length;
  if (globalRotations.length !== J * 9) throw new ShapeError(`absoluteToRelative: ${globalRotations.length} numbers for ${J} joints, expected ${J * 9} (${J} row-major 3×3 matrices)`);
  const out = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) {
    const p = parents[j];
    if (p < 0) for (let k = 0; k < 9; k++) out[j * 9 + k] = globalRotations[j * 9 + k];
    else mulTransposedA(globalRotations, p * 9, globalRotations, j * 9, out, j * 9);
  }
  return out;
}

/** NBF's export: global rotation matrices (J·9) → parent-relative axis-angle (J·3, SMPL's θ). */
export function absoluteToRelative(globalRotations: ArrayLike<number>, parents: ArrayLike<number>): Float64Array {
  const relative = absoluteToRelativeRotations(globalRotations, parents);
  const out = new Float64Array(parents.length * 3);
  for (let j = 0; j < parents.length; j++) inverseRodrigues(relative, j * 9, out, j * 3);
  return out;
}

/** Absolute (global) rotation matrices J·9 of a parent-relative axis-angle pose. */
export function absoluteRotations(pose: ArrayLike<number>, parents: ArrayLike<number>): Float64Array {
  const J = parents.length;
  const local = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) rodrigues(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2], local, 9 * j);
  return relativeToAbsoluteRotations(local, parents);
}

/** Global rotations from parent-relative ones: R_abs[j] = R_abs[parent]·R_rel[j]. */
export function relativeToAbsoluteRotations(localRotations: ArrayLike<number>, parents: ArrayLike<number>): Float64Array {
  const J = parents.length;
  if (localRotations.length !== J * 9) throw new ShapeError(`relativeToAbsolute: ${localRotations.length} numbers for ${J} joints, expected ${J * 9}`);
  const out = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) {
    const p = parents[j];
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        out[j * 9 + 3 * r + c] =
          p < 0
            ? localRotations[j * 9 + 3 * r + c]
            : out[p * 9 + 3 * r] * localRotations[j * 9 + c] + out[p * 9 + 3 * r + 1] * localRotations[j * 9 + 3 + c] + out[p * 9 + 3 * r + 2] * localRotations[j * 9 + 6 + c];
      }
    }
  }
  return out;
}

export interface PoseParameters {
  /** Shape coefficients β; fewer than shapeCount are padded with 0. */
  betas?: ArrayLike<number>;
  /** Axis-angle per joint, jointCount·3 (72 for SMPL); index 0 is the global orientation. Default: zeros. */
  pose?: ArrayLike<number>;
  /** Global translation added last (metres). Default: zeros. */
  trans?: ArrayLike<number>;
}

export interface ForwardResult {
  /** Posed, translated vertices, V·3. */
  vertices: Float64Array;
  /** Posed, translated joints (translations of G_j plus trans), J·3. */
  joints: Float64Array;
  /** v_template + shapedirs·β, V·3. */
  shapedVertices: Float64Array;
  /** Joints regressed from the shaped vertices (rest pose), J·3. */
  restJoints: Float64Array;
  /** Parent-relative rotations R_j, J·9. */
  rotations: Float64Array;
  /** (R_j − I) for joints 1..J−1, row-major: P = 9·(J − 1). */
  poseFeature: Float64Array;
  /** Shaped vertices plus pose blend shapes (still in the rest pose), V·3. */
  posedRestVertices: Float64Array;
  /** G_j: joint frames in world space (before trans), J·12 (3×4 row-major). */
  globalTransforms: Float64Array;
  /** A_j = G_j with the rest pose removed (what LBS blends), J·12. */
  skinningTransforms: Float64Array;
}

function checkBetas(model: BodyModel, betas: ArrayLike<number> | undefined): ArrayLike<number> {
  const b = betas ?? [];
  if (b.length > model.shapeCount) throw new ShapeError(`betas: ${b.length} coefficients, but the body model "${model.name}" has ${model.shapeCount}`);
  return b;
}

function checkTrans(trans: ArrayLike<number> | undefined): ArrayLike<number> {
  const t = trans ?? [0, 0, 0];
  if (t.length !== 3) throw new ShapeError(`trans: ${t.length} numbers, expected 3`);
  return t;
}

/** Forward pass from axis-angle pose parameters (SMPL's θ). */
export function smplForward(model: BodyModel, params: PoseParameters = {}): ForwardResult {
  const J = model.jointCount;
  const pose = params.pose ?? new Float64Array(J * 3);
  if (pose.length !== J * 3) throw new ShapeError(`pose: ${pose.length} numbers, expected ${J * 3} (axis-angle for ${J} joints)`);
  const rotations = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) rodrigues(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2], rotations, 9 * j);
  return smplForwardFromRotations(model, rotations, params.betas, params.trans);
}

/** Forward pass from parent-relative rotation matrices (J·9), e.g. NBF's global rotations made relative. */
export function smplForwardFromRotations(model: BodyModel, rotations: ArrayLike<number>, betasIn?: ArrayLike<number>, transIn?: ArrayLike<number>): ForwardResult {
  const V = model.vertexCount;
  const J = model.jointCount;
  const B = model.shapeCount;
  const P = model.poseFeatureCount;
  if (rotations.length !== J * 9) throw new ShapeError(`rotations: ${rotations.length} numbers, expected ${J * 9} (${J} row-major 3×3 matrices)`);
  const betas = checkBetas(model, betasIn);
  const trans = checkTrans(transIn);
  const R = Float64Array.from(rotations);

  // 1. Shape blend.
  const shaped = Float64Array.from(model.vTemplate);
  for (let i = 0; i < V * 3; i++) {
    let sum = 0;
    for (let b = 0; b < betas.length; b++) sum += model.shapedirs[i * B + b] * betas[b];
    shaped[i] += sum;
  }

  // 2. Joint regression on the shaped vertices.
  const restJoints = new Float64Array(J * 3);
  const reg = model.jRegressor;
  for (let j = 0; j < J; j++) {
    for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
      const v = reg.colIndex[k];
      const w = reg.values[k];
      restJoints[3 * j] += w * shaped[3 * v];
      restJoints[3 * j + 1] += w * shaped[3 * v + 1];
      restJoints[3 * j + 2] += w * shaped[3 * v + 2];
    }
  }

  // 3–5. Pose feature (R_j − I for the non-root joints) and pose blend.
  const feature = new Float64Array(P);
  for (let j = 1; j < J; j++) {
    for (let e = 0; e < 9; e++) feature[(j - 1) * 9 + e] = R[j * 9 + e] - (e % 4 === 0 ? 1 : 0);
  }
  const posedRest = Float64Array.from(shaped);
  if (model.posedirs) {
    const dirs = model.posedirs;
    for (let i = 0; i < V * 3; i++) {
      let sum = 0;
      const row = i * P;
      for (let p = 0; p < P; p++) sum += dirs[row + p] * feature[p];
      posedRest[i] += sum;
    }
  }

  // 6. Kinematic chain: G_j = G_parent · [R_j | J_j − J_parent].
  const G = new Float64Array(J * 12);
  for (let j = 0; j < J; j++) {
    const p = model.parents[j];
    const local = new Float64Array(12);
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) local[4 * r + c] = R[9 * j + 3 * r + c];
      local[4 * r + 3] = restJoints[3 * j + r] - (p >= 0 ? restJoints[3 * p + r] : 0);
    }
    if (p < 0) {
      G.set(local, 12 * j);
      continue;
    }
    for (let r = 0; r < 3; r++) {
      const g0 = G[12 * p + 4 * r], g1 = G[12 * p + 4 * r + 1], g2 = G[12 * p + 4 * r + 2], g3 = G[12 * p + 4 * r + 3];
      for (let c = 0; c < 4; c++) {
        G[12 * j + 4 * r + c] = g0 * local[c] + g1 * local[4 + c] + g2 * local[8 + c] + (c === 3 ? g3 : 0);
      }
    }
  }

  // 7. Remove the rest pose: A_j = G_j · [I | −J_j], i.e. translation t_j − R_j^global·J_j.
  const A = Float64Array.from(G);
  for (let j = 0; j < J; j++) {
    for (let r = 0; r < 3; r++) {
      const row = 12 * j + 4 * r;
      A[row + 3] -= G[row] * restJoints[3 * j] + G[row + 1] * restJoints[3 * j + 1] + G[row + 2] * restJoints[3 * j + 2];
    }
  }

  // 8. Linear blend skinning, then the global translation.
  const vertices = new Float64Array(V * 3);
  const K = model.skin.influences;
  const T = new Float64Array(12);
  for (let v = 0; v < V; v++) {
    T.fill(0);
    for (let k = 0; k < K; k++) {
      const w = model.skin.weights[v * K + k];
      if (w === 0) continue;
      const base = 12 * model.skin.joints[v * K + k];
      for (let e = 0; e < 12; e++) T[e] += w * A[base + e];
    }
    const x = posedRest[3 * v], y = posedRest[3 * v + 1], z = posedRest[3 * v + 2];
    for (let r = 0; r < 3; r++) vertices[3 * v + r] = T[4 * r] * x + T[4 * r + 1] * y + T[4 * r + 2] * z + T[4 * r + 3] + trans[r];
  }
  const joints = new Float64Array(J * 3);
  for (let j = 0; j < J; j++) for (let r = 0; r < 3; r++) joints[3 * j + r] = G[12 * j + 4 * r + 3] + trans[r];

  return {
    vertices,
    joints,
    shapedVertices: shaped,
    restJoints,
    rotations: R,
    poseFeature: feature,
    posedRestVertices: posedRest,
    globalTransforms: G,
    skinningTransforms: A,
  };
}

/** Global rotation of each joint (the rotation part of G_j), J·9 — what NBF's network predicts. */
export function globalRotationsOf(result: ForwardResult): Float64Array {
  const J = result.globalTransforms.length / 12;
  const out = new Float64Array(J * 9);
  for (let j = 0; j < J; j++) for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[9 * j + 3 * r + c] = result.globalTransforms[12 * j + 4 * r + c];
  return out;
}

export interface PinholeCamera {
  /** Focal length in pixels (one value, or [fx, fy]). */
  focalLength: number | readonly [number, number];
  /** Principal point in pixels. */
  principalPoint: readonly [number, number];
}

/** NBF's camera: focal length 5000 px for a 512-px crop, scaled with the image, principal point at the centre. */
export function nbfCamera(imageSize = 512): PinholeCamera {
  return { focalLength: (5000 * imageSize) / 512, principalPoint: [imageSize / 2, imageSize / 2] };
}

/**
 * Perspective projection of N points (N·3, camera coordinates: x right, y down, z forward, as in
 * OpenCV/SMPLify) after adding `translation`: u = fx·X/Z + cx, v = fy·Y/Z + cy. Returns N·2.
 * Points at depth ≤ minDepth are an error — the original NBF projected with zero translation and divided
 * by ~0 (its blank 2D-joint plots); we say so instead.
 */
export function projectPerspective(points: ArrayLike<number>, camera: PinholeCamera, translation: ArrayLike<number> = [0, 0, 0], minDepth = 1e-6): Float64Array {
  if (points.length % 3 !== 0) throw new ShapeError(`projectPerspective: ${points.length} numbers is not a list of 3D points`);
  if (translation.length !== 3) throw new ShapeError(`projectPerspective: translation has ${translation.length} numbers, expected 3`);
  const [fx, fy] = typeof camera.focalLength === 'number' ? [camera.focalLength, camera.focalLength] : camera.focalLength;
  const [cx, cy] = camera.principalPoint;
  const n = points.length / 3;
  const out = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    const x = points[3 * i] + translation[0];
    const y = points[3 * i + 1] + translation[1];
    const z = points[3 * i + 2] + translation[2];
    if (!(z > minDepth)) throw new NbfError(`projectPerspective: point ${i} is at depth ${z} (at or behind the camera); is the camera translation missing?`);
    out[2 * i] = (fx * x) / z + cx;
    out[2 * i + 1] = (fy * y) / z + cy;
  }
  return out;
}

/** Weak-perspective (scaled orthographic) projection: u = s·X + tx, v = s·Y + ty. Returns N·2. */
export function projectWeakPerspective(points: ArrayLike<number>, scale: number, translation: ArrayLike<number> = [0, 0]): Float64Array {
  if (points.length % 3 !== 0) throw new ShapeError(`projectWeakPerspective: ${points.length} numbers is not a list of 3D points`);
  if (translation.length !== 2) throw new ShapeError(`projectWeakPerspective: translation has ${translation.length} numbers, expected 2`);
  const n = points.length / 3;
  const out = new Float64Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = scale * points[3 * i] + translation[0];
    out[2 * i + 1] = scale * points[3 * i + 1] + translation[1];
  }
  return out;
}
