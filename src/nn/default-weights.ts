/**
 * The shipped fitter weights (Node only): weights/nbf-fitter-compact.nbfw, trained by
 * `nbf train fitter` on this project's synthetic people (weights/README.md). In the browser, fetch the
 * file and pass its bytes to loadFitterWeights.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEFAULT_FITTER_FILE = 'nbf-fitter-compact.nbfw';

/** weights/ beside the sources (src/nn → ../../weights), beside dist/ (→ ../weights), or under the working directory. */
export function defaultFitterWeightsPath(): string | null {
  const candidates = [
    fileURLToPath(new URL(`../../weights/${DEFAULT_FITTER_FILE}`, import.meta.url)),
    fileURLToPath(new URL(`../weights/${DEFAULT_FITTER_FILE}`, import.meta.url)),
    join(process.cwd(), 'weights', DEFAULT_FITTER_FILE),
  ];
  return candidates.find((p) => existsSync(p)) ?? null;
}
