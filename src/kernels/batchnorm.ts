/**
 * Inference batch normalisation (shaders/batchnorm.glsl) and folding it into a preceding convolution
 * or dense layer. CPU references: batchnorm.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { add, mul, neg, sqrt, addScalar, rdivScalar, sub } from './elementwise.js';

/** Per-channel statistics and affine parameters, each a [C] tensor. */
export interface BatchNormParams {
  mean: Tensor;
  variance: Tensor;
  /** γ; 1 when omitted. */
  scale?: Tensor;
  /** β; 0 when omitted. */
  offset?: Tensor;
  /** Added to the variance before the square root (Keras' default is 1e-3, PyTorch's 1e-5). */
  epsilon: number;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Checks every parameter is a [C] tensor on `runtime`'s context and epsilon is usable. */
function checkParams(bn: BatchNormParams, channels: number, op: string, against: string): void {
  if (!bn || !bn.mean || !bn.variance) throw new ShapeError(`${op}: mean and variance are required`);
  if (!(typeof bn.epsilon === 'number' && Number.isFinite(bn.epsilon) && bn.epsilon >= 0)) {
    throw new ShapeError(`${op}: epsilon must be a finite number ≥ 0, got ${String(bn.epsilon)}`);
  }
  const entries: [string, Tensor | undefined][] = [['mean', bn.mean], ['variance', bn.variance], ['scale', bn.scale], ['offset', bn.offset]];
  for (const [name, t] of entries) {
    if (!t) continue;
    if (t.rank !== 1 || t.shape[0] !== channels) {
      throw new ShapeError(`${op}: ${name} must have shape [${channels}] (the channels of ${against}), got ${fmt(t.shape)}`);
    }
  }
}

/** (x − mean) · scale / sqrt(variance + ε) + offset over the last dimension of x (NHWC: channels). */
export function batchNorm(x: Tensor, bn: BatchNormParams): Tensor {
  const channels = x.geometry.channels;
  checkParams(bn, channels, 'batchNorm', `input ${fmt(x.shape)}`);
  const inputs: Record<string, Tensor> = { X: x, Mean: bn.mean, Variance: bn.variance };
  if (bn.scale) inputs.Scale = bn.scale;
  if (bn.offset) inputs.Offset = bn.offset;
  for (const t of Object.values(inputs)) {
    if (t.runtime !== x.runtime) throw new NbfError('batchNorm: the tensors live on different contexts');
  }
  return x.runtime.run({
    kernel: 'batchnorm',
    defines: { HAS_SCALE: bn.scale !== undefined, HAS_OFFSET: bn.offset !== undefined },
    inputs,
    uniforms: { u_channels: channels, u_epsilon: bn.epsilon },
    outShape: x.shape,
  });
}

/**
 * Folds a batch norm that follows a conv (or dense) layer into that layer's weights and bias:
 *   factor = scale / sqrt(variance + ε),  weights' = weights · factor (per output channel = last dim),
 *   bias' = (bias − mean) · factor + offset.
 * Works for HWIO conv filters [KH, KW, Cin, C] (grouped and depthwise included) and dense [K, C]
 * weights alike. Runs on the GPU with the elementwise kernels (float32); `bias` may be omitted (0).
 */
export function foldBatchNorm(weights: Tensor, bias: Tensor | null | undefined, bn: BatchNormParams): { weights: Tensor; bias: Tensor } {
  const channels = weights.geometry.channels;
  if (weights.rank < 1) throw new ShapeError(`foldBatchNorm: weights must have the output channels as last dim, got a scalar`);
  checkParams(bn, channels, 'foldBatchNorm', `weights ${fmt(weights.shape)}`);
  if (bias && (bias.rank !== 1 || bias.shape[0] !== channels)) {
    throw new ShapeError(`foldBatchNorm: bias must have shape [${channels}] (the last dim of weights ${fmt(weights.shape)}), got ${fmt(bias.shape)}`);
  }
  const rt = weights.runtime;
  return rt.scope(() => {
    const inverseStd = rdivScalar(sqrt(addScalar(bn.variance, bn.epsilon)), 1);
    const factor = bn.scale ? mul(bn.scale, inverseStd) : inverseStd;
    const centred = bias ? sub(bias, bn.mean) : neg(bn.mean);
    const shifted = mul(centred, factor);
    return {
      weights: mul(weights, factor),
      bias: bn.offset ? add(shifted, bn.offset) : shifted,
    };
  });
}
