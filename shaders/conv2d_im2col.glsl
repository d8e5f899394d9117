// conv2d_im2col — the patch matrix of a convolution (groups = 1), for conv2d's im2col + matmul path:
//   out[p, k] = x[n, iy, ix, ci]  (0 where the tap falls outside the image),
//   p = (n·OH + oy)·OW + ox,  k = (ky·KW + kx)·Cin + ci,  iy = oy·sy − padTop + ky·dy, ix likewise.
// out [P, KH·KW·Cin] · (w viewed as [KH·KW·Cin, Cout], HWIO rows are k) is the convolution.
// Layouts: x [N, H, W, Cin] channel-packed; out [P, KH·KW·Cin] channel-packed (texel = 4 consecutive k).
// One fragment computes one texel: 4 consecutive k of one patch. Only the first k is split into
// (tap, ci) by division; the next ones step ci and carry into the next tap. 4 consecutive k can span
// taps when Cin % 4 ≠ 0, so the reads depend on Cin (READS, a define): 1 when Cin % 4 = 0 (the
// 4 k are one texel of x), 2 when Cin is 2 or 3 (a tap is one texel, the 4 k touch two taps: the
// first lane's and the last lane's), else 4 (each lane its own texel). Taps outside the image are
// read at a clamped position and dropped by a select, lanes past the patch likewise (no branches).
// Position decode by lib/divmod (FLOAT_DIVMOD: float quotients, exact below 2^24 output texels),
// reads textureLod at texel centres with mask/shift addressing and the texel size from a uniform:
// 2.2–2.7× faster than the integer-division, 4-read, branching form (the RGB 7×7 stem's patch
// matrix at 224², batch 1: 15.0 → 6.7 ms; docs/kernels/conv2d.md).
#define CUSTOM_MAIN
uniform sampler2D X;
uniform ivec2 u_inSize;
uniform ivec2 u_outSize;
uniform ivec2 u_kernelSize;
uniform ivec2 u_stride;
uniform ivec2 u_dilation;
uniform ivec2 u_padBefore;
uniform int u_inChannels;
uniform int u_xWidthLog2;
uniform vec2 u_xTexelSize;

int xMask, xShift;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * u_xTexelSize, 0.0); }
float pick(vec4 v, int lane) { return lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w; }

#include "lib/divmod"

// The patch element this lane stands at: tap (ky, kx), channel ci; whether it is inside the image
// and the patch, and its texel of x (clamped into the image).
int n, iyOrigin, ixOrigin, ky, kx, ci, cin4, patchLeft;
bool keep;
int texelHere() {
  int iy = iyOrigin + ky * u_dilation.x;
  int ix = ixOrigin + kx * u_dilation.y;
  keep = patchLeft > 0 && iy >= 0 && iy < u_inSize.x && ix >= 0 && ix < u_inSize.y;
  iy = clamp(iy, 0, u_inSize.x - 1);
  ix = clamp(ix, 0, u_inSize.y - 1);
  return ((n * u_inSize.x + iy) * u_inSize.y + ix) * cin4 + (ci >> 2);
}
void nextElement() {
  patchLeft--;
  ci++;
  if (ci == u_inChannels) { ci = 0; kx++; }
  if (kx == u_kernelSize.y) { kx = 0; ky++; }
}

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  int patchLength = u_kernelSize.x * u_kernelSize.y * u_inChannels;
  cin4 = (u_inChannels + 3) >> 2;
  ivec2 pk = divmod(t, (patchLength + 3) >> 2);
  ivec2 rowX = divmod(pk.x, u_outSize.y);
  ivec2 imageY = divmod(rowX.x, u_outSize.x);
  n = imageY.x;
  iyOrigin = imageY.y * u_stride.x - u_padBefore.x;
  ixOrigin = rowX.y * u_stride.y - u_padBefore.y;
  int k = 4 * pk.y;
  patchLeft = patchLength - k;
  ivec2 tapC = divmod(k, u_inChannels);
  ivec2 yx = divmod(tapC.x, u_kernelSize.y);
  ky = yx.x; kx = yx.y; ci = tapC.y;
#if READS == 1
  // Cin % 4 = 0: the 4 k are channels ci..ci+3 of one tap, one texel of x.
  int at = texelHere();
  outColor = keep ? fetchX(at) : vec4(0.0);
#elif READS == 2
  // Cin = 2 or 3: each tap is one texel (ci < 4); lanes of the first lane's tap read its texel,
  // the others the next tap's.
  int firstTap = ky * u_kernelSize.y + kx;
  int at0 = texelHere();
  bool keep0 = keep;
  int c0 = ci;
  nextElement(); int at1 = texelHere(); bool keep1 = keep; int c1 = ci; bool tap1 = ky * u_kernelSize.y + kx == firstTap;
  nextElement(); int at2 = texelHere(); bool keep2 = keep; int c2 = ci; bool tap2 = ky * u_kernelSize.y + kx == firstTap;
  nextElement(); int at3 = texelHere(); bool keep3 = keep; int c3 = ci;
  vec4 first = fetchX(at0), second = fetchX(at3);
  outColor = vec4(keep0 ? pick(first, c0) : 0.0,
                  keep1 ? pick(tap1 ? first : second, c1) : 0.0,
                  keep2 ? pick(tap2 ? first : second, c2) : 0.0,
                  keep3 ? pick(second, c3) : 0.0);
#else
  int at0 = texelHere(); bool keep0 = keep; int c0 = ci & 3;
  nextElement(); int at1 = texelHere(); bool keep1 = keep; int c1 = ci & 3;
  nextElement(); int at2 = texelHere(); bool keep2 = keep; int c2 = ci & 3;
  nextElement(); int at3 = texelHere(); bool keep3 = keep; int c3 = ci & 3;
  outColor = vec4(keep0 ? pick(fetchX(at0), c0) : 0.0, keep1 ? pick(fetchX(at1), c1) : 0.0,
                  keep2 ? pick(fetchX(at2), c2) : 0.0, keep3 ? pick(fetchX(at3), c3) : 0.0);
#endif
}
