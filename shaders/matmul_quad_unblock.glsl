// matmul_quad_unblock — matmul_quad.glsl's partial blocks → channel-packed result, parts summed, with
// bias and activation:
//   out[b, m, n] = ACTIVATE( Σ_{j < u_parts} P_j[b, m, n] + R[b, m, n] + bias[n] )
//   P_j: part j of Blocks, R: the one part of Rest (HAS_REST: the K4 mod 64 steps after the parts).
// Layouts: Blocks and Rest in matmul_quad's quad layout: super-block s = (b·M4 + m/4)·N4 + n4
//   (M4 = ⌈M/4⌉, N4 = ⌈N/4⌉: a super-block's 4 columns are exactly output texel n4) of part j is
//   quad q = j·u_superBlocks + s at pixels (2·(q mod W/2) + px, 2·(q div W/2) + py) of the W-wide
//   texture, fragment (px, py) holding block (m/2 = 2·(m/4) + py, 2n4 + px); Bias [N] (HAS_BIAS);
//   out [.., M, N] channel-packed, texel (b·M + m)·N4 + n4.
// One fragment computes one output texel: row m, channels 4n4..4n4+3 = the top or bottom halves of
// the two neighbouring texels (px = 0, 1) of its quad's row py = (m/2) mod 2, in every part: 2 reads
// per part. Parts are summed in order (a uniform loop; u_parts is 1 for K ≤ 256). Reads:
// textureLod at texel centres, mask/shift addressing (quad layouts have power-of-two widths),
// texel sizes from uniforms; FLOAT_DIVMOD: lib/divmod's float index decode (exact below 2^24
// output texels).
// HAS_RESIDUAL: Residual, a tensor of out's shape and layout (texel t), is added after the bias and
// before the activation — a residual connection fused into the layer that feeds it.
#define CUSTOM_MAIN
uniform sampler2D Blocks;
#if HAS_REST
uniform sampler2D Rest;
#endif
#if HAS_BIAS
uniform sampler2D Bias;
#endif
#if HAS_RESIDUAL
uniform sampler2D Residual;
#endif
uniform int u_M;
uniform int u_N;
uniform int u_superBlocks;   // per part
uniform int u_parts;
uniform int u_blocksWidthLog2;
uniform vec2 u_blocksTexelSize;
uniform int u_restWidthLog2;
uniform vec2 u_restTexelSize;
uniform float u_activationAlpha;

// Top (even m) or bottom half of the two blocks of quad q's row py, in a quad-layout texture of
// width 2^widthLog2 and texel size ts.
bool top;
int py;
vec4 rowOf(sampler2D s, int q, int widthLog2, vec2 ts) {
  int quadsLog2 = widthLog2 - 1;
  vec2 at = (vec2(2 * (q & ((1 << quadsLog2) - 1)), 2 * (q >> quadsLog2) + py) + 0.5) * ts;
  vec4 b0 = textureLod(s, at, 0.0);
  vec4 b1 = textureLod(s, at + vec2(ts.x, 0.0), 0.0);
  return top ? vec4(b0.xy, b1.xy) : vec4(b0.zw, b1.zw);
}

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  int N4 = (u_N + 3) >> 2;
  int M4 = (u_M + 3) >> 2;
  ivec2 rowN4 = divmod(t, N4);
  ivec2 batchM = divmod(rowN4.x, u_M);
  int m = batchM.y, n4 = rowN4.y;
  int s = (batchM.x * M4 + (m >> 2)) * N4 + n4;
  py = (m >> 1) & 1;
  top = (m & 1) == 0;
  vec4 v = rowOf(Blocks, s, u_blocksWidthLog2, u_blocksTexelSize);
  for (int j = 1; j < u_parts; j++) v += rowOf(Blocks, s + j * u_superBlocks, u_blocksWidthLog2, u_blocksTexelSize);
#if HAS_REST
  v += rowOf(Rest, s, u_restWidthLog2, u_restTexelSize);
#endif
#if HAS_BIAS
  v += fetchTexel(Bias, n4);
#endif
#if HAS_RESIDUAL
  v += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(v), n4, u_N);
}
