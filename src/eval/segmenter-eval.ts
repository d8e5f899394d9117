/**
 * Evaluation of a segmenter on synthetic people (`nbf eval segmenter`, and the trainer's
 * validation): examples 0..count−1 of a seed rendered as pictures with their true class maps, the
 * network's labels (argmax) counted into a 13×13 confusion matrix (rows: truth, columns:
 * prediction), and from it:
 *
 *   mIoU            mean over NBF's 12 parts of IoU_k = TP_k / (TP_k + FP_k + FN_k); a part that is
 *                   neither in the truth nor predicted anywhere in the set is left out of the mean
 *   foreground IoU  person vs background: every part merged into one class
 *   pixel accuracy  correctly labelled pixels / all pixels (background included)
 *   per-class IoU   the 13 IoUs, background first (null in JSON where undefined)
 *   loss            the training loss (softmax cross-entropy, class-weighted as in training)
 *
 * Every number comes with the trivial predictor's on the same pixels: every pixel background (mIoU
 * and foreground IoU 0, pixel accuracy = the background's share) — the floor any network must beat.
 * confusion-png.ts draws the row-normalised matrix with labelled rows and columns (Node: pngjs).
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import type { SynthGenerator } from '../synth/generate.js';
import type { SamplerOptions } from '../synth/sampler.js';
import { NBF_PARTS } from '../smpl/types.js';
import { predictLabels, segmenterLoss, type SegmenterNetwork } from '../nn/refinenet.js';
import { disposeSegmenterBatch, segmenterBatch, type SegmenterLandmarkOptions } from '../train/segmenter-data.js';

/** Class names, background first (NBF_PARTS). */
export const SEGMENTER_CLASS_NAMES: readonly string[] = NBF_PARTS.map((p) => p.name);

export interface SegmentationMetrics {
  /** Mean IoU over the parts (classes 1..K−1) that occur in the truth or the prediction. */
  mIoU: number;
  foregroundIoU: number;
  pixelAccuracy: number;
  /** IoU per class, background first; NaN where the class is in neither truth nor prediction. */
  perClassIoU: number[];
  /** Share of the pixels per class in the truth. */
  frequency: number[];
  pixels: number;
}

/** Adds truth/prediction label pairs (class indices as floats; others ignored) to a K×K confusion matrix (rows: truth). */
export function accumulateConfusion(confusion: Float64Array, truth: ArrayLike<number>, prediction: ArrayLike<number>, K: number): void {
  if (confusion.length !== K * K) throw new NbfError(`accumulateConfusion: a ${K}×${K} matrix needs ${K * K} entries, got ${confusion.length}`);
  if (truth.length !== prediction.length) throw new NbfError(`accumulateConfusion: ${truth.length} true labels, ${prediction.length} predicted`);
  for (let i = 0; i < truth.length; i++) {
    const t = truth[i];
    const p = prediction[i];
    if (t >= 0 && t < K && p >= 0 && p < K && Number.isInteger(t) && Number.isInteger(p)) confusion[t * K + p]++;
  }
}

/** The metrics of a K×K confusion matrix (rows: truth, columns: prediction; class 0 the background). */
export function confusionMetrics(confusion: ArrayLike<number>, K: number): SegmentationMetrics {
  if (confusion.length !== K * K) throw new NbfError(`confusionMetrics: a ${K}×${K} matrix needs ${K * K} entries, got ${confusion.length}`);
  const row = new Float64Array(K);
  const col = new Float64Array(K);
  let total = 0;
  let correct = 0;
  for (let t = 0; t < K; t++) {
    for (let p = 0; p < K; p++) {
      const c = confusion[t * K + p];
      row[t] += c;
      col[p] += c;
      total += c;
      if (t === p) correct += c;
    }
  }
  const perClassIoU = Array.from({ length: K }, (_, k) => {
    const tp = confusion[k * K + k];
    const union = row[k] + col[k] - tp;
    return union > 0 ? tp / union : NaN;
  });
  const parts = perClassIoU.slice(1).filter((v) => !Number.isNaN(v));
  // Person vs background: TP = part pixels predicted as any part.
  const fgTp = total - row[0] - col[0] + confusion[0];
  const fgUnion = total - confusion[0];
  return {
    mIoU: parts.length ? parts.reduce((a, v) => a + v, 0) / parts.length : NaN,
    foregroundIoU: fgUnion > 0 ? fgTp / fgUnion : NaN,
    pixelAccuracy: total > 0 ? correct / total : NaN,
    perClassIoU,
    frequency: Array.from(row, (r) => (total > 0 ? r / total : NaN)),
    pixels: total,
  };
}

