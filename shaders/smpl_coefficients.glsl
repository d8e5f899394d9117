// smpl_coefficients — the blend coefficients of one body: [β (B values) | pose feature (P values)],
// pose feature = (R_j − I) row-major for joints 1..J−1 (index B + (j−1)·9 + 3·row + col), R_j the
// parent-relative rotations. The blend-shape matrix is stored with the same column order
// ([shapedirs | posedirs]), so shape and pose blend are one product D·cᵀ (smpl_quad_product, then smpl_posed).
// Inputs: Betas [N, B], Rotations [N·J, 9] (local, row-major). Output: [N, B + P]; one fragment
//   computes one texel (4 coefficients). u_poseFeatures = 0 for a model without pose blend shapes.
uniform sampler2D Betas;
uniform sampler2D Rotations;
uniform int u_joints;
uniform int u_shapes;        // B
uniform int u_poseFeatures;  // P = 9·(J − 1), or 0

float coefficient(int n, int c) {
  if (c < u_shapes) return fetchElement(Betas, n, c, (u_shapes + 3) / 4);
  int f = c - u_shapes;
  if (f >= u_poseFeatures) return 0.0;
  int j = 1 + f / 9;
  int e = f - (j - 1) * 9;
  float identity = (e == 0 || e == 4 || e == 8) ? 1.0 : 0.0;
  return fetchElement(Rotations, n * u_joints + j, e, 3) - identity;
}

vec4 kernel(int t) {
  int channels = u_shapes + u_poseFeatures;
  int texelsPerRow = (channels + 3) / 4;
  int n = t / texelsPerRow;
  int c4 = t - n * texelsPerRow;
  int c = 4 * c4;
  vec4 v = vec4(coefficient(n, c), coefficient(n, c + 1), coefficient(n, c + 2), coefficient(n, c + 3));
  return keepLanes(v, c4, channels);
}
