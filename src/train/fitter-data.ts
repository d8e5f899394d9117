/**
 * Training and validation batches for the fitting network, rendered on the fly by the GPU synthetic
 * generator (src/synth/generate.ts): no dataset on disk. Example i of a seed is always the same body,
 * so a validation seed that training never draws gives a fixed validation set.
 *
 *   inputs   [N, S, S, C] the network's input of type `input` (src/nn/fitter-inputs.ts; default
 *            parts12: the 12-part map scaled for the network, x·2/255 − 1), the 12-part class map
 *            optionally corrupted first by `corrupt` (a segmenter's mistakes, or the segmenter's own
 *            labels: any function of the batch's clean class maps)
 *   targets  latent [N, L] (β | 24 global rotations | camera latent), joints3d [N, 24, 3],
 *            joints2d [N, 24, 2] px, has3d / has2d [N]
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { partColourMap } from '../render/maps.js';
import type { Granularity } from '../render/parts.js';
import { addScalar, mulScalar } from '../kernels/elementwise.js';
import { resizeNearest } from '../kernels/resize.js';
import { concat } from '../kernels/concat.js';
import { jointHeatmaps } from '../kernels/joint-heatmaps.js';
import { landmarkHeatmaps } from '../nn/landmark-heatmaps.js';
import { detectLandmarkJoints, type LandmarkNoiseOptions } from '../synth/landmark-noise.js';
import { disposeBatch, type SynthBatch, type SynthGenerator } from '../synth/generate.js';
import { exampleSeed, type ExampleParams, type SamplerOptions } from '../synth/sampler.js';
import { absoluteRotations } from '../smpl/cpu-forward.js';
import { Rng } from '../util/random.js';
import { corruptPartLabels, packPartNoise, samplePartNoise, PART_NOISE_SIZE, type PartNoiseOptions } from '../synth/part-noise.js';
import { cameraLatent, FITTER_JOINTS, FITTER_PART_OFFSET, FITTER_PART_SCALE, latentSize } from '../nn/fitter.js';
import type { FitterTargets } from '../nn/fitter-loss.js';
import { corruptibleInput, DEFAULT_FITTER_INPUT, fitterInputInfo, HEATMAP_JOINTS, heatmapSigma, type FitterInputType } from '../nn/fitter-inputs.js';
import { recordedJoints, type DetectionCache } from './detection-cache.js';

export interface FitterBatch {
  inputs: Tensor;
  targets: FitterTargets;
  examples: ExampleParams[];
}

export interface FitterDataOptions {
  size: number;
  shapeCount: number;
  /** What the network reads (default parts12). */
  input?: FitterInputType;
  /** Fraction of examples that keep their 3D labels (NBF's partial supervision; default 1). */
  has3dFraction?: number;
  /**
   * Replaces the 12-part class maps [N, S, S, 1] of a batch (a segmenter's mistakes, or its own
   * labels); gets the batch's examples. Only for inputs that contain the 12-part map.
   */
  corrupt?: (labels: Tensor, examples: ExampleParams[], seed: number) => Tensor;
  /** The detector's mistakes on the "landmarks" input (synth/landmark-noise.ts; defaults there). */
  landmarkNoise?: LandmarkNoiseOptions;
  /**
   * A real detector's joints on rendered pictures (detection-cache.ts) for a share of the batches
   * (input "landmarks" only): such a batch draws consecutive recorded examples of the file's seed
   * instead of the run's, and reads what the detector found; where it found no one, the modelled
   * detector's view stands in. `inOrder` (evaluation): every batch is recorded, its start indexing
   * the file's records (batch start..start+n−1 reads records start..start+n−1).
   */
  detections?: { cache: DetectionCache; share: number; inOrder?: boolean };
  sampler?: Omit<SamplerOptions, 'size'>;
}

/** The latent target [β | global rotations | camera latent] of one example. */
export function targetLatent(example: ExampleParams, parents: ArrayLike<number>, shapeCount: number, out = new Float32Array(latentSize({ shapeCount })), offset = 0): Float32Array {
  if (example.betas.length < shapeCount) throw new NbfError(`targetLatent: the example has ${example.betas.length} shape coefficients, the fitter ${shapeCount}`);
  for (let b = 0; b < shapeCount; b++) out[offset + b] = example.betas[b];
  out.set(absoluteRotations(example.pose, parents), offset + shapeCount);
  out.set(cameraLatent(example.trans), offset + shapeCount + FITTER_JOINTS * 9);
  return out;
}

