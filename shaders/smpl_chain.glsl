// smpl_chain — forward kinematics and rest-pose removal, per joint:
//   G_j = G_parent(j) · [R_j | J_j − J_parent(j)]   (root: [R_0 | J_0]),
//   A_j = [R^g_j | t_j − R^g_j·J_j]                 (G_j = [R^g_j | t_j]; what LBS blends).
// Inputs: Rotations [N·J, 9] (parent-relative, row-major), RestJoints [N·J, 3] (smpl_joints).
// Output: G [N·J, 12], or A [N·J, 12] when REST_REMOVED is 1; a 3×4 transform row-major, texel r =
//   row r = (R_r0, R_r1, R_r2, t_r). (Two draws rather than two render targets: multiple draw buffers
//   fail in headless-gl 9.0.0-rc.10; the chain is cheap to walk twice.)
// One fragment computes texel r of one joint. It walks from the joint up to the root
// (≤ 9 steps for SMPL), composing the local transforms: one pass instead of one pass per tree level,
// since every joint's chain is short and dispatches are what cost on a GPU this small.
uniform sampler2D Rotations;
uniform sampler2D RestJoints;
uniform int u_joints;
uniform int u_parents[64];

#include "lib/matrix3"

mat3 loadRotation(int row) { return fetchMatrix3(Rotations, 3 * row); }

vec4 kernel(int t) {
  int row = t / 3;
  int r = t - row * 3;
  int n = row / u_joints;
  int j = row - n * u_joints;
  int base = n * u_joints;
  vec3 restJoint = fetchTexel(RestJoints, row).xyz;
  // Transform (rot, trans) maps joint j's frame to the world; built from the joint upwards.
  mat3 rot = loadRotation(row);
  int parent = u_parents[j];
  vec3 trans = parent >= 0 ? restJoint - fetchTexel(RestJoints, base + parent).xyz : restJoint;
  int k = parent;
  while (k >= 0) {
    int kp = u_parents[k];
    vec3 kJoint = fetchTexel(RestJoints, base + k).xyz;
    vec3 kOffset = kp >= 0 ? kJoint - fetchTexel(RestJoints, base + kp).xyz : kJoint;
    mat3 kRot = loadRotation(base + k);
    trans = kRot * trans + kOffset;
    rot = kRot * rot;
    k = kp;
  }
  vec3 rotRow = vec3(rot[0][r], rot[1][r], rot[2][r]);
#if REST_REMOVED
  return vec4(rotRow, trans[r] - dot(rotRow, restJoint));
#else
  return vec4(rotRow, trans[r]);
#endif
}
