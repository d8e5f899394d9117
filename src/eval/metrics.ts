/**
 * Evaluation metrics for 3D human pose and shape, computed on the CPU in float64.
 *
 * All inputs are plain row-major `ArrayLike<number>` arrays: J joints in 3D are `J·3` numbers
 * (x0 y0 z0 x1 …), 2D joints `J·2`, rotations `J·9` (3×3 row-major matrices). Lengths are checked up
 * front and a wrong one throws a `ShapeError` naming the function, the argument and the expected
 * length. Distances come back in the input's units (metres in, metres out); scale them for tables with
 * `MetricAccumulator`'s `lengthScale`.
 *
 * - MPJPE: mean per-joint position error after subtracting the root joint (pelvis, joint 0) from each set.
 * - PA-MPJPE: the same after the similarity (scale, rotation, translation) that best maps the prediction
 *   onto the target in least squares (Umeyama / orthogonal Procrustes with the reflection fix, so the
 *   rotation is always proper).
 * - PVE: mean per-vertex Euclidean error, optionally after moving the predicted root onto the target root.
 * - 2D error: mean Euclidean distance in pixels, optionally over visible joints only.
 * - Geodesic angles: per joint, the angle of R_predᵀ·R_target in radians.
 */
import { NbfError, ShapeError } from '../runtime/errors.js';

// ---------------------------------------------------------------------------------------------------
// Argument checks

function checkCount(fn: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0) {
    throw new NbfError(`${fn}: ${name} must be a positive integer, got ${String(n)}`);
  }
}

function checkArray(fn: string, name: string, a: ArrayLike<number> | undefined | null, expected: number, how: string): void {
  if (a == null || typeof (a as ArrayLike<number>).length !== 'number') {
    throw new ShapeError(`${fn}: ${name} must be an array of ${expected} numbers (${how}), got ${a === null ? 'null' : typeof a}`);
  }
  if (a.length !== expected) {
    throw new ShapeError(`${fn}: ${name} has length ${a.length}, expected ${expected} (${how})`);
  }
}

