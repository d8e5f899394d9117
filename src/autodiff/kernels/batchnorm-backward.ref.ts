/**
 * Float64 CPU reference of training-mode batch norm's backward (batchnorm-backward.ts): x [rows, C]
 * row-major, dy the gradient of y = x̂ · γ + β with x̂ = (x − μ) / sqrt(σ² + ε) over the batch's own
 * μ and biased σ².
 */
import { batchNormStatsRef } from '../../kernels/batchnorm-training.ref.js';

export interface BatchNormBackwardRef {
  /** Σdy per channel (= dβ). */
  sumDy: Float64Array;
  /** Σdy·x̂ per channel (= dγ). */
  sumDyXhat: Float64Array;
  dx: Float64Array;
}

export function batchNormBackwardRef(dy: ArrayLike<number>, x: ArrayLike<number>, channels: number, epsilon: number, scale?: ArrayLike<number>): BatchNormBackwardRef {
  const rows = x.length / channels;
  const { mean, variance } = batchNormStatsRef(x, channels);
  const rstd = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + epsilon));
  const xhat = Float64Array.from(x, (v, i) => (v - mean[i % channels]) * rstd[i % channels]);
  const sumDy = new Float64Array(channels);
  const sumDyXhat = new Float64Array(channels);
  for (let i = 0; i < x.length; i++) {
    sumDy[i % channels] += dy[i];
    sumDyXhat[i % channels] += dy[i] * xhat[i];
  }
  const dx = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const c = i % channels;
    dx[i] = (scale ? scale[c] : 1) * rstd[c] * (dy[i] - sumDy[c] / rows - xhat[i] * (sumDyXhat[c] / rows));
  }
  return { sumDy, sumDyXhat, dx };
}
