// argmax — one pass of the index of the largest element along one axis, as a float (exact below
// 2^24); ties go to the first index. Long axes take a tree of passes: a pass scans at most B = u_block
// texels per output. When more passes follow, the pass runs twice, writing the winners' indices
// (OUTPUT_VALUES 0) and their values (OUTPUT_VALUES 1), so the next pass (LATER_PASS 1) compares
// partial winners in X and takes their indices from IDX. (Two draws rather than two render targets:
// headless-gl 9.0.0-rc.10 rejects drawBuffers with more than one buffer.)
// Strict '>' while scanning in axis order keeps the earliest maximum, within a pass and across them.
//   AXIS_LAST 1: X [rows, C] (C = the axis) → out [rows, P] partials (P = ceil(C4 / B)) or, when
//                P = 1, any shape of `rows` elements. Output element e is partial (e div P, e mod P):
//                it scans texels [p·B, min(p·B + B, C4)) of row e div P lane by lane. One fragment
//                computes one output texel (4 elements).
//   AXIS_LAST 0: X viewed as [O, L, I, C] → out [O, P, I, C] (P = ceil(L / B)): one fragment computes
//                one output texel, scanning ≤ B whole texels I·C4 apart, 4 channels at a time.
// Lanes past the output's channel count are written as 0.
uniform sampler2D X;
#if LATER_PASS
uniform sampler2D IDX;      // indices of the partial winners in X
#endif
uniform int u_inChannels;   // C of X
uniform int u_outChannels;  // last dim of the output
uniform int u_axisSize;     // L (AXIS_LAST 0)
uniform int u_inner;        // I (AXIS_LAST 0)
uniform int u_partials;     // P
uniform int u_block;        // B

#if AXIS_LAST
// Winner (value, index) of partial p of row `row`.
vec2 scanRow(int row, int p) {
  int texelsPerRow = (u_inChannels + 3) / 4;
  int first = p * u_block;
  int last = min(first + u_block, texelsPerRow);
  int base = row * texelsPerRow;
  float best = fetchTexel(X, base + first).x;
#if LATER_PASS
  float bestIndex = fetchTexel(IDX, base + first).x;
#else
  float bestIndex = float(4 * first);
#endif
  for (int j = first; j < last; j++) {
    vec4 v = fetchTexel(X, base + j);
#if LATER_PASS
    vec4 index = fetchTexel(IDX, base + j);
#else
    vec4 index = vec4(4 * j) + vec4(0.0, 1.0, 2.0, 3.0);
#endif
    for (int lane = 0; lane < 4; lane++) {
      if (4 * j + lane < u_inChannels && v[lane] > best) {
        best = v[lane];
        bestIndex = index[lane];
      }
    }
  }
  return vec2(best, bestIndex);
}
#endif

vec4 kernel(int t) {
  vec4 value = vec4(0.0);
  vec4 index = vec4(0.0);
  int texelsPerRow = (u_outChannels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
#if AXIS_LAST
  for (int lane = 0; lane < 4; lane++) {
    int channel = 4 * c4 + lane;
    if (channel < u_outChannels) {
      int e = row * u_outChannels + channel;
      int inRow = e / u_partials;
      vec2 winner = scanRow(inRow, e - inRow * u_partials);
      value[lane] = winner.x;
      index[lane] = winner.y;
    }
  }
#else
  int i = row % u_inner;
  int q = row / u_inner;
  int p = q % u_partials;
  int o = q / u_partials;
  int first = p * u_block;
  int last = min(first + u_block, u_axisSize);
  int stride = u_inner * texelsPerRow;
  int texel = ((o * u_axisSize + first) * u_inner + i) * texelsPerRow + c4;
  value = fetchTexel(X, texel);
#if LATER_PASS
  index = fetchTexel(IDX, texel);
#else
  index = vec4(float(first));
#endif
  for (int j = first + 1; j < last; j++) {
    texel += stride;
    vec4 v = fetchTexel(X, texel);
    bvec4 better = greaterThan(v, value);
    value = mix(value, v, better);
#if LATER_PASS
    index = mix(index, fetchTexel(IDX, texel), better);
#else
    index = mix(index, vec4(float(j)), better);
#endif
  }
  value = keepLanes(value, c4, u_outChannels);
  index = keepLanes(index, c4, u_outChannels);
#endif
#if OUTPUT_VALUES
  return value;
#else
  return index;
#endif
}
