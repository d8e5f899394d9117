/**
 * Loss kernels: per-row terms (shaders/loss_rows.glsl), summed on the GPU (reduce_to_shape) and
 * turned into a weighted mean (shaders/loss_reduce.glsl); and the gradient with respect to the
 * predictions (shaders/loss_backward.glsl). Differentiable forms: src/autodiff/grads/losses.ts.
 * CPU reference: losses.ref.ts.
 *
 * Every loss is a weighted mean Σ_rows w·ℓ_row / Σ_rows w·count_row, where w is the example's weight
 * (1 without weights; 0 masks an example out, e.g. NBF's parameter loss on examples without 3D
 * labels). A loss whose weights are all 0 is 0, not NaN.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { reduceToShape } from '../autodiff/kernels/reduce-to-shape.js';
import { FLOAT_INDEX_LIMIT } from './float-index.js';

export const LOSS_KINDS = { l1: 0, l2: 1, smoothL1: 2, euclidean: 3, softmaxCrossEntropy: 4 } as const;
export type LossKind = keyof typeof LOSS_KINDS;

export interface LossOptions {
  /**
   * One weight per example (the first dimension of the predictions), any shape of that many values.
   * Each row's terms are scaled by its example's weight, and so is its share of the mean's
   * denominator.
   */
  weights?: Tensor;
  /** Smooth L1 threshold β: ½d²/β below it, |d| − ½β above (PyTorch's convention). Default 1. */
  beta?: number;
}

/** What the forward pass gives: the scalar loss and the (Σx, Σy) totals its backward needs. */
export interface LossForward {
  loss: Tensor;
  totals: Tensor;
}

interface LossPlan {
  defines: { LOSS: number; WEIGHTED: boolean; FLOAT_DIVMOD: boolean };
  inputs: Record<string, Tensor>;
  uniforms: Record<string, number>;
  rows: number;
}

function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function planLoss(kind: LossKind, pred: Tensor, target: Tensor, options: LossOptions): LossPlan {
  const code = LOSS_KINDS[kind];
  if (code === undefined) throw new NbfError(`unknown loss "${String(kind)}" (known: ${Object.keys(LOSS_KINDS).join(', ')})`);
  if (pred.runtime !== target.runtime) throw new NbfError(`${kind} loss: predictions and targets live on different contexts`);
  const { rows, channels } = pred.geometry;
  if (kind === 'softmaxCrossEntropy') {
    if (target.size !== rows) {
      throw new ShapeError(`softmaxCrossEntropy loss: logits ${describe(pred.shape)} have ${rows} rows but labels ${describe(target.shape)} hold ${target.size} values (one class index per row)`);
    }
  } else if (pred.rank !== target.rank || pred.shape.some((d, i) => d !== target.shape[i])) {
    throw new ShapeError(`${kind} loss: predictions ${describe(pred.shape)} and targets ${describe(target.shape)} differ in shape`);
  }
  const beta = options.beta ?? 1;
  if (kind === 'smoothL1' && !(beta > 0)) throw new NbfError(`smoothL1 loss: beta must be > 0, got ${beta}`);
  const inputs: Record<string, Tensor> = { P: pred, T: target };
  const uniforms: Record<string, number> = { u_channels: channels, u_targetChannels: target.geometry.channels, u_beta: beta };
  const w = options.weights;
  if (w) {
    if (pred.rank < 2) throw new ShapeError(`${kind} loss: per-example weights need predictions of rank ≥ 2 (examples first); got ${describe(pred.shape)}`);
    const examples = pred.shape[0];
    if (w.size !== examples) {
      throw new ShapeError(`${kind} loss: weights ${describe(w.shape)} hold ${w.size} values but predictions ${describe(pred.shape)} have ${examples} examples`);
    }
    inputs.W = w;
    uniforms.u_weightChannels = w.geometry.channels;
    uniforms.u_rowsPerExample = rows / examples;
  }
  // lib/divmod's float decode while every divided index (texels of P, elements of T) is exact in float32.
  const floatDivmod = Math.max(pred.geometry.texels, target.size) < FLOAT_INDEX_LIMIT;
  return { defines: { LOSS: code, WEIGHTED: !!w, FLOAT_DIVMOD: floatDivmod }, inputs, uniforms, rows };
}

/** The loss value (scalar []) and the totals its gradient needs; nothing is read back. */
export function lossForward(kind: LossKind, pred: Tensor, target: Tensor, options: LossOptions = {}): LossForward {
  const plan = planLoss(kind, pred, target, options);
  const rt = pred.runtime;
  const perRow = rt.run({ kernel: 'loss_rows', defines: plan.defines, inputs: plan.inputs, uniforms: plan.uniforms, outShape: [plan.rows, 2] });
  let totals: Tensor;
  try {
    totals = reduceToShape(perRow, [2]);
  } finally {
    perRow.dispose();
  }
  const loss = rt.run({ kernel: 'loss_reduce', inputs: { TOTALS: totals }, outShape: [] });
  return { loss, totals };
}

/** A loss value (scalar []). */
export function loss(kind: LossKind, pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const { loss: value, totals } = lossForward(kind, pred, target, options);
  totals.dispose();
  return value;
}

/** d loss / d pred, scaled by `dy` (a 1-element tensor: the gradient arriving at the loss). */
export function lossBackward(kind: LossKind, pred: Tensor, target: Tensor, totals: Tensor, dy: Tensor, options: LossOptions = {}): Tensor {
  const plan = planLoss(kind, pred, target, options);
  if (dy.size !== 1) throw new ShapeError(`${kind} loss backward: dy must hold one value, got ${describe(dy.shape)}`);
  if (totals.size !== 2) throw new ShapeError(`${kind} loss backward: totals must be [2], got ${describe(totals.shape)}`);
  return pred.runtime.run({
    kernel: 'loss_backward',
    defines: plan.defines,
    inputs: { ...plan.inputs, TOTALS: totals, DY: dy },
    uniforms: plan.uniforms,
    outShape: pred.shape,
  });
}
