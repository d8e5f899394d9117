// joint_heatmaps — one Gaussian heatmap per 2D joint, the fitting network's "joints" input
// (src/nn/fitter-inputs.ts): for pixel (x, y) of example n and joint j with position (u, v) in pixels
// (origin at the top-left corner of the image, so pixel (x, y) has its centre at (x + ½, y + ½)),
//   out[n, y, x, j] = exp(−((x + ½ − u)² + (y + ½ − v)²) · u_invTwoSigma2),  u_invTwoSigma2 = 1/(2σ²),
// and 0 for a joint whose coordinates are not finite (a missing joint). Values lie in [0, 1].
// Inputs: Joints [N, J, 2] (channel-packed: one texel per joint, (u, v) in .xy).
// Output [N, H, W, J] (channel-packed: ceil(J/4) texels per pixel; lanes past J are 0).
// One fragment computes one output texel: 4 joints' values at one pixel.
uniform sampler2D Joints;
uniform int u_width;
uniform int u_height;
uniform int u_joints;
uniform float u_invTwoSigma2;

// Non-finite (NaN or ±inf): all exponent bits set. Tested on the bits because compilers may fold
// NaN comparisons away.
bool nonFinite(float a) {
  return ((floatBitsToInt(a) >> 23) & 255) == 255;
}

vec4 kernel(int t) {
  int texelsPerRow = (u_joints + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int x = row % u_width;
  int y = (row / u_width) % u_height;
  int n = row / (u_width * u_height);
  vec2 centre = vec2(float(x) + 0.5, float(y) + 0.5);
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int j = 4 * c4 + lane;
    if (j >= u_joints) break;
    vec2 p = fetchTexel(Joints, n * u_joints + j).xy;
    if (nonFinite(p.x) || nonFinite(p.y)) continue;
    vec2 d = centre - p;
    v[lane] = exp(-dot(d, d) * u_invTwoSigma2);
  }
  return v;
}
