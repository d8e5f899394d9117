/**
 * A picture → a body by NBF's route, plus our refinement: the segmenter finds and segments the person
 * (segment.ts, two passes), the fitting network predicts the body from the 12-part map (fit-parts.ts),
 * and the refinement (refine.ts) fits β, pose and translation so that the body's projected parts agree
 * with the predicted segmentation (part terms), staying near the network's answer where the picture
 * says nothing. Photo-trained BlazePose landmarks, when given, add their 2D joint term.
 *
 * Camera: the fitting network answers in NBF's camera of the square crop around the person (focal
 * 5000·side/512 pixels, fit-parts.ts); the refinement and every output stay in that camera, expressed
 * in the original picture's pixels.
 */
import type { RgbaImage } from '../io/image.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import type { Skeleton } from '../synth/skeleton.js';
import type { SegmenterNetwork } from '../nn/refinenet.js';
import type { FitterNetwork } from '../nn/fitter.js';
import type { PoseLandmarks } from '../landmarks/blazepose.js';
import { bodyJointTargets } from '../landmarks/to-body-joints.js';
import { segmentPerson, type PersonSegmentation } from './segment.js';
import { fitPartMap, type BodyFit } from './fit-parts.js';
import type { ClassMap } from './part-map.js';
import { partEvidence } from './part-evidence.js';
import { fuseWithPersonMask, maskBox } from './person-mask.js';
import { sidesFromLandmarks } from './landmark-sides.js';
import { checkLegSides, LEG_SIDE_CHECK, type LegSidesCheck } from './leg-check.js';
import { refineBody, startLosses, type RefineStart, type RefineTarget } from './refine.js';
import { translationInCamera, type LandmarkNetwork } from './fit-photo.js';
import { blendBodies } from './blend-bodies.js';
import type { FittedBody } from './fitted-body.js';

export interface PictureFitOptions {
  /** Refine after the network (default true). */
  refine?: boolean;
  /** Refinement steps (default DEFAULT_PICTURE_REFINE_STEPS). */
  steps?: number;
  /**
   * Let the refinement treat each left limb and its right twin as one part (part-evidence.ts): for
   * maps whose sides are unreliable. Default: fitPicture true, fitLabels false (SEGMENTER_MAP_REFINEMENT).
   */
  mergeSides?: boolean;
  /** With landmarks: weight of BlazePose's 3D points in the refinement (default LANDMARK_3D_WEIGHT). */
  weight3d?: number;
  /** With landmarks: also start from upright bodies facing 8 directions (default LANDMARK_FACING). */
  facing?: boolean;
  /**
   * With landmarks: robust scale of the refinement's 2D joint term (refine.ts, RefineTarget.robust2d;
   * fraction of the picture; 0: plain squared distance). fitPicture's default SEGMENTER_MAP_REFINEMENT's.
   */
  robust2d?: number;
  /** Weights of the refinement's part terms (refine.ts; defaults there). */
  partWeights?: RefineTarget['partWeights'];
  /**
   * BlazePose landmarks of the same picture: their person mask finds the person and decides person or
   * background in the part map (person-mask.ts), their bones decide left or right limbs
   * (landmark-sides.ts), and their 2D joints join the refinement.
   */
  landmarks?: PoseLandmarks | null;
  /** The segmenter also reads the mirrored picture (default SEGMENTER_MIRROR; segment.ts). */
  mirror?: boolean;
  /** The fitting network also reads the mirrored part map (fit-parts.ts; fitPicture's default SEGMENTER_MAP_FITTER_MIRROR, fitLabels' off). */
  fitterMirror?: boolean;
  /**
   * More bodies to start the refinement from beside the fitting network's answer (e.g. the landmark
   * network's), each in its own camera (moved into the network's, translationInCamera); the start
   * whose fit ends at the lowest loss is kept.
   */
  extraStarts?: readonly (RefineStart & { camera: ArrayLike<number> })[];
  /**
   * With landmarks: the network that reads them (fit-landmarks.ts landmarkNetwork). The refinement
   * then starts from the blend of its answer and the fitting network's (blend-bodies.ts) where the
   * two agree on which way the body faces (roots within BLEND_MAX_ROOT_ANGLE), else from the fitting
   * network's answer.
   */
  landmarkNetwork?: LandmarkNetwork | null;
  /**
   * With landmarks and refinement (fitPicture): also read the picture with BlazePose's leg landmarks
   * exchanged left ↔ right — segmenter, networks and the refinement's start — and refine that reading
   * instead when its start agrees with the picture clearly better (start loss below LEG_SIDE_MARGIN ×
   * the other's; leg-check.ts). Default LEG_SIDE_CHECK.
   */
  legSides?: boolean;
  progress?: (stage: number, step: number, steps: number, loss: number) => void;
}

