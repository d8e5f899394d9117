/**
 * A photo → a body, the landmarks route: BlazePose on our kernels finds the person and 33 landmarks
 * with metric 3D points (src/landmarks), those become targets for the body model's joints
 * (to-body-joints.ts); a fitting network that reads landmarks (fit-landmarks.ts), when given, turns
 * them into a body — pose, shape and which way it faces — and the refinement (refine.ts) fits β, pose
 * and translation to the landmarks through the differentiable body layer, starting from the
 * network's body and staying near it where the landmarks leave the pose open. Without the network
 * the refinement starts from upright bodies facing 8 directions and keeps the best.
 *
 * Camera: with the network, its camera of the crop around the person (NBF's: focal 5000·side/512,
 * as fit-parts.ts). Without it a photo's focal length is unknown; we assume a normal lens,
 * f = max(width, height) pixels (a 53° field of view across the longer side), principal point at the
 * centre. `focal` sets f (principal point at the centre) either way; the network's body is then
 * moved into that camera (translationInCamera).
 */
import type { RgbaImage } from '../io/image.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import type { Skeleton } from '../synth/skeleton.js';
import { NbfError } from '../runtime/errors.js';
import type { PoseLandmarker, PoseLandmarks } from '../landmarks/blazepose.js';
import { bodyJointTargets, type BodyJointTargets } from '../landmarks/to-body-joints.js';
import { joint2dError, refineBody, startLosses, type RefineResult, type RefineStart, type RefineTarget } from './refine.js';
import { checkLegSides, LEG_SIDE_CHECK, type LegSidesCheck } from './leg-check.js';
import type { FittedBody } from './fitted-body.js';
import type { BodyFit, CropFrame } from './fit-parts.js';

/**
 * The landmark network's step: body-joint targets → its body in its crop's camera. fit-landmarks.ts
 * `landmarkNetwork(fitter, model)` makes one; passed in, so that this file (the browser bundle's
 * first fetch) does not carry the fitting network's code.
 */
export type LandmarkNetwork = (targets: BodyJointTargets) => BodyFit<CropFrame>;

/**
 * Weights of the refinement after the landmark network: BlazePose's 3D points, and staying near the
 * network's pose. On 16 validation renders (BlazePose 19 px off on average there) the start prior
 * 0.1 / 0.3 / 1 gave 176 / 168 / 166 mm MPJPE after 100 steps (PA 86–90 mm, the network's own 172 / 86);
 * 1 keeps the body closest to the network where the landmarks are unsure (docs/landmarks.md).
 */
export const LANDMARK_NETWORK_REFINEMENT = { weight3d: 0.05, startPrior: 1 };
/** Refinement steps of the landmarks route: after the landmark network, and without it (8 facing starts). */
export const LANDMARK_ROUTE_STEPS = { network: 100, alone: 300 };

export interface PhotoFitOptions {
  /** Refinement steps (default LANDMARK_ROUTE_STEPS: 100 after the network, 300 without). */
  steps?: number;
  /** Focal length in pixels (default max(width, height)). */
  focal?: number;
  /** Weight of BlazePose's 3D points in the refinement (default 0.05; 0 fits the 2D landmarks only). */
  weight3d?: number;
  /** The fitting network reading landmarks (fit-landmarks.ts landmarkNetwork): its body starts the refinement. */
  network?: LandmarkNetwork | null;
  /** With the network: weight of staying near its pose (default LANDMARK_NETWORK_REFINEMENT.startPrior). */
  startPrior?: number;
  /** Refine after the network (default true; without a network the refinement always runs). */
  refine?: boolean;
  /** Extra refinement starts (the fitting network's prediction, when there is one). */
  starts?: readonly RefineStart[];
  /**
   * With the network and refinement: also read the landmarks with the legs' exchanged left ↔ right
   * and refine that reading instead when the network's answer to it starts at a clearly lower loss
   * (leg-check.ts). Default LEG_SIDE_CHECK.
   */
  legSides?: boolean;
  progress?: (stage: number, step: number, steps: number, loss: number) => void;
}

export interface PhotoFit extends FittedBody {
  /** BlazePose's landmarks as detected. */
  landmarks: PoseLandmarks;
  /** The body-joint targets fitted (of the legs' exchanged reading when legSides.exchanged). */
  targets: BodyJointTargets;
  /** The landmark network's own answer (null without one), in its crop's camera. */
  network: BodyFit<CropFrame> | null;
  /** Null when the network's answer was kept unrefined. */
  refine: (Pick<RefineResult, 'startError' | 'chosen' | 'loss' | 'lossBefore'> & { finalError: number }) | null;
  /** The legs' sides check (options.legSides; null when it did not run). */
  legSides: LegSidesCheck | null;
  timings: { landmarksMs: number; networkMs: number; refineMs: number };
}

/**
 * A translation seen through camera `from` (fx, fy, cx, cy) moved into camera `to` so that the point
 * projects to the same pixel and keeps its apparent size: depth scales with the focal lengths' ratio.
 */