function checkRoot(fn: string, root: number, J: number): void {
  if (!Number.isInteger(root) || root < 0 || root >= J) {
    throw new NbfError(`${fn}: root must be an integer joint index in [0, ${J - 1}], got ${String(root)}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// MPJPE

function mpjpeAt(pred: ArrayLike<number>, target: ArrayLike<number>, off: number, J: number, root: number): number {
  const r = off + 3 * root;
  const px = pred[r], py = pred[r + 1], pz = pred[r + 2];
  const tx = target[r], ty = target[r + 1], tz = target[r + 2];
  let sum = 0;
  for (let j = 0; j < J; j++) {
    const o = off + 3 * j;
    const dx = pred[o] - px - (target[o] - tx);
    const dy = pred[o + 1] - py - (target[o + 1] - ty);
    const dz = pred[o + 2] - pz - (target[o + 2] - tz);
    sum += Math.sqrt(dx * dx + dy * dy + dz * dz);
  }
  return sum / J;
}

/**
 * Mean per-joint position error of one example after aligning the roots: both sets have joint `root`
 * (default 0, the pelvis) subtracted before the mean Euclidean distance is taken.
 * `pred`, `target`: J·3 numbers. Returns a distance in the input's units.
 */
export function mpjpe(pred: ArrayLike<number>, target: ArrayLike<number>, J: number, root = 0): number {
  checkCount('mpjpe', 'J', J);
  checkArray('mpjpe', 'pred', pred, 3 * J, `J·3 with J = ${J}`);
  checkArray('mpjpe', 'target', target, 3 * J, `J·3 with J = ${J}`);
  checkRoot('mpjpe', root, J);
  return mpjpeAt(pred, target, 0, J, root);
}

/** MPJPE of each example of a batch: `pred`, `target` are B·J·3 numbers; returns B values. */
export function mpjpeBatch(pred: ArrayLike<number>, target: ArrayLike<number>, B: number, J: number, root = 0): Float64Array {
  checkCount('mpjpeBatch', 'B', B);
  checkCount('mpjpeBatch', 'J', J);
  const how = `B·J·3 with B = ${B}, J = ${J}`;
  checkArray('mpjpeBatch', 'pred', pred, B * J * 3, how);
  checkArray('mpjpeBatch', 'target', target, B * J * 3, how);
  checkRoot('mpjpeBatch', root, J);
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) out[b] = mpjpeAt(pred, target, b * J * 3, J, root);
  return out;
}

/**
 * Per-joint position errors of one example after aligning the roots (J values, the root's is 0);
 * their mean is `mpjpe`.
 */
export function jointPositionErrors(pred: ArrayLike<number>, target: ArrayLike<number>, J: number, root = 0): Float64Array {
  checkCount('jointPositionErrors', 'J', J);
  checkArray('jointPositionErrors', 'pred', pred, 3 * J, `J·3 with J = ${J}`);
  checkArray('jointPositionErrors', 'target', target, 3 * J, `J·3 with J = ${J}`);
  checkRoot('jointPositionErrors', root, J);
  const r = 3 * root;
  const out = new Float64Array(J);
  for (let j = 0; j < J; j++) {
    let s = 0;
    for (let c = 0; c < 3; c++) {
      const d = pred[3 * j + c] - pred[r + c] - (target[3 * j + c] - target[r + c]);
      s += d * d;
    }
    out[j] = Math.sqrt(s);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// 3×3 SVD by one-sided Jacobi (Hestenes) rotations

/** A singular value decomposition m = U·diag(s)·Vᵀ of a 3×3 matrix. */
export interface Svd3 {
  /** Left singular vectors as columns, 3×3 row-major, orthogonal. */
  u: Float64Array;
  /** Singular values, non-negative, in descending order. */
  s: Float64Array;
  /** Right singular vectors as columns, 3×3 row-major, orthogonal. */
  v: Float64Array;
}

function det3(m: ArrayLike<number>): number {
  return (
    m[0] * (m[4] * m[8] - m[5] * m[7]) -
    m[1] * (m[3] * m[8] - m[5] * m[6]) +
    m[2] * (m[3] * m[7] - m[4] * m[6])
  );
}

/** A unit vector perpendicular to unit vector (x, y, z). */
function perpendicular(x: number, y: number, z: number): [number, number, number] {
  const ax = Math.abs(x), ay = Math.abs(y), az = Math.abs(z);
  // Cross with the coordinate axis least aligned with the vector.
  let cx: number, cy: number, cz: number;
  if (ax <= ay && ax <= az) [cx, cy, cz] = [0, z, -y]; // v × e_x
  else if (ay <= az) [cx, cy, cz] = [-z, 0, x]; // v × e_y
  else [cx, cy, cz] = [y, -x, 0]; // v × e_z
  const n = Math.hypot(cx, cy, cz);
  return [cx / n, cy / n, cz / n];
}

/**
 * Singular value decomposition of a 3×3 row-major matrix, m = U·diag(s)·Vᵀ, with U and V orthogonal
 * (full bases even when m is rank-deficient) and s descending. One-sided Jacobi keeps small singular
 * values accurate, unlike an eigen-decomposition of mᵀm.
 */
export function svd3(m: ArrayLike<number>): Svd3 {
  checkArray('svd3', 'm', m, 9, '3×3 row-major');
  // Work on columns: a[c] is column c of m·V, v[c] is column c of V.
  const a = [0, 1, 2].map((c) => [m[c], m[3 + c], m[6 + c]]);
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 64; sweep++) {
    let rotated = false;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const ap = a[p], aq = a[q];
      const alpha = ap[0] * ap[0] + ap[1] * ap[1] + ap[2] * ap[2];
      const beta = aq[0] * aq[0] + aq[1] * aq[1] + aq[2] * aq[2];
      const gamma = ap[0] * aq[0] + ap[1] * aq[1] + ap[2] * aq[2];
      if (gamma === 0 || Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha) * Math.sqrt(beta)) continue;
      rotated = true;
      const zeta = (beta - alpha) / (2 * gamma);
      const t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
      const c = 1 / Math.sqrt(1 + t * t);
      const s = c * t;
      for (const w of [a, v]) {
        const wp = w[p], wq = w[q];
        for (let i = 0; i < 3; i++) {
          const x = wp[i], y = wq[i];
          wp[i] = c * x - s * y;
          wq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const norms = a.map((col) => Math.hypot(col[0], col[1], col[2]));
  const order = [0, 1, 2].sort((i, j) => norms[j] - norms[i]);
  const A = order.map((i) => a[i]);
  const Vc = order.map((i) => v[i]);
  const s = new Float64Array(order.map((i) => norms[i]));

  // Left singular vectors: normalise the columns of m·V, completing a basis where they vanish.
  const tol = 1e-13 * s[0];
  let u0: [number, number, number];
  if (s[0] > 0) u0 = [A[0][0] / s[0], A[0][1] / s[0], A[0][2] / s[0]];
  else u0 = [1, 0, 0];
  let u1: [number, number, number];
  {
    const d = A[1][0] * u0[0] + A[1][1] * u0[1] + A[1][2] * u0[2];
    const w = [A[1][0] - d * u0[0], A[1][1] - d * u0[1], A[1][2] - d * u0[2]];
    const n = Math.hypot(w[0], w[1], w[2]);
    u1 = s[1] > tol && n > tol ? [w[0] / n, w[1] / n, w[2] / n] : perpendicular(u0[0], u0[1], u0[2]);
  }
  let u2: [number, number, number] = [
    u0[1] * u1[2] - u0[2] * u1[1],
    u0[2] * u1[0] - u0[0] * u1[2],
    u0[0] * u1[1] - u0[1] * u1[0],
  ];
  {
    const n = Math.hypot(u2[0], u2[1], u2[2]);
    u2 = [u2[0] / n, u2[1] / n, u2[2] / n];
    // The third column of m·V is parallel to u2; orient u2 along it so s[2] ≥ 0.
    const d = A[2][0] * u2[0] + A[2][1] * u2[1] + A[2][2] * u2[2];
    if (d < 0) u2 = [-u2[0], -u2[1], -u2[2]];
  }
  const U = [u0, u1, u2];
  const uOut = new Float64Array(9);
  const vOut = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      uOut[3 * r + c] = U[c][r];
      vOut[3 * r + c] = Vc[c][r];
    }
  }
  return { u: uOut, s, v: vOut };
}

// ---------------------------------------------------------------------------------------------------
// Procrustes (similarity) alignment

/** The similarity that maps points p onto q in least squares: q ≈ scale·rotation·p + translation. */
export interface SimilarityTransform {
  scale: number;
  /** 3×3 row-major proper rotation (det +1). */
  rotation: Float64Array;
  translation: Float64Array;
}

function procrustesAt(pred: ArrayLike<number>, target: ArrayLike<number>, off: number, n: number): SimilarityTransform {
  const mp = [0, 0, 0];
  const mt = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      mp[c] += pred[off + 3 * i + c];
      mt[c] += target[off + 3 * i + c];
    }
  }
  for (let c = 0; c < 3; c++) {
    mp[c] /= n;
    mt[c] /= n;
  }
  // K = Σ (p - mp)(t - mt)ᵀ and the spread of the prediction.
  const K = new Float64Array(9);
  let varP = 0;
  for (let i = 0; i < n; i++) {
    const o = off + 3 * i;
    const x0 = pred[o] - mp[0], x1 = pred[o + 1] - mp[1], x2 = pred[o + 2] - mp[2];
    const y0 = target[o] - mt[0], y1 = target[o + 1] - mt[1], y2 = target[o + 2] - mt[2];
    varP += x0 * x0 + x1 * x1 + x2 * x2;
    K[0] += x0 * y0; K[1] += x0 * y1; K[2] += x0 * y2;
    K[3] += x1 * y0; K[4] += x1 * y1; K[5] += x1 * y2;
    K[6] += x2 * y0; K[7] += x2 * y1; K[8] += x2 * y2;
  }
  const rotation = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  let scale = 0;
  if (varP > 0) {
    // Maximise trace(R·K) over proper rotations: with K = U S Vᵀ, R = V·D·Uᵀ, D = diag(1, 1, det(V Uᵀ)).
    const { u, s, v } = svd3(K);
    const d = det3(v) * det3(u) < 0 ? -1 : 1;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        rotation[3 * r + c] = v[3 * r] * u[3 * c] + v[3 * r + 1] * u[3 * c + 1] + d * v[3 * r + 2] * u[3 * c + 2];
      }
    }
    scale = (s[0] + s[1] + d * s[2]) / varP;
  }
  const translation = new Float64Array(3);
  for (let r = 0; r < 3; r++) {
    translation[r] = mt[r] - scale * (rotation[3 * r] * mp[0] + rotation[3 * r + 1] * mp[1] + rotation[3 * r + 2] * mp[2]);
  }
  return { scale, rotation, translation };
}

function applySimilarity(T: SimilarityTransform, pts: ArrayLike<number>, off: number, n: number, out: Float64Array, outOff: number): void {
  const { scale: s, rotation: R, translation: t } = T;
  for (let i = 0; i < n; i++) {
    const x = pts[off + 3 * i], y = pts[off + 3 * i + 1], z = pts[off + 3 * i + 2];
    for (let r = 0; r < 3; r++) {
      out[outOff + 3 * i + r] = s * (R[3 * r] * x + R[3 * r + 1] * y + R[3 * r + 2] * z) + t[r];
    }
  }
}

/**
 * The least-squares similarity (scale, proper rotation, translation) taking `pred` onto `target`,
 * each n·3 numbers. If the prediction has no spread (all points equal) the scale is 0 and every point
 * maps to the target's centroid.
 */
export function procrustesTransform(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): SimilarityTransform {
  checkCount('procrustesTransform', 'n', n);
  checkArray('procrustesTransform', 'pred', pred, 3 * n, `n·3 with n = ${n}`);
  checkArray('procrustesTransform', 'target', target, 3 * n, `n·3 with n = ${n}`);
  return procrustesAt(pred, target, 0, n);
}

/** `pred` (n·3 numbers) after the least-squares similarity onto `target`: a new n·3 Float64Array. */
export function procrustesAlign(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): Float64Array {
  checkCount('procrustesAlign', 'n', n);
  checkArray('procrustesAlign', 'pred', pred, 3 * n, `n·3 with n = ${n}`);
  checkArray('procrustesAlign', 'target', target, 3 * n, `n·3 with n = ${n}`);
  return alignedOnto(pred, target, n);
}

/** pred (unchecked, n·3) after its least-squares similarity onto target. */
function alignedOnto(pred: ArrayLike<number>, target: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(3 * n);
  applySimilarity(procrustesAt(pred, target, 0, n), pred, 0, n, out, 0);
  return out;
}

function meanDistance(a: ArrayLike<number>, aOff: number, b: ArrayLike<number>, bOff: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const dx = a[aOff + 3 * i] - b[bOff + 3 * i];
    const dy = a[aOff + 3 * i + 1] - b[bOff + 3 * i + 1];
    const dz = a[aOff + 3 * i + 2] - b[bOff + 3 * i + 2];
    sum += Math.sqrt(dx * dx + dy * dy + dz * dz);
  }
  return sum / n;
}

/**
 * Procrustes-aligned MPJPE of one example: mean per-joint distance after the least-squares similarity
 * of `pred` onto `target` (each J·3 numbers). In the input's units.
 */
export function paMpjpe(pred: ArrayLike<number>, target: ArrayLike<number>, J: number): number {
  checkCount('paMpjpe', 'J', J);
  checkArray('paMpjpe', 'pred', pred, 3 * J, `J·3 with J = ${J}`);
  checkArray('paMpjpe', 'target', target, 3 * J, `J·3 with J = ${J}`);
  return meanDistance(alignedOnto(pred, target, J), 0, target, 0, J);
}

/** PA-MPJPE of each example of a batch: `pred`, `target` are B·J·3 numbers; returns B values. */
export function paMpjpeBatch(pred: ArrayLike<number>, target: ArrayLike<number>, B: number, J: number): Float64Array {
  checkCount('paMpjpeBatch', 'B', B);
  checkCount('paMpjpeBatch', 'J', J);
  const how = `B·J·3 with B = ${B}, J = ${J}`;
  checkArray('paMpjpeBatch', 'pred', pred, B * J * 3, how);
  checkArray('paMpjpeBatch', 'target', target, B * J * 3, how);
  const out = new Float64Array(B);
  const aligned = new Float64Array(3 * J);
  for (let b = 0; b < B; b++) {
    const off = b * J * 3;
    applySimilarity(procrustesAt(pred, target, off, J), pred, off, J, aligned, 0);
    out[b] = meanDistance(aligned, 0, target, off, J);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Per-vertex error

/** The two root positions (3 numbers each) to bring together before measuring vertex error. */
export interface RootPair {
  predRoot: ArrayLike<number>;
  targetRoot: ArrayLike<number>;
}

/**
 * Mean per-vertex Euclidean error between `predVertices` and `targetVertices` (V·3 numbers each).
 * `rootOffset`, optional: either `{ predRoot, targetRoot }` — the prediction is translated by
 * targetRoot − predRoot so the roots coincide — or a 3-vector subtracted from every predicted vertex
 * (i.e. predRoot − targetRoot). Without it the vertices are compared as given.
 */
export function pve(
  predVertices: ArrayLike<number>,
  targetVertices: ArrayLike<number>,
  V: number,
  rootOffset?: RootPair | ArrayLike<number>,
): number {
  checkCount('pve', 'V', V);
  checkArray('pve', 'predVertices', predVertices, 3 * V, `V·3 with V = ${V}`);
  checkArray('pve', 'targetVertices', targetVertices, 3 * V, `V·3 with V = ${V}`);
  let ox = 0, oy = 0, oz = 0;
  if (rootOffset != null) {
    if ('predRoot' in rootOffset || 'targetRoot' in rootOffset) {
      const { predRoot, targetRoot } = rootOffset as RootPair;
      checkArray('pve', 'rootOffset.predRoot', predRoot, 3, 'a 3D point');
      checkArray('pve', 'rootOffset.targetRoot', targetRoot, 3, 'a 3D point');
      ox = predRoot[0] - targetRoot[0];
      oy = predRoot[1] - targetRoot[1];
      oz = predRoot[2] - targetRoot[2];
    } else {
      const off = rootOffset as ArrayLike<number>;
      checkArray('pve', 'rootOffset', off, 3, 'a 3D translation, predRoot − targetRoot');
      [ox, oy, oz] = [off[0], off[1], off[2]];
    }
  }
  let sum = 0;
  for (let i = 0; i < V; i++) {
    const o = 3 * i;
    const dx = predVertices[o] - ox - targetVertices[o];
    const dy = predVertices[o + 1] - oy - targetVertices[o + 1];
    const dz = predVertices[o + 2] - oz - targetVertices[o + 2];
    sum += Math.sqrt(dx * dx + dy * dy + dz * dz);
  }
  return sum / V;
}

// ---------------------------------------------------------------------------------------------------
// 2D joint error

/**
 * Mean Euclidean distance in pixels between `pred2d` and `target2d` (J·2 numbers each). With
 * `visible` (J numbers, non-zero = counted) only visible joints are averaged; if none is visible the
 * result is NaN (which `MetricAccumulator` treats as "no 2D error for this example").
 */
export function joint2dError(pred2d: ArrayLike<number>, target2d: ArrayLike<number>, J: number, visible?: ArrayLike<number>): number {
  checkCount('joint2dError', 'J', J);
  checkArray('joint2dError', 'pred2d', pred2d, 2 * J, `J·2 with J = ${J}`);
  checkArray('joint2dError', 'target2d', target2d, 2 * J, `J·2 with J = ${J}`);
  if (visible != null) checkArray('joint2dError', 'visible', visible, J, `one flag per joint, J = ${J}`);
  let sum = 0;
  let count = 0;
  for (let j = 0; j < J; j++) {
    if (visible != null && !visible[j]) continue;
    const dx = pred2d[2 * j] - target2d[2 * j];
    const dy = pred2d[2 * j + 1] - target2d[2 * j + 1];
    sum += Math.sqrt(dx * dx + dy * dy);
    count++;
  }
  return count === 0 ? NaN : sum / count;
}

// ---------------------------------------------------------------------------------------------------
// Geodesic rotation error

/**
 * Per joint, the geodesic angle in radians (in [0, π]) of R_predᵀ·R_target; the rotations are J 3×3
 * row-major matrices (J·9 numbers each). The angle is atan2(‖axis part‖, (trace − 1)/2) rather than
 * acos of a clamped trace, so it stays accurate near 0 and near π and tolerates slightly
 * non-orthonormal matrices (trace a little outside [−1, 3]).
 */
export function geodesicAngles(predRotations: ArrayLike<number>, targetRotations: ArrayLike<number>, J: number): Float64Array {
  checkCount('geodesicAngles', 'J', J);
  checkArray('geodesicAngles', 'predRotations', predRotations, 9 * J, `J·9 with J = ${J}`);
  checkArray('geodesicAngles', 'targetRotations', targetRotations, 9 * J, `J·9 with J = ${J}`);
  const out = new Float64Array(J);
  const M = new Float64Array(9);
  for (let j = 0; j < J; j++) {
    const o = 9 * j;
    // M = Pᵀ T: M[r][c] = Σ_k P[k][r] T[k][c].
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) {
        M[3 * r + c] =
          predRotations[o + r] * targetRotations[o + c] +
          predRotations[o + 3 + r] * targetRotations[o + 3 + c] +
          predRotations[o + 6 + r] * targetRotations[o + 6 + c];
      }
    }
    const cos2 = M[0] + M[4] + M[8] - 1; // 2 cos θ
    const sin2 = Math.hypot(M[7] - M[5], M[2] - M[6], M[3] - M[1]); // 2 sin θ
    out[j] = Math.atan2(sin2, cos2);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Summaries and accumulation

export interface Summary {
  count: number;
  mean: number;
  median: number;
  /** 90th percentile, linear interpolation between order statistics (NumPy's default). */
  p90: number;
  min: number;
  max: number;
}

function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Mean, median, 90th percentile, min and max of `values`. An empty list gives count 0 and NaN
 * statistics; a non-finite value throws.
 */
export function summarise(values: ArrayLike<number>): Summary {
  const n = values.length;
  if (n === 0) return { count: 0, mean: NaN, median: NaN, p90: NaN, min: NaN, max: NaN };
  const sorted = Float64Array.from(values);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(sorted[i])) throw new NbfError(`summarise: values[${i}] is ${sorted[i]}, expected a finite number`);
    sum += sorted[i];
  }
  sorted.sort();
  return {
    count: n,
    mean: sum / n,
    median: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    min: sorted[0],
    max: sorted[n - 1],
  };
}

/** Per-example results for `MetricAccumulator.add`; omit (or pass undefined) what was not measured. */
export interface ExampleMetrics {
  /** Root-aligned MPJPE, input units. */
  mpjpe?: number;
  /** Procrustes-aligned MPJPE, input units. */
  paMpjpe?: number;
  /** Per-vertex error, input units. */
  pve?: number;
  /** 2D joint error in pixels; NaN (no visible joint) counts as not measured. */
  px?: number;
  /** Per-joint geodesic angles in radians (as from `geodesicAngles`). */
  jointAngles?: ArrayLike<number>;
}

export type ScalarMetric = 'mpjpe' | 'paMpjpe' | 'pve' | 'px';
const SCALAR_METRICS: readonly ScalarMetric[] = ['mpjpe', 'paMpjpe', 'pve', 'px'];

export interface MetricAccumulatorOptions {
  /** Multiplies the length metrics (mpjpe, paMpjpe, pve) in reports, e.g. 1000 for metres → mm. Default 1. */
  lengthScale?: number;
  /** Label of the reported length unit, e.g. 'mm'. Default '' (input units). */
  lengthUnit?: string;
  /** Joint names for the per-joint angle table; also fixes the joint count. */
  jointNames?: readonly string[];
}

/** JSON-ready report; statistics of metrics never recorded are null. */
export interface MetricReport {
  examples: number;
  lengthUnit: string;
  mpjpe: Summary | null;
  paMpjpe: Summary | null;
  pve: Summary | null;
  px: Summary | null;
  angles: {
    /** Examples that had joint angles. */
    count: number;
    /** Mean over examples and joints, degrees. */
    meanDeg: number;
    /** Per-joint mean over examples, degrees. */
    perJointDeg: number[];
    jointNames: string[];
  } | null;
}

const RAD2DEG = 180 / Math.PI;

/**
 * Collects per-example metrics and reports means (plus median and p90) and per-joint mean angles in
 * degrees, as a text table (`formatTable`) or JSON (`report`, `toJSON`).
 */
export class MetricAccumulator {
  private readonly values: Record<ScalarMetric, number[]> = { mpjpe: [], paMpjpe: [], pve: [], px: [] };
  private angleSums: Float64Array | null = null;
  private angleCount = 0;
  private examples = 0;
  readonly lengthScale: number;
  readonly lengthUnit: string;
  private jointNames: readonly string[] | undefined;

  constructor(options: MetricAccumulatorOptions = {}) {
    this.lengthScale = options.lengthScale ?? 1;
    if (!Number.isFinite(this.lengthScale) || this.lengthScale <= 0) {
      throw new NbfError(`MetricAccumulator: lengthScale must be a positive number, got ${String(options.lengthScale)}`);
    }
    this.lengthUnit = options.lengthUnit ?? '';
    this.jointNames = options.jointNames;
    if (this.jointNames) this.angleSums = new Float64Array(this.jointNames.length);
  }

  /** Number of examples added. */
  get count(): number {
    return this.examples;
  }

  /** Records one example. Values must be finite (px may be NaN = not measured); angle arrays keep one length. */
  add(m: ExampleMetrics): void {
    for (const k of SCALAR_METRICS) {
      const x = m[k];
      if (x === undefined) continue;
      if (k === 'px' && Number.isNaN(x)) continue;
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new NbfError(`MetricAccumulator.add: ${k} is ${String(x)}, expected a finite number`);
      }
    }
    const ang = m.jointAngles;
    if (ang !== undefined) {
      if (ang == null || typeof ang.length !== 'number') throw new ShapeError('MetricAccumulator.add: jointAngles must be an array of numbers');
      const J = this.angleSums?.length ?? ang.length;
      if (ang.length !== J || J === 0) {
        throw new ShapeError(`MetricAccumulator.add: jointAngles has length ${ang.length}, expected ${J} (one angle per joint, fixed by ${this.jointNames ? 'jointNames' : 'the first example'})`);
      }
      for (let j = 0; j < J; j++) {
        if (!Number.isFinite(ang[j])) throw new NbfError(`MetricAccumulator.add: jointAngles[${j}] is ${ang[j]}, expected a finite number`);
      }
    }
    // Everything checked: record.
    for (const k of SCALAR_METRICS) {
      const x = m[k];
      if (x === undefined || Number.isNaN(x)) continue;
      this.values[k].push(x);
    }
    if (ang !== undefined) {
      if (!this.angleSums) this.angleSums = new Float64Array(ang.length);
      for (let j = 0; j < ang.length; j++) this.angleSums[j] += ang[j];
      this.angleCount++;
    }
    this.examples++;
  }

  /** Mean of each scalar metric in report units (lengths scaled, px as is); NaN if never recorded. */
  means(): Record<ScalarMetric, number> {
    const out = {} as Record<ScalarMetric, number>;
    for (const k of SCALAR_METRICS) {
      const v = this.values[k];
      out[k] = v.length === 0 ? NaN : (v.reduce((a, b) => a + b, 0) / v.length) * this.scaleOf(k);
    }
    return out;
  }

  /** Per-joint mean geodesic angle in degrees over the examples that had angles (empty if none). */
  perJointAnglesDeg(): Float64Array {
    if (!this.angleSums || this.angleCount === 0) return new Float64Array(0);
    return this.angleSums.map((s) => (s / this.angleCount) * RAD2DEG);
  }

  /** Summary (count, mean, median, p90, min, max) of one scalar metric in report units. */
  summary(metric: ScalarMetric): Summary {
    const s = summarise(this.values[metric]);
    const f = this.scaleOf(metric);
    return { count: s.count, mean: s.mean * f, median: s.median * f, p90: s.p90 * f, min: s.min * f, max: s.max * f };
  }

  /** The JSON-ready report. */
  report(): MetricReport {
    const stat = (k: ScalarMetric) => (this.values[k].length === 0 ? null : this.summary(k));
    const perJoint = this.perJointAnglesDeg();
    const J = perJoint.length;
    return {
      examples: this.examples,
      lengthUnit: this.lengthUnit,
      mpjpe: stat('mpjpe'),
      paMpjpe: stat('paMpjpe'),
      pve: stat('pve'),
      px: stat('px'),
      angles: J === 0
        ? null
        : {
            count: this.angleCount,
            meanDeg: perJoint.reduce((a, b) => a + b, 0) / J,
            perJointDeg: Array.from(perJoint),
            jointNames: Array.from({ length: J }, (_, j) => this.jointNames?.[j] ?? `joint${j}`),
          },
    };
  }

  toJSON(): MetricReport {
    return this.report();
  }

  /** A plain-text table of the metrics and, when recorded, the per-joint mean angles. */
  formatTable(digits = 2): string {
    const unit = this.lengthUnit ? ` (${this.lengthUnit})` : '';
    const labels: Record<ScalarMetric, string> = {
      mpjpe: `MPJPE${unit}`,
      paMpjpe: `PA-MPJPE${unit}`,
      pve: `PVE${unit}`,
      px: '2D error (px)',
    };
    const rows: string[][] = [['metric', 'n', 'mean', 'median', 'p90']];
    for (const k of SCALAR_METRICS) {
      if (this.values[k].length === 0) continue;
      const s = this.summary(k);
      rows.push([labels[k], String(s.count), s.mean.toFixed(digits), s.median.toFixed(digits), s.p90.toFixed(digits)]);
    }
    const rep = this.report();
    if (rep.angles) rows.push(['mean angle (deg)', String(rep.angles.count), rep.angles.meanDeg.toFixed(digits), '', '']);
    const lines = [`examples: ${this.examples}`, ...alignColumns(rows)];
    if (rep.angles) {
      lines.push('', ...alignColumns([
        ['joint', 'mean angle (deg)'],
        ...rep.angles.jointNames.map((name, j) => [name, rep.angles!.perJointDeg[j].toFixed(digits)]),
      ]));
    }
    return lines.join('\n');
  }

  private scaleOf(k: ScalarMetric): number {
    return k === 'px' ? 1 : this.lengthScale;
  }
}

function alignColumns(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
}
