/**
 * Batch normalisation in training mode: normalises with the batch's own statistics (over every axis
 * but the last, i.e. N·H·W for NHWC), and updates running averages for inference.
 *
 *   μ = mean_rows(x),  σ² = mean_rows((x − μ)²)  (biased, as used to normalise)
 *   y = (x − μ) · γ / √(σ² + ε) + β
 *   running μ ← m·running μ + (1 − m)·μ,  running σ² ← m·running σ² + (1 − m)·σ²·n/(n − 1)
 *   (m = momentum, Keras convention: 0.99 keeps 99% of the old value; the running variance is the
 *   unbiased estimate, as TensorFlow and PyTorch keep it)
 *
 * Dedicated kernels, one recorded op with a hand-written backward (docs/kernels/batchnorm.md):
 *   forward   μ, σ² by two blocked tree reductions over the rows (src/kernels/batchnorm-training.ts:
 *             mean, then Σ(x − μ)², no E[x²] − μ² cancellation), then ONE normalisation pass
 *             (shaders/batchnorm.glsl, the inference kernel fed the batch statistics)
 *   backward  Σdy and Σdy·x̂ in one stacked tree reduction, then ONE pass for
 *             dx = γ·rstd·(dy − Σdy/M − x̂·Σ(dy·x̂)/M) (the paths through μ and σ² included),
 *             dγ = Σdy·x̂, dβ = Σdy  (src/autodiff/kernels/batchnorm-backward.ts)
 * The tape saves only μ and σ² ([C] each; x is the op's input); rstd and x̂ are recomputed per texel.
 * The running averages are plain kernels (not recorded) that never leave the GPU.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { batchNorm } from '../../kernels/batchnorm.js';
import { batchNormRunningUpdate, batchNormStats } from '../../kernels/batchnorm-training.js';
import { batchNormBackwardInput, batchNormBackwardSums, batchNormSumsRow, type BatchNormSaved } from '../kernels/batchnorm-backward.js';
import { recordOp } from '../tape.js';
import { add, mul, sub, unaryOp } from './elementwise.js';

/** Running statistics, replaced in place (new tensors, kept out of scopes; the old ones are freed). */
export interface RunningStats {
  mean: Tensor;
  variance: Tensor;
}

export interface BatchNormTrainingOptions {
  /** γ [C]; 1 when omitted. */
  scale?: Tensor;
  /** β [C]; 0 when omitted. */
  offset?: Tensor;
  epsilon: number;
  /** Running averages to update (skipped when omitted). */
  running?: RunningStats;
  /** Weight of the old running value, default 0.99. */
  momentum?: number;
}

export function batchNormTraining(x: Tensor, options: BatchNormTrainingOptions): Tensor {
  const { scale, offset, epsilon, running } = options;
  const momentum = options.momentum ?? 0.99;
  const channels = x.geometry.channels;
  const rows = x.geometry.rows;
  for (const [name, t] of [['scale', scale], ['offset', offset], ['running mean', running?.mean], ['running variance', running?.variance]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== channels)) {
      throw new ShapeError(`batchNormTraining: ${name} must have shape [${channels}] (the channels of x [${x.shape.join(', ')}]), got [${t.shape.join(', ')}]`);
    }
  }
  if (!(epsilon >= 0)) throw new NbfError(`batchNormTraining: epsilon must be ≥ 0, got ${epsilon}`);
  if (!(momentum >= 0 && momentum <= 1)) throw new NbfError(`batchNormTraining: momentum must be in [0, 1], got ${momentum}`);
  if (rows < 2 && running) throw new ShapeError(`batchNormTraining: x [${x.shape.join(', ')}] has one row per channel; batch statistics need at least 2`);

  const rt = x.runtime;
  const { mean, variance } = batchNormStats(x);
  let y: Tensor;
  try {
    y = batchNorm(x, { mean, variance, scale, offset, epsilon });
    if (running) {
      const newMean = rt.keep(batchNormRunningUpdate(running.mean, mean, momentum, 1));
      const newVariance = rt.keep(batchNormRunningUpdate(running.variance, variance, momentum, rows / (rows - 1)));
      running.mean.dispose();
      running.variance.dispose();
      running.mean = newMean;
      running.variance = newVariance;
    }
  } catch (e) {
    mean.dispose();
    variance.dispose();
    throw e;
  }

  const saved: BatchNormSaved = { mean, variance, epsilon };
  const inputs = [x, ...(scale ? [scale] : []), ...(offset ? [offset] : [])];
  const offsetIndex = scale ? 2 : 1;
  return recordOp('batchNormTraining', inputs, y, (dy, needsGrad) => {
    const sums = batchNormBackwardSums(dy, x, saved);
    const grads: (Tensor | null)[] = [needsGrad[0] ? batchNormBackwardInput(dy, x, saved, sums, scale) : null];
    if (scale) grads.push(needsGrad[1] ? batchNormSumsRow(sums, 1) : null);
    if (offset) grads.push(needsGrad[offsetIndex] ? batchNormSumsRow(sums, 0) : null);
    return grads;
  }, [mean, variance]);
}

/**
 * Inference-mode batch norm with fixed statistics, differentiable (for fine-tuning with frozen
 * statistics): y = (x − mean) · γ / √(variance + ε) + β. Gradients flow to x, γ and β (and to mean
 * and variance if they are parameters). Composed of differentiable elementwise ops.
 */
export function batchNormFrozen(x: Tensor, bn: { mean: Tensor; variance: Tensor; scale?: Tensor; offset?: Tensor; epsilon: number }): Tensor {
  const channels = x.geometry.channels;
  for (const [name, t] of [['mean', bn.mean], ['variance', bn.variance], ['scale', bn.scale], ['offset', bn.offset]] as const) {
    if (t && (t.rank !== 1 || t.shape[0] !== channels)) {
      throw new ShapeError(`batchNormFrozen: ${name} must have shape [${channels}] (the channels of x [${x.shape.join(', ')}]), got [${t.shape.join(', ')}]`);
    }
  }
  const invStd = unaryOp('powScalar', unaryOp('addScalar', bn.variance, bn.epsilon), -0.5);
  const factor = bn.scale ? mul(invStd, bn.scale) : invStd;
  const y = mul(sub(x, bn.mean), factor);
  return bn.offset ? add(y, bn.offset) : y;
}
