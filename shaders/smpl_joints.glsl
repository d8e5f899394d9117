// smpl_joints — rest-pose joints of the shaped body: J = J_regressor·(v_template + shapedirs·β).
// The regressor is linear and applied before the pose blend, so it is folded into the model once at
// upload (float64): J[n, j, a] = JointTemplate[j, a] + Σ_b JointShapedirs[j·3 + a, b]·β[n, b], with
// JointTemplate = J_regressor·v_template and JointShapedirs = J_regressor·shapedirs. This replaces a
// 6890-vertex reduction per joint by a B-term dot product (see docs/kernels/smpl.md).
// Inputs: Betas [N, B], JointTemplate [J, 3], JointShapedirs [J·3, B]. Output: [N·J, 3].
// One fragment computes one joint (one texel, xyz and a zero lane).
uniform sampler2D Betas;
uniform sampler2D JointTemplate;
uniform sampler2D JointShapedirs;
uniform int u_joints;
uniform int u_shapes;  // B

vec4 kernel(int t) {
  int n = t / u_joints;
  int j = t - n * u_joints;
  int b4Count = (u_shapes + 3) / 4;
  vec3 p = fetchTexel(JointTemplate, j).xyz;
  for (int b4 = 0; b4 < b4Count; b4++) {
    vec4 beta = fetchTexel(Betas, n * b4Count + b4);
    p.x += dot(beta, fetchTexel(JointShapedirs, (3 * j) * b4Count + b4));
    p.y += dot(beta, fetchTexel(JointShapedirs, (3 * j + 1) * b4Count + b4));
    p.z += dot(beta, fetchTexel(JointShapedirs, (3 * j + 2) * b4Count + b4));
  }
  return vec4(p, 0.0);
}
