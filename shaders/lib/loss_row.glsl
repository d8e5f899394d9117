// Shared helper (#include "lib/loss_row", after lib/divmod): what the loss kernels (loss_rows.glsl
// and its backward loss_backward.glsl) read per row, so the forward and the backward read it identically.
// Declares P (predictions / logits [..., C]), T (targets of P's shape, or CE labels by flat index),
// W (WEIGHTED: one weight per example, by flat index) and their sizes.
uniform sampler2D P;
uniform sampler2D T;
#if WEIGHTED
uniform sampler2D W;
uniform int u_weightChannels;   // last dim of W (elements are read by flat index)
uniform int u_rowsPerExample;
#endif
uniform int u_channels;         // C of P
uniform int u_targetChannels;   // last dim of T
uniform float u_beta;           // smooth L1 threshold

// Element `index` of a tensor with `channels` per row, read by flat index (lib/divmod's decode:
// llvmpipe divides integers one lane at a time).
float flatElement(sampler2D s, int index, int channels) {
  ivec2 rowAndChannel = divmod(index, channels);
  return fetchElement(s, rowAndChannel.x, rowAndChannel.y, (channels + 3) / 4);
}

// The example weight of row `row` (1 without WEIGHTED).
float rowWeight(int row) {
#if WEIGHTED
  return flatElement(W, divmod(row, u_rowsPerExample).x, u_weightChannels);
#else
  return 1.0;
#endif
}

// Softmax cross-entropy pieces of row `row` (its logits are texels first … first + texelsPerRow − 1
// of P): the label k = round(T[row]), m = max_c z_c and s = Σ_c exp(z_c − m), so that
// log Σ exp z = m + log s (numerically stable). False when the label is outside [0, C): the row is
// ignored.
bool crossEntropyRow(int row, int first, int texelsPerRow, out int k, out float m, out float s) {
  k = int(floor(flatElement(T, row, u_targetChannels) + 0.5));
  m = -3.0e38;
  s = 0.0;
  if (k < 0 || k >= u_channels) return false;
  for (int i = 0; i < texelsPerRow; i++) {
    vec4 z = mix(vec4(-3.0e38), fetchTexel(P, first + i), laneMask(i, u_channels));
    m = max(m, max(max(z.x, z.y), max(z.z, z.w)));
  }
  for (int i = 0; i < texelsPerRow; i++) {
    s += dot(laneMask(i, u_channels), exp(fetchTexel(P, first + i) - m));
  }
  return true;
}
