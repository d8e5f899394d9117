// matmul_unblock — 2×2 product blocks (matmul.glsl, conv2d.glsl) → channel-packed result, with bias
// and activation:  out[b, m, n] = ACTIVATE( block[b, m/2, n/2][2·(m%2) + n%2] + bias[n] ).
// Layouts: Blocks [batches·M2·N2, 4], M2 = ⌈M/2⌉, N2 = ⌈N/2⌉ (texel (b·M2 + mb)·N2 + nb);
//   Bias [N] (HAS_BIAS); out [.., M, N] channel-packed, texel (b·M + m)·N4 + n4.
// One fragment computes one output texel: row m, channels 4n4..4n4+3, which are the top or bottom
// halves of blocks 2n4 and 2n4+1 of block row m/2 (the second clamped when it lies past N; those
// lanes are past N and zeroed). Position decode by lib/divmod (FLOAT_DIVMOD: float quotients, exact
// below 2^24 output texels), reads textureLod at texel centres with mask/shift addressing and the
// texel size from a uniform: 1.23–1.26× faster than integer division and fetchTexel
// (docs/kernels/matmul.md).
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
uniform int u_M;
uniform int u_N;
uniform int u_blocksWidthLog2;
uniform vec2 u_blocksTexelSize;
uniform float u_activationAlpha;

int bMask, bShift;
vec4 fetchBlock(int t) { return textureLod(Blocks, (vec2(t & bMask, t >> bShift) + 0.5) * u_blocksTexelSize, 0.0); }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  bShift = u_blocksWidthLog2; bMask = (1 << bShift) - 1;
  int N4 = (u_N + 3) >> 2;
  int M2 = (u_M + 1) >> 1;
  int N2 = (u_N + 1) >> 1;
  ivec2 rowN4 = divmod(t, N4);
  ivec2 batchM = divmod(rowN4.x, u_M);
  int m = batchM.y, n4 = rowN4.y;
  int first = (batchM.x * M2 + (m >> 1)) * N2 + 2 * n4;
  vec4 b0 = fetchBlock(first);
  vec4 b1 = fetchBlock(first + min(1, N2 - 1 - 2 * n4));
  vec4 v = (m & 1) == 0 ? vec4(b0.xy, b1.xy) : vec4(b0.zw, b1.zw);
#if HAS_BIAS
  v += fetchTexel(Bias, n4);
#endif
#if HAS_RESIDUAL
  v += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(v), n4, u_N);
}
