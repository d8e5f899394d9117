/**
 * Differentiable losses (forward and backward kernels in src/kernels/losses.ts). Each returns a
 * scalar [] tensor. Gradients flow to the predictions; for L1, L2, smooth L1 and Euclidean also to the
 * targets (their negation), so a loss between two network outputs works. Labels and weights get none.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { lossBackward, lossForward, type LossKind, type LossOptions } from '../../kernels/losses.js';
import { recordOp } from '../tape.js';
import { unary } from '../../kernels/elementwise.js';
import { add, mulScalar, square, sum } from './elementwise.js';
import { NbfError } from '../../runtime/errors.js';
import { quadraticPenalty as quadraticPenaltyKernel, quadraticPenaltyBackward, type QuadraticPenaltyTerms } from '../../kernels/quadratic-penalty.js';

export type { LossOptions } from '../../kernels/losses.js';

function differentiableLoss(kind: LossKind, pred: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const { loss, totals } = lossForward(kind, pred, target, options);
  const inputs = options.weights ? [pred, target, options.weights] : [pred, target];
  return recordOp(`${kind} loss`, inputs, loss, (dy, needs) => {
    const dPred = lossBackward(kind, pred, target, totals, dy, options);
    // A constant target (a refinement's landmarks, a batch's labels) needs no gradient: no draw for it.
    const dTarget = kind === 'softmaxCrossEntropy' || !needs[1] ? null : unary('neg', dPred);
    return options.weights ? [dPred, dTarget, null] : [dPred, dTarget];
  }, [totals]);
}

/** Mean absolute error (weighted mean over elements of weighted examples). */
export const l1Loss = (pred: Tensor, target: Tensor, options?: LossOptions) => differentiableLoss('l1', pred, target, options);
/** Mean squared error. */
export const l2Loss = (pred: Tensor, target: Tensor, options?: LossOptions) => differentiableLoss('l2', pred, target, options);
export const meanSquaredError = l2Loss;
/** Smooth L1 (Huber with threshold β, PyTorch convention). */
export const smoothL1Loss = (pred: Tensor, target: Tensor, options?: LossOptions) => differentiableLoss('smoothL1', pred, target, options);
/**
 * Mean over rows of the Euclidean distance between rows of `pred` and `target` ([..., D]): NBF's 2D
 * joint loss on [N, J, 2] is the mean per-joint distance.
 */
export const euclideanLoss = (pred: Tensor, target: Tensor, options?: LossOptions) => differentiableLoss('euclidean', pred, target, options);
/**
 * Mean softmax cross-entropy of `logits` [..., K] against integer class labels stored as floats, one
 * per row (any shape with that many values). Labels outside [0, K) are ignored (neither loss nor
 * count), e.g. a "void" class.
 */
export const softmaxCrossEntropy = (logits: Tensor, labels: Tensor, options?: LossOptions) => differentiableLoss('softmaxCrossEntropy', logits, labels, options);

/** λ·½Σ_params Σ w²: L2 regularisation as a loss term (NBF: λ = 1e-4). */
export function l2Regularization(params: readonly Tensor[] | Readonly<Record<string, Tensor>>, lambda: number): Tensor {
  const list = Array.isArray(params) ? params : Object.values(params);
  if (list.length === 0) throw new NbfError('l2Regularization: no parameters given');
  let total: Tensor | undefined;
  for (const w of list) {
    const s = sum(square(w));
    total = total ? add(total, s) : s;
  }
  return mulScalar(total!, 0.5 * lambda);
}

/**
 * a·Σ x² + b·Σ (x − s)² + c·Σ (squared excess of x past [lo, hi]) in one draw, and its gradient in one
 * (src/kernels/quadratic-penalty.ts): a refinement's priors on a parameter. The gradient flows to x
 * only; s, lo and hi are constants.
 */
export function quadraticPenalty(x: Tensor, terms: QuadraticPenaltyTerms): Tensor {
  const value = quadraticPenaltyKernel(x, terms);
  return recordOp('quadraticPenalty', [x], value, (dy) => [quadraticPenaltyBackward(x, dy, terms)]);
}
