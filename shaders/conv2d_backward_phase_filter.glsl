// conv2d_backward_phase_filter — the sub-filter of one output phase (py, px) of a stride-(sy, sx)
// conv2d's input gradient (src/autodiff/kernels/conv-backward.ts, conv2dBackwardInputByPhases): the
// forward taps ky = ry + sy·j (ry = (py + padTop) mod sy), likewise kx, rotated 180° within the phase
// and with input and output channels swapped,
//   out[jy, jx, co, ci] = W[ry + sy·(JY−1−jy), rx + sx·(JX−1−jx), ci, co]
// so that the phase's pixels dX[n, sy·u + py, sx·v + px, :] are a dense stride-1 conv2d of dY with it.
// With stride 1 and every tap (ry = rx = 0, JY = KH, JX = KW) it is the whole filter flipped, the
// filter of a stride-1 conv2d's input gradient dX = conv2d(dY, out) (padding: effective kernel − 1 −
// forward padding on each side).
// Input W [KH, KW, CI, CO]; output [JY, JX, CO, CI]; both channel-packed (4 channels per RGBA texel,
// padding lanes 0). One fragment computes one output texel: 4 consecutive ci of one (jy, jx, co), each
// lane one element of W.
uniform sampler2D W;
uniform int u_kernelWidth;  // KW of the forward filter
uniform ivec2 u_subKernel;  // JY, JX
uniform ivec2 u_start;      // ry, rx: the phase's first forward tap
uniform ivec2 u_strides;    // sy, sx
uniform ivec2 u_channels;   // CI, CO

vec4 kernel(int t) {
  int ci4 = (u_channels.x + 3) / 4;
  int co4 = (u_channels.y + 3) / 4;
  int row = t / ci4;
  int c4 = t - row * ci4;
  int co = row % u_channels.y;
  int tap = row / u_channels.y;
  int jx = tap % u_subKernel.y;
  int jy = tap / u_subKernel.y;
  int ky = u_start.x + u_strides.x * (u_subKernel.x - 1 - jy);
  int kx = u_start.y + u_strides.y * (u_subKernel.y - 1 - jx);
  int sourceTap = ky * u_kernelWidth + kx;
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int ci = 4 * c4 + lane;
    if (ci < u_channels.x) v[lane] = fetchElement(W, sourceTap * u_channels.x + ci, co, co4);
  }
  return v;
}
