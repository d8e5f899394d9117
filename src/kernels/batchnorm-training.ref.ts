/**
 * Float64 CPU references of training-mode batch norm (src/kernels/batchnorm-training.ts and the
 * normalisation it feeds): batch statistics over the rows of [rows, C], the normalised output, and
 * the running-average update.
 */

/** Per-channel mean and biased variance over the rows of x (row-major [rows, C]), two-pass. */
export function batchNormStatsRef(x: ArrayLike<number>, channels: number): { mean: Float64Array; variance: Float64Array } {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) mean[i % channels] += x[i];
  for (let c = 0; c < channels; c++) mean[c] /= rows;
  for (let i = 0; i < x.length; i++) variance[i % channels] += (x[i] - mean[i % channels]) ** 2;
  for (let c = 0; c < channels; c++) variance[c] /= rows;
  return { mean, variance };
}

/** y = (x − μ) · γ / sqrt(σ² + ε) + β with the batch's own μ, σ² (γ = 1, β = 0 when omitted). */
export function batchNormTrainingRef(
  x: ArrayLike<number>,
  channels: number,
  options: { scale?: ArrayLike<number>; offset?: ArrayLike<number>; epsilon: number },
): Float64Array {
  const { mean, variance } = batchNormStatsRef(x, channels);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    out[i] = ((x[i] - mean[c]) / Math.sqrt(variance[c] + options.epsilon)) * (options.scale ? options.scale[c] : 1) + (options.offset ? options.offset[c] : 0);
  }
  return out;
}

/** m · old + (1 − m) · k · batch, elementwise. */
export function batchNormRunningUpdateRef(old: ArrayLike<number>, batch: ArrayLike<number>, momentum: number, correction = 1): Float64Array {
  return Float64Array.from(old, (o, i) => momentum * o + (1 - momentum) * correction * batch[i]);
}
