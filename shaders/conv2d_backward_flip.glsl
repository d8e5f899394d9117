// conv2d_backward_flip — the filter of a stride-1 conv2d's input gradient: the forward HWIO filter
// rotated 180° in space with input and output channels swapped,
//   out[ky, kx, co, ci] = W[KH−1−ky, KW−1−kx, ci, co]
// so that dX = conv2d(dY, out) with padding (effective kernel − 1 − forward padding) on each side —
// the same fast conv2d kernels as the forward pass instead of the transposed-convolution gather.
// Input W [KH, KW, CI, CO]; output [KH, KW, CO, CI]; channel-packed. One fragment computes one texel:
// 4 consecutive ci of one (ky, kx, co), each lane one element of W.
uniform sampler2D W;
uniform ivec2 u_kernel;     // KH, KW
uniform ivec2 u_channels;   // CI, CO

vec4 kernel(int t) {
  int ci4 = (u_channels.x + 3) / 4;
  int co4 = (u_channels.y + 3) / 4;
  int row = t / ci4;
  int c4 = t - row * ci4;
  int co = row % u_channels.y;
  int tap = row / u_channels.y;
  int kx = tap % u_kernel.y;
  int ky = tap / u_kernel.y;
  int sourceTap = (u_kernel.x - 1 - ky) * u_kernel.y + (u_kernel.y - 1 - kx);
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int ci = 4 * c4 + lane;
    if (ci < u_channels.x) v[lane] = fetchElement(W, sourceTap * u_channels.x + ci, co, co4);
  }
  return v;
}
