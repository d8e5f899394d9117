// conv2d_im2col — the patch matrix of a convolution (groups = 1), for conv2d's im2col + matmul path:
//   out[p, k] = x[n, iy, ix, ci]  (0 where the tap falls outside the image),
//   p = (n·OH + oy)·OW + ox,  k = (ky·KW + kx)·Cin + ci,  iy = oy·sy − padTop + ky·dy, ix likewise.
// out [P, KH·KW·Cin] · (w viewed as [KH·KW·Cin, Cout], HWIO rows are k) is the convolution.
// Layouts: x [N, H, W, Cin] channel-packed; out [P, KH·KW·Cin] channel-packed (texel = 4 consecutive k).
// One fragment computes one texel: 4 consecutive k of one patch. Only the first k is split into
// (tap, ci) by division; the next ones step ci and carry into the next tap. Each lane reads its own
// element (4 consecutive k can span two taps when Cin % 4 ≠ 0).
uniform sampler2D X;
uniform ivec2 u_inSize;
uniform ivec2 u_outSize;
uniform ivec2 u_kernelSize;
uniform ivec2 u_stride;
uniform ivec2 u_dilation;
uniform ivec2 u_padBefore;
uniform int u_inChannels;
uniform int u_xWidthLog2;

// Element c of texel t of X: textureLod at the texel centre, mask/shift addressing (see matmul.glsl).
float fetchX(int t, int c) {
  int mask = (1 << u_xWidthLog2) - 1;
  vec4 v = textureLod(X, (vec2(t & mask, t >> u_xWidthLog2) + 0.5) / vec2(textureSize(X, 0)), 0.0);
  return c == 0 ? v.x : c == 1 ? v.y : c == 2 ? v.z : v.w;
}

vec4 kernel(int t) {
  int taps = u_kernelSize.x * u_kernelSize.y;
  int patchLength = taps * u_inChannels;
  int k4PerRow = (patchLength + 3) >> 2;
  int cin4 = (u_inChannels + 3) >> 2;
  int p = t / k4PerRow;
  int k = 4 * (t - p * k4PerRow);
  int ox = p % u_outSize.y;
  int q = p / u_outSize.y;
  int oy = q % u_outSize.x;
  int n = q / u_outSize.x;
  int iyOrigin = oy * u_stride.x - u_padBefore.x;
  int ixOrigin = ox * u_stride.y - u_padBefore.y;
  int tap = k / u_inChannels;
  int ci = k - tap * u_inChannels;
  vec4 values = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    if (k + lane >= patchLength) break;
    int ky = tap / u_kernelSize.y;
    int kx = tap - ky * u_kernelSize.y;
    int iy = iyOrigin + ky * u_dilation.x;
    int ix = ixOrigin + kx * u_dilation.y;
    if (iy >= 0 && iy < u_inSize.x && ix >= 0 && ix < u_inSize.y) {
      values[lane] = fetchX(((n * u_inSize.x + iy) * u_inSize.y + ix) * cin4 + (ci >> 2), ci & 3);
    }
    ci++;
    if (ci == u_inChannels) { ci = 0; tap++; }
  }
  return values;
}
