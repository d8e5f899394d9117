// batchnorm — inference batch normalisation over the last (channel) dimension:
//   out[..., c] = (X[..., c] − mean[c]) · scale[c] / sqrt(variance[c] + ε) + offset[c]
// (scale = 1 without HAS_SCALE, offset = 0 without HAS_OFFSET).
// Inputs: X [..., C] channel-packed (NHWC activations: row = pixel); Mean, Variance, Scale, Offset [C]
// (one row of C4 texels, so texel c4 of each holds channels 4·c4 … 4·c4+3). Output: X's shape.
// One fragment normalises one texel: 4 channels of one row. 1/sqrt rather than inversesqrt, whose
// precision GLSL ES leaves loose.
uniform sampler2D X;
uniform sampler2D Mean;
uniform sampler2D Variance;
#if HAS_SCALE
uniform sampler2D Scale;
#endif
#if HAS_OFFSET
uniform sampler2D Offset;
#endif
uniform int u_channels;  // C
uniform float u_epsilon;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int c4 = t % texelsPerRow;
  vec4 factor = 1.0 / sqrt(fetchTexel(Variance, c4) + u_epsilon);
#if HAS_SCALE
  factor *= fetchTexel(Scale, c4);
#endif
  vec4 y = (fetchTexel(X, t) - fetchTexel(Mean, c4)) * factor;
#if HAS_OFFSET
  y += fetchTexel(Offset, c4);
#endif
  // Padding lanes: variance 0 + ε = 0 would give 0·inf = NaN there; keepLanes selects 0.
  return keepLanes(y, c4, u_channels);
}
