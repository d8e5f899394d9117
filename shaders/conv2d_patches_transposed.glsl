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
// and keeps lane ci % 4 of it. Only the first pixel is split into (n, oy, ox) by division; the next
// ones step ox and carry. Pixels outside the image are read at a clamped position and dropped by a
// select, lanes past P likewise (no branches). Position decode by lib/divmod (FLOAT_DIVMOD: float
// quotients, exact below 2^24 output texels), reads textureLod at texel centres with mask/shift
// addressing and the texel size from a uniform: 2.2–2.6× faster than the integer-division,
// branching form (x [16, 32, 32, 32], 3×3: 52.7 → 20.2 ms; docs/kernels/conv2d.md).
#define CUSTOM_MAIN
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
uniform vec2 u_xTexelSize;

int xMask, xShift;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * u_xTexelSize, 0.0); }

#include "lib/divmod"

// The pixel this lane stands at, the tap's offset and channel texel; the lane's value (0 outside).
int n, oy, ox, dyTap, dxTap, cTexel, lane, pixelsLeft;
float valueHere() {
  int iy = oy * u_stride.x - u_padBefore.x + dyTap;
  int ix = ox * u_stride.y - u_padBefore.y + dxTap;
  bool keep = pixelsLeft > 0 && iy >= 0 && iy < u_inSize.x && ix >= 0 && ix < u_inSize.y;
  vec4 v = fetchX(((n * u_inSize.x + clamp(iy, 0, u_inSize.x - 1)) * u_inSize.y + clamp(ix, 0, u_inSize.y - 1)) * ((u_inChannels + 3) >> 2) + cTexel);
  float value = lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w;
  return keep ? value : 0.0;
}
void nextPixel() {
  pixelsLeft--;
  ox++;
  if (ox == u_outSize.y) { ox = 0; oy++; }
  if (oy == u_outSize.x) { oy = 0; n++; }
}

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  ivec2 kp = divmod(t, (u_pixels + 3) >> 2);
  ivec2 tapC = divmod(kp.x, u_inChannels);
  ivec2 yx = divmod(tapC.x, u_kernelSize.y);
  dyTap = yx.x * u_dilation.x;
  dxTap = yx.y * u_dilation.y;
  cTexel = tapC.y >> 2;
  lane = tapC.y & 3;
  int p = 4 * kp.y;
  pixelsLeft = u_pixels - p;
  ivec2 rowX = divmod(p, u_outSize.y);
  ivec2 imageY = divmod(rowX.x, u_outSize.x);
  n = imageY.x; oy = imageY.y; ox = rowX.y;
  float v0 = valueHere(); nextPixel();
  float v1 = valueHere(); nextPixel();
  float v2 = valueHere(); nextPixel();
  outColor = vec4(v0, v1, v2, valueHere());
}
