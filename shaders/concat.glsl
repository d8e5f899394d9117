// concat — joins INPUTS (1..4) tensors X0..X3 along one axis: along that axis, output positions
// [offset_k, offset_k + size_k) come from input k.
// Inputs Xk and output: channel-packed, equal in every dim but the axis. One fragment computes one
// output texel (4 channels of one output row).
//   LAST_AXIS 0: the output is viewed as [outer, A, inner, C] (A = the concat axis): a texel's row
//                gives (o, a, i); it copies the whole texel (o, a − offset_k, i, c4) of input k.
//   LAST_AXIS 1: the channels come from different inputs, so each lane fetches its element
//                (row, c − offset_k) of the input whose channel range holds c.
//                TEXEL_ALIGNED 1 (every offset a multiple of 4): each output texel lies inside one
//                input, so it is that input's texel c4 − offset_k/4 (its padding lanes are already 0).
uniform sampler2D X0;
#if INPUTS > 1
uniform sampler2D X1;
#endif
#if INPUTS > 2
uniform sampler2D X2;
#endif
#if INPUTS > 3
uniform sampler2D X3;
#endif
uniform int u_channels;         // C of the output
uniform int u_axisSize;         // A, the output's size along the axis (LAST_AXIS 0)
uniform int u_inner;            // rows per step along the axis (product of dims between axis and last)
uniform int u_offsets[4];       // start of input k along the axis
uniform int u_texelsPerRow[4];  // ceil(C_k / 4) of input k (LAST_AXIS 1)

// Sampler arrays take only constant indices in GLSL ES 3.00, hence the branch chain.
vec4 fetchFrom(int k, int t) {
#if INPUTS > 3
  if (k == 3) return fetchTexel(X3, t);
#endif
#if INPUTS > 2
  if (k == 2) return fetchTexel(X2, t);
#endif
#if INPUTS > 1
  if (k == 1) return fetchTexel(X1, t);
#endif
  return fetchTexel(X0, t);
}

// The input whose range along the axis holds position a.
int inputAt(int a) {
  int k = 0;
  for (int j = 1; j < INPUTS; j++) {
    if (a >= u_offsets[j]) k = j;
  }
  return k;
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
#if LAST_AXIS && TEXEL_ALIGNED
  int k = inputAt(4 * c4);
  return fetchFrom(k, row * u_texelsPerRow[k] + c4 - (u_offsets[k] >> 2));
#elif LAST_AXIS
  vec4 v = vec4(0.0);
  for (int lane = 0; lane < 4; lane++) {
    int channel = 4 * c4 + lane;
    if (channel < u_channels) {
      int k = inputAt(channel);
      int local = channel - u_offsets[k];
      vec4 texel = fetchFrom(k, row * u_texelsPerRow[k] + (local >> 2));
      v[lane] = texel[local & 3];
    }
  }
  return v;
#else
  int i = row % u_inner;
  int q = row / u_inner;
  int a = q % u_axisSize;
  int o = q / u_axisSize;
  int k = inputAt(a);
  int sizeK = (k + 1 < INPUTS ? u_offsets[k + 1] : u_axisSize) - u_offsets[k];
  int inRow = (o * sizeK + (a - u_offsets[k])) * u_inner + i;
  return fetchFrom(k, inRow * texelsPerRow + c4);
#endif
}
