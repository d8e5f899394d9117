// matmul_pack — moves the reduced dimension last, so both operands of matmul.glsl / conv2d.glsl read
// 4 consecutive k per texel:
//   out[b, n, t, c] = In[b, t·C + c, n]      In [batches, T·C, N] → out [batches, N, T, C]
// Used as: B [.., K, N] → Bt [.., N, K] (T = 1, C = K); Aᵀ likewise; conv weights HWIO
// [KH·KW·Cg, Cout] → [Cout, KH·KW, Cg] (T = taps, C = Cg: each tap padded to whole texels, as the
// input pixels are).
// Layouts: In channel-packed [batches·T·C rows, N4 texels]; out channel-packed [batches·N·T rows, C4].
// One fragment computes one output texel: 4 consecutive c of one (b, n, t), gathered from 4 input
// rows (same texel n/4, lane n%4). Rows past C are not read (they may not exist, or hold NaN).
uniform sampler2D In;
uniform int u_taps;      // T
uniform int u_channels;  // C
uniform int u_cols;      // N

float pick(vec4 v, int lane) { return lane == 0 ? v.x : lane == 1 ? v.y : lane == 2 ? v.z : v.w; }

vec4 kernel(int t) {
  int C4 = (u_channels + 3) >> 2;
  int N4 = (u_cols + 3) >> 2;
  int outRow = t / C4;
  int c = 4 * (t - outRow * C4);
  int tap = outRow % u_taps;
  int rest = outRow / u_taps;
  int n = rest % u_cols;
  int batch = rest / u_cols;
  int inTexel = ((batch * u_taps + tap) * u_channels + c) * N4 + (n >> 2);
  int lane = n & 3;
  int valid = u_channels - c;
  // A select, not a dot with a one-hot vector, so an inf in another column cannot leak in as NaN.
  return vec4(
    pick(fetchTexel(In, inTexel), lane),
    valid > 1 ? pick(fetchTexel(In, inTexel + N4), lane) : 0.0,
    valid > 2 ? pick(fetchTexel(In, inTexel + 2 * N4), lane) : 0.0,
    valid > 3 ? pick(fetchTexel(In, inTexel + 3 * N4), lane) : 0.0);
}
