// pad — window copy: out[o] = X[o − before] where that position lies inside X, else u_value.
//   pad(x, paddings, value) uses before ≥ 0; slice(x, begin, size) uses before = −begin ≤ 0 (the window
//   then lies inside X, so u_value is never taken).
// Input X [.., Cin] and output [.., Cout], channel-packed, both right-aligned to rank 6 (leading dims 1,
// before 0 there). One fragment computes one output texel (4 channels of one output row).
//   TEXEL_ALIGNED 1: before along the last dim is a multiple of 4, so output texel c4 holds the lanes of
//                    input texel c4 − before/4: one fetch, then lanes outside X take u_value.
//   TEXEL_ALIGNED 0: each lane fetches its own element.
// Lanes past Cout are written as 0.
uniform sampler2D X;
uniform int u_outDims[6];  // output dims, right-aligned; u_outDims[5] = Cout
uniform int u_inDims[6];   // input dims, right-aligned; u_inDims[5] = Cin
uniform int u_before[6];   // input coordinate = output coordinate − before
uniform float u_value;     // fill value outside X

vec4 kernel(int t) {
  int outChannels = u_outDims[5];
  int inChannels = u_inDims[5];
  int outTexelsPerRow = (outChannels + 3) / 4;
  int inTexelsPerRow = (inChannels + 3) / 4;
  int row = t / outTexelsPerRow;
  int c4 = t - row * outTexelsPerRow;
  // Input row of this output row (Horner over the leading coordinates), and whether it exists.
  int inRow = 0;
  int inRowStride = 1;
  bool rowInside = true;
  int rest = row;
  for (int k = 4; k >= 0; k--) {
    int coord = rest % u_outDims[k] - u_before[k];
    rest /= u_outDims[k];
    rowInside = rowInside && coord >= 0 && coord < u_inDims[k];
    inRow += coord * inRowStride;
    inRowStride *= u_inDims[k];
  }
  ivec4 inChannel = ivec4(0, 1, 2, 3) + (4 * c4 - u_before[5]);
  bvec4 laneInside = bvec4(ivec4(greaterThanEqual(inChannel, ivec4(0))) * ivec4(lessThan(inChannel, ivec4(inChannels))));
  vec4 v = vec4(u_value);
  if (rowInside) {
#if TEXEL_ALIGNED
    int inC4 = c4 - u_before[5] / 4;
    vec4 texel = inC4 >= 0 && inC4 < inTexelsPerRow ? fetchTexel(X, inRow * inTexelsPerRow + inC4) : vec4(0.0);
    v = mix(v, texel, laneInside);
#else
    for (int lane = 0; lane < 4; lane++) {
      if (laneInside[lane]) v[lane] = fetchElement(X, inRow, inChannel[lane], inTexelsPerRow);
    }
#endif
  }
  return keepLanes(v, c4, outChannels);
}