/** The confusion matrix of the trivial predictor (every pixel background) on the same truth. */
export function allBackgroundConfusion(confusion: ArrayLike<number>, K: number): Float64Array {
  const out = new Float64Array(K * K);
  for (let t = 0; t < K; t++) for (let p = 0; p < K; p++) out[t * K] += confusion[t * K + p];
  return out;
}

export interface SegmenterEvalOptions {
  seed: number;
  count: number;
  batch?: number;
  /** The loss's class weights (as in training); default unweighted. */
  classWeights?: ArrayLike<number>;
  sampler?: Omit<SamplerOptions, 'size'>;
  /** Called after each batch with the examples done. */
  progress?: (done: number, total: number) => void;
  /**
   * For a segmenter that reads landmarks: the detector's simulated mistakes on the true joints
   * (as in training; the default), or a function that gives the heatmaps [n, S, S, 24] of a batch's
   * pictures [n, S, S, 3] (a real detector: BlazePose on each picture).
   */
  landmarks?: SegmenterLandmarkOptions | ((images: Tensor) => Tensor);
  /** Read each picture twice, as it is and mirrored (SegmenterNetwork.inferLogits). */
  mirror?: boolean;
}

export interface SegmenterSummary {
  loss: number;
  mIoU: number;
  foregroundIoU: number;
  pixelAccuracy: number;
}

export interface SegmenterEvaluation {
  summary: SegmenterSummary;
  /** Every pixel background. */
  baseline: Omit<SegmenterSummary, 'loss'>;
  metrics: SegmentationMetrics;
  baselineMetrics: SegmentationMetrics;
  /** K×K counts, row-major, rows: truth, columns: prediction. */
  confusion: Float64Array;
  classes: number;
  count: number;
}

const pick = (m: SegmentationMetrics) => ({ mIoU: m.mIoU, foregroundIoU: m.foregroundIoU, pixelAccuracy: m.pixelAccuracy });

/** Evaluates a segmenter at its configuration's input size on examples 0..count−1 of a seed. */
export function evaluateSegmenter(rt: Runtime, net: SegmenterNetwork, generator: SynthGenerator, o: SegmenterEvalOptions): SegmenterEvaluation {
  const batchSize = o.batch ?? 16;
  const K = net.config.classes;
  const size = net.config.inputSize;
  const confusion = new Float64Array(K * K);
  let lossSum = 0;
  const source = o.landmarks;
  const simulated = net.readsLandmarks && typeof source !== 'function' ? (source ?? {}) : undefined;
  for (let start = 0; start < o.count; start += batchSize) {
    const n = Math.min(batchSize, o.count - start);
    const b = segmenterBatch(rt, generator, n, o.seed, start, { size, sampler: o.sampler, landmarks: simulated });
    try {
      const r = rt.scope(() => {
        const landmarks = net.readsLandmarks && typeof source === 'function' ? source(b.images) : b.landmarks ?? undefined;
        const logits = net.inferLogits(b.images, landmarks, { mirror: o.mirror });
        return {
          loss: segmenterLoss(logits, b.labels, { classWeights: o.classWeights }).readSync()[0],
          predicted: predictLabels(logits).readSync(),
          truth: b.labels.readSync(),
        };
      });
      lossSum += r.loss * n;
      accumulateConfusion(confusion, r.truth, r.predicted, K);
    } finally {
      disposeSegmenterBatch(b);
    }
    o.progress?.(Math.min(start + n, o.count), o.count);
  }
  const metrics = confusionMetrics(confusion, K);
  const baselineMetrics = confusionMetrics(allBackgroundConfusion(confusion, K), K);
  return {
    summary: { loss: lossSum / o.count, ...pick(metrics) },
    baseline: pick(baselineMetrics),
    metrics,
    baselineMetrics,
    confusion,
    classes: K,
    count: o.count,
  };
}

/** Row-normalised matrix (each truth row sums to 1; an empty row stays 0). */
export function rowNormalise(confusion: ArrayLike<number>, K: number): Float64Array {
  const out = new Float64Array(K * K);
  for (let t = 0; t < K; t++) {
    let sum = 0;
    for (let p = 0; p < K; p++) sum += confusion[t * K + p];
    if (sum > 0) for (let p = 0; p < K; p++) out[t * K + p] = confusion[t * K + p] / sum;
  }
  return out;
}
