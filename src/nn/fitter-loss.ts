/**
 * The fitting network's losses (NBF §3.3, ../shared/reference/nbf.md), all differentiable and mixed
 * by weights:
 *
 *   params    L1 between the predicted latent [β | 24 global rotation matrices | camera] and the
 *             target's (NBF's loss on the latent parameters); masked per example by has3d
 *   joints3d  3D joints after subtracting the root (pelvis) joint from each set, per-joint Euclidean
 *             distance ('euclidean', metres: the MPJPE itself) or squared error ('l2');
 *             masked per example by has3d — NBF's partial 3D supervision
 *   joints2d  per-joint Euclidean distance of the projected joints, in NBF's normalised image
 *             coordinates (pixels · 2/S, so one weight serves every input size); masked by has2d
 *
 * Weight decay is the optimizer's (AdamW's decoupled decay), not a term here.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { add, mulScalar, sub } from '../autodiff/grads/elementwise.js';
import { slice } from '../autodiff/grads/shape.js';
import { euclideanLoss, l1Loss, l2Loss } from '../autodiff/grads/losses.js';
import type { SmplOutputs } from '../smpl/gpu/differentiable.js';
import type { FitterPrediction } from './fitter.js';

export interface FitterLossWeights {
  /** L1 on the latent parameters (NBF's released config: 1). */
  params: number;
  /** Root-aligned 3D joints (m). */
  joints3d: number;
  /** Projected 2D joints (normalised coordinates; NBF's released config: 1). */
  joints2d: number;
  /** 'euclidean' (default) or 'l2' for the 3D term. */
  joints3dKind?: 'euclidean' | 'l2';
}

export const DEFAULT_FITTER_LOSS: Readonly<FitterLossWeights> = { params: 1, joints3d: 1, joints2d: 1, joints3dKind: 'euclidean' };

export interface FitterTargets {
  /** [N, L] target latent (fitter.ts: targetLatent). */
  latent: Tensor;
  /** [N, 24, 3] joints, camera frame (m). */
  joints3d: Tensor;
  /** [N, 24, 2] joints in pixels at the network's input size. */
  joints2d: Tensor;
  /** [N] 1 where the example has 3D labels (params and joints3d terms), 0 where not. */
  has3d: Tensor;
  /** [N] 1 where the example has 2D labels. */
  has2d: Tensor;
}

export interface FitterLoss {
  total: Tensor;
  /** The weighted terms that were computed (unweighted values), by name. */
  terms: Record<'params' | 'joints3d' | 'joints2d', Tensor | null>;
}

function rootAligned(joints: Tensor): Tensor {
  const [N, , C] = joints.shape;
  return sub(joints, slice(joints, [0, 0, 0], [N, 1, C]));
}

export function checkLossWeights(w: FitterLossWeights): void {
  for (const k of ['params', 'joints3d', 'joints2d'] as const) {
    if (!(Number.isFinite(w[k]) && w[k] >= 0)) throw new NbfError(`fitter loss: weight "${k}" must be a finite number ≥ 0, got ${w[k]}`);
  }
  if (w.params + w.joints3d + w.joints2d === 0) throw new NbfError('fitter loss: every weight is 0; nothing would be trained');
  if (w.joints3dKind && w.joints3dKind !== 'euclidean' && w.joints3dKind !== 'l2') throw new NbfError(`fitter loss: joints3dKind must be 'euclidean' or 'l2', got ${String(w.joints3dKind)}`);
}

/** The weighted sum of the selected terms (a weight of 0 skips its term and its body-layer work). */
export function fitterLoss(prediction: FitterPrediction, body: SmplOutputs | null, targets: FitterTargets, inputSize: number, weights: FitterLossWeights = DEFAULT_FITTER_LOSS): FitterLoss {
  checkLossWeights(weights);
  const terms: FitterLoss['terms'] = { params: null, joints3d: null, joints2d: null };
  const weighted: Tensor[] = [];
  if (weights.params > 0) {
    terms.params = l1Loss(prediction.latent, targets.latent, { weights: targets.has3d });
    weighted.push(mulScalar(terms.params, weights.params));
  }
  if ((weights.joints3d > 0 || weights.joints2d > 0) && !body) throw new NbfError('fitter loss: joint terms need the body (FitterNetwork.body)');
  if (weights.joints3d > 0 && body) {
    const loss = weights.joints3dKind === 'l2' ? l2Loss : euclideanLoss;
    terms.joints3d = loss(rootAligned(body.joints), rootAligned(targets.joints3d), { weights: targets.has3d });
    weighted.push(mulScalar(terms.joints3d, weights.joints3d));
  }
  if (weights.joints2d > 0 && body) {
    if (!body.joints2d) throw new NbfError('fitter loss: the body has no 2D joints (no camera)');
    const scale = 2 / inputSize;
    terms.joints2d = euclideanLoss(mulScalar(body.joints2d, scale), mulScalar(targets.joints2d, scale), { weights: targets.has2d });
    weighted.push(mulScalar(terms.joints2d, weights.joints2d));
  }
  return { total: weighted.reduce((a, b) => add(a, b)), terms };
}