export function translationInCamera(trans: ArrayLike<number>, from: ArrayLike<number>, to: ArrayLike<number>): [number, number, number] {
  const [x, y, z] = [trans[0], trans[1], trans[2]];
  const u = (from[0] * x) / z + from[2];
  const v = (from[1] * y) / z + from[3];
  const z2 = (z * to[0]) / from[0];
  return [((u - to[2]) * z2) / to[0], ((v - to[3]) * z2) / to[1], z2];
}

export function fitPhoto(landmarker: PoseLandmarker, model: GpuBodyModel, skeleton: Skeleton, image: RgbaImage, options: PhotoFitOptions = {}): PhotoFit {
  checkFocal(options.focal); // before BlazePose runs
  const t0 = performance.now();
  const landmarks = landmarker.detect(image);
  const t1 = performance.now();
  const fit = fitToLandmarks(model, skeleton, landmarks, options);
  return { ...fit, timings: { ...fit.timings, landmarksMs: t1 - t0 } };
}

function checkFocal(focal: number | undefined): void {
  if (focal !== undefined && !(focal > 0)) throw new NbfError(`fit: the focal length must be positive, got ${focal}`);
}

/**
 * fitPhoto's stages after BlazePose: its landmarks (of a width × height picture) → the body. With the
 * network and refine: false, the network's body (moved into the `focal` camera when one is given; its
 * 2D joints then stay those the network drew).
 */
export function fitToLandmarks(model: GpuBodyModel, skeleton: Skeleton, landmarks: PoseLandmarks, options: PhotoFitOptions = {}): PhotoFit {
  checkFocal(options.focal);
  const image = { width: landmarks.width, height: landmarks.height };
  const t1 = performance.now();
  const weight3d = options.weight3d ?? (options.network ? LANDMARK_NETWORK_REFINEMENT.weight3d : 0.05);
  /** One reading of the landmarks: the network's body (if any) and the refinement's target. */
  const read = (l: PoseLandmarks) => {
    const targets = bodyJointTargets(l);
    const network = options.network ? options.network(targets) : null;
    const focal = options.focal ?? Math.max(image.width, image.height);
    const camera: [number, number, number, number] = network && options.focal === undefined ? network.camera : [focal, focal, image.width / 2, image.height / 2];
    const networkStart: RefineStart | null = network ? { pose: network.pose, betas: network.betas, trans: translationInCamera(network.trans, network.camera, camera) } : null;
    const target: RefineTarget = {
      joints2d: targets.joints2d,
      weights2d: targets.weights,
      joints3d: weight3d > 0 ? targets.joints3d : undefined,
      weight3d,
      camera,
      size: Math.max(image.width, image.height),
      ...(network ? { startPrior: options.startPrior ?? LANDMARK_NETWORK_REFINEMENT.startPrior } : {}),
    };
    return { targets, network, camera, networkStart, target };
  };
  let reading = read(landmarks);
  let legSides: LegSidesCheck | null = null;
  if (reading.networkStart && options.refine !== false && (options.legSides ?? LEG_SIDE_CHECK)) {
    const { chosen, check } = checkLegSides(landmarks, reading, read, (r) => startLosses(model, skeleton, r.target, [r.networkStart!])[0]);
    reading = chosen;
    legSides = check;
  }
  const t2 = performance.now();
  const { targets, network, camera, networkStart } = reading;
  const base = { width: image.width, height: image.height, camera, landmarks, targets, network, legSides };
  if (network && options.refine === false) {
    const unmoved = camera === network.camera;
    return {
      ...base,
      betas: Float32Array.from(network.betas), pose: Float32Array.from(network.pose),
      trans: Float32Array.from(unmoved ? network.trans : networkStart!.trans),
      vertices: unmoved ? network.vertices : shifted(network.vertices, network.trans, networkStart!.trans),
      joints3d: unmoved ? network.joints3d : shifted(network.joints3d, network.trans, networkStart!.trans),
      joints2d: network.joints2d,
      refine: null,
      timings: { landmarksMs: 0, networkMs: t2 - t1, refineMs: 0 },
    };
  }
  const result = refineBody(model, skeleton, reading.target, {
    steps: options.steps ?? LANDMARK_ROUTE_STEPS[network ? 'network' : 'alone'],
    starts: [...(networkStart ? [networkStart] : []), ...(options.starts ?? [])],
    // The network tells which way the body faces; the 8 facing starts are for the route without it.
    facing: !network,
    progress: options.progress,
  });
  const t3 = performance.now();
  return {
    ...base,
    betas: result.betas,
    pose: result.pose,
    trans: result.trans,
    vertices: result.body.vertices,
    joints3d: result.body.joints3d,
    joints2d: result.body.joints2d,
    refine: { startError: result.startError, chosen: result.chosen, loss: result.loss, lossBefore: result.lossBefore, finalError: joint2dError(result.body.joints2d, targets.joints2d, targets.weights) },
    timings: { landmarksMs: 0, networkMs: t2 - t1, refineMs: t3 - t2 },
  };
}

/** Points (x, y, z triples, camera frame) moved with their body's translation from `from` to `to`. */
function shifted(points: Float32Array, from: ArrayLike<number>, to: ArrayLike<number>): Float32Array {
  return points.map((p, i) => p + to[i % 3] - from[i % 3]);
}
