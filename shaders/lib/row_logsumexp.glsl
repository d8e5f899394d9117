// Shared helper (#include "lib/row_logsumexp"): the pieces of a numerically stable log-sum-exp over
// one channel-packed row of `source` (texels first … first + texelsPerRow − 1, `channels` valid
// lanes): m = max_i x_i and s = Σ_i exp(x_i − m), so log Σ exp x = m + log s. The cross-entropy
// loss and its backward kernel share it so that both see the same softmax.
void rowMaxSumExp(sampler2D source, int first, int texelsPerRow, int channels, out float m, out float s) {
  m = -3.0e38;
  for (int i = 0; i < texelsPerRow; i++) {
    vec4 z = mix(vec4(-3.0e38), fetchTexel(source, first + i), laneMask(i, channels));
    m = max(m, max(max(z.x, z.y), max(z.z, z.w)));
  }
  s = 0.0;
  for (int i = 0; i < texelsPerRow; i++) {
    s += dot(laneMask(i, channels), exp(fetchTexel(source, first + i) - m));
  }
}
