// reduce_rows — one pass of a reduction over axes that do not include the last (channel) axis:
//   out[o, p, i, :] = OP_{r ∈ [p·B, min(p·B + B, R))} X[o, r, i, :]
// X is viewed as [O, R, I, C] (R = product of the reduced dims, which are contiguous), the output as
// [O, P, I, C] with P = ceil(R / B) partial results; a later pass reduces the P partials the same way
// (B = u_block, so no fragment loops over more than B rows). OP: 0 sum, 1 max, 2 min.
// Input and output channel-packed with the same C; whole texels are combined, lane by lane.
// One fragment computes one output texel: it reads ≤ B texels, I·C4 texels apart. The result is
// multiplied by u_scale (1/N on the last pass of a mean, else 1). Padding lanes stay 0 (0 op 0 = 0).
uniform sampler2D X;
uniform int u_channels;    // C
uniform int u_reduceSize;  // R
uniform int u_inner;       // I
uniform int u_partials;    // P
uniform int u_block;       // B
uniform float u_scale;

vec4 combine(vec4 a, vec4 b) {
#if OP == 0
  return a + b;
#elif OP == 1
  return max(a, b);
#elif OP == 2
  return min(a, b);
#else
#error unknown OP
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int i = row % u_inner;
  int q = row / u_inner;
  int p = q % u_partials;
  int o = q / u_partials;
  int first = p * u_block;
  int last = min(first + u_block, u_reduceSize);
  int stride = u_inner * texelsPerRow;
  int texel = ((o * u_reduceSize + first) * u_inner + i) * texelsPerRow + c4;
  vec4 acc = fetchTexel(X, texel);
  for (int r = first + 1; r < last; r++) {
    texel += stride;
    acc = combine(acc, fetchTexel(X, texel));
  }
  return keepLanes(acc * u_scale, c4, u_channels);
}
