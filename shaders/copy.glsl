// copy — out[t] = X[t], texel by texel.
// Input X and output: the same shape, channel-packed. One fragment copies one texel.
uniform sampler2D X;

vec4 kernel(int t) {
  return fetchTexel(X, t);
}
