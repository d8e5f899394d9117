// smpl_orthogonalise — projects each 3×3 matrix M onto the nearest proper rotation (Frobenius norm):
//   R = U·diag(1, 1, det(U·Vᵀ))·Vᵀ for M = U·Σ·Vᵀ (the special polar factor; det R = +1 always, so a
//   reflection input comes out a rotation, which NBF's original SVD projection did not ensure).
// Method: cyclic Jacobi eigen-decomposition of MᵀM = V·Σ²·Vᵀ (6 sweeps, ample for float32), the right
// singular vectors v1, v2 of the two largest singular values, u1 = M·v1/|M·v1|, u2 = the same for v2
// made orthogonal to u1 (Gram–Schmidt), then u3 = u1×u2, v3 = v1×v2 and R = Σ_i u_i·v_iᵀ. Using
// u1×u2 and v1×v2 fixes det R = +1 and needs no division by the smallest singular value, so a rank-2
// M still gives a rotation. (The sign flip lands on the smallest singular value, as it must.)
// Input M: any tensor holding N·J row-major 3×3 matrices in order (e.g. [N, J, 9] or [N, J·9]);
//   element e sits at (row e / u_inChannels, channel e mod u_inChannels).
// Output: [N·J, 9] row-major, 3 texels per matrix; one fragment computes one texel (it decomposes
//   the whole matrix and keeps its 4 entries).
uniform sampler2D M;
uniform int u_inChannels;

float inputElement(int e) {
  int row = e / u_inChannels;
  return fetchElement(M, row, e - row * u_inChannels, (u_inChannels + 3) / 4);
}

mat3 loadMatrix(int index) {
  int e = 9 * index;
  vec3 r0 = vec3(inputElement(e), inputElement(e + 1), inputElement(e + 2));
  vec3 r1 = vec3(inputElement(e + 3), inputElement(e + 4), inputElement(e + 5));
  vec3 r2 = vec3(inputElement(e + 6), inputElement(e + 7), inputElement(e + 8));
  return transpose(mat3(r0, r1, r2));
}

#include "lib/symmetric_eigen"

mat3 nearestRotation(mat3 m) {
  mat3 v;
  vec3 lambda;
  symmetricEigen(transpose(m) * m, v, lambda);
  vec3 v1 = v[0];
  vec3 v2 = normalize(v[1] - dot(v[1], v1) * v1);
  vec3 u1 = normalize(m * v1);
  vec3 u2 = m * v2;
  u2 = normalize(u2 - dot(u2, u1) * u1);
  return mat3(u1, u2, cross(u1, u2)) * transpose(mat3(v1, v2, cross(v1, v2)));
}

float entry(mat3 m, int e) {
  return e < 9 ? m[e % 3][e / 3] : 0.0;
}

vec4 kernel(int t) {
  int index = t / 3;
  int texel = t - index * 3;
  mat3 r = nearestRotation(loadMatrix(index));
  int e = 4 * texel;
  return vec4(entry(r, e), entry(r, e + 1), entry(r, e + 2), entry(r, e + 3));
}
