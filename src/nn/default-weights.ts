/**
 * The shipped network weights (Node only): weights/nbf-fitter-compact.nbfw and
 * weights/nbf-segmenter-compact.nbfw, trained by `nbf train fitter|segmenter` on this project's
 * synthetic people (weights/README.md). In the browser, fetch the files and pass their bytes to
 * loadFitterWeights / loadSegmenterWeights (NbfPipeline.create does).
 */
import { shippedWeightsPath } from '../smpl/default-model.js';

export const DEFAULT_FITTER_FILE = 'nbf-fitter-compact.nbfw';
export const DEFAULT_SEGMENTER_FILE = 'nbf-segmenter-compact.nbfw';

/** The shipped segmenter weights file, or null when it is not there. */
export function defaultSegmenterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_SEGMENTER_FILE);
}

/** The shipped fitter weights file, or null when it is not there. */
export function defaultFitterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_FITTER_FILE);
}
