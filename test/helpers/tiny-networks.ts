/**
 * A segmenter and a fitter small enough for wiring tests (their accuracy does not matter there): the
 * configurations, and a weights file of the segmenter with fixed random weights.
 */
import { writeFileSync } from 'node:fs';
import { createNodeContext } from '../../src/runtime/node-context.js';
import { SEGMENTER_CLASSES, SegmenterNetwork, type SegmenterConfig } from '../../src/nn/refinenet.js';
import { encodeSegmenterWeights } from '../../src/nn/weights-file.js';
import type { FitterConfig } from '../../src/nn/fitter.js';

/** A two-stage fitter at 32² reading the 12-part map (fitterConfigWithInput gives it other inputs). */
export const TINY_FITTER: FitterConfig = {
  name: 'tiny', inputSize: 32, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
};

export const TINY_SEGMENTER: SegmenterConfig = {
  name: 'tiny', inputSize: 32, classes: SEGMENTER_CLASSES,
  encoder: { block: 'basic', blocks: [1, 1, 1, 1], widths: [8, 8, 8, 8], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 2, stemPool: 2 },
  decoder: { kind: 'light', widths: [8, 8, 8, 8], crpStages: 1 },
};

/** Writes TINY_SEGMENTER's weights (initialised from `seed`) to `path`, on a context of its own. */
export function writeTinySegmenterWeights(path: string, seed = 5): void {
  const rt = createNodeContext();
  try {
    const net = new SegmenterNetwork(rt, TINY_SEGMENTER, { seed });
    writeFileSync(path, encodeSegmenterWeights(net));
    net.dispose();
  } finally {
    rt.destroy();
  }
}
