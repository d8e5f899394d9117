/** Float64 CPU references of batch normalisation and batch-norm folding (src/kernels/batchnorm.ts). */

export interface BatchNormRefParams {
  mean: ArrayLike<number>;
  variance: ArrayLike<number>;
  scale?: ArrayLike<number>;
  offset?: ArrayLike<number>;
  epsilon: number;
}

/** (x − mean) · scale / sqrt(variance + ε) + offset over the last dimension (C channels). */
export function batchNormRef(x: ArrayLike<number>, channels: number, bn: BatchNormRefParams): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    const factor = (bn.scale ? bn.scale[c] : 1) / Math.sqrt(bn.variance[c] + bn.epsilon);
    out[i] = (x[i] - bn.mean[c]) * factor + (bn.offset ? bn.offset[c] : 0);
  }
  return out;
}

/** Folded weights (last dim = C) and bias of a layer followed by the batch norm. */
export function foldBatchNormRef(
  weights: ArrayLike<number>,
  bias: ArrayLike<number> | undefined,
  channels: number,
  bn: BatchNormRefParams,
): { weights: Float64Array; bias: Float64Array } {
  const factor = new Float64Array(channels);
  const foldedBias = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    factor[c] = (bn.scale ? bn.scale[c] : 1) / Math.sqrt(bn.variance[c] + bn.epsilon);
    foldedBias[c] = ((bias ? bias[c] : 0) - bn.mean[c]) * factor[c] + (bn.offset ? bn.offset[c] : 0);
  }
  const foldedWeights = new Float64Array(weights.length);
  for (let i = 0; i < weights.length; i++) foldedWeights[i] = weights[i] * factor[i % channels];
  return { weights: foldedWeights, bias: foldedBias };
}
