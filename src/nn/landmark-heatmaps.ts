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

/**
 * A detector's joints (picture pixels: 24 × 2 and 24 visibilities) as landmarkHeatmaps' input for a
 * square of the picture whose corner is (x0, y0), scaled by `scale` pixels of input per picture pixel:
 * a joint with no visibility or no position is NaN with confidence 0; the others keep their
 * visibility (at most 1) as confidence.
 */
export function jointsInSquare(targets: { joints2d: ArrayLike<number>; visibility: ArrayLike<number> }, x0: number, y0: number, scale: number): { joints2d: Float32Array; confidence: Float32Array } {
  const J = HEATMAP_JOINTS;
  if (targets.joints2d.length !== 2 * J || targets.visibility.length !== J) {
    throw new NbfError(`landmark heatmaps: joints must be ${J} × 2 pixels and ${J} visibilities, got ${targets.joints2d.length} and ${targets.visibility.length}`);
  }
  const joints2d = new Float32Array(2 * J).fill(NaN);
  const confidence = new Float32Array(J);
  for (let j = 0; j < J; j++) {
    const v = targets.visibility[j];
    const [x, y] = [targets.joints2d[2 * j], targets.joints2d[2 * j + 1]];
    if (!(v > 0) || !Number.isFinite(x) || !Number.isFinite(y)) continue;
    joints2d[2 * j] = (x - x0) * scale;
    joints2d[2 * j + 1] = (y - y0) * scale;
    confidence[j] = Math.min(1, v);
  }
  return { joints2d, confidence };
}

/**
 * Heatmaps [1, S, S, 24] of a detector's picture-pixel joints (24 × 2 and 24 visibilities) seen
 * through the square of side `side` whose corner is (x0, y0), at the input side S: jointsInSquare,
 * then landmarkHeatmaps. `null` (the detector found no one): every heatmap zero.
 */
export function squareJointHeatmaps(rt: Runtime, joints: { joints2d: ArrayLike<number>; visibility: ArrayLike<number> } | null, x0: number, y0: number, side: number, S: number): Tensor {
  const J = HEATMAP_JOINTS;
  const seen = joints ? jointsInSquare(joints, x0, y0, S / side) : { joints2d: new Float32Array(2 * J), confidence: new Float32Array(J) };
  return landmarkHeatmaps(rt, seen.joints2d, seen.confidence, 1, S);
}
