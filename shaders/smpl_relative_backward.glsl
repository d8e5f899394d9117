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

mat3 loadRotation(int row) {
  vec4 t0 = fetchTexel(Rotations, 3 * row);
  vec4 t1 = fetchTexel(Rotations, 3 * row + 1);
  vec4 t2 = fetchTexel(Rotations, 3 * row + 2);
  return transpose(mat3(t0.xyz, vec3(t0.w, t1.xy), vec3(t1.zw, t2.x)));
}

mat3 loadGrad(int row) {
  int texelsPerRow = (u_gradChannels + 3) / 4;
  vec4 t0 = fetchTexel(Grad, row * texelsPerRow);
  vec4 t1 = fetchTexel(Grad, row * texelsPerRow + 1);
  vec4 t2 = fetchTexel(Grad, row * texelsPerRow + 2);
  return transpose(mat3(t0.xyz, vec3(t0.w, t1.xy), vec3(t1.zw, t2.x)));
}

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
