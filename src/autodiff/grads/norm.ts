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
 * The forward pass is a composition of differentiable ops (sumTo, broadcasting elementwise ops), so
 * the tape derives the exact backward, including the paths through μ and σ²:
 *   dx = γ/√(σ²+ε) · (dy − mean(dy) − x̂·mean(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy.
 * The running averages are plain kernels (not recorded) that never leave the GPU.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { binary, unary } from '../../kernels/elementwise.js';
import { add, mul, mulScalar, square, sub, sumTo, unaryOp } from './elementwise.js';

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

  const mean = mulScalar(sumTo(x, [channels]), 1 / rows);
  const centered = sub(x, mean);
  const variance = mulScalar(sumTo(square(centered), [channels]), 1 / rows);
  const invStd = unaryOp('powScalar', unaryOp('addScalar', variance, epsilon), -0.5);
  let y = mul(centered, scale ? mul(invStd, scale) : invStd);
  if (offset) y = add(y, offset);

  if (running) {
    const rt = x.runtime;
    const blend = (old: Tensor, batch: Tensor, correction: number) =>
      rt.keep(binary('add', unary('mulScalar', old, momentum), unary('mulScalar', batch, (1 - momentum) * correction)));
    const newMean = rt.scope(() => blend(running.mean, mean, 1));
    const newVariance = rt.scope(() => blend(running.variance, variance, rows / (rows - 1)));
    running.mean.dispose();
    running.variance.dispose();
    running.mean = newMean;
    running.variance = newVariance;
  }
  return y;
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
