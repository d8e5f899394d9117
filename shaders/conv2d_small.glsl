// conv2d_small — direct dense convolution (groups = 1) for small filters, every tap and input texel
// written out, bias and activation fused:
//   out[n, oy, ox, co] = act( bias[co] + Σ_{ky < KH, kx < KW, ci < Cin} x[n, iy, ix, ci] · w[ky, kx, ci, co] )
//   iy = oy·sy − padTop + ky·dy,  ix = ox·sx − padLeft + kx·dx  (taps outside the image add 0).
// Layouts (channel-packed): x [N, H, W, Cin]: texel ((n·H + iy)·W + ix)·CIN4 + ci4 (CIN4 = ⌈Cin/4⌉);
//   Wp [Cout, KH·KW, Cin] packed by matmul_pack.glsl (the layout conv2d.glsl reads: each tap's channels
//   padded to whole texels with zeros, like x's pixels): texel (co·KH·KW + tap)·CIN4 + ci4;
//   bias [Cout] (HAS_BIAS): texel n4; out [N, OH, OW, Cout]: texel ((n·OH + oy)·OW + ox)·Cout4 + n4.
// KH, KW (≤ 7), CIN4 (≤ 4) and NLANES = min(4, Cout) are compile-time defines: one program per
// filter shape, its taps and input texels written out (llvmpipe runs texture reads inside loops
// markedly slower; see conv2d_depthwise.glsl).
//
// One fragment computes one output texel: one pixel × output channels co = 4·n4 + j, j < 4. Per tap
// and input texel it reads 1 texel of x and NLANES texels of Wp (one per output channel; channels
// past Cout read channel Cout − 1 and are zeroed at the end) and does NLANES dot products: with
// Cout < 4 (a segmentation head's 8 → 1) only the channels that exist are read. There is no
// unblock pass (conv2d.glsl's 2×2 blocks need one) and no patch matrix (im2col). A tap outside the
// image is read at the clamped position and dropped with a select.
// HAS_RESIDUAL: Residual, a tensor of out's shape and layout (texel t), is added after the bias and
// before the activation — a residual connection fused into the layer that feeds it.
#define CUSTOM_MAIN
uniform sampler2D X;
uniform sampler2D Wp;
#if HAS_BIAS
uniform sampler2D Bias;
#endif
#if HAS_RESIDUAL
uniform sampler2D Residual;
#endif
uniform ivec2 u_inSize;      // H, W
uniform ivec2 u_outSize;     // OH, OW
uniform ivec2 u_stride;      // sy, sx
uniform ivec2 u_dilation;    // dy, dx
uniform ivec2 u_padBefore;   // top, left
uniform int u_outChannels;   // Cout
uniform int u_xWidthLog2;
uniform int u_wWidthLog2;
uniform vec2 u_xTexelSize;   // 1 / (width, height) of X's texture
uniform vec2 u_wTexelSize;
uniform float u_activationAlpha;

#if KH > 7 || KW > 7 || CIN4 > 4 || NLANES > 4
#error conv2d_small takes kernels up to 7×7, up to 16 input channels
#endif
#define TAPS (KH * KW)

int xMask, xShift, wMask, wShift;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * u_xTexelSize, 0.0); }
vec4 fetchW(int t) { return textureLod(Wp, (vec2(t & wMask, t >> wShift) + 0.5) * u_wTexelSize, 0.0); }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  wShift = u_wWidthLog2; wMask = (1 << wShift) - 1;
  int n4Count = (u_outChannels + 3) >> 2;
  ivec2 pixelN4 = divmod(t, n4Count);
  ivec2 rowX = divmod(pixelN4.x, u_outSize.y);
  ivec2 imageY = divmod(rowX.x, u_outSize.x);
  int n4 = pixelN4.y, ox = rowX.y, oy = imageY.y, n = imageY.x;
  int iy0 = oy * u_stride.x - u_padBefore.x;
  int ix0 = ox * u_stride.y - u_padBefore.y;
  int imageRow = n * u_inSize.x;
  // First Wp texel of each output channel (past Cout: clamped).
  ivec4 wRow = min(4 * n4 + ivec4(0, 1, 2, 3), ivec4(u_outChannels - 1)) * (TAPS * CIN4);

  // ROW(ky) sets up input row iy (clamped, rowIn = inside the image); TAP(ky, kx) sums the tap's
  // input texels (CH) into tapAcc and adds it when the tap lies inside the image. STEP(o, c):
  // input texel c of the tap, weight texel offset o = tap·CIN4 + c.
  vec4 acc = vec4(0.0);
  int iy, cy, rowT, xBase;
  bool rowIn;
  vec4 tapAcc, xv;
