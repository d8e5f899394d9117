// smpl_chain_backward_local — gradients w.r.t. each local rotation R_j and rest joint J_j, from the
// global-transform gradients Ḡ (smpl_chain_backward_global):
//   L̄_j = R^g_parent(j)ᵀ·Ḡ_j (root: Ḡ_0)                          (G_j = G_parent·L_j)
//   dR_j = L̄_j[:, 0..2] + dc[B + 9(j−1) + e]                       (+ the pose-feature gradient)
//   dJ_j = −R^g_jᵀ·dA_t,j + L̄_j[:, 3] − R^g_jᵀ·Σ_{c: parent(c)=j} Ḡ_c[:, 3]
//          (A_j's rest-pose removal, J_j in L_j, −J_j in each child's L_c).
// Inputs: GlobalGrad Ḡ [N·J, 12], Transforms G [N·J, 12], GradRestRemoved dA [N·J, 12],
//   CoefficientGrad dc [N, Q] (Q = B + P). Output: [N·J, 12] = [dR row-major (9) | dJ (3)]:
//   texel 0 = dR00 dR01 dR02 dR10, texel 1 = dR11 dR12 dR20 dR21, texel 2 = dR22 dJx dJy dJz.
// One fragment computes one texel (the whole joint, keeping 4 values).
uniform sampler2D GlobalGrad;
uniform sampler2D Transforms;
uniform sampler2D GradRestRemoved;
uniform sampler2D CoefficientGrad;
uniform int u_joints;
uniform int u_parents[64];
uniform int u_shapes;
uniform int u_poseFeatures;

mat3 globalRotation(int row) {
  vec4 t0 = fetchTexel(Transforms, 3 * row);
  vec4 t1 = fetchTexel(Transforms, 3 * row + 1);
  vec4 t2 = fetchTexel(Transforms, 3 * row + 2);
  return transpose(mat3(t0.xyz, t1.xyz, t2.xyz));
}

void loadGlobalGrad(int row, out mat3 rot, out vec3 trans) {
  vec4 t0 = fetchTexel(GlobalGrad, 3 * row);
  vec4 t1 = fetchTexel(GlobalGrad, 3 * row + 1);
  vec4 t2 = fetchTexel(GlobalGrad, 3 * row + 2);
  rot = transpose(mat3(t0.xyz, t1.xyz, t2.xyz));
  trans = vec3(t0.w, t1.w, t2.w);
}

vec4 kernel(int t) {
  int row = t / 3;
  int texel = t - row * 3;
  int n = row / u_joints;
  int j = row - n * u_joints;
  int base = n * u_joints;
  int parent = u_parents[j];
  mat3 gRot;
  vec3 gTrans;
  loadGlobalGrad(row, gRot, gTrans);
  mat3 toLocal = parent >= 0 ? transpose(globalRotation(base + parent)) : mat3(1.0);
  mat3 dR = toLocal * gRot;
  vec3 dJ = toLocal * gTrans;
  if (j >= 1 && u_poseFeatures > 0) {
    int q4Count = (u_shapes + u_poseFeatures + 3) / 4;
    int first = u_shapes + 9 * (j - 1);
    for (int e = 0; e < 9; e++) dR[e % 3][e / 3] += fetchElement(CoefficientGrad, n, first + e, q4Count);
  }
  mat3 ownT = transpose(globalRotation(row));
  vec3 childTrans = -vec3(fetchTexel(GradRestRemoved, 3 * row).w, fetchTexel(GradRestRemoved, 3 * row + 1).w, fetchTexel(GradRestRemoved, 3 * row + 2).w);
  for (int c = j + 1; c < u_joints; c++) {
    if (u_parents[c] != j) continue;
    mat3 cRot;
    vec3 cTrans;
    loadGlobalGrad(base + c, cRot, cTrans);
    childTrans -= cTrans;
  }
  dJ += ownT * childTrans;
  if (texel == 0) return vec4(dR[0][0], dR[1][0], dR[2][0], dR[0][1]);
  if (texel == 1) return vec4(dR[1][1], dR[2][1], dR[0][2], dR[1][2]);
  return vec4(dR[2][2], dJ);
}
