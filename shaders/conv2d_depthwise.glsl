// conv2d_depthwise — depthwise convolution with channel multiplier 1 (groups = Cin = Cout = C):
//   out[n, oy, ox, c] = act( bias[c] + Σ_{ky < KH, kx < KW} x[n, iy, ix, c] · w[ky, kx, 0, c] )
//   iy = oy·sy − padTop + ky·dy,  ix = ox·sx − padLeft + kx·dx  (taps outside the image add 0).
// Layouts (channel-packed, C4 = ⌈C/4⌉): x [N, H, W, C]: texel ((n·H + iy)·W + ix)·C4 + c4;
//   w [KH, KW, 1, C] (HWIO, as given, no pack pass): texel (ky·KW + kx)·C4 + c4; bias [C] (HAS_BIAS):
//   texel c4; out [N, OH, OW, C]: texel ((n·OH + oy)·OW + ox)·C4 + c4.
// KH and KW (≤ 7) are compile-time defines: one program per kernel size, taps written out.
//
// One fragment computes one output texel: one pixel × 4 channels. Per tap it reads 1 texel of x and
// 1 of w and does 4 multiply-adds, then adds the bias and applies ACTIVATE (no separate pass).
// Written in conv2d.glsl's fast-read style: textureLod at texel centres with mask/shift addressing
// and the texel sizes from uniforms; a tap outside the image is read at the clamped position and
// dropped with a select, so the code is the same for every fragment (faster on llvmpipe than a
// per-fragment `continue`). Lanes past C are 0 in x, w and bias, and zeroed again after ACTIVATE.
// HAS_RESIDUAL: Residual, a tensor of out's shape and layout (texel t), is added after the bias and
// before the activation — a residual connection fused into the layer that feeds it.
#define CUSTOM_MAIN
uniform sampler2D X;
uniform sampler2D Wt;
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
uniform int u_channels;      // C
uniform int u_xWidthLog2;
uniform int u_wWidthLog2;
uniform vec2 u_xTexelSize;   // 1 / (width, height) of X's texture
uniform vec2 u_wTexelSize;
uniform float u_activationAlpha;

#if KH > 7 || KW > 7
#error conv2d_depthwise takes kernels up to 7×7
#endif

int xMask, xShift, wMask, wShift;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * u_xTexelSize, 0.0); }
vec4 fetchW(int t) { return textureLod(Wt, (vec2(t & wMask, t >> wShift) + 0.5) * u_wTexelSize, 0.0); }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  wShift = u_wWidthLog2; wMask = (1 << wShift) - 1;
  int c4n = (u_channels + 3) >> 2;
  ivec2 pixelC4 = divmod(t, c4n);
  ivec2 rowX = divmod(pixelC4.x, u_outSize.y);
  ivec2 imageY = divmod(rowX.x, u_outSize.x);
  int c4 = pixelC4.y, ox = rowX.y, oy = imageY.y, n = imageY.x;
  int iy0 = oy * u_stride.x - u_padBefore.x;
  int ix0 = ox * u_stride.y - u_padBefore.y;
  int imageRow = n * u_inSize.x;

  // The taps are written out (KH, KW ≤ 7), not looped: llvmpipe runs texture reads inside a loop
  // markedly slower, and its compiler unrolls 3×3 but not 5×5 (5×5 layers measured 1.3× faster so).
  // ROW(ky) sets up input row iy (clamped to the image, rowIn = it lies inside), then TAP(ky, kx)
  // reads tap (ky, kx): 1 texel of x and 1 of w, dropped by a select when outside the image.
  vec4 acc = vec4(0.0);
  int iy, cy, rowT;
  bool rowIn;
#define TAP(ky, kx) { int ix = ix0 + (kx) * u_dilation.y; int cx = clamp(ix, 0, u_inSize.y - 1); vec4 xv = fetchX(rowT + cx * c4n); vec4 wv = fetchW(((ky) * KW + (kx)) * c4n + c4); acc += (rowIn && ix == cx) ? xv * wv : vec4(0.0); }
#if KW == 1
#define TAPS(ky) TAP(ky, 0)
#elif KW == 2
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1)
#elif KW == 3
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2)
#elif KW == 4
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3)
#elif KW == 5
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4)
#elif KW == 6
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4) TAP(ky, 5)
#elif KW == 7
#define TAPS(ky) TAP(ky, 0) TAP(ky, 1) TAP(ky, 2) TAP(ky, 3) TAP(ky, 4) TAP(ky, 5) TAP(ky, 6)
#endif
#define ROW(ky) iy = iy0 + (ky) * u_dilation.x; cy = clamp(iy, 0, u_inSize.x - 1); rowIn = iy == cy; rowT = (imageRow + cy) * u_inSize.y * c4n + c4; TAPS(ky)
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
  acc += fetchTexel(Bias, c4);
#endif
#if HAS_RESIDUAL
  acc += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(acc), c4, u_channels);
}
