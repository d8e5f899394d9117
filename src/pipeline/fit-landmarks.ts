/**
 * The fitting network on a landmark detector's joints (its "landmarks" input, src/nn/fitter-inputs.ts):
 * BlazePose's landmarks, mapped to the body model's joints (to-body-joints.ts), drawn as one heatmap
 * per joint scaled by its visibility (nn/landmark-heatmaps.ts) in a square crop around the person,
 * → β, pose and camera, as fit-parts.ts does from a part map.
 *
 *   crop   the square around the joints given, widened by JOINT_BOX_WIDENING, filling PERSON_FILL of
 *          its side: the training renders frame people just so (synth/sampler.ts: the joints plus
 *          margins for the head top, hands and feet fill 0.8 of the side), and a detector's joints
 *          are steadier than its mask's outline
 *   input  heatmaps at the network's side S of the joints in crop pixels (NaN where no landmark)
 *
 * Runs in the browser and in Node alike (no file access here).
 */
import { NbfError } from '../runtime/errors.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import { fitterInputType, HEATMAP_JOINTS } from '../nn/fitter-inputs.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { squareJointHeatmaps } from '../nn/landmark-heatmaps.js';
import type { BodyJointTargets } from '../landmarks/to-body-joints.js';
import { fitterAnswer, type BodyFit, type CropFrame } from './fit-parts.js';
import { mirrorWidth } from '../kernels/mirror.js';
import { SMPL_MIRRORED_JOINTS } from '../smpl/types.js';
import { PERSON_FILL } from './part-map.js';

/**
 * How much wider than the box of the joints the training renders' framed box is: sampler.ts pads each
 * joint by 5–20 cm (0.2 m at the head, 7 cm at the ankles), about a fifth of a standing person's
 * 1.45 m from ankle to head joint.
 */
export const JOINT_BOX_WIDENING = 1.2;

/** The square crop (image pixels) framing a person whose outline has this box [x0, y0, x1, y1]. */
export function personFrame(box: readonly [number, number, number, number], size: number): CropFrame {
  const [x0, y0, x1, y1] = box;
  const side = Math.max(x1 - x0, y1 - y0, 1) / PERSON_FILL;
  return { x0: (x0 + x1) / 2 - side / 2, y0: (y0 + y1) / 2 - side / 2, side, size };
}

/** The box of the joints a landmark gives (visibility > 0), widened to the outline's size. */
export function jointOutlineBox(targets: BodyJointTargets): [number, number, number, number] {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let j = 0; j < HEATMAP_JOINTS; j++) {
    if (!(targets.visibility[j] > 0)) continue;
    const [x, y] = [targets.joints2d[2 * j], targets.joints2d[2 * j + 1]];
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  if (!Number.isFinite(x0)) throw new NbfError('landmark fit: no landmark is visible');
  const [cx, cy] = [(x0 + x1) / 2, (y0 + y1) / 2];
  const [hw, hh] = [((x1 - x0) / 2) * JOINT_BOX_WIDENING, ((y1 - y0) / 2) * JOINT_BOX_WIDENING];
  return [cx - hw, cy - hh, cx + hw, cy + hh];
}

/** Refuses a fitting network that does not read landmarks. */
function checkReadsLandmarks(net: FitterNetwork): void {
  const input = fitterInputType(net.config);
  if (input !== 'landmarks') throw new NbfError(`landmark fit: this fitting network reads "${input}", not "landmarks" (train one with nbf train fitter --input landmarks)`);
}

/**
 * Whether the landmark network also reads the joints mirrored left–right (their heatmaps mirrored,
 * left and right joints swapped) and averages the two answers (fit-parts.ts fitterAnswer).
 */
export const LANDMARK_FITTER_MIRROR = true;

/**
 * The network's body from landmarks, in the crop around their joints (jointOutlineBox); `mirror`
 * (default LANDMARK_FITTER_MIRROR): a second, mirrored look, averaged.
 */
export function fitLandmarkJoints(net: FitterNetwork, model: GpuBodyModel, targets: BodyJointTargets, options: { mirror?: boolean } = {}): BodyFit<CropFrame> {
  checkReadsLandmarks(net);
  const S = net.config.inputSize;
  const crop = personFrame(jointOutlineBox(targets), S);
  const rt = net.runtime;
  return rt.scope(() => {
    const heat = squareJointHeatmaps(rt, targets, crop.x0, crop.y0, crop.side, S);
    return fitterAnswer(net, model, heat, crop, (options.mirror ?? LANDMARK_FITTER_MIRROR) ? mirrorWidth(heat, SMPL_MIRRORED_JOINTS) : undefined);
  });
}

/** fit-photo.ts's LandmarkNetwork for a fitting network that reads landmarks (checked here, once). */
export function landmarkNetwork(net: FitterNetwork, model: GpuBodyModel, options: { mirror?: boolean } = {}): (targets: BodyJointTargets) => BodyFit<CropFrame> {
  checkReadsLandmarks(net);
  return (targets) => fitLandmarkJoints(net, model, targets, options);
}
