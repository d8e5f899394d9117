/**
 * Float64 CPU references of the rotation kernels that src/smpl/cpu-forward.ts does not cover:
 * the projection of a 3×3 matrix onto the nearest proper rotation (shaders/smpl_orthogonalise.glsl).
 * Matrices are 9 numbers, row-major. Rodrigues, its inverse and absolute → relative rotations are
 * cpu-forward.ts's (rodrigues, inverseRodrigues, absoluteToRelativeRotations).
 */

/** Eigen-decomposition of a symmetric 3×3 S by cyclic Jacobi: columns of `vectors` (row-major V). */
export function symmetricEigen3(s: ArrayLike<number>): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(s);
  const v = Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.abs(a[1]) + Math.abs(a[2]) + Math.abs(a[5]);
    if (off < 1e-300) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const apq = a[3 * p + q];
      if (apq === 0) continue;
      const theta = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
      const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1);
      const sn = t * c;
      // a ← Jᵀ·a·J with J = I except J_pp = J_qq = c, J_pq = s, J_qp = −s.
      for (let k = 0; k < 3; k++) {
        const akp = a[3 * k + p];
        const akq = a[3 * k + q];
        a[3 * k + p] = c * akp - sn * akq;
        a[3 * k + q] = sn * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k];
        const aqk = a[3 * q + k];
        a[3 * p + k] = c * apk - sn * aqk;
        a[3 * q + k] = sn * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p];
        const vkq = v[3 * k + q];
        v[3 * k + p] = c * vkp - sn * vkq;
        v[3 * k + q] = sn * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[4 * j] - a[4 * i]);
  const values = Float64Array.from(order, (i) => a[4 * i]);
  const vectors = new Float64Array(9);
  order.forEach((src, dst) => {
    for (let k = 0; k < 3; k++) vectors[3 * k + dst] = v[3 * k + src];
  });
  return { values, vectors };
}

export function det3(m: ArrayLike<number>): number {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

/**
 * Nearest proper rotation to M in the Frobenius norm: U·diag(1, 1, det(U·Vᵀ))·Vᵀ for M = U·Σ·Vᵀ.
 * Right singular vectors from the eigenvectors of MᵀM, left ones as M·v_i/σ_i for the two largest
 * singular values, the third pair by cross products (so det = +1).
 */
export function nearestRotationRef(m: ArrayLike<number>, offset = 0): Float64Array {
  const M = Array.from({ length: 9 }, (_, i) => m[offset + i]);
  const mtm = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) mtm[3 * i + j] = M[i] * M[j] + M[3 + i] * M[3 + j] + M[6 + i] * M[6 + j];
  const { vectors } = symmetricEigen3(mtm);
  const col = (x: ArrayLike<number>, c: number) => [x[c], x[3 + c], x[6 + c]];
  const mul = (v: number[]) => [0, 1, 2].map((r) => M[3 * r] * v[0] + M[3 * r + 1] * v[1] + M[3 * r + 2] * v[2]);
  const norm = (v: number[]) => { const l = Math.hypot(v[0], v[1], v[2]); return v.map((x) => x / l); };
  const cross = (a: number[], b: number[]) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const v1 = col(vectors, 0);
  const v2 = col(vectors, 1);
  const u1 = norm(mul(v1));
  let u2 = mul(v2);
  const d = u2[0] * u1[0] + u2[1] * u1[1] + u2[2] * u1[2];
  u2 = norm(u2.map((x, i) => x - d * u1[i]));
  const us = [u1, u2, cross(u1, u2)];
  const vs = [v1, v2, cross(v1, v2)];
  const r = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) r[3 * i + j] = us[0][i] * vs[0][j] + us[1][i] * vs[1][j] + us[2][i] * vs[2][j];
  return r;
}
