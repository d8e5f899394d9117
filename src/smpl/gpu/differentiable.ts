/**
 * The SMPL layer as a differentiable op of the autodiff tape (src/autodiff/tape.ts, docs/autodiff.md):
 * inside `valueAndGrad`, gradients flow from vertices, joints and joints2d back to betas, pose or
 * rotations, trans and the camera parameters. Outside a tape it is the plain forward pass, with no
 * intermediates kept.
 *
 * The tape records single-output ops, so each output is its own node with the same inputs; their
 * backward functions share one set of forward intermediates (owned by the first node, freed with the
 * tape). A node's backward runs only the kernels its output needs: joints and joints2d skip every
 * per-vertex kernel.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { recordOp, willRecord } from '../../autodiff/tape.js';
import type { GpuBodyModel } from './model.js';
import { smplBackward, smplForward, type SmplGpuInputs, type SmplGradients, type SmplOutputGradients } from './layer.js';

export interface SmplOutputs {
  vertices: Tensor;
  joints: Tensor;
  joints2d: Tensor | null;
}

/** Differentiable SMPL forward pass (same inputs as smplForward, without keepForBackward). */
export function smpl(model: GpuBodyModel, inputs: Omit<SmplGpuInputs, 'keepForBackward'>): SmplOutputs {
  const poseInput = inputs.pose ?? inputs.rotations;
  // Differentiable inputs, in the order backward functions return their gradients.
  const sources: { tensor: Tensor; pick: (g: SmplGradients) => Tensor | null }[] = [{ tensor: inputs.betas, pick: (g) => g.betas }];
  if (poseInput) sources.push({ tensor: poseInput, pick: (g) => g.pose ?? g.rotations });
  if (inputs.trans) sources.push({ tensor: inputs.trans, pick: (g) => g.trans });
  if (inputs.camera) sources.push({ tensor: inputs.camera.params, pick: (g) => g.camera });
  const tensors = sources.map((s) => s.tensor);
  if (!willRecord(tensors)) {
    const out = smplForward(model, { ...inputs, keepForBackward: false });
    return { vertices: out.vertices, joints: out.joints, joints2d: out.joints2d };
  }
  const out = smplForward(model, { ...inputs, keepForBackward: true });
  const saved = out.saved as NonNullable<typeof out.saved>;
  const backwardFor = (which: keyof SmplOutputGradients) => (dy: Tensor, needsGrad: readonly boolean[]) => {
    const grads = smplBackward(model, saved, { [which]: dy });
    return sources.map((s, i) => (needsGrad[i] ? s.pick(grads) : null));
  };
  const vertices = recordOp('smpl.vertices', tensors, out.vertices, backwardFor('vertices'), saved.ownedTensors);
  const joints = recordOp('smpl.joints', tensors, out.joints, backwardFor('joints'));
  const joints2d = out.joints2d ? recordOp('smpl.joints2d', tensors, out.joints2d, backwardFor('joints2d')) : null;
  return { vertices, joints, joints2d };
}
