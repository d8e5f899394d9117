/**
 * Where the BlazePose models live in Node: weights/blazepose/blazepose-<variant>.json (+ .bin). Lite
 * ships with the package; full and heavy come from `bash scripts/fetch-blazepose.sh` (weights/README.md).
 */
import { shippedWeightsPath } from '../smpl/default-model.js';
import type { Runtime } from '../runtime/runtime.js';
import { loadGraphModel } from '../graph/load-node.js';
import { NbfError } from '../runtime/errors.js';
import { PoseLandmarker } from './blazepose.js';

export const BLAZEPOSE_VARIANTS = ['lite', 'full', 'heavy'] as const;
export type BlazePoseVariant = (typeof BLAZEPOSE_VARIANTS)[number];

export function blazePoseModelPath(variant: BlazePoseVariant): string | null {
  return shippedWeightsPath(`blazepose/blazepose-${variant}.json`);
}

/** A PoseLandmarker from a model.json path, or from the shipped/fetched variant. */
export function createPoseLandmarker(rt: Runtime, options: { variant?: BlazePoseVariant; modelPath?: string } = {}): PoseLandmarker {
  const variant = options.variant ?? 'lite';
  const path = options.modelPath ?? blazePoseModelPath(variant);
  if (!path) {
    throw new NbfError(`the BlazePose ${variant} model is not under weights/blazepose/${variant === 'lite' ? '' : ` (fetch it once with: bash scripts/fetch-blazepose.sh ${variant})`}`);
  }
  return PoseLandmarker.fromModel(rt, loadGraphModel(rt, path), options.modelPath ? 'custom' : variant);
}
