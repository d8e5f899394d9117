// conv2d_winograd_input — the input transform of Winograd F(2×2, 3×3), V = Bᵀ · d · B on the 4×4
// input tiles (stride 2) of a dense 3×3, stride-1, dilation-1 convolution:
//   V[t, ξ, ci] = Σ_{a, b < 4} Bᵀ[i, a] · Bᵀ[j, b] · x[n, 2·ty − padTop + a, 2·tx − padLeft + b, ci]
//   ξ = 4i + j,  t = (n·TH + ty)·TW + tx  (TH = ⌈OH/2⌉, TW = ⌈OW/2⌉ tiles of 2×2 output pixels),
//   Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]];  x outside the image is 0
//   (the padding, and the rows/columns past it that a tile of an odd-sized output covers).
// Each row of Bᵀ has two non-zero entries (±1), so one value needs 4 input values.
// Layouts (channel-packed, Cin4 = ⌈Cin/4⌉): x [N, H, W, Cin]: texel ((n·H + iy)·W + ix)·Cin4 + ci4;
//   output V [T, 16, Cin]: texel (t·16 + ξ)·Cin4 + ci4 — ci contiguous, the left operands of
//   conv2d_winograd_product.glsl (conv2d_winograd_filter.glsl writes the right ones); a tile's 16
//   positions side by side, so the fragments that read one 4×4 patch of x run close together.
// One fragment computes one output texel: one (t, ξ) × 4 input channels, 4 reads of x. A position
// outside the image is read clamped and dropped with a select (no per-fragment branch). Reads:
// textureLod at texel centres, mask/shift addressing, texel size from a uniform (conv2d.glsl);
// FLOAT_DIVMOD: lib/divmod's float index decode (exact below 2^24 output texels).
#define CUSTOM_MAIN
uniform sampler2D X;
uniform ivec2 u_inSize;      // H, W
uniform ivec2 u_tiles;       // TH, TW
uniform ivec2 u_padBefore;   // top, left
uniform int u_inChannels;    // Cin
uniform int u_xWidthLog2;
uniform vec2 u_xTexelSize;   // 1 / (width, height) of X's texture

int xMask, xShift;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * u_xTexelSize, 0.0); }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  int cin4 = (u_inChannels + 3) >> 2;
  ivec2 rowC = divmod(t, cin4);
  int tile = rowC.x >> 4, xi = rowC.x & 15;
  ivec2 rowX = divmod(tile, u_tiles.y);
  ivec2 imageY = divmod(rowX.x, u_tiles.x);
  int i = xi >> 2, j = xi & 3;
  // Row i of Bᵀ: sa0 = ±1 at column a0, sa1 = ±1 at column a1; likewise row j for the columns of d.
  int a0 = i == 0 ? 0 : 1, a1 = i == 3 ? 3 : 2;
  int b0 = j == 0 ? 0 : 1, b1 = j == 3 ? 3 : 2;
  float sa0 = i == 2 ? -1.0 : 1.0, sa1 = i == 1 || i == 2 ? 1.0 : -1.0;
  float sb0 = j == 2 ? -1.0 : 1.0, sb1 = j == 1 || j == 2 ? 1.0 : -1.0;
  int iy = 2 * imageY.y - u_padBefore.x, ix = 2 * rowX.y - u_padBefore.y;
  int y0 = iy + a0, y1 = iy + a1, x0 = ix + b0, x1 = ix + b1;
  int cy0 = clamp(y0, 0, u_inSize.x - 1), cy1 = clamp(y1, 0, u_inSize.x - 1);
  int cx0 = clamp(x0, 0, u_inSize.y - 1), cx1 = clamp(x1, 0, u_inSize.y - 1);
  // Signs and the inside-the-image selects folded into one weight per input row and column.
  float wy0 = y0 == cy0 ? sa0 : 0.0, wy1 = y1 == cy1 ? sa1 : 0.0;
  float wx0 = x0 == cx0 ? sb0 : 0.0, wx1 = x1 == cx1 ? sb1 : 0.0;
  int image = imageY.x * u_inSize.x;
  int r0 = (image + cy0) * u_inSize.y, r1 = (image + cy1) * u_inSize.y;
  vec4 d00 = fetchX((r0 + cx0) * cin4 + rowC.y), d01 = fetchX((r0 + cx1) * cin4 + rowC.y);
  vec4 d10 = fetchX((r1 + cx0) * cin4 + rowC.y), d11 = fetchX((r1 + cx1) * cin4 + rowC.y);
  // A weight of 0 must drop a clamped read even when it holds inf or NaN: selects, not products.
  vec4 row0 = mix(vec4(0.0), wx0 * d00, bvec4(wx0 != 0.0)) + mix(vec4(0.0), wx1 * d01, bvec4(wx1 != 0.0));
  vec4 row1 = mix(vec4(0.0), wx0 * d10, bvec4(wx0 != 0.0)) + mix(vec4(0.0), wx1 * d11, bvec4(wx1 != 0.0));
  outColor = mix(vec4(0.0), wy0 * row0, bvec4(wy0 != 0.0)) + mix(vec4(0.0), wy1 * row1, bvec4(wy1 != 0.0));
}