/** Mean latent of `count` examples of a seed (the mean the network's head offsets). */
export function meanLatent(generator: SynthGenerator, options: { size: number; shapeCount: number; seed: number; count: number; sampler?: Omit<SamplerOptions, 'size'> }): Float64Array {
  const L = latentSize(options);
  const sum = new Float64Array(L);
  const one = new Float32Array(L);
  const chunk = 256;
  for (let start = 0; start < options.count; start += chunk) {
    const n = Math.min(chunk, options.count - start);
    for (const e of generator.sample(n, { ...options.sampler, size: options.size, seed: options.seed, start })) {
      targetLatent(e, generator.skeleton.parents, options.shapeCount, one);
      for (let i = 0; i < L; i++) sum[i] += one[i];
    }
  }
  return sum.map((v) => v / options.count);
}

/** Whether example `index` of `seed` keeps its 3D labels at a fraction (a fixed choice per example). */
export function keeps3d(seed: number, index: number, fraction: number): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  return exampleSeed(seed ^ 0x3d3d3d, index) / 2 ** 32 < fraction;
}

/**
 * The "landmarks" input of a rendered batch: its true joints as a detector sees them, drawn per
 * example from `seed` (so example i of a seed always gets the same mistakes).
 */
export function detectedJointHeatmaps(synth: SynthBatch, seed: number, noise: LandmarkNoiseOptions = {}, missing?: number): Tensor {
  return simulatedDetectorHeatmaps(synth.targets.joints2d.runtime, synth.targets.joints2d.readSync(), synth.examples, synth.size, { seed: (seed ^ 0x1a4d3a) >>> 0, noise, missing });
}

/**
 * With a part map beside them (input parts12+landmarks), the share of examples whose detector found
 * no one (all heatmaps zero): BlazePose misses some people the segmenter still finds, and the part
 * map must then answer alone.
 */
export const PARTS_LANDMARKS_MISSING = 0.1;

/**
 * Heatmaps [n, S, S, 24] of the true joints (n × 24 × 2 pixels of the S×S pictures) as a detector
 * sees them (synth/landmark-noise.ts): example i's mistakes come from (`seed`, its index), so a
 * validation set is fixed. With `missing` (a probability, drawn first from the example's stream) an
 * example may get no joints at all, as when the detector finds no one.
 */
export function simulatedDetectorHeatmaps(rt: Runtime, truth: Float32Array, examples: readonly ExampleParams[], size: number, o: { seed: number; noise?: LandmarkNoiseOptions; missing?: number }): Tensor {
  const { joints, confidence } = simulatedDetectorJoints(truth, examples, o);
  return landmarkHeatmaps(rt, joints, confidence, examples.length, size);
}

/** simulatedDetectorHeatmaps's joints (n × 24 × 2) and confidences (n × 24), before the heatmaps. */
function simulatedDetectorJoints(truth: Float32Array, examples: readonly ExampleParams[], o: { seed: number; noise?: LandmarkNoiseOptions; missing?: number }): { joints: Float32Array; confidence: Float32Array } {
  const J = HEATMAP_JOINTS;
  const joints = new Float32Array(examples.length * J * 2);
  const confidence = new Float32Array(examples.length * J);
  examples.forEach((e, i) => {
    const rng = new Rng(exampleSeed(o.seed, e.index));
    if (o.missing !== undefined && rng.next() < o.missing) return; // confidence 0: no heatmap
    const d = detectLandmarkJoints(truth, rng, o.noise, i * J * 2);
    joints.set(d.joints2d, i * J * 2);
    confidence.set(d.confidence, i * J);
  });
  return { joints, confidence };
}

/**
 * The network input of type `input` from a rendered batch (its 12-part class map replaced by
 * `labels12` where given, e.g. corrupted; `seed` and `noise` draw the "landmarks" input's detector
 * mistakes). A new tensor; the batch stays the caller's.
 */
