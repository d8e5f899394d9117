// batchnorm_running — update of a batch norm running average (Keras momentum convention):
//   out[c] = m · Old[c] + w · Batch[c],  w = (1 − m) · k
// (m = u_momentum; k = 1 for the mean, n/(n − 1) for the variance, which makes the running variance
// the unbiased estimate; w = u_batchWeight is computed in float64 on the CPU).
// Inputs Old, Batch [C]; output [C]; all one row of C4 texels. One fragment computes one output
// texel (4 channels); padding lanes are 0 in both inputs and stay 0.
uniform sampler2D Old;
uniform sampler2D Batch;
uniform float u_momentum;
uniform float u_batchWeight;

vec4 kernel(int t) {
  return u_momentum * fetchTexel(Old, t) + u_batchWeight * fetchTexel(Batch, t);
}
