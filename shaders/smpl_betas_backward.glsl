// smpl_betas_backward — gradient w.r.t. β:
//   dβ[n, b] = dc[n, b] + Σ_{j, a} JointShapedirs[j·3 + a, b] · dJ[n, j, a]
// (dc the blend-coefficient gradient, whose first B entries are β's share through the vertices; dJ
// the rest-joint gradient, channels 9..11 of smpl_chain_backward_local's output).
// Inputs: CoefficientGrad [N, Q], LocalGrad [N·J, 12], JointShapedirs [J·3, B]. Output: [N, B];
// one fragment computes 4 coefficients of one body.
uniform sampler2D CoefficientGrad;
uniform sampler2D LocalGrad;
uniform sampler2D JointShapedirs;
uniform int u_joints;
uniform int u_shapes;
uniform int u_coefficients;

vec4 kernel(int t) {
  int b4Count = (u_shapes + 3) / 4;
  int n = t / b4Count;
  int b4 = t - n * b4Count;
  int q4Count = (u_coefficients + 3) / 4;
  // β occupies channels 0..B−1 of the coefficient row; lanes past B belong to the pose feature.
  vec4 acc = keepLanes(fetchTexel(CoefficientGrad, n * q4Count + b4), b4, u_shapes);
  for (int j = 0; j < u_joints; j++) {
    vec3 dJ = fetchTexel(LocalGrad, 3 * (n * u_joints + j) + 2).yzw;
    acc += dJ.x * fetchTexel(JointShapedirs, (3 * j) * b4Count + b4);
    acc += dJ.y * fetchTexel(JointShapedirs, (3 * j + 1) * b4Count + b4);
    acc += dJ.z * fetchTexel(JointShapedirs, (3 * j + 2) * b4Count + b4);
  }
  return keepLanes(acc, b4, u_shapes);
}