export interface PictureFit extends FittedBody {
  /**
   * The predicted segmentation (class per picture pixel) and how it was found; `personMask`: joined
   * with the landmarks' person mask (person-mask.ts), which then also gave the box;
   * `sidesFromLandmarks`: left and right limbs assigned by the landmarks' bones (landmark-sides.ts);
   * `landmarkJoints`: the segmenter read the landmarks' joints (a segmenter that reads landmarks).
   */
  segmentation: PersonSegmentation & { personMask: boolean; sidesFromLandmarks: boolean; landmarkJoints: boolean };
  /** The fitting network's own answer. */
  network: BodyFit;
  /**
   * The refinement (null when it did not run): its loss before and after; chosen: the start kept (0:
   * the network's answer, 1…: options.extraStarts); losses: every start's final loss; blended: it
   * started from the blend with the landmark network's answer (options.landmarkNetwork).
   */
  refine: { lossBefore: number; lossAfter: number; steps: number; landmarks: boolean; chosen: number; losses: number[]; blended: boolean } | null;
  /**
   * The legs' sides check (options.legSides; null when it did not run): `startLosses` of the reading
   * as detected and of the one with the leg landmarks exchanged; `exchanged`: the second was refined.
   */
  legSides: LegSidesCheck | null;
  timings: { segmentMs: number; networkMs: number; refineMs: number };
}

/**
 * Refinement steps on NBF's route. 100 rather than 150: on 16 validation renders the errors were the
 * same within 2 mm (true maps 62.4 → 64.1 mm, PA 37.2 → 37.5; segmenter + BlazePose 167.7 → 167.9 mm,
 * PA 105.4 → 105.3) for two thirds of the time (docs/pipeline.md).
 */
export const DEFAULT_PICTURE_REFINE_STEPS = 100;
/** With BlazePose's landmarks: the weight of its 3D points and whether 8 facing starts join the network's. */
export const LANDMARK_3D_WEIGHT = 0;
export const LANDMARK_FACING = false;

/**
 * How the refinement reads a segmenter's map (fitPicture's default; a rendered or hand-made map given
 * to fitLabels is trusted as it is). The segmenter confuses left and right limbs (its confusion
 * matrix, docs/segmenter.md) and labels some background as body, so the sides are merged and the
 * coverage term is robust (σ = 3 % of the picture). On 16 validation renders read by the shipped
 * segmenter this took the refined error from 265 / PA 140 mm to 206 / PA 111 mm; on true maps it
 * changes little (62.4 / 37.2 → 63.6 / 37.0 mm). A wrong map still pulls some bodies far from the
 * network's answer, so the body stays 10× closer to it than on a true map (the start prior 1, not
 * refine.ts's START_PRIOR 0.1): on 48 validation renders by `--route both` the mean refined error
 * went from 165 / PA 94 mm to 157 / PA 89 mm. BlazePose's 2D joints (`--route both`) are fitted
 * robustly (robust2d 0.1 of the picture): where BlazePose and the map disagree by far, the joints that
 * are far from the body stop pulling it (48 validation renders: refined PA-MPJPE 66.3 → 63.4 mm, MPJPE
 * 123.4 → 111.1 mm; 48 others: 85.3 → 84.6 mm). docs/pipeline.md has the tables.
 */
export const SEGMENTER_MAP_REFINEMENT: Pick<PictureFitOptions, 'mergeSides' | 'partWeights' | 'robust2d'> = { mergeSides: true, partWeights: { coverSigma: 0.03, start: 1 }, robust2d: 0.1 };

/**
 * Whether the fitting network reads a segmenter's map twice, as it is and mirrored (fitPartMap's
 * `mirror`; fitPicture's default — fitLabels reads a given map once). On a segmenter's maps the
 * two looks' mean is closer (48 validation renders by `--route both`: MPJPE 118.3 → 115.2 mm, PA
 * 65.1 → 64.6 mm from the network); on true maps, where one look is already close, it was further
 * (16 renders: PA 51.9 → 55.1 mm). docs/pipeline.md.
 */
