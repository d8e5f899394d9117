/**
 * The shipped fitter weights (Node only): weights/nbf-fitter-compact.nbfw, trained by
 * `nbf train fitter` on this project's synthetic people (weights/README.md). In the browser, fetch the
 * file and pass its bytes to loadFitterWeights.
 */
import { shippedWeightsPath } from '../smpl/default-model.js';

export const DEFAULT_FITTER_FILE = 'nbf-fitter-compact.nbfw';

/** The shipped fitter weights file, or null when it is not there. */
export function defaultFitterWeightsPath(): string | null {
  return shippedWeightsPath(DEFAULT_FITTER_FILE);
}
