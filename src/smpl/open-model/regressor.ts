/**
 * The sparse joint regressor: each joint is a convex combination of a few template vertices around it,
 * fitted by non-negative least squares over many shape samples so that it tracks the skeleton as the
 * body changes.
 */
import type { SparseRows } from '../types.js';

/**
 * Lawson–Hanson non-negative least squares in normal-equation form: minimise ½xᵀQx − cᵀx, x ≥ 0, where
 * Q = AᵀA (n×n, row-major) and c = Aᵀb.
 */
export function nnls(Q: Float64Array, c: Float64Array, n: number, maxIterations = 500): Float64Array {
  const x = new Float64Array(n);
  const passive = new Uint8Array(n);
  const gradient = (): Float64Array => {
    const g = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let s = c[i];
      for (let j = 0; j < n; j++) s -= Q[i * n + j] * x[j];
      g[i] = s;
    }
    return g;
  };
  const solvePassive = (): Float64Array => {
    const idx: number[] = [];
    for (let i = 0; i < n; i++) if (passive[i]) idx.push(i);
    const m = idx.length;
    const M = new Float64Array(m * m);
    const r = new Float64Array(m);
    for (let a = 0; a < m; a++) {
      r[a] = c[idx[a]];
      for (let b = 0; b < m; b++) M[a * m + b] = Q[idx[a] * n + idx[b]];
    }
    // Gaussian elimination with partial pivoting (m is small).
    for (let k = 0; k < m; k++) {
      let piv = k;
      for (let i = k + 1; i < m; i++) if (Math.abs(M[i * m + k]) > Math.abs(M[piv * m + k])) piv = i;
      if (piv !== k) {
        for (let j = 0; j < m; j++) [M[k * m + j], M[piv * m + j]] = [M[piv * m + j], M[k * m + j]];
        [r[k], r[piv]] = [r[piv], r[k]];
      }
      const d = M[k * m + k] || 1e-300;
      for (let i = k + 1; i < m; i++) {
        const f = M[i * m + k] / d;
        if (f === 0) continue;
        for (let j = k; j < m; j++) M[i * m + j] -= f * M[k * m + j];
        r[i] -= f * r[k];
      }
    }
    const sol = new Float64Array(m);
    for (let k = m - 1; k >= 0; k--) {
      let s = r[k];
      for (let j = k + 1; j < m; j++) s -= M[k * m + j] * sol[j];
      sol[k] = s / (M[k * m + k] || 1e-300);
    }
    const z = new Float64Array(n);
    idx.forEach((i, a) => (z[i] = sol[a]));
    return z;
  };
  for (let outer = 0; outer < maxIterations; outer++) {
    const g = gradient();
    let best = -1;
    let bestValue = 1e-12 * (Math.abs(c.reduce((s, v) => Math.max(s, Math.abs(v)), 0)) + 1);
    for (let i = 0; i < n; i++) if (!passive[i] && g[i] > bestValue) {
      bestValue = g[i];
      best = i;
    }
    if (best < 0) break;
    passive[best] = 1;
    for (let inner = 0; inner < 100; inner++) {
      const z = solvePassive();
      let ok = true;
      for (let i = 0; i < n; i++) if (passive[i] && z[i] <= 0) ok = false;
      if (ok) {
        x.set(z);
        break;
      }
      // Step towards z as far as feasibility allows, then drop the variables that hit zero.
      let alpha = 1;
      for (let i = 0; i < n; i++) if (passive[i] && z[i] <= 0) alpha = Math.min(alpha, x[i] / (x[i] - z[i]));
      for (let i = 0; i < n; i++) if (passive[i]) x[i] += alpha * (z[i] - x[i]);
      for (let i = 0; i < n; i++) if (passive[i] && x[i] <= 1e-14) {
        passive[i] = 0;
        x[i] = 0;
      }
    }
  }
  return x;
}

export interface RegressorFit {
  regressor: SparseRows;
}

/**
 * Fits one row per joint. Candidates: the `candidates` template vertices nearest to the rest joint.
 * Rows of the least-squares system: every (sample, axis) pair, plus a heavily weighted row Σw = 1.
 * Weights under `prune` are dropped and the row renormalised to sum to 1.
 */
