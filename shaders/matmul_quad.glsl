// matmul_quad — partial 2×2 blocks of a batched product, k-contiguous operands, the operand texels
// shared inside each 2×2 fragment quad (exactly), STEPS k4 steps written out per fragment:
//   P_j[b, m, n] = Σ_{k4 in part j} Σ_lanes A[b, m, 4k4 + l] · Bt[b, n, 4k4 + l]
//   part j covers k4 = u_kStart + j·STEPS … + STEPS − 1 (j < u_parts); the parts of all draws sum
//   to the product (matmul_quad_unblock.glsl adds them, the bias and the activation).
//   Rows past M or N are clamped (those lanes are dropped by the unblock pass).
// src/kernels/matmul.ts (quadPlan) runs it as one draw of STEPS = K4 = ⌈K/4⌉ while K4 ≤ 64, else in
// parts side by side — of 64 steps where 64 divides K4, else of 32 — plus one draw of the rest: one
// program per step count, at most 64 steps written out (first compile on llvmpipe 0.4 s at 32 steps,
// 0.9 s at 64, 2.3 s at 128, 7 s at 256; 64-step parts ran 3% slower than 128-step ones at 1024³,
// 32-step ones 4–6% slower than 64), the parts spread over llvmpipe's threads even when the output
// is small (long-K products: weight gradients).
//
// Layouts: A [.., M, K], Bt [.., N, K] channel-packed, texel (matrix·rows + row)·K4 + k4; lanes past
//   K are 0 in both, so no K tail is needed. Batch (BATCHED): output batch index → matrix of A and
//   of Bt through strides (0 = broadcast), as matmul.glsl.
// Output "quad layout" (smpl_quad_product's): super-block s = (b·M4 + sm)·N4 + sn (M4 = ⌈M/4⌉,
//   N4 = ⌈N/4⌉, u_superBlocks = batches·M4·N4 per part) of part j is quad q = j·u_superBlocks + s,
//   drawn by the fragment quad (q mod W/2, q div W/2) of the W-wide output; its fragment (px, py)
//   holds block (mb, nb) = (2sm + py, 2sn + px) as (P[2mb, 2nb], P[2mb, 2nb+1], P[2mb+1, 2nb],
//   P[2mb+1, 2nb+1]). Texels of quads past the last part are 0.
//
// One fragment computes one 2×2 block. Per k4 step it reads ONE texel of A (row 4sm + 2py + px) and
// ONE of Bt (row 4sn + 2px + py); its horizontal neighbour read the other A row of its pair and its
// vertical neighbour the other Bt row, and fine derivatives hand them over: 2 reads per 16
// multiply-adds, against matmul.glsl's 4. On llvmpipe the reads (per-lane gathers), not the
// arithmetic, bound the speed. The exchange is exact: dFdx(w) = w(right) − w(left) with w = 0 in
// one of the two fragments is the other's value itself (two derivatives per direction), so the
// result is the same as matmul.glsl's and an inf or NaN stays in its own row. smpl_quad_product's
// cheaper own ± derivative form rounds a neighbour to within an ulp of the larger of the two values,
// which a general product cannot accept (a row 2^20 times smaller than its neighbour would lose its
// digits); matmul.ts checks once per context, on such a product, that this kernel is exact there
// (fine derivatives with these signs) and otherwise runs matmul.glsl.
// Measured (docs/kernels/matmul.md): 1.14–1.23× faster than matmul.glsl (256³–1024³, the whole op);
// the exchange costs ~0.75 of a read. Steps are written out, not looped: llvmpipe ran written-out
// steps 1.06–1.13× faster than a loop, and loops around written-out chunks slower still. Two
// accumulators by step parity (matmul.glsl's float32 error). Control flow is uniform inside every quad (a quad
// shares q), so the derivatives are defined; quads past the end return together.
// Reads: textureLod at texel centres, mask/shift addressing, texel sizes from uniforms;
// FLOAT_DIVMOD: lib/divmod's float index decode (exact below 2^24 output texels).
#define CUSTOM_MAIN
uniform sampler2D A;
uniform sampler2D Bt;
uniform int u_M;
uniform int u_N;
uniform int u_K4;            // texels per row of A and Bt
uniform int u_kStart;        // first k4 of part 0 of this draw
uniform int u_superBlocks;   // per part: batches · M4 · N4
uniform int u_parts;
#if BATCHED
#include "lib/batch_matrices"
#endif
uniform int u_aWidthLog2;
uniform int u_bWidthLog2;
uniform vec2 u_aTexelSize;   // 1 / (width, height) of A's texture
uniform vec2 u_bTexelSize;

