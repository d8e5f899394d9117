/**
 * Where the BlazePose models live in Node: weights/blazepose/blazepose-<variant>.json (+ .bin). Lite
 * and full ship with the package; heavy comes from `bash scripts/fetch-blazepose.sh` (weights/README.md).
 */
import { shippedWeightsPath } from '../smpl/default-model.js';
import type { Runtime } from '../runtime/runtime.js';
import { loadGraphModel } from '../graph/load-node.js';
import { NbfError } from '../runtime/errors.js';
import { PoseLandmarker } from './blazepose.js';
import { PersonDetector } from './detector.js';

export const BLAZEPOSE_VARIANTS = ['lite', 'full', 'heavy'] as const;
export type BlazePoseVariant = (typeof BLAZEPOSE_VARIANTS)[number];

/**
 * The variant Node uses unless told otherwise (`nbf fit`, `nbf landmarks`, createNodePipeline,
 * createPoseLandmarker). Full rather than lite: on 48 validation renders its landmarks are 14 px off
 * instead of 19 and the body fitted to them 74 mm PA-MPJPE instead of 80 (docs/landmarks.md), for
 * ~0.1 s more a pass. The web page keeps lite (NbfPipeline.create): 2.7 MB to fetch instead of 6.3.
 */
export const DEFAULT_BLAZEPOSE_VARIANT: BlazePoseVariant = 'full';

/** The fetch command that restores a variant's files, for error messages. */
export function fetchHint(variant: BlazePoseVariant | 'detector'): string {
  return `fetch it once with: bash scripts/fetch-blazepose.sh ${variant}`;
}

export function blazePoseModelPath(variant: BlazePoseVariant): string | null {
  return shippedWeightsPath(`blazepose/blazepose-${variant}.json`);
}

/** The person detector's model.json, or null when it is not there. */
export function personDetectorPath(): string | null {
  return shippedWeightsPath('blazepose/blazepose-detector.json');
}

/**
 * A PoseLandmarker from a model.json path, or from the shipped/fetched variant, with the person
 * detector when it is there (`detector: false` leaves it out: whole-picture first pass).
 */
export function createPoseLandmarker(rt: Runtime, options: { variant?: BlazePoseVariant; modelPath?: string; detector?: boolean } = {}): PoseLandmarker {
  const variant = options.variant ?? DEFAULT_BLAZEPOSE_VARIANT;
  const path = options.modelPath ?? blazePoseModelPath(variant);
  if (!path) throw new NbfError(`the BlazePose ${variant} model is not under weights/blazepose/ (${fetchHint(variant)})`);
  const detectorPath = options.detector === false ? null : personDetectorPath();
  if (options.detector === true && !detectorPath) throw new NbfError(`the BlazePose person detector is not under weights/blazepose/ (${fetchHint('detector')})`);
  const model = loadGraphModel(rt, path);
  try {
    const detector = detectorPath ? PersonDetector.fromModel(rt, loadGraphModel(rt, detectorPath)) : null;
    return PoseLandmarker.fromModel(rt, model, options.modelPath ? 'custom' : variant, detector);
  } catch (e) {
    model.dispose();
    throw e;
  }
}
