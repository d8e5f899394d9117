// batchnorm_backward — input gradient of training batch norm (batch statistics over M rows):
//   dx = γ · rstd · (dy − Σdy / M − x̂ · Σ(dy·x̂) / M),  x̂ = (x − μ) · rstd,  rstd = 1 / sqrt(σ² + ε)
// (γ = 1 without HAS_SCALE). The terms in Σdy and Σdy·x̂ are the paths through μ and σ².
// Inputs: DY, X [..., C] channel-packed (M = number of rows); Mean, Variance (biased σ²), Scale [C]
// (one row of C4 texels); Sums [2, C] from batchnorm_backward_reduce + reduce_rows: row 0 Σdy, row 1
// Σdy·x̂. Output: dx, X's shape.
// One fragment computes one texel (4 channels of one row): one DY and one X fetch, 4–5 per-channel
// fetches. 1/sqrt as in batchnorm.glsl. Padding lanes are selected to 0.
uniform sampler2D DY;
uniform sampler2D X;
uniform sampler2D Mean;
uniform sampler2D Variance;
uniform sampler2D Sums;
#if HAS_SCALE
uniform sampler2D Scale;
#endif
uniform int u_channels;  // C
uniform float u_epsilon;
uniform float u_invRows; // 1 / M

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int c4 = t % texelsPerRow;
  vec4 rstd = 1.0 / sqrt(fetchTexel(Variance, c4) + u_epsilon);
  vec4 xhat = (fetchTexel(X, t) - fetchTexel(Mean, c4)) * rstd;
  vec4 meanDy = fetchTexel(Sums, c4) * u_invRows;
  vec4 meanDyXhat = fetchTexel(Sums, texelsPerRow + c4) * u_invRows;
  vec4 factor = rstd;
#if HAS_SCALE
  factor *= fetchTexel(Scale, c4);
#endif
  return keepLanes(factor * (fetchTexel(DY, t) - meanDy - xhat * meanDyXhat), c4, u_channels);
}