#if NLANES == 1
#define STEP(o, c) xv = fetchX(xBase + (c)); tapAcc.x += dot(xv, fetchW(wRow.x + (o)));
#elif NLANES == 2
#define STEP(o, c) xv = fetchX(xBase + (c)); tapAcc.xy += vec2(dot(xv, fetchW(wRow.x + (o))), dot(xv, fetchW(wRow.y + (o))));
#elif NLANES == 3
#define STEP(o, c) xv = fetchX(xBase + (c)); tapAcc.xyz += vec3(dot(xv, fetchW(wRow.x + (o))), dot(xv, fetchW(wRow.y + (o))), dot(xv, fetchW(wRow.z + (o))));
#else
#define STEP(o, c) xv = fetchX(xBase + (c)); tapAcc += vec4(dot(xv, fetchW(wRow.x + (o))), dot(xv, fetchW(wRow.y + (o))), dot(xv, fetchW(wRow.z + (o))), dot(xv, fetchW(wRow.w + (o))));
#endif
#if CIN4 == 1
#define CH(tap) STEP((tap) * CIN4, 0)
#elif CIN4 == 2
#define CH(tap) STEP((tap) * CIN4, 0) STEP((tap) * CIN4 + 1, 1)
#elif CIN4 == 3
#define CH(tap) STEP((tap) * CIN4, 0) STEP((tap) * CIN4 + 1, 1) STEP((tap) * CIN4 + 2, 2)
#else
#define CH(tap) STEP((tap) * CIN4, 0) STEP((tap) * CIN4 + 1, 1) STEP((tap) * CIN4 + 2, 2) STEP((tap) * CIN4 + 3, 3)
#endif
#define TAP(ky, kx) { int ix = ix0 + (kx) * u_dilation.y; int cx = clamp(ix, 0, u_inSize.y - 1); xBase = rowT + cx * CIN4; tapAcc = vec4(0.0); CH((ky) * KW + (kx)) acc += (rowIn && ix == cx) ? tapAcc : vec4(0.0); }
#if KW == 1
#define TAPS_OF_ROW(ky) TAP(ky, 0)
#elif KW == 2
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1)
#elif KW == 3
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2)
#elif KW == 4
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3)
#elif KW == 5
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4)
#elif KW == 6
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4) TAP(ky, 5)
#else
#define TAPS_OF_ROW(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4) TAP(ky, 5) TAP(ky, 6)
#endif
#define ROW(ky) iy = iy0 + (ky) * u_dilation.x; cy = clamp(iy, 0, u_inSize.x - 1); rowIn = iy == cy; rowT = (imageRow + cy) * u_inSize.y * CIN4; TAPS_OF_ROW(ky)
  ROW(0)
#if KH > 1
  ROW(1)
#endif
#if KH > 2
  ROW(2)
#endif
#if KH > 3
  ROW(3)
#endif
#if KH > 4
  ROW(4)
#endif
#if KH > 5
  ROW(5)
#endif
#if KH > 6
  ROW(6)
#endif
#if HAS_BIAS
  acc += fetchTexel(Bias, n4);
#endif
#if HAS_RESIDUAL
  acc += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(acc), n4, u_outChannels);
}
