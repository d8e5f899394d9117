/**
 * The networks as `NbfPipeline.create` loads them (for { parts: true } or the landmark network, its default),
 * with a dynamic import: the segmenter and fitting networks, their weights files, fit-picture.ts (NBF's
 * route) and fit-landmarks.ts (the fitting network that reads landmarks). In the browser bundle (`nbf-gl/browser`)
 * this module and what only it needs are a chunk of their own, fetched by a page only when it asks for
 * that route; Node's library and `nbf-gl/browser-full` import it statically (load-parts-route.ts).
 */
export { fitPicture } from './fit-picture.js';
export { landmarkNetwork } from './fit-landmarks.js';
export { loadFitterWeights, loadSegmenterWeights } from '../nn/weights-file.js';
