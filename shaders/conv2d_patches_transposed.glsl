// conv2d_patches_transposed — the transposed patch matrix of a convolution (groups = 1), for the
// filter gradient dW = patches(x)ᵀ · dY:
//   out[k, p] = x[n, iy, ix, ci]  (0 where the tap falls outside the image),
//   k = (ky·KW + kx)·Cin + ci,  p = (n·OH + oy)·OW + ox,  iy = oy·sy − padTop + ky·dy, ix likewise.
// conv2d_im2col.glsl writes the same matrix as [P, K]; matmul wants its first operand with the
// reduced dimension (here p) last, so writing [K, P] directly saves matmul's transpose pass over the
// whole patch matrix (the largest pass of a training step's filter gradients).
// Layouts: x [N, H, W, Cin] channel-packed; out [KH·KW·Cin, P] channel-packed (texel = 4 consecutive p).
// One fragment computes one texel: one patch element k (a tap and an input channel) at 4 consecutive
// output pixels; each lane reads its own input texel (the 4 pixels are different input positions)
// and keeps lane ci % 4 of it. Lanes past P are 0.
uniform sampler2D X;
uniform ivec2 u_inSize;
uniform ivec2 u_outSize;
uniform ivec2 u_kernelSize;
uniform ivec2 u_stride;
uniform ivec2 u_dilation;
uniform ivec2 u_padBefore;
uniform int u_inChannels;
uniform int u_pixels;      // P = N·OH·OW
uniform int u_xWidthLog2;

vec4 fetchX(int t) {
  int mask = (1 << u_xWidthLog2) - 1;
  return textureLod(X, (vec2(t & mask, t >> u_xWidthLog2) + 0.5) / vec2(textureSize(X, 0)), 0.0);
}

vec4 kernel(int t) {
  int p4PerRow = (u_pixels + 3) >> 2;
  int k = t / p4PerRow;
  int p = 4 * (t - k * p4PerRow);
  int tap = k / u_inChannels;
  int ci = k - tap * u_inChannels;
  int ky = tap / u_kernelSize.y;
  int kx = tap - ky * u_kernelSize.y;
  int cin4 = (u_inChannels + 3) >> 2;
  int lane = ci & 3;
  vec4 values = vec4(0.0);
  for (int i = 0; i < 4; i++) {
    if (p + i >= u_pixels) break;
    int ox = (p + i) % u_outSize.y;
    int q = (p + i) / u_outSize.y;
    int oy = q % u_outSize.x;
    int n = q / u_outSize.x;
    int iy = oy * u_stride.x - u_padBefore.x + ky * u_dilation.x;
    int ix = ox * u_stride.y - u_padBefore.y + kx * u_dilation.y;
    if (iy >= 0 && iy < u_inSize.x && ix >= 0 && ix < u_inSize.y) {
      vec4 v = fetchX(((n * u_inSize.x + iy) * u_inSize.y + ix) * cin4 + (ci >> 2));
      values[i] = lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w;
    }
  }
  return values;
}
