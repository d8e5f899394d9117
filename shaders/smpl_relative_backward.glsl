// smpl_relative_backward — gradient of smpl_relative (local_j = R_p(j)ᵀ·R_j) w.r.t. the absolute R:
//   dR_k = (k root ? G_k : R_p(k)·G_k) + Σ_{c : parent(c) = k} R_c·G_cᵀ,   G_j = dL/d local_j.
// Inputs: Rotations [N·J, 9] (absolute, row-major), Grad [N·J, u_gradChannels] with dL/d local in
//   channels 0..8. Output: [N·J, 9]. One fragment computes one texel (the whole 3×3 gradient of its
//   joint, keeping 4 entries).
uniform sampler2D Rotations;
uniform sampler2D Grad;
uniform int u_joints;
uniform int u_parents[64];
uniform int u_gradChannels;

#include "lib/matrix3"

mat3 loadRotation(int row) { return fetchMatrix3(Rotations, 3 * row); }

mat3 loadGrad(int row) { return fetchMatrix3(Grad, row * ((u_gradChannels + 3) / 4)); }

float entry(mat3 m, int e) {
  return e < 9 ? m[e % 3][e / 3] : 0.0;
}

vec4 kernel(int t) {
  int row = t / 3;
  int texel = t - row * 3;
  int n = row / u_joints;
  int k = row - n * u_joints;
  int base = n * u_joints;
  int parent = u_parents[k];
  mat3 g = loadGrad(row);
  mat3 d = parent >= 0 ? loadRotation(base + parent) * g : g;
  for (int c = k + 1; c < u_joints; c++) {
    if (u_parents[c] == k) d += loadRotation(base + c) * transpose(loadGrad(base + c));
  }
  int e = 4 * texel;
  return vec4(entry(d, e), entry(d, e + 1), entry(d, e + 2), entry(d, e + 3));
}