export function fitJointRegressor(
  templatePositions: Float64Array, templateJoints: Float64Array, shapes: Float64Array[], shapeJoints: Float64Array[],
  options: { candidates?: number; prune?: number } = {},
): SparseRows {
  const V = templatePositions.length / 3;
  const J = templateJoints.length / 3;
  const K = options.candidates ?? 120;
  const prune = options.prune ?? 2e-3;
  const rowStart = new Int32Array(J + 1);
  const colIndex: number[] = [];
  const values: number[] = [];
  const SUM_WEIGHT = 30;
  for (let j = 0; j < J; j++) {
    const jx = templateJoints[3 * j], jy = templateJoints[3 * j + 1], jz = templateJoints[3 * j + 2];
    const d = new Float64Array(V);
    for (let v = 0; v < V; v++) d[v] = Math.hypot(templatePositions[3 * v] - jx, templatePositions[3 * v + 1] - jy, templatePositions[3 * v + 2] - jz);
    // Candidates must surround the joint (a convex combination cannot leave their hull): take every
    // vertex within a shell a little wider than the nearest surface point, thinned evenly to K.
    const byDistance = Array.from({ length: V }, (_, v) => v).sort((a, b) => d[a] - d[b] || a - b);
    const reach = 2 * d[byDistance[0]] + 0.04;
    const inShell = byDistance.filter((v) => d[v] <= reach).sort((a, b) => a - b);
    const stride = Math.max(1, inShell.length / K);
    const cand: number[] = [];
    for (let i = 0; i < inShell.length && cand.length < K; i++) if (Math.floor(i / stride) === cand.length) cand.push(inShell[i]);
    const Kc = cand.length;
    const Q = new Float64Array(Kc * Kc);
    const c = new Float64Array(Kc);
    // Coordinates relative to the template joint: with Σw = 1 the fit is translation invariant, and
    // small numbers keep the normal equations well conditioned.
    const centre = [jx, jy, jz];
    const column = new Float64Array(Kc);
    for (let s = 0; s < shapes.length; s++) {
      const P = shapes[s];
      for (let axis = 0; axis < 3; axis++) {
        const target = shapeJoints[s][3 * j + axis] - centre[axis];
        for (let a = 0; a < Kc; a++) column[a] = P[3 * cand[a] + axis] - centre[axis];
        for (let a = 0; a < Kc; a++) {
          c[a] += column[a] * target;
          for (let b = a; b < Kc; b++) Q[a * Kc + b] += column[a] * column[b];
        }
      }
    }
    for (let a = 0; a < Kc; a++) {
      c[a] += SUM_WEIGHT * SUM_WEIGHT;
      for (let b = a; b < Kc; b++) {
        Q[a * Kc + b] += SUM_WEIGHT * SUM_WEIGHT;
        Q[b * Kc + a] = Q[a * Kc + b];
      }
    }
    // A touch of ridge keeps the solve well posed when neighbouring vertices move almost identically.
    let trace = 0;
    for (let a = 0; a < Kc; a++) trace += Q[a * Kc + a];
    for (let a = 0; a < Kc; a++) Q[a * Kc + a] += 1e-8 * (trace / Kc);
    const w = nnls(Q, c, Kc);
    let total = 0;
    for (let a = 0; a < Kc; a++) if (w[a] >= prune) total += w[a];
    const kept = cand.map((v, a) => [v, w[a]] as const).filter(([, x]) => x >= prune).sort((p, q) => p[0] - q[0]);
    rowStart[j] = colIndex.length;
    for (const [v, x] of kept) {
      colIndex.push(v);
      values.push(x / total);
    }
  }
  rowStart[J] = colIndex.length;
  return { rows: J, cols: V, rowStart, colIndex: Int32Array.from(colIndex), values: Float64Array.from(values) };
}

/** J = R·v for one vertex array (V·3) → J·3. */
export function applyRegressor(reg: SparseRows, positions: ArrayLike<number>): Float64Array {
  const out = new Float64Array(reg.rows * 3);
  for (let j = 0; j < reg.rows; j++) {
    for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
      const v = reg.colIndex[k];
      for (let axis = 0; axis < 3; axis++) out[3 * j + axis] += reg.values[k] * positions[3 * v + axis];
    }
  }
  return out;
}