export function fitterInput(synth: SynthBatch, input: FitterInputType, labels12: Tensor = synth.inputs.labels, seed = 0, noise: LandmarkNoiseOptions = {}): Tensor {
  const info = fitterInputInfo(input);
  const size = synth.size;
  if (info.detected && info.parts === null) return detectedJointHeatmaps(synth, seed, noise);
  const partsOf = (g: Granularity) => {
    const labels = g === 12 ? labels12 : synth.inputs.variants[g]?.labels;
    if (!labels) throw new NbfError(`fitter input "${input}": the batch was rendered without its ${g}-part map (generateBatch's granularities)`);
    return partColourMap(labels, g, { scale: FITTER_PART_SCALE, offset: FITTER_PART_OFFSET });
  };
  if (info.rgb) return addScalar(mulScalar(synth.inputs.rgb, 2), -1);
  const heat = !info.joints ? null : info.detected ? detectedJointHeatmaps(synth, seed, noise, PARTS_LANDMARKS_MISSING) : jointHeatmaps(synth.targets.joints2d, size, size, heatmapSigma(size));
  if (info.parts === null) return heat!;
  const parts = partsOf(info.parts);
  if (!heat) return parts;
  try {
    return concat([parts, heat], 3);
  } finally {
    parts.dispose();
    heat.dispose();
  }
}

/**
 * Which recorded examples (index within the file) batch (seed, start) of n reads, or null when the
 * batch keeps the modelled detector: a fixed choice per batch, so a resumed run draws the same.
 */
export function recordedWindow(detections: NonNullable<FitterDataOptions['detections']>, n: number, seed: number, start: number): number | null {
  const { cache, share } = detections;
  if (detections.inOrder) {
    if (start + n > cache.count) throw new NbfError(`fitter data: the detections file holds ${cache.count} examples; records ${start}…${start + n - 1} asked for`);
    return start;
  }
  if (!(share >= 0 && share <= 1)) throw new NbfError(`fitter data: the share of batches with recorded detections must be in [0, 1], got ${share}`);
  if (cache.count < n) throw new NbfError(`fitter data: the detections file holds ${cache.count} examples, fewer than a batch of ${n}`);
  if (exampleSeed(seed ^ 0xde7ec7, start) / 2 ** 32 >= share) return null;
  return exampleSeed(seed ^ 0x3c0de, start) % (cache.count - n + 1);
}

/**
 * Heatmaps [n, S, S, 24] of what the recorded detector found on examples first … first + n − 1 of the
 * file (joints scaled from the file's pictures to S); the modelled detector's view of the true joints
 * (`truth`, n × 24 × 2 px at S) where it found no one.
 */
export function recordedDetectorHeatmaps(rt: Runtime, cache: DetectionCache, first: number, truth: Float32Array, examples: readonly ExampleParams[], size: number, seed: number, noise: LandmarkNoiseOptions = {}): Tensor {
  const J = HEATMAP_JOINTS;
  // The modelled view (detectedJointHeatmaps's stream), then what the detector found over it.
  const { joints, confidence } = simulatedDetectorJoints(truth, examples, { seed: (seed ^ 0x1a4d3a) >>> 0, noise });
  const scale = size / cache.size;
  examples.forEach((_, i) => {
    const found = recordedJoints(cache, first + i);
    if (!found) return;
    for (let k = 0; k < 2 * J; k++) joints[i * J * 2 + k] = found.joints2d[k] * scale;
    confidence.set(found.visibility, i * J);
  });
  return landmarkHeatmaps(rt, joints, confidence, examples.length, size);
}

/** Renders examples start..start+n−1 of a seed as a fitter batch (the caller disposes it). */
export function fitterBatch(rt: Runtime, generator: SynthGenerator, n: number, seed: number, start: number, options: FitterDataOptions): FitterBatch {
  const input = options.input ?? DEFAULT_FITTER_INPUT;
  if (options.corrupt && !corruptibleInput(input)) {
    throw new NbfError(`fitter data: part-map corruption (a segmenter's mistakes on the 12-part map) does not apply to input "${input}" (${fitterInputInfo(input).description}); it needs parts12, parts12+joints or parts12+landmarks`);
  }
  if (options.detections && input !== 'landmarks') throw new NbfError(`fitter data: recorded detections feed input "landmarks", not "${input}"`);
  const window = options.detections ? recordedWindow(options.detections, n, seed, start) : null;
  const cache = options.detections?.cache;
  // A recorded batch draws the file's bodies: same seed and indices, drawn at this batch's size.
  const [drawSeed, drawStart] = window !== null ? [cache!.seed, cache!.start + window] : [seed, start];
  const g = fitterInputInfo(input).parts;
  const granularities = g !== null && g !== 12 ? [g] : [];
  const synth = generator.generateBatch(n, { ...options.sampler, size: options.size, seed: drawSeed, start: drawStart, granularities });
  try {
    return rt.scope(() => {
      const L = latentSize(options);
      const latent = new Float32Array(n * L);
      synth.examples.forEach((e, i) => targetLatent(e, generator.skeleton.parents, options.shapeCount, latent, i * L));
      const fraction = options.has3dFraction ?? 1;
      const has3d = Float32Array.from(synth.examples, (e) => (keeps3d(seed, e.index, fraction) ? 1 : 0));
      const labels = options.corrupt ? options.corrupt(synth.inputs.labels, synth.examples, seed) : synth.inputs.labels;
      const inputs = window !== null
        ? recordedDetectorHeatmaps(rt, cache!, window, synth.targets.joints2d.readSync(), synth.examples, synth.size, drawSeed, options.landmarkNoise)
        : fitterInput(synth, input, labels, seed, options.landmarkNoise);
      return {
        inputs,
        targets: {
          latent: rt.tensor(latent, [n, L]),
          joints3d: rt.view(synth.targets.joints3d, synth.targets.joints3d.shape),
          joints2d: rt.view(synth.targets.joints2d, synth.targets.joints2d.shape),
          has3d: rt.tensor(has3d, [n]),
          has2d: rt.fill([n], 1),
        },
        examples: synth.examples,
      };
    });
  } finally {
    disposeBatch(synth);
  }
}

