/**
 * Training and validation batches for the segmenter, rendered on the fly by the GPU synthetic
 * generator (src/synth/generate.ts): no dataset on disk. Example i of a seed is always the same
 * picture, so a validation seed that training never draws gives a fixed validation set.
 *
 *   images   [N, S, S, 3] the rendered person (shading, augmentations) in RGB [0, 1]; the network
 *            scales it to [−1, 1] itself
 *   labels   [N, S, S, 1] class per pixel as floats: 0 background, 1..12 NBF's parts (NBF_PARTS)
 *   landmarks [N, S, S, 24] for a segmenter that reads them (config.input 'rgb+landmarks'): the
 *            person's true joints as a landmark detector sees them (synth/landmark-noise.ts, the
 *            landmark fitter's training input, drawn per example from the seed), as heatmaps
 *            (nn/landmark-heatmaps.ts); an example misses them all (zeros: the detector found no one)
 *            with probability `missing`
 *
 * Class weights ('auto'): the loss weights class k by 1/√f_k, f_k its share of the pixels counted
 * on the first batches of the training seed, scaled so that the mean weight per pixel is 1
 * (Σ f_k·w_k = 1). A class never seen there gets the largest weight of those seen. Inverse square
 * root rather than inverse frequency: small parts (neck, forearms) count more without the noisy
 * rarest classes taking over the loss.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { disposeBatch, type SynthGenerator } from '../synth/generate.js';
import type { ExampleParams, SamplerOptions } from '../synth/sampler.js';
import { SEGMENTER_CLASSES } from '../nn/refinenet.js';
import type { LandmarkNoiseOptions } from '../synth/landmark-noise.js';
import { simulatedDetectorHeatmaps } from './fitter-data.js';

export interface SegmenterBatch {
  images: Tensor;
  labels: Tensor;
  /** [N, S, S, 24] landmark heatmaps, when the options ask for them. */
  landmarks: Tensor | null;
  examples: ExampleParams[];
}

export interface SegmenterLandmarkOptions {
  /** The detector's mistakes (default: synth/landmark-noise.ts's defaults). */
  noise?: LandmarkNoiseOptions;
  /** Probability per example that the detector finds no one: all heatmaps zero (default 0.1). */
  missing?: number;
}

export interface SegmenterDataOptions {
  size: number;
  sampler?: Omit<SamplerOptions, 'size'>;
  /** Draw landmark heatmaps too (a segmenter that reads them). */
  landmarks?: SegmenterLandmarkOptions;
}

/** Renders examples start..start+n−1 of a seed as a segmenter batch (the caller disposes it). */
export function segmenterBatch(rt: Runtime, generator: SynthGenerator, n: number, seed: number, start: number, options: SegmenterDataOptions): SegmenterBatch {
  const synth = generator.generateBatch(n, { ...options.sampler, size: options.size, seed, start });
  try {
    return rt.scope(() => ({
      images: rt.view(synth.inputs.rgb, synth.inputs.rgb.shape),
      labels: rt.view(synth.inputs.labels, synth.inputs.labels.shape),
      landmarks: options.landmarks ? simulatedLandmarkHeatmaps(rt, synth.targets.joints2d.readSync(), synth.examples, seed, options.size, options.landmarks) : null,
      examples: synth.examples,
    }));
  } finally {
    disposeBatch(synth);
  }
}

/**
 * Heatmaps [n, S, S, 24] of the true joints (n × 24 × 2 pixels of the S×S pictures) as a detector
 * sees them, none for a share `missing` (default 0.1) of the examples; example i's come from (seed,
 * its index), so a validation set is fixed (fitter-data.ts simulatedDetectorHeatmaps).
 */
export function simulatedLandmarkHeatmaps(rt: Runtime, truth: Float32Array, examples: readonly ExampleParams[], seed: number, size: number, o: SegmenterLandmarkOptions = {}): Tensor {
  return simulatedDetectorHeatmaps(rt, truth, examples, size, { seed: (seed ^ 0x5e9a1d) >>> 0, noise: o.noise, missing: o.missing ?? 0.1 });
}

export function disposeSegmenterBatch(b: SegmenterBatch): void {
  b.images.dispose();
  b.labels.dispose();
  b.landmarks?.dispose();
}

/** Pixels per class (0..classes−1) over examples 0..count−1 of a seed. */
export function classPixelCounts(rt: Runtime, generator: SynthGenerator, options: SegmenterDataOptions & { seed: number; count: number; batch?: number; classes?: number }): Float64Array {
  const K = options.classes ?? SEGMENTER_CLASSES;
  const counts = new Float64Array(K);
  const chunk = options.batch ?? 8;
  for (let start = 0; start < options.count; start += chunk) {
    const n = Math.min(chunk, options.count - start);
    const b = segmenterBatch(rt, generator, n, options.seed, start, options);
    try {
      for (const v of b.labels.readSync()) if (v >= 0 && v < K) counts[v]++;
    } finally {
      disposeSegmenterBatch(b);
    }
  }
  return counts;
}

/**
 * Class weights from pixel counts: w_k = 1/√f_k scaled so that Σ f_k·w_k = 1; unseen classes get
 * the largest weight among the seen ones.
 */
export function inverseSqrtClassWeights(counts: ArrayLike<number>): number[] {
  const total = Array.from(counts).reduce((a, c) => a + c, 0);
  if (!(total > 0)) throw new NbfError('class weights: no labelled pixels to measure class frequencies on');
  const f = Array.from(counts, (c) => c / total);
  const raw = f.map((x) => (x > 0 ? 1 / Math.sqrt(x) : NaN));
  const largest = Math.max(...raw.filter(Number.isFinite));
  const w = raw.map((x) => (Number.isFinite(x) ? x : largest));
  const mean = f.reduce((a, x, k) => a + x * w[k], 0);
  return w.map((x) => x / mean);
}
