// matmul — 2×2 output blocks of a batched product, k-contiguous operands:
//   block[b, mb, nb] = ( P[2mb, 2nb], P[2mb, 2nb+1], P[2mb+1, 2nb], P[2mb+1, 2nb+1] ),
//   P[m, n] = Σ_k A[b, m, k] · Bt[b, n, k]   (rows past M or N are clamped: those lanes are ignored).
// src/kernels/matmul.ts brings both operands to "k last" form first (a pack pass for a plain B or a
// transposed A), and matmul_unblock.glsl turns blocks into the channel-packed [.., M, N] result,
// adding bias and activation. matmul.ts runs this kernel where matmul_quad.glsl (half the reads,
// written-out steps) cannot: contexts without exact fine derivatives, and products whose partial
// blocks would pass 64 MB; smpl's blend products use it likewise.
//
// Layouts (channel-packed, texel = 4 consecutive k): A [.., M, K]: texel aBase + m·K4 + k4;
//   Bt [.., N, K]: texel bBase + n·K4 + k4; lanes past K are 0 in both, so no K tail is needed.
//   out blocks [batches·M2·N2, 4] with M2 = ⌈M/2⌉, N2 = ⌈N/2⌉: texel (b·M2 + mb)·N2 + nb.
//   Batch: output batch index → matrix of A and of Bt through strides (0 = broadcast).
//
// One fragment computes one 2×2 block. Per k4 step it reads 2 texels of A (rows m, m+1) and 2 of Bt
// (rows n, n+1) and does 4 vec4 dot products = 16 multiply-adds: 4 reads per 16 MACs, against 5 for
// a fragment computing 4 outputs of one row (1 texel of A + 4 of B). On llvmpipe the texture reads,
// not the arithmetic, bound the speed (docs/kernels/matmul.md), so this is the cheapest shape for an
// RGBA32F output of a fragment that reads all its operands itself (headless-gl cannot draw to several
// outputs at once; matmul_quad.glsl shares reads between the fragments of a quad instead). Two k4 steps per loop
// iteration; reads are textureLod at texel centres (NEAREST), with power-of-two texture widths giving
// coordinates by mask and shift (llvmpipe serves this faster than texelFetch).
#define CUSTOM_MAIN
uniform sampler2D A;
uniform sampler2D Bt;
uniform int u_M;
uniform int u_N;
uniform int u_K;
#include "lib/batch_matrices"
uniform int u_aWidthLog2;         // log2 of A's texture width
uniform int u_bWidthLog2;

int aMask, aShift, bMask, bShift;
vec2 aTexelSize, bTexelSize;
vec4 fetchA(int t) { return textureLod(A, (vec2(t & aMask, t >> aShift) + 0.5) * aTexelSize, 0.0); }
vec4 fetchB(int t) { return textureLod(Bt, (vec2(t & bMask, t >> bShift) + 0.5) * bTexelSize, 0.0); }

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  aShift = u_aWidthLog2; aMask = (1 << aShift) - 1;
  bShift = u_bWidthLog2; bMask = (1 << bShift) - 1;
  aTexelSize = 1.0 / vec2(textureSize(A, 0));
  bTexelSize = 1.0 / vec2(textureSize(Bt, 0));

  int K4 = (u_K + 3) >> 2;
  int M2 = (u_M + 1) >> 1;
  int N2 = (u_N + 1) >> 1;
  int blockRow = t / N2;
  int nb = t - blockRow * N2;
  int batch = blockRow / M2;
  int mb = blockRow - batch * M2;
  ivec2 ab = batchMatrices(batch);
  int aMatrix = ab.x, bMatrix = ab.y;
  int a0 = (aMatrix * u_M + 2 * mb) * K4;
  int a1 = (aMatrix * u_M + min(2 * mb + 1, u_M - 1)) * K4;
  int b0 = (bMatrix * u_N + 2 * nb) * K4;
  int b1 = (bMatrix * u_N + min(2 * nb + 1, u_N - 1)) * K4;

  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  int k4 = 0;
  for (; k4 + 1 < K4; k4 += 2) {
    vec4 x0 = fetchA(a0 + k4), x1 = fetchA(a1 + k4), y0 = fetchB(b0 + k4), y1 = fetchB(b1 + k4);
    acc += vec4(dot(x0, y0), dot(x0, y1), dot(x1, y0), dot(x1, y1));
    x0 = fetchA(a0 + k4 + 1); x1 = fetchA(a1 + k4 + 1); y0 = fetchB(b0 + k4 + 1); y1 = fetchB(b1 + k4 + 1);
    acc2 += vec4(dot(x0, y0), dot(x0, y1), dot(x1, y0), dot(x1, y1));
  }
  if (k4 < K4) {
    vec4 x0 = fetchA(a0 + k4), x1 = fetchA(a1 + k4), y0 = fetchB(b0 + k4), y1 = fetchB(b1 + k4);
    acc += vec4(dot(x0, y0), dot(x0, y1), dot(x1, y0), dot(x1, y1));
  }
  outColor = acc + acc2;
}
