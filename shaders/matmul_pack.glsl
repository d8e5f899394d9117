// matmul_pack — moves the reduced dimension last, so both operands of the block kernels
// (matmul_quad.glsl, matmul.glsl, conv2d.glsl, conv2d_small.glsl) read 4 consecutive k per texel:
//   out[b, n, t, c] = In[b, t·C + c, n]      In [batches, T·C, N] → out [batches, N, T, C]
// Used as: B [.., K, N] → Bt [.., N, K] (T = 1, C = K); Aᵀ likewise; conv weights HWIO
// [KH·KW·Cg, Cout] → [Cout, KH·KW, Cg] (T = taps, C = Cg: each tap padded to whole texels, as the
// input pixels are).
// Layouts: In channel-packed [batches·T·C rows, N4 texels]; out channel-packed [batches·N·T rows, C4].
// One fragment computes one output texel: 4 consecutive c of one (b, n, t), gathered from 4 input
// rows (same texel n/4, lane n%4). Rows past C are not read (they may not exist, or hold NaN).
// Position decode by lib/divmod (FLOAT_DIVMOD: a float quotient, exact below 2^24 output texels),
// reads textureLod at texel centres with mask/shift addressing and the texel size from a uniform,
// as the written-out kernels do: 1.2–1.7× faster than integer division and fetchTexel
// (docs/kernels/matmul.md: 1024 × 1024 5.3 → 3.2 ms, a 3×3 512 → 512 weight 16.1 → 12.1 ms).
#define CUSTOM_MAIN
uniform sampler2D In;
uniform int u_taps;      // T
uniform int u_channels;  // C
uniform int u_cols;      // N
uniform int u_inWidthLog2;
uniform vec2 u_inTexelSize;

int inMask, inShift;
vec4 fetchIn(int t) { return textureLod(In, (vec2(t & inMask, t >> inShift) + 0.5) * u_inTexelSize, 0.0); }
float pick(vec4 v, int lane) { return lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w; }

#include "lib/divmod"

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  inShift = u_inWidthLog2; inMask = (1 << inShift) - 1;
  int C4 = (u_channels + 3) >> 2;
  int N4 = (u_cols + 3) >> 2;
  ivec2 rowC4 = divmod(t, C4);
  ivec2 restTap = divmod(rowC4.x, u_taps);
  ivec2 batchN = divmod(restTap.x, u_cols);
  int c = 4 * rowC4.y;
  int n = batchN.y;
  int inTexel = ((batchN.x * u_taps + restTap.y) * u_channels + c) * N4 + (n >> 2);
  int lane = n & 3;
  int valid = u_channels - c;
  // A select, not a dot with a one-hot vector, so an inf in another column cannot leak in as NaN.
  outColor = vec4(
    pick(fetchIn(inTexel), lane),
    valid > 1 ? pick(fetchIn(inTexel + N4), lane) : 0.0,
    valid > 2 ? pick(fetchIn(inTexel + 2 * N4), lane) : 0.0,
    valid > 3 ? pick(fetchIn(inTexel + 3 * N4), lane) : 0.0);
}
