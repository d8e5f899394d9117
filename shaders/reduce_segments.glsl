// reduce_segments — one pass of a reduction whose axes include the last (channel) axis. The reduced
// elements of output o are then a contiguous run of T texels of X (whole rows, padding lanes included):
//   partial (o, p) = OP over the valid lanes of texels [o·T + p·B, o·T + min(p·B + B, T)) of X
// With P = ceil(T / B) partials per output, output element e (row-major over the output shape, any
// shape with O·P elements) is partial (e div P, e mod P); a later pass reduces the P partials, now a
// last axis of length P, the same way. OP: 0 sum, 1 max, 2 min.
// Input X [.., Cin] channel-packed; output channel-packed. One fragment computes one output texel:
// each of its ≤ 4 elements reads ≤ B texels, keeping 4 lane accumulators (an in-texel split that also
// shortens float32 sums) and folding them pairwise at the end. Lanes past Cin are left out with a
// select (for max/min a 0 there could win). The result is multiplied by u_scale (mean: 1/N on the
// last pass, else 1). Lanes past Cout are written as 0.
uniform sampler2D X;
uniform int u_inChannels;     // Cin
uniform int u_segmentTexels;  // T
uniform int u_partials;       // P
uniform int u_block;          // B
uniform int u_outChannels;    // Cout
uniform float u_scale;

vec4 combine(vec4 a, vec4 b) {
#if OP == 0
  return a + b;
#elif OP == 1
  return max(a, b);
#elif OP == 2
  return min(a, b);
#else
#error unknown OP
#endif
}

// Texel v with lanes past Cin replaced by a neutral value: 0 for sums, lane 0 (always a real channel)
// for max/min.
vec4 validLanes(vec4 v, int c4) {
  bvec4 valid = lessThan(ivec4(0, 1, 2, 3), ivec4(u_inChannels - 4 * c4));
#if OP == 0
  return mix(vec4(0.0), v, valid);
#else
  return mix(v.xxxx, v, valid);
#endif
}

float foldLanes(vec4 v) {
#if OP == 0
  return (v.x + v.y) + (v.z + v.w);
#elif OP == 1
  return max(max(v.x, v.y), max(v.z, v.w));
#else
  return min(min(v.x, v.y), min(v.z, v.w));
#endif
}

float reduceElement(int e) {
  int o = e / u_partials;
  int p = e - o * u_partials;
  int inTexelsPerRow = (u_inChannels + 3) / 4;
  int first = p * u_block;
  int last = min(first + u_block, u_segmentTexels);
  int texel = o * u_segmentTexels + first;
  int c4 = first % inTexelsPerRow;   // o·T is a whole number of rows
  vec4 acc = validLanes(fetchTexel(X, texel), c4);
  for (int j = first + 1; j < last; j++) {
    texel++;
    c4 = c4 + 1 == inTexelsPerRow ? 0 : c4 + 1;
    acc = combine(acc, validLanes(fetchTexel(X, texel), c4));
  }
  return foldLanes(acc) * u_scale;
}

vec4 kernel(int t) {
  int outTexelsPerRow = (u_outChannels + 3) / 4;
  int row = t / outTexelsPerRow;
  int c4 = t - row * outTexelsPerRow;
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int channel = 4 * c4 + lane;
    if (channel < u_outChannels) v[lane] = reduceElement(row * u_outChannels + channel);
  }
  return v;
}
