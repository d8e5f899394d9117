// conv2d_winograd_product — the 16 matrix products of Winograd F(2×2, 3×3), as 2×2 blocks:
//   M[ξ, t, co] = Σ_{ci < Cin} V[t, ξ, ci] · U[co, ξ, ci]     (ξ < 16 transform positions, t < T tiles)
//   block[tb, ξ, cb] = (M[ξ, 2tb, 2cb], M[ξ, 2tb, 2cb+1], M[ξ, 2tb+1, 2cb], M[ξ, 2tb+1, 2cb+1]);
//   rows past T or Cout are clamped (conv2d_winograd_output.glsl drops their lanes).
// Layouts (channel-packed, K4 = ⌈Cin/4⌉; lanes past Cin are 0 in both operands, so no K tail):
//   V [T, 16, Cin] (conv2d_winograd_input.glsl): texel (t·16 + ξ)·K4 + k4;
//   U [Cout, 4·P], P = 16·K4 + 1 (conv2d_winograd_filter.glsl; an odd row pitch): texel co·P + ξ·K4 + k4;
//   output blocks [T2·16·C2, 4] (T2 = ⌈T/2⌉, C2 = ⌈Cout/2⌉): texel (tb·16 + ξ)·C2 + cb — a tile
//   pair's 16 positions side by side for the output transform.
// One fragment computes one block, as matmul.glsl: per k4 step 2 texels of V (tiles 2tb, 2tb + 1)
// and 2 of U (channels 2cb, 2cb + 1), 4 dot products = 16 multiply-adds per 4 reads, into two
// accumulators by step parity (matmul's float32 error). KDIM = Cin is a compile-time define (one
// program per Cin): the K4 steps are written out, which ran 1.1–1.7× faster than matmul.glsl's
// uniform-bound loop on these products (llvmpipe; a loop over chunks of 16 written-out steps was
// 1.5× slower than no loop at Cin = 128); past 128 steps (Cin > 512), to bound the compile time,
// whole chunks of 16 steps run in a loop. Reads: textureLod at texel centres, mask/shift
// addressing, texel sizes from uniforms; FLOAT_DIVMOD: lib/divmod's float index decode (exact below
// 2^24 output texels).
#define CUSTOM_MAIN
uniform sampler2D V;
uniform sampler2D U;
uniform int u_tileCount;     // T
uniform int u_outChannels;   // Cout
uniform int u_vWidthLog2;
uniform int u_uWidthLog2;
uniform vec2 u_vTexelSize;   // 1 / (width, height) of V's texture
uniform vec2 u_uTexelSize;

#define K4 ((KDIM + 3) >> 2)
#define CHUNK_FROM 128   // steps written out at most
#define U_PITCH (16 * K4 + 1)

int vMask, vShift, uMask, uShift;
vec4 fetchV(int t) { return textureLod(V, (vec2(t & vMask, t >> vShift) + 0.5) * u_vTexelSize, 0.0); }
vec4 fetchU(int t) { return textureLod(U, (vec2(t & uMask, t >> uShift) + 0.5) * u_uTexelSize, 0.0); }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  vShift = u_vWidthLog2; vMask = (1 << vShift) - 1;
  uShift = u_uWidthLog2; uMask = (1 << uShift) - 1;
  int C2 = (u_outChannels + 1) >> 1;
  ivec2 rowCb = divmod(t, C2);
  int tb = rowCb.x >> 4, xi = rowCb.x & 15, cb = rowCb.y;
  int a0 = ((2 * tb) * 16 + xi) * K4;
  int a1 = (min(2 * tb + 1, u_tileCount - 1) * 16 + xi) * K4;
  int b0 = (2 * cb) * U_PITCH + xi * K4;
  int b1 = min(2 * cb + 1, u_outChannels - 1) * U_PITCH + xi * K4;

  vec4 acc = vec4(0.0), acc2 = vec4(0.0);
#define STEP(i) { vec4 x0 = fetchV(a0 + (i)), x1 = fetchV(a1 + (i)), y0 = fetchU(b0 + (i)), y1 = fetchU(b1 + (i)); vec4 p = vec4(dot(x0, y0), dot(x0, y1), dot(x1, y0), dot(x1, y1)); if (((i) & 1) == 0) acc += p; else acc2 += p; }
#define S2(b) STEP(b) STEP((b) + 1)
#define S4(b) S2(b) S2((b) + 2)
#define S8(b) S4(b) S4((b) + 4)
#define S16(b) S8(b) S8((b) + 8)
#define S32(b) S16(b) S16((b) + 16)
#define S64(b) S32(b) S32((b) + 32)
#if K4 > CHUNK_FROM
  // Whole chunks of 16 steps in a loop (the offsets move with the loop), then the rest written out.
  for (int c = 0; c < (K4 >> 4); c++) {
    S16(0)
    a0 += 16; a1 += 16; b0 += 16; b1 += 16;
  }
#define REST (K4 & 15)
#else
#define REST K4
#endif
  // REST steps as blocks of 128, 64, ..., 1 per binary digit, each starting where the larger end.
#if (REST & 128) != 0
  S64(0) S64(64)
#endif
#if (REST & 64) != 0
  S64(REST & 128)
#endif
#if (REST & 32) != 0
  S32(REST & 192)
#endif
#if (REST & 16) != 0
  S16(REST & 224)
#endif
#if (REST & 8) != 0
  S8(REST & 240)
#endif
#if (REST & 4) != 0
  S4(REST & 248)
#endif
#if (REST & 2) != 0
  S2(REST & 252)
#endif
#if (REST & 1) != 0
  STEP(REST & 254)
#endif
  outColor = acc + acc2;
}
