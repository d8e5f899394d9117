// smpl_orthogonalise_backward — gradient through the special polar factor R of M (smpl_orthogonalise).
// With S = Rᵀ·M = V·diag(s)·Vᵀ, s = (σ1, σ2, d·σ3), d = sign det M (σ3 the smallest singular value):
// a perturbation gives Rᵀ·dM − dMᵀ·R = X·S + S·X for the skew X = Rᵀ·dR, solved in S's eigenbasis by
// dividing by (s_i + s_j). The vector–Jacobian product is then
//   dL/dM = R·V·[ (Vᵀ·(H − Hᵀ)·V) ⊘ (s_i + s_j) ]·Vᵀ,   H = Rᵀ·G,  G = dL/dR,
// (diagonal of the bracket is 0). It is undefined only where R is: s_i + s_j = 0 (rank < 2, or a
// reflection whose two smallest singular values are equal).
// Inputs: M (layout as smpl_orthogonalise's input), Grad [N·J, u_gradChannels] whose channels 0..8
//   hold dL/dR row-major. Output: M's own shape; one fragment computes one texel (4 consecutive
//   elements of M, from at most two matrices; the decomposition is redone once per matrix).
uniform sampler2D M;
uniform sampler2D Grad;
uniform int u_inChannels;
uniform int u_gradChannels;
uniform int u_elements;  // N·J·9

float inputElement(int e) {
  int row = e / u_inChannels;
  return fetchElement(M, row, e - row * u_inChannels, (u_inChannels + 3) / 4);
}

#include "lib/matrix3"

mat3 loadMatrix(int index) {
  int e = 9 * index;
  vec3 r0 = vec3(inputElement(e), inputElement(e + 1), inputElement(e + 2));
  vec3 r1 = vec3(inputElement(e + 3), inputElement(e + 4), inputElement(e + 5));
  vec3 r2 = vec3(inputElement(e + 6), inputElement(e + 7), inputElement(e + 8));
  return transpose(mat3(r0, r1, r2));
}

mat3 loadGrad(int index) { return fetchMatrix3(Grad, index * ((u_gradChannels + 3) / 4)); }

#include "lib/symmetric_eigen"

mat3 inputGradient(int index) {
  mat3 m = loadMatrix(index);
  mat3 v;
  vec3 lambda;
  symmetricEigen(transpose(m) * m, v, lambda);
  vec3 v1 = v[0];
  vec3 v2 = normalize(v[1] - dot(v[1], v1) * v1);
  vec3 v3 = cross(v1, v2);
  vec3 u1 = normalize(m * v1);
  vec3 u2 = m * v2;
  u2 = normalize(u2 - dot(u2, u1) * u1);
  mat3 basis = mat3(v1, v2, v3);
  mat3 r = mat3(u1, u2, cross(u1, u2)) * transpose(basis);
  float d = determinant(m) < 0.0 ? -1.0 : 1.0;
  vec3 s = sqrt(max(lambda, vec3(0.0))) * vec3(1.0, 1.0, d);
  mat3 h = transpose(r) * loadGrad(index);
  mat3 y = transpose(basis) * (h - transpose(h)) * basis;
  // Off-diagonal (i, j) divided by s_i + s_j; GLSL y[col][row].
  y[1][0] /= s.x + s.y; y[0][1] /= s.x + s.y;
  y[2][0] /= s.x + s.z; y[0][2] /= s.x + s.z;
  y[2][1] /= s.y + s.z; y[1][2] /= s.y + s.z;
  y[0][0] = 0.0; y[1][1] = 0.0; y[2][2] = 0.0;
  return r * basis * y * transpose(basis);
}

vec4 kernel(int t) {
  int texelsPerRow = (u_inChannels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int first = row * u_inChannels + 4 * c4;
  vec4 out_ = vec4(0.0);
  int cached = -1;
  mat3 g = mat3(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int e = first + lane;
    if (4 * c4 + lane >= u_inChannels || e >= u_elements) break;
    int index = e / 9;
    if (index != cached) { g = inputGradient(index); cached = index; }
    int local = e - 9 * index;
    out_[lane] = g[local % 3][local / 3];
  }
  return out_;
}
