// smpl_relative — global (absolute) joint rotations → parent-relative ones, SMPL's convention:
//   local_j = R_abs[parent(j)]ᵀ · R_abs[j],   local_root = R_abs[root].
// Input Rotations: [N·J, 9] row-major 3×3 per joint (3 texels). Output: the same layout.
// u_parents[j] is joint j's parent (−1 for the root); parents precede children.
// One fragment computes one output texel (one product, 4 of its entries).
uniform sampler2D Rotations;
uniform int u_joints;
uniform int u_parents[64];

#include "lib/matrix3"

mat3 loadRotation(int row) { return fetchMatrix3(Rotations, 3 * row); }

float entry(mat3 m, int e) {
  return e < 9 ? m[e % 3][e / 3] : 0.0;
}

vec4 kernel(int t) {
  int row = t / 3;
  int texel = t - row * 3;
  int n = row / u_joints;
  int j = row - n * u_joints;
  int parent = u_parents[j];
  mat3 r = loadRotation(row);
  if (parent >= 0) r = transpose(loadRotation(n * u_joints + parent)) * r;
  int e = 4 * texel;
  return vec4(entry(r, e), entry(r, e + 1), entry(r, e + 2), entry(r, e + 3));
}