export const SEGMENTER_MAP_FITTER_MIRROR = true;

export function fitPicture(segmenter: SegmenterNetwork, fitter: FitterNetwork, model: GpuBodyModel, skeleton: Skeleton, image: RgbaImage, options: PictureFitOptions = {}): PictureFit {
  const fitOptions: PictureFitOptions = {
    ...options,
    // Defaults also where a caller passes a key as undefined (the CLI does).
    mergeSides: options.mergeSides ?? SEGMENTER_MAP_REFINEMENT.mergeSides,
    robust2d: options.robust2d ?? SEGMENTER_MAP_REFINEMENT.robust2d,
    fitterMirror: options.fitterMirror ?? SEGMENTER_MAP_FITTER_MIRROR,
    // A caller's partWeights change only the weights it names.
    partWeights: { ...SEGMENTER_MAP_REFINEMENT.partWeights, ...options.partWeights },
  };
  /** One reading of the picture: segmentation with these landmarks, then the networks on its map. */
  const read = (landmarks: PoseLandmarks | null | undefined) => {
    const t0 = performance.now();
    const segmentation = pictureParts(segmenter, image, landmarks, { mirror: options.mirror });
    const segmentMs = performance.now() - t0;
    const prepared = prepareLabels(fitter, model, skeleton, { width: image.width, height: image.height, labels: segmentation.labels }, { ...fitOptions, landmarks });
    return { segmentation, prepared, segmentMs };
  };
  const asDetected = read(options.landmarks);
  let chosen = asDetected;
  let segmentMs = asDetected.segmentMs;
  let networkMs = asDetected.prepared.networkMs;
  let legSides: PictureFit['legSides'] = null;
  if (options.landmarks && options.refine !== false && (options.legSides ?? LEG_SIDE_CHECK)) {
    let lossMs = 0;
    const startLoss = (r: typeof asDetected) => {
      const t0 = performance.now();
      const loss = startLosses(model, skeleton, r.prepared.target, r.prepared.starts.slice(0, 1))[0];
      lossMs += performance.now() - t0;
      return loss;
    };
    const { chosen: kept, exchanged, check } = checkLegSides(options.landmarks, asDetected, read, startLoss);
    chosen = kept;
    legSides = check;
    segmentMs += exchanged.segmentMs;
    networkMs += exchanged.prepared.networkMs + lossMs;
  }
  const fit = refinePrepared(model, skeleton, chosen.prepared, fitOptions);
  return { ...fit, segmentation: chosen.segmentation, legSides, timings: { ...fit.timings, segmentMs, networkMs } };
}

/**
 * The part map of a picture: the segmenter's (segment.ts, two passes), or, with BlazePose's landmarks
 * of the same picture, their person mask finds the person and decides person or background
 * (person-mask.ts) and their bones decide left or right limbs (landmark-sides.ts) — the segmenter then
 * says only which part a person pixel is. A segmenter that reads landmarks (config.input
 * 'rgb+landmarks') gets BlazePose's joints instead of having its sides overruled: it tells the sides
 * better itself from those joints than the nearest-bone rule does (on 32 validation renders at 224²,
 * 58.3 % mIoU without the rule against 56.3 % with it; docs/segmenter.md). Throws NoPersonError when
 * no one is found.
 */
export function pictureParts(segmenter: SegmenterNetwork, image: RgbaImage, landmarks?: PoseLandmarks | null, options: { mirror?: boolean } = {}): PictureFit['segmentation'] {
  const mask = landmarks?.mask;
  const hasMask = !!mask && mask.length === image.width * image.height;
  const personBox = hasMask ? maskBox(mask, image.width, image.height) : null;
  const joints = landmarks && segmenter.readsLandmarks ? bodyJointTargets(landmarks) : null;
  const found = segmentPerson(segmenter, image, { ...(personBox ? { personBox } : {}), joints, mirror: options.mirror });
  let labels = hasMask ? fuseWithPersonMask(found.labels, mask, image.width, image.height) : found.labels;
  const sides = !!landmarks && !joints;
  if (sides) labels = sidesFromLandmarks(labels, image.width, image.height, landmarks.keypoints);
  return { ...found, labels, personMask: hasMask, sidesFromLandmarks: sides, landmarkJoints: !!joints };
}

