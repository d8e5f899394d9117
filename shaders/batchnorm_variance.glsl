// batchnorm_variance — first pass of training batch norm's variance, two-pass form (the mean is
// already known, so no E[x²] − μ² cancellation):
//   out[p, c] = u_scale · Σ_{r ∈ [p·B, min(p·B + B, R))} (X[r, c] − Mean[c])²
// X [R, C] channel-packed (any [..., C] tensor viewed as R rows; NHWC: R = N·H·W); Mean [C] (one row
// of C4 texels). Output [P, C] with P = ceil(R / B) partial sums (B = u_block); u_scale = 1/R, so
// the sum of the P partials, done by reduce_rows passes, is the biased variance.
// One fragment computes one output texel (4 channels of one partial): it reads ≤ B texels of X, C4
// apart, and one of Mean. Padding lanes are selected to 0.
uniform sampler2D X;
uniform sampler2D Mean;
uniform int u_channels;    // C
uniform int u_reduceSize;  // R
uniform int u_block;       // B
uniform float u_scale;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int p = t / texelsPerRow;
  int c4 = t - p * texelsPerRow;
  int first = p * u_block;
  int last = min(first + u_block, u_reduceSize);
  vec4 mean = fetchTexel(Mean, c4);
  int texel = first * texelsPerRow + c4;
  vec4 d = fetchTexel(X, texel) - mean;
  vec4 acc = d * d;
  for (int r = first + 1; r < last; r++) {
    texel += texelsPerRow;
    d = fetchTexel(X, texel) - mean;
    acc += d * d;
  }
  return keepLanes(acc * u_scale, c4, u_channels);
}
