// transpose — out[o0, …, o5] = X[o_perm⁻¹(0), …]: output dim k is input dim perm[k].
// Input X [.., Cin] and output [.., Cout], channel-packed; both right-aligned to rank 6 (leading 1s).
// Each output coordinate o_k moves the input position by u_rowStride[k] rows and u_channelStride[k]
// channels (exactly one output dim carries X's last dim: channel stride 1, row stride 0).
// One fragment computes one output texel (4 channels of one output row).
//   KEEP_LAST 1: perm keeps X's last dim last, so the 4 lanes are 4 consecutive input channels of one
//                input row: one whole-texel fetch (Cin = Cout, padding lanes already 0).
//   KEEP_LAST 0: the lanes come from 4 different input rows: each lane fetches its own element.
uniform sampler2D X;
uniform int u_outDims[6];        // output dims, right-aligned; u_outDims[5] = Cout
uniform int u_rowStride[6];      // input rows per step of each output coordinate
uniform int u_channelStride[6];  // input channels per step of each output coordinate
uniform int u_inChannels;        // Cin

vec4 kernel(int t) {
  int outChannels = u_outDims[5];
  int outTexelsPerRow = (outChannels + 3) / 4;
  int inTexelsPerRow = (u_inChannels + 3) / 4;
  int row = t / outTexelsPerRow;
  int c4 = t - row * outTexelsPerRow;
  // Input row and channel of output (row, channel 0), from the output row's coordinates.
  int inRow = 0;
  int inChannel = 0;
  int rest = row;
  for (int k = 4; k >= 0; k--) {
    int coord = rest % u_outDims[k];
    rest /= u_outDims[k];
    inRow += coord * u_rowStride[k];
    inChannel += coord * u_channelStride[k];
  }
#if KEEP_LAST
  return fetchTexel(X, inRow * inTexelsPerRow + c4);
#else
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int channel = 4 * c4 + lane;
    if (channel < outChannels) {
      v[lane] = fetchElement(X, inRow + channel * u_rowStride[5], inChannel + channel * u_channelStride[5], inTexelsPerRow);
    }
  }
  return v;
#endif
}
