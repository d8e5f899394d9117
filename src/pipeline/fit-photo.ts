/**
 * A photo → a body, today's route: BlazePose on our kernels finds the person and 33 landmarks with
 * metric 3D points (src/landmarks), those become targets for the body model's joints
 * (to-body-joints.ts), and the refinement (refine.ts) fits β, pose and translation to them through
 * the differentiable body layer. The part-map route (segmenter → fitting network) joins this when the
 * segmenter ships; the refinement then gets the fitter's prediction as one more start.
 *
 * Camera: a photo's focal length is unknown; we assume a normal lens, f = max(width, height) pixels
 * (a 53° field of view across the longer side), principal point at the centre. Only the depth of the
 * body depends on it much; `focal` overrides it.
 */
import type { RgbaImage } from '../io/image.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import type { Skeleton } from '../synth/skeleton.js';
import { NbfError } from '../runtime/errors.js';
import type { PoseLandmarker, PoseLandmarks } from '../landmarks/blazepose.js';
import { bodyJointTargets, type BodyJointTargets } from '../landmarks/to-body-joints.js';
import { joint2dError, refineBody, type RefineResult, type RefineStart } from './refine.js';
import type { FittedBody } from './fitted-body.js';

export interface PhotoFitOptions {
  /** Refinement steps (default 300). */
  steps?: number;
  /** Focal length in pixels (default max(width, height)). */
  focal?: number;
  /** Weight of BlazePose's 3D points in the refinement (default 0.05; 0 fits the 2D landmarks only). */
  weight3d?: number;
  /** Extra refinement starts (the fitting network's prediction, when there is one). */
  starts?: readonly RefineStart[];
  progress?: (stage: number, step: number, steps: number, loss: number) => void;
}

export interface PhotoFit extends FittedBody {
  landmarks: PoseLandmarks;
  targets: BodyJointTargets;
  refine: Pick<RefineResult, 'startError' | 'chosen' | 'loss'> & { finalError: number };
  timings: { landmarksMs: number; refineMs: number };
}

export function fitPhoto(landmarker: PoseLandmarker, model: GpuBodyModel, skeleton: Skeleton, image: RgbaImage, options: PhotoFitOptions = {}): PhotoFit {
  const focal = options.focal ?? Math.max(image.width, image.height);
  if (!(focal > 0)) throw new NbfError(`fit: the focal length must be positive, got ${focal}`);
  const t0 = performance.now();
  const landmarks = landmarker.detect(image);
  const t1 = performance.now();
  const targets = bodyJointTargets(landmarks);
  const camera: [number, number, number, number] = [focal, focal, image.width / 2, image.height / 2];
  const result = refineBody(model, skeleton, {
    joints2d: targets.joints2d,
    weights2d: targets.weights,
    joints3d: (options.weight3d ?? 0.05) > 0 ? targets.joints3d : undefined,
    weight3d: options.weight3d ?? 0.05,
    camera,
    size: Math.max(image.width, image.height),
  }, { steps: options.steps, starts: options.starts, progress: options.progress });
  const t2 = performance.now();
  return {
    width: image.width,
    height: image.height,
    camera,
    betas: result.betas,
    pose: result.pose,
    trans: result.trans,
    vertices: result.body.vertices,
    joints3d: result.body.joints3d,
    joints2d: result.body.joints2d,
    landmarks,
    targets,
    refine: { startError: result.startError, chosen: result.chosen, loss: result.loss, finalError: joint2dError(result.body.joints2d, targets.joints2d, targets.weights) },
    timings: { landmarksMs: t1 - t0, refineMs: t2 - t1 },
  };
}
