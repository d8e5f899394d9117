// smpl_chain_backward_global — total gradient Ḡ_j w.r.t. each global transform G_j (3×4):
//   direct part  Ĝ_d = [dA_R − dA_t·J_dᵀ | dA_t + dX_d]   (from A_d = [R^g | t − R^g·J_d] and from the
//                                                            posed joint X_d = t_d + trans)
//   Ḡ_j = Σ_{d in subtree(j)} Ĝ_d·M_jdᵀ,  M_jd = L_c1·…·L_d the local transforms on the path from j
//   down to d (M_jj = I), L_k = [R_k | J_k − J_parent(k)]. Row r: [Rm·ĝR_r + ĝt_r·tm | ĝt_r].
// Inputs: GradRestRemoved dA [N·J, 12], GradPoints dX [N·J, 3] (smpl_project_backward), Rotations
//   [N·J, 9] (local), RestJoints [N·J, 3]. Output: [N·J, 12], texel r = row r of Ḡ_j.
// One fragment computes row r of one joint: it visits every later joint d, walks d up to j (finding
// whether j is an ancestor while building M_jd) and accumulates. No sequential pass per tree level.
uniform sampler2D GradRestRemoved;
uniform sampler2D GradPoints;
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
  vec4 acc = vec4(0.0);
  for (int d = j; d < u_joints; d++) {
    mat3 rm = mat3(1.0);
    vec3 tm = vec3(0.0);
    int k = d;
    while (k > j) {
      int kp = u_parents[k];
      vec3 kJoint = fetchTexel(RestJoints, base + k).xyz;
      vec3 kOffset = kp >= 0 ? kJoint - fetchTexel(RestJoints, base + kp).xyz : kJoint;
      mat3 kRot = loadRotation(base + k);
      tm = kRot * tm + kOffset;
      rm = kRot * rm;
      k = kp;
    }
    if (k != j) continue;
    vec4 dA = fetchTexel(GradRestRemoved, 3 * (base + d) + r);
    vec3 restJoint = fetchTexel(RestJoints, base + d).xyz;
    float gt = dA.w + fetchTexel(GradPoints, base + d)[r];
    vec3 gR = dA.xyz - dA.w * restJoint;
    acc += vec4(rm * gR + gt * tm, gt);
  }
  return acc;
}