/** What the refinement of one reading of a picture starts from: the networks' answers, the target, the starts. */
interface PreparedLabels {
  map: ClassMap;
  network: BodyFit;
  /** Blend with the landmark network's answer (options.landmarkNetwork), or null. */
  blend: ReturnType<typeof blendBodies> | null;
  targets: ReturnType<typeof bodyJointTargets> | null;
  /** The refinement's target and starts (the first: the network's answer or the blend). */
  target: RefineTarget;
  starts: RefineStart[];
  networkMs: number;
}

/** The fitting network (and the landmark network) on a class map, and the refinement's target. */
function prepareLabels(fitter: FitterNetwork, model: GpuBodyModel, skeleton: Skeleton, map: ClassMap, options: PictureFitOptions): PreparedLabels {
  const t1 = performance.now();
  const targets = options.landmarks ? bodyJointTargets(options.landmarks) : null;
  const network = fitPartMap(fitter, model, map, { mirror: options.fitterMirror ?? false, joints: targets });
  // The landmark network's answer, only for the refinement's start (timed with the network).
  const other = options.refine !== false && targets && options.landmarkNetwork ? options.landmarkNetwork(targets) : null;
  const blend = other ? blendBodies(network, other, skeleton.parents) : null;
  const weight3d = options.weight3d ?? LANDMARK_3D_WEIGHT;
  const target: RefineTarget = {
    camera: network.camera,
    size: Math.max(map.width, map.height),
    // The distance fields only where a refinement (or the legs' check) will read them.
    parts: options.refine === false ? undefined : partEvidence(map, { mergeSides: options.mergeSides }),
    partWeights: options.partWeights,
    joints2d: targets?.joints2d,
    weights2d: targets?.weights,
    robust2d: options.robust2d,
    ...(targets && weight3d > 0 ? { joints3d: targets.joints3d, weight3d } : {}),
  };
  const starts = [
    { pose: blend?.pose ?? network.pose, betas: blend?.betas ?? network.betas, trans: network.trans },
    ...(options.extraStarts ?? []).map((e) => ({ pose: e.pose, betas: e.betas, trans: translationInCamera(e.trans, e.camera, network.camera) })),
  ];
  return { map, network, blend, targets, target, starts, networkMs: performance.now() - t1 };
}

/**
 * The stages after the segmentation, from any 12-part class map at picture size (the segmenter's, a
 * rendered ground truth, a user's drawing): fitting network, then the refinement on the same map.
 */
export function fitLabels(fitter: FitterNetwork, model: GpuBodyModel, skeleton: Skeleton, map: ClassMap, options: PictureFitOptions = {}): Omit<PictureFit, 'segmentation'> {
  return refinePrepared(model, skeleton, prepareLabels(fitter, model, skeleton, map, options), options);
}

/** The refinement of a prepared reading (or the network's answer alone with options.refine false). */
function refinePrepared(model: GpuBodyModel, skeleton: Skeleton, prepared: PreparedLabels, options: PictureFitOptions): Omit<PictureFit, 'segmentation'> {
  const { map, network, blend, targets } = prepared;
  const base = { width: map.width, height: map.height, camera: network.camera, network, legSides: null };
  if (options.refine === false) {
    return {
      ...base,
      betas: Float32Array.from(network.betas), pose: Float32Array.from(network.pose), trans: Float32Array.from(network.trans),
      vertices: network.vertices, joints3d: network.joints3d, joints2d: network.joints2d, refine: null,
      timings: { segmentMs: 0, networkMs: prepared.networkMs, refineMs: 0 },
    };
  }
  const t2 = performance.now();
  const steps = options.steps ?? DEFAULT_PICTURE_REFINE_STEPS;
  const result = refineBody(model, skeleton, prepared.target, { steps, starts: prepared.starts, facing: !!targets && (options.facing ?? LANDMARK_FACING), progress: options.progress });
  const t3 = performance.now();
  return {
    ...base,
    betas: result.betas, pose: result.pose, trans: result.trans,
    vertices: result.body.vertices, joints3d: result.body.joints3d, joints2d: result.body.joints2d,
    refine: { lossBefore: result.lossBefore, lossAfter: result.loss, steps, landmarks: !!targets, chosen: result.chosen, losses: result.losses, blended: !!blend },
    timings: { segmentMs: 0, networkMs: prepared.networkMs, refineMs: t3 - t2 },
  };
}
