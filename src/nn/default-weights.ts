/**
 * The shipped network weights (Node only): weights/nbf-fitter-compact.nbfw,
 * weights/nbf-fitter-landmarks.nbfw and weights/nbf-segmenter-compact.nbfw, trained by `nbf train fitter|segmenter` on this project's
 * synthetic people (weights/README.md). In the browser, fetch the files and pass their bytes to
 * loadFitterWeights / loadSegmenterWeights (NbfPipeline.create does).
 */
import { shippedWeightsPath } from '../smpl/default-model.js';

export const DEFAULT_FITTER_FILE = 'nbf-fitter-compact.nbfw';
export const DEFAULT_SEGMENTER_FILE = 'nbf-segmenter-compact.nbfw';
/** The fitting network that reads landmarks (input "landmarks"), for the landmarks route. */
export const DEFAULT_LANDMARK_FITTER_FILE = 'nbf-fitter-landmarks.nbfw';

/** The shipped segmenter weights file, or null when it is not there. */
export function defaultSegmenterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_SEGMENTER_FILE);
}

/** The shipped fitter weights file, or null when it is not there. */
export function defaultFitterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_FITTER_FILE);
}

/** The shipped landmark fitter's weights file, or null when it is not there. */
export function defaultLandmarkFitterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_LANDMARK_FITTER_FILE);
}
