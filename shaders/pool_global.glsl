// pool_global — global average pooling, one level of a (possibly two-level) reduction.
//   out[n, p, c] = u_scale · Σ_{i = p·chunk}^{min((p+1)·chunk, L) − 1} X[n, i, c]
// Input X: [N, L, C] channel-packed, where an NHWC [N, H, W, C] tensor is read as L = H·W rows per
// image (same texels, no copy). Output: [N, P, C] channel-packed with P = u_parts (P = 1 gives [N, C]).
// One-pass use: chunk = L, P = 1, scale = 1/L. Two-level: level 1 chunk ≈ √L, scale 1/L (partial
// means); level 2 sums the P partials with scale 1.
// One fragment computes one output texel: 4 channels of one chunk sum.
uniform sampler2D X;
uniform int u_channels;  // C
uniform int u_length;    // L: rows per image in X
uniform int u_chunk;     // rows summed per output row
uniform int u_parts;     // P: output rows per image
uniform float u_scale;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int part = row % u_parts;
  int n = row / u_parts;
  int start = part * u_chunk;
  int end = min(start + u_chunk, u_length);
  vec4 sum = vec4(0.0);
  for (int i = start; i < end; i++) {
    sum += fetchTexel(X, (n * u_length + i) * texelsPerRow + c4);
  }
  return keepLanes(sum * u_scale, c4, u_channels);
}
