// copy — out[t] = X[t], texel by texel (also the float32 render-target probe at context creation).
// Input X and output: the same shape, channel-packed; padding lanes are copied as they are (zero).
// One fragment copies one texel.
uniform sampler2D X;

vec4 kernel(int t) {
  return fetchTexel(X, t);
}
