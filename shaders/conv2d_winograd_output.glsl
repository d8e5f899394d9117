// conv2d_winograd_output — the output transform of Winograd F(2×2, 3×3), Y = Aᵀ · M · A per tile,
// cropped to the output, with bias and activation:
//   out[n, oy, ox, co] = act( bias[co] + Σ_{i, j < 4} Aᵀ[py, i] · Aᵀ[px, j] · M[4i + j, t, co] )
//   t = (n·TH + ⌊oy/2⌋)·TW + ⌊ox/2⌋,  py = oy mod 2,  px = ox mod 2,  Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]
//   M[ξ, t, co] = Σ_ci V[t, ξ, ci] · U[co, ξ, ci], the 16 products (conv2d_winograd_product.glsl).
// Layouts: Blocks [T2·16·C2, 4] (T2 = ⌈T/2⌉, C2 = ⌈Cout/2⌉): texel (tb·16 + ξ)·C2 + cb holds
//   (M[ξ, 2tb, 2cb], M[ξ, 2tb, 2cb+1], M[ξ, 2tb+1, 2cb], M[ξ, 2tb+1, 2cb+1]) (rows past T or Cout
//   clamped); bias [Cout] (HAS_BIAS): texel co4; output [N, OH, OW, Cout] channel-packed:
//   texel ((n·OH + oy)·OW + ox)·Cout4 + co4.
// One fragment computes one output texel: one pixel × 4 channels. Each row of Aᵀ has three
// non-zero entries (±1), so it sums 9 of the 16 matrices; each gives the texel's 4 channels as the
// top or bottom halves of blocks 2·co4 and 2·co4 + 1 (matmul_unblock.glsl's read): 18 reads. The
// sign pattern is arithmetic, not a branch (neighbouring fragments hold the other pixels of a tile).
// Reads: textureLod at texel centres, mask/shift addressing, texel size from a uniform;
// FLOAT_DIVMOD: lib/divmod's float index decode (exact below 2^24 output texels).
// HAS_RESIDUAL: Residual, a tensor of out's shape and layout (texel t), is added after the bias and
// before the activation — a residual connection fused into the layer that feeds it.
#define CUSTOM_MAIN
uniform sampler2D Blocks;
#if HAS_BIAS
uniform sampler2D Bias;
#endif
#if HAS_RESIDUAL
uniform sampler2D Residual;
#endif
uniform ivec2 u_outSize;     // OH, OW
uniform ivec2 u_tiles;       // TH, TW
uniform int u_outChannels;   // Cout
uniform int u_bWidthLog2;
uniform vec2 u_bTexelSize;   // 1 / (width, height) of Blocks' texture
uniform float u_activationAlpha;

int bMask, bShift;
vec4 fetchB(int t) { return textureLod(Blocks, (vec2(t & bMask, t >> bShift) + 0.5) * u_bTexelSize, 0.0); }

// This fragment's tile and 4 channels of position ξ: halves of its two blocks (set in main).
int first, second, c2;   // c2 = C2, block texels per position
bool low;
vec4 tileOf(int xi) {
  vec4 b0 = fetchB(xi * c2 + first), b1 = fetchB(xi * c2 + second);
  return low ? vec4(b0.xy, b1.xy) : vec4(b0.zw, b1.zw);
}

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  bShift = u_bWidthLog2; bMask = (1 << bShift) - 1;
  int cout4 = (u_outChannels + 3) >> 2;
  c2 = (u_outChannels + 1) >> 1;
  ivec2 pixelC = divmod(t, cout4);
  ivec2 rowX = divmod(pixelC.x, u_outSize.y);
  ivec2 imageY = divmod(rowX.x, u_outSize.x);
  int co4 = pixelC.y, ox = rowX.y, oy = imageY.y;
  int tile = (imageY.x * u_tiles.x + (oy >> 1)) * u_tiles.y + (ox >> 1);
  int py = oy & 1, px = ox & 1;
  low = (tile & 1) == 0;
  first = (tile >> 1) * 16 * c2 + 2 * co4;
  second = first + min(1, c2 - 1 - 2 * co4);
  // Row p of Aᵀ: columns p, p + 1, p + 2 with signs (1, 1, 1) for p = 0 and (1, −1, −1) for p = 1.
  float s = py == 0 ? 1.0 : -1.0;
  float r = px == 0 ? 1.0 : -1.0;
#define ROW(i) (tileOf(4 * (i) + px) + r * (tileOf(4 * (i) + px + 1) + tileOf(4 * (i) + px + 2)))
  vec4 acc = ROW(py) + s * (ROW(py + 1) + ROW(py + 2));
#if HAS_BIAS
  acc += fetchTexel(Bias, co4);
#endif
#if HAS_RESIDUAL
  acc += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(acc), co4, u_outChannels);
}
