// matmul — out[b, m, n] = act( Σ_k A'[b, m, k] · B'[b, k, n] + bias[n] ), with A' = A or Aᵀ and
// B' = B or Bᵀ per TRANSPOSE_A / TRANSPOSE_B, HAS_BIAS, and ACTIVATE(v) from src/kernels/activation.ts.
//
// Layouts (channel-packed, see src/runtime/layout.ts; texel = 4 consecutive last-dim values):
//   A  [..., M, K]  (TRANSPOSE_A: [..., K, M]),  matrix i of A starts at texel i·u_aMatrixTexels
//   B  [..., K, N]  (TRANSPOSE_B: [..., N, K]),  matrix i of B starts at texel i·u_bMatrixTexels
//   Bias [N];  out [..., M, N], batch dims = broadcast of A's and B's (strides 0 where broadcast).
//
// One fragment computes one output texel: out[b, m, 4n4 .. 4n4+3]. Per step over 4 values of k
// (k4) it reads a = A'[m, 4k4..4k4+3] and the 4×4 block B'[4k4..4k4+3, 4n4..4n4+3], and does
// 16 multiply-adds as one mat4·vec4:
//   no transposes:  1 texel of A (row m) + 4 texels of B (rows 4k4+i, texel n4); acc += mat4(B rows)·a
//   TRANSPOSE_B:    4 texels of Bᵀ (rows 4n4+j, texel k4) are the block's columns; acc += a·mat4(..)
//   TRANSPOSE_A:    4 texels of Aᵀ (rows 4k4+i, texel m/4); lane m%4 of each is picked by a one-hot
// The k loop does two k4 steps per iteration (fewer loop branches for llvmpipe), then one odd step,
// then a tail step for K % 4 ≠ 0 that reads only the rows that exist (B rows past K do not exist in
// memory, and pooled textures may hold NaN there). Texture widths are powers of two, so texel
// coordinates are a mask and a shift: no integer division inside the loop.
#define CUSTOM_MAIN
uniform sampler2D A;
uniform sampler2D B;
#if HAS_BIAS
uniform sampler2D Bias;
#endif
uniform int u_M;
uniform int u_K;
uniform int u_N;
uniform int u_batchDims[4];       // output batch dims, right-aligned, padded with 1
uniform int u_aBatchStrides[4];   // matrices of A per step of each batch dim (0 = broadcast)
uniform int u_bBatchStrides[4];
uniform int u_aMatrixTexels;      // texels per matrix of A
uniform int u_bMatrixTexels;
uniform float u_activationAlpha;

int aMask, aShift, bMask, bShift;

vec4 fetchA(int t) { return texelFetch(A, ivec2(t & aMask, t >> aShift), 0); }
vec4 fetchB(int t) { return texelFetch(B, ivec2(t & bMask, t >> bShift), 0); }

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  int aWidth = textureSize(A, 0).x;
  int bWidth = textureSize(B, 0).x;
  aMask = aWidth - 1; aShift = findMSB(aWidth);
  bMask = bWidth - 1; bShift = findMSB(bWidth);

  int M4 = (u_M + 3) >> 2;
  int K4 = (u_K + 3) >> 2;
  int N4 = (u_N + 3) >> 2;
  int row = t / N4;
  int n4 = t - row * N4;
  int batch = row / u_M;
  int m = row - batch * u_M;
  int aMatrix = 0;
  int bMatrix = 0;
  for (int i = 3; i >= 0; i--) {
    int coord = batch % u_batchDims[i];
    batch /= u_batchDims[i];
    aMatrix += coord * u_aBatchStrides[i];
    bMatrix += coord * u_bBatchStrides[i];
  }
  int aBase = aMatrix * u_aMatrixTexels;
  int bBase = bMatrix * u_bMatrixTexels;

  int fullK4 = u_K >> 2;  // steps whose 4 k all exist
  int kRest = u_K & 3;

#if TRANSPOSE_A
  // Aᵀ row k holds A'[·, k]: texel (k, m/4), lane m%4. aT walks rows 4k4, stepping 4 rows per k4.
  vec4 pickLane = vec4(equal(ivec4(0, 1, 2, 3), ivec4(m & 3)));
  int aT = aBase + (m >> 2);
  int aRow = M4;
  #define LOAD_A(a) a = pickLane * mat4(fetchA(aT), fetchA(aT + aRow), fetchA(aT + 2 * aRow), fetchA(aT + 3 * aRow)); aT += 4 * aRow;
#else
  int aT = aBase + m * K4;
  #define LOAD_A(a) a = fetchA(aT); aT += 1;
#endif

#if TRANSPOSE_B
  // Bᵀ rows 4n4+j (clamped to N−1 so every read exists; those lanes are zeroed at the end).
  int bT0 = bBase + min(4 * n4 + 0, u_N - 1) * K4;
  int bT1 = bBase + min(4 * n4 + 1, u_N - 1) * K4;
  int bT2 = bBase + min(4 * n4 + 2, u_N - 1) * K4;
  int bT3 = bBase + min(4 * n4 + 3, u_N - 1) * K4;
  #define MAC(acc, a) acc += a * mat4(fetchB(bT0), fetchB(bT1), fetchB(bT2), fetchB(bT3)); bT0 += 1; bT1 += 1; bT2 += 1; bT3 += 1;
#else
  int bT = bBase + n4;
  int bRow = N4;
  #define MAC(acc, a) acc += mat4(fetchB(bT), fetchB(bT + bRow), fetchB(bT + 2 * bRow), fetchB(bT + 3 * bRow)) * a; bT += 4 * bRow;
#endif

  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  vec4 a;
  vec4 a2;
  int k4 = 0;
  for (; k4 + 1 < fullK4; k4 += 2) {
    LOAD_A(a)
    MAC(acc, a)
    LOAD_A(a2)
    MAC(acc2, a2)
  }
  if (k4 < fullK4) {
    LOAD_A(a)
    MAC(acc, a)
  }
  acc += acc2;

  if (kRest > 0) {
    // Last, partial k4: only kRest rows exist.
    vec4 kMask = vec4(lessThan(ivec4(0, 1, 2, 3), ivec4(kRest)));
#if TRANSPOSE_A
    vec4 r0 = fetchA(aT);
    vec4 r1 = kRest > 1 ? fetchA(aT + aRow) : vec4(0.0);
    vec4 r2 = kRest > 2 ? fetchA(aT + 2 * aRow) : vec4(0.0);
    a = pickLane * mat4(r0, r1, r2, vec4(0.0));
#else
    a = fetchA(aT);  // lanes past K are 0 by the layout invariant
#endif
#if TRANSPOSE_B
    // Lanes past K of Bᵀ's texels are 0 by the layout invariant.
    acc += a * mat4(fetchB(bT0), fetchB(bT1), fetchB(bT2), fetchB(bT3));
#else
    vec4 b0 = fetchB(bT);
    vec4 b1 = kRest > 1 ? fetchB(bT + bRow) : vec4(0.0);
    vec4 b2 = kRest > 2 ? fetchB(bT + 2 * bRow) : vec4(0.0);
    acc += mat4(b0, b1, b2, vec4(0.0)) * (a * kMask);
#endif
  }

#if HAS_BIAS
  acc += texelFetch(Bias, ivec2(n4 % textureSize(Bias, 0).x, n4 / textureSize(Bias, 0).x), 0);
#endif
  outColor = keepLanes(ACTIVATE(acc), n4, u_N);
}
