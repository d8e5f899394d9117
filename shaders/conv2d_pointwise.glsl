// conv2d_pointwise — a product with a small weight matrix, in one pass with bias and activation:
//   out[m, n] = act( bias[n] + Σ_{k < K} x[m, k] · w[k, n] )
// A 1×1 stride-1 convolution is this with m the pixel (N·H·W rows), k the input and n the output
// channel; the im2col path uses it with x = the patch matrix. src/kernels/conv2d.ts picks it over
// matmul's passes for K ≤ 48 where matmul runs matmul_quad (2 reads + 2 exchanges per 16 MACs,
// ahead from K ≈ 64), for K ≤ 128 against matmul.glsl's loop (docs/kernels/conv2d.md).
// Layouts (channel-packed): x [M, K]: texel m·K4 + k4 (lanes past K are 0); w [K, N] as given (HWIO
//   [1, 1, K, N] is this view; no pack pass): texel k·N4 + n4; bias [N] (HAS_BIAS): texel n4;
//   out [M, N]: texel m·N4 + n4.
// KDIM = K is a compile-time define (one program per K, at most 255): the K/4 steps are written
// out, not looped — llvmpipe ran the looped form 1.9× slower.
//
// One fragment computes one output texel: row m × 4 output channels. Per 4 input channels (a step)
// it reads 1 texel of x and the 4 weight texels (rows 4k4..4k4+3, texel n4) and does 16
// multiply-adds (a mat4 · vec4), into two accumulators by step parity (matmul's float32 error).
// That is 5 reads per 16 MACs against matmul's 4, but it needs no pack or unblock pass, no second
// write of the result, and decodes its position with one division instead of matmul's and
// unblock's dozen: for small K the per-fragment work, not the reads, is what matmul + unblock
// spend their time on. When K is not a multiple of 4, the last step reads weight rows past K − 1
// at K − 1 (x's lanes there are 0; rows past the tensor's end may hold anything, NaN included).
// Reads: textureLod at texel centres, mask/shift addressing, texel sizes from uniforms (conv2d.glsl).
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
uniform int u_N;
uniform int u_xWidthLog2;
uniform int u_wWidthLog2;
uniform vec2 u_xTexelSize;   // 1 / (width, height) of X's texture
uniform vec2 u_wTexelSize;
uniform float u_activationAlpha;

#define K4 ((KDIM + 3) >> 2)    // texels per row of x
#define FULL (KDIM >> 2)        // steps whose 4 weight rows all exist

#if FULL > 63
#error conv2d_pointwise unrolls at most 63 steps (K < 256)
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
  int N4 = (u_N + 3) >> 2;
  ivec2 mn = divmod(t, N4);
  int n4 = mn.y;
  int x0 = mn.x * K4;

  // Step i: x texel i of the row (input channels 4i..4i+3) times weight rows 4i..4i+3 at texel n4.
  // Steps are written out, not looped: the FULL steps are emitted as one block of 32, 16, ..., 1
  // steps per binary digit of FULL, each block starting where the larger ones end.
  vec4 acc = vec4(0.0), acc2 = vec4(0.0);
#define STEP(i) { int w0 = 4 * (i) * N4 + n4; vec4 p = mat4(fetchW(w0), fetchW(w0 + N4), fetchW(w0 + 2 * N4), fetchW(w0 + 3 * N4)) * fetchX(x0 + (i)); if (((i) & 1) == 0) acc += p; else acc2 += p; }
#define S2(b) STEP(b) STEP((b) + 1)
#define S4(b) S2(b) S2((b) + 2)
#define S8(b) S4(b) S4((b) + 4)
#define S16(b) S8(b) S8((b) + 8)
#define S32(b) S16(b) S16((b) + 16)
#if (FULL & 32) != 0
  S32(0)
#endif
#if (FULL & 16) != 0
  S16(FULL & 32)
#endif
#if (FULL & 8) != 0
  S8(FULL & 48)
#endif
#if (FULL & 4) != 0
  S4(FULL & 56)
#endif
#if (FULL & 2) != 0
  S2(FULL & 60)
#endif
#if (FULL & 1) != 0
  STEP(FULL & 62)
#endif
#if FULL < K4
  // The last texel of x holds K % 4 channels: weight rows past K − 1 are read at K − 1.
  {
    int k = 4 * FULL;
    int last = KDIM - 1;
    acc += mat4(fetchW(k * N4 + n4), fetchW(min(k + 1, last) * N4 + n4), fetchW(min(k + 2, last) * N4 + n4),
                fetchW(min(k + 3, last) * N4 + n4)) * fetchX(x0 + FULL);
  }
#endif
  acc += acc2;
#if HAS_BIAS
  acc += fetchTexel(Bias, n4);
#endif
#if HAS_RESIDUAL
  acc += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(acc), n4, u_N);
}