#if STEPS < 1 || STEPS > 64
#error matmul_quad writes out 1 to 64 steps
#endif

int aMask, aShift, bMask, bShift;
vec4 fetchA(int t) { return textureLod(A, (vec2(t & aMask, t >> aShift) + 0.5) * u_aTexelSize, 0.0); }
vec4 fetchB(int t) { return textureLod(Bt, (vec2(t & bMask, t >> bShift) + 0.5) * u_bTexelSize, 0.0); }

// The horizontal (vertical) neighbour's v, exactly: one derivative per direction with the other
// fragment's term 0.
bool left, low;
vec4 otherX(vec4 v) {
  vec4 fromRight = dFdx(left ? vec4(0.0) : v);
  vec4 fromLeft = dFdx(left ? v : vec4(0.0));
  return left ? fromRight : -fromLeft;
}
vec4 otherY(vec4 v) {
  vec4 fromUpper = dFdy(low ? vec4(0.0) : v);
  vec4 fromLower = dFdy(low ? v : vec4(0.0));
  return low ? fromUpper : -fromLower;
}

#include "lib/divmod"

void main() {
  ivec2 pixel = ivec2(gl_FragCoord.xy);
  int px = pixel.x & 1;
  int py = pixel.y & 1;
  int q = (pixel.y >> 1) * (u_outWidth >> 1) + (pixel.x >> 1);
  if (q >= u_superBlocks * u_parts) { outColor = vec4(0.0); return; }
  aShift = u_aWidthLog2; aMask = (1 << aShift) - 1;
  bShift = u_bWidthLog2; bMask = (1 << bShift) - 1;
  int M4 = (u_M + 3) >> 2;
  int N4 = (u_N + 3) >> 2;
  ivec2 partS = divmod(q, u_superBlocks);
  ivec2 rowSn = divmod(partS.y, N4);
#if BATCHED
  ivec2 batchSm = divmod(rowSn.x, M4);
  int batch = batchSm.x, sm = batchSm.y;
  ivec2 ab = batchMatrices(batch);
  int aMatrix = ab.x, bMatrix = ab.y;
#else
  int sm = rowSn.x;
  const int aMatrix = 0, bMatrix = 0;
#endif
  int k0 = u_kStart + partS.x * STEPS;
  int a0 = (aMatrix * u_M + min(4 * sm + 2 * py + px, u_M - 1)) * u_K4 + k0;
  int b0 = (bMatrix * u_N + min(4 * rowSn.y + 2 * px + py, u_N - 1)) * u_K4 + k0;
  left = px == 0;
  low = py == 0;

  // acc = (own A·own Bt, own A·other Bt, other A·own Bt, other A·other Bt), reordered at the end.
  vec4 acc = vec4(0.0), acc2 = vec4(0.0);
#define STEP(i) { vec4 x0 = fetchA(a0 + (i)), y0 = fetchB(b0 + (i)); vec4 x1 = otherX(x0), y1 = otherY(y0); vec4 p = vec4(dot(x0, y0), dot(x0, y1), dot(x1, y0), dot(x1, y1)); if (((i) & 1) == 0) acc += p; else acc2 += p; }
#define S2(b) STEP(b) STEP((b) + 1)
#define S4(b) S2(b) S2((b) + 2)
#define S8(b) S4(b) S4((b) + 4)
#define S16(b) S8(b) S8((b) + 8)
#define S32(b) S16(b) S16((b) + 16)
  // STEPS steps as blocks of 64, 32, ..., 1 per binary digit, each starting where the larger end.
#if STEPS == 64
  S32(0) S32(32)
#endif
#if (STEPS & 32) != 0
  S32(0)
#endif
#if (STEPS & 16) != 0
  S16(STEPS & 32)
#endif
#if (STEPS & 8) != 0
  S8(STEPS & 48)
#endif
#if (STEPS & 4) != 0
  S4(STEPS & 56)
#endif
#if (STEPS & 2) != 0
  S2(STEPS & 60)
#endif
#if (STEPS & 1) != 0
  STEP(STEPS & 62)
#endif
  acc += acc2;
  // Own A row is member px of the block's row pair, own Bt row member py of its column pair.
  acc = px == 1 ? acc.zwxy : acc;
  outColor = py == 1 ? acc.yxwz : acc;
}
