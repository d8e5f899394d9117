/**
 * The fitting network's "landmarks" input (fitter-inputs.ts) from a detector's joints: one Gaussian
 * heatmap per body joint (kernels/joint-heatmaps.ts, σ = heatmapSigma(S)) scaled by
 * the joint's confidence, so that a joint the detector barely sees speaks softly and a missing one
 * (NaN position or confidence 0) not at all. The same function makes the training input (from
 * synth/landmark-noise.ts) and the run-time input (from BlazePose's landmarks, pipeline/fit-landmarks.ts).
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { jointHeatmaps } from '../kernels/joint-heatmaps.js';
import { binary } from '../kernels/elementwise.js';
import { HEATMAP_JOINTS, heatmapSigma } from './fitter-inputs.js';

/**
 * joints2d: n × 24 × 2 pixels of the S×S input (NaN: missing); confidence: n × 24 in [0, 1].
 * Returns [n, S, S, 24].
 */
export function landmarkHeatmaps(rt: Runtime, joints2d: Float32Array, confidence: Float32Array, n: number, size: number): Tensor {
  const J = HEATMAP_JOINTS;
  if (joints2d.length !== n * J * 2) throw new NbfError(`landmark heatmaps: ${joints2d.length} joint coordinates for ${n} × ${J} joints (want ${n * J * 2})`);
  if (confidence.length !== n * J) throw new NbfError(`landmark heatmaps: ${confidence.length} confidences for ${n} × ${J} joints (want ${n * J})`);
  return rt.scope(() => {
    const heat = jointHeatmaps(rt.tensor(joints2d, [n, J, 2]), size, size, heatmapSigma(size));
    return binary('mul', heat, rt.tensor(confidence, [n, 1, 1, J]));
  });
}
