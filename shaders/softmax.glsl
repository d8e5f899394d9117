// softmax — numerically stable softmax (LOG 0) or log-softmax (LOG 1) along one axis of length L:
//   m = max_j x_j,  s = Σ_j exp(x_j − m),  softmax_i = exp(x_i − m) / s,  logSoftmax_i = x_i − m − log s
// Input X and output: the same shape, channel-packed. One fragment computes one output texel; it
// reads the whole axis twice (max, then the sum), so src/kernels/softmax.ts uses this fused kernel
// only for short axes (SOFTMAX_FUSED_MAX_CHANNELS / _OTHER) and composes tree reductions beyond.
//   AXIS_LAST 1: the axis is the channel axis: the row's C4 texels, lanes past C left out by selects
//                (an exp(0 − m) there could overflow). Reads 2·C4 + 1 texels.
//   AXIS_LAST 0: X viewed as [O, L, I, C]: the texel's 4 lanes are 4 independent softmaxes, each over
//                L texels I·C4 apart. Reads 2·L + 1 texels.
// Lanes past C are written as 0.
uniform sampler2D X;
uniform int u_channels;  // C
uniform int u_axisSize;  // L (AXIS_LAST 0)
uniform int u_inner;     // I: rows per step along the axis (AXIS_LAST 0)

vec4 finish(vec4 x, vec4 m, vec4 s) {
#if LOG
  return x - m - log(s);
#else
  return exp(x - m) / s;
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
#if AXIS_LAST
  int base = row * texelsPerRow;
  // Lane 0 of every texel is a real channel, so it stands in for the padding lanes in the max.
  float m = fetchTexel(X, base).x;
  for (int j = 0; j < texelsPerRow; j++) {
    vec4 v = fetchTexel(X, base + j);
    v = mix(v.xxxx, v, lessThan(ivec4(0, 1, 2, 3), ivec4(u_channels - 4 * j)));
    m = max(m, max(max(v.x, v.y), max(v.z, v.w)));
  }
  vec4 s = vec4(0.0);
  for (int j = 0; j < texelsPerRow; j++) {
    vec4 e = exp(fetchTexel(X, base + j) - m);
    s += mix(vec4(0.0), e, lessThan(ivec4(0, 1, 2, 3), ivec4(u_channels - 4 * j)));
  }
  float total = (s.x + s.y) + (s.z + s.w);
  return keepLanes(finish(fetchTexel(X, t), vec4(m), vec4(total)), c4, u_channels);
#else
  int i = row % u_inner;
  int q = row / u_inner;
  int o = (q / u_axisSize);
  int stride = u_inner * texelsPerRow;
  int first = (o * u_axisSize * u_inner + i) * texelsPerRow + c4;
  vec4 m = fetchTexel(X, first);
  for (int j = 1; j < u_axisSize; j++) m = max(m, fetchTexel(X, first + j * stride));
  vec4 s = vec4(0.0);
  for (int j = 0; j < u_axisSize; j++) s += exp(fetchTexel(X, first + j * stride) - m);
  return keepLanes(finish(fetchTexel(X, t), m, s), c4, u_channels);
#endif
}
