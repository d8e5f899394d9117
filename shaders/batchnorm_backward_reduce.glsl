// batchnorm_backward_reduce — first pass of training batch norm's backward sums, both in one
// stacked output (x̂ = (X − Mean) · rstd, rstd = 1 / sqrt(Variance + ε)):
//   out[0, p, c] = Σ_{r ∈ block p} DY[r, c]              (→ Σdy = dβ)
//   out[1, p, c] = Σ_{r ∈ block p} DY[r, c] · x̂[r, c]    (→ Σdy·x̂ = dγ)
// with block p = [p·B, min(p·B + B, R)), B = u_block. DY, X [R, C] channel-packed (any [..., C] viewed
// as R rows); Mean, Variance [C] (one row of C4 texels). Output [2, P, C], P = ceil(R / B); reduce_rows
// passes then sum the P partials of both halves at once ([2, P, C] → [2, C]).
// One fragment computes one output texel (4 channels of one partial of one sum): it reads ≤ B texels
// of DY (and of X for the second sum), C4 apart. Padding lanes are selected to 0 (rstd is ∞ there
// when ε = 0).
uniform sampler2D DY;
uniform sampler2D X;
uniform sampler2D Mean;
uniform sampler2D Variance;
uniform int u_channels;    // C
uniform int u_reduceSize;  // R
uniform int u_partials;    // P
uniform int u_block;       // B
uniform float u_epsilon;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int which = row / u_partials;
  int p = row - which * u_partials;
  int first = p * u_block;
  int last = min(first + u_block, u_reduceSize);
  int texel = first * texelsPerRow + c4;
  vec4 acc = vec4(0.0);
  if (which == 0) {
    for (int r = first; r < last; r++) {
      acc += fetchTexel(DY, texel);
      texel += texelsPerRow;
    }
  } else {
    vec4 mean = fetchTexel(Mean, c4);
    for (int r = first; r < last; r++) {
      acc += fetchTexel(DY, texel) * (fetchTexel(X, texel) - mean);
      texel += texelsPerRow;
    }
    // rstd is a per-channel constant: applied once to the block sum.
    acc *= 1.0 / sqrt(fetchTexel(Variance, c4) + u_epsilon);
  }
  return keepLanes(acc, c4, u_channels);
}