export function disposeFitterBatch(b: FitterBatch): void {
  b.inputs.dispose();
  for (const t of Object.values(b.targets)) t.dispose();
}

/**
 * A `corrupt` function for FitterDataOptions: each example's class map gets a segmenter's mistakes
 * (src/synth/part-noise.ts) drawn from its own seed, so a batch is reproducible. `strength` scales
 * every effect's rate (1: the defaults; 0: clean maps).
 */
export function partNoiseCorruptor(options: PartNoiseOptions = {}): NonNullable<FitterDataOptions['corrupt']> {
  return (labels, examples, seed) => {
    const n = examples.length;
    const size = labels.shape[2];
    const packed = new Float32Array(n * PART_NOISE_SIZE);
    examples.forEach((e, i) => packPartNoise(samplePartNoise(new Rng(exampleSeed(seed ^ 0x5e9e7, e.index)), size, options), packed, i * PART_NOISE_SIZE));
    return corruptPartLabels(labels, labels.runtime.tensor(packed, [n, PART_NOISE_SIZE]));
  };
}

/** A labels source for the fitter's data (FitterDataOptions.corrupt). */
export type LabelSource = NonNullable<FitterDataOptions['corrupt']>;

/** What the segmenter hook needs of a segmenter (SegmenterNetwork has it). */
export interface SegmenterLike {
  config: { inputSize: number };
  /** RGB [N, S, S, 3] in [0, 1] → class labels [N, S, S, 1]. */
  predict(images: Tensor): Tensor;
}

/**
 * The segmenter's labels in place of the true 12-part maps: the batch's examples rendered again as
 * pictures at the segmenter's input size (the same bodies and cameras: every size-dependent draw of
 * the sampler scales with the size), labelled by the segmenter, resized to the fitter's input by
 * nearest neighbour (as NBF shrinks its segmentation for the fitting network). NBF trains its fitting
 * network on its frozen segmenter's predictions in just this way.
 */
export function segmenterLabelSource(generator: SynthGenerator, segmenter: SegmenterLike, sampler?: Omit<SamplerOptions, 'size'>): LabelSource {
  return (labels, examples, seed) => {
    const n = examples.length;
    const start = examples[0].index;
    if (examples.some((e, i) => e.index !== start + i)) throw new NbfError('segmenter labels: the batch\'s examples are not consecutive');
    const size = segmenter.config.inputSize;
    const synth = generator.generateBatch(n, { ...sampler, size, seed, start });
    try {
      return labels.runtime.scope(() => {
        const predicted = segmenter.predict(synth.inputs.rgb);
        const [, H, W] = labels.shape;
        return predicted.shape[1] === H && predicted.shape[2] === W ? predicted : resizeNearest(predicted, [H, W]);
      });
    } finally {
      disposeBatch(synth);
    }
  };
}

/**
 * `first` for a share of the batches, `second` for the rest: a fixed choice per batch (from the seed
 * and the batch's first example), so a resumed run draws the same.
 */
export function mixedLabelSource(first: LabelSource, second: LabelSource, share: number): LabelSource {
  if (!(share >= 0 && share <= 1)) throw new NbfError(`mixed labels: the share must be in [0, 1], got ${share}`);
  return (labels, examples, seed) => {
    const pick = exampleSeed(seed ^ 0x1abe15, examples[0].index) / 2 ** 32 < share;
    return (pick ? first : second)(labels, examples, seed);
  };
}
