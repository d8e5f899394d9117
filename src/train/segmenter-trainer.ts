/**
 * The segmenter's training loop (`nbf train segmenter`): pictures of synthetic people rendered on the
 * fly with their 13-class maps (segmenter-data.ts), AdamW on the per-pixel softmax cross-entropy
 * (class-weighted), validation on a fixed seed that training never draws with the best weights kept
 * on mIoU over the 12 parts (higher is better), atomic checkpoints, resume, a JSONL log and curves.
 *
 * The loop, the learning-rate schedule (warm-up + plateau decay, or --cosine), checkpoints, resume,
 * the log and the best weights are training-run.ts's, shared with the fitter's trainer; the run
 * directory holds the same files (checkpoint.nbfp, best.nbfw — a segmenter weights file —,
 * log.jsonl, curves.png, config.json).
 *
 * Class weights: 'auto' (default) measures the class frequencies on the first `classWeightBatches`
 * training batches and weights class k by 1/√f_k (segmenter-data.ts); they are recorded in
 * config.json and the checkpoint, and a resumed 'auto' run uses the recorded ones. 'none': plain
 * mean cross-entropy. An array: those weights.
 */
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { valueAndGrad } from '../autodiff/tape.js';
import { SegmenterNetwork, segmenterLoss, segmenterReadsLandmarks, type SegmenterConfig } from '../nn/refinenet.js';
import { assignSegmenterWeights, encodeSegmenterWeights } from '../nn/weights-file.js';
import type { ParamRecord } from '../nn/layers.js';
import type { SynthGenerator } from '../synth/generate.js';
import type { SamplerOptions } from '../synth/sampler.js';
import { evaluateSegmenter, SEGMENTER_CLASS_NAMES, type SegmenterEvaluation } from '../eval/segmenter-eval.js';
import { classPixelCounts, disposeSegmenterBatch, inverseSqrtClassWeights, segmenterBatch, type SegmenterLandmarkOptions } from './segmenter-data.js';
import { renderCurves, smooth } from './curves.js';
import { logPoints, resolveRunSettings, runLog, runTraining, type LogRecord, type TrainingRunOptions } from './training-run.js';

export type ClassWeightsMode = 'auto' | 'none';

export interface TrainSegmenterOptions extends TrainingRunOptions {
  config: SegmenterConfig;
  /** 'auto' (default): inverse-sqrt frequency on the first batches; 'none'; or one weight per class. */
  classWeights?: ClassWeightsMode | readonly number[];
  /** Training batches the 'auto' weights are measured on (default 8). */
  classWeightBatches?: number;
  /**
   * How pictures are drawn: `sampler` for training and validation; `trainingSampler` is laid over it
   * for the training batches only, so a drawing added to a run later (e.g. close-ups) leaves its
   * validation set, and so its best-so-far, comparable.
   */
  data?: { sampler?: Omit<SamplerOptions, 'size'>; trainingSampler?: Omit<SamplerOptions, 'size'> };
  /** Examples per validation batch (default 16). */
  valBatch?: number;
  /** Called with each validation (tests). */
  onValidation?: (v: SegmenterEvaluation & { step: number }) => void;
  /**
   * A segmenter weights file to start from (`--init`) instead of a random initialisation: the same
   * configuration, or the same reading landmarks too (assignSegmenterWeights: the new input
   * channels start at zero). The optimizer starts afresh.
   */
  init?: { bytes: Uint8Array; path: string };
  /** For a segmenter that reads landmarks: the simulated detector's mistakes (training and validation). */
  landmarks?: SegmenterLandmarkOptions;
}

export interface TrainSegmenterResult {
  step: number;
  best: { step: number; mIoU: number } | null;
  lastValidation: (SegmenterEvaluation & { step: number }) | null;
  secondsThisRun: number;
}

const LABEL = 'train segmenter';
const percent = (x: number) => `${(x * 100).toFixed(1)} %`;

/**
 * Trains (or resumes) a segmenter; resolves when the time or step budget is spent or `shouldStop`
 * says so. Defaults: batch 8, lr 1e-3, 256 validation pictures, class weights 'auto'.
 */
export async function trainSegmenter(rt: Runtime, generator: SynthGenerator, o: TrainSegmenterOptions): Promise<TrainSegmenterResult> {
  const s = resolveRunSettings(LABEL, o, { batch: 8, lr: 1e-3, valCount: 256 });
  const mode = o.classWeights ?? 'auto';
  const K = o.config.classes;
  if (Array.isArray(mode) && mode.length !== K) throw new NbfError(`${LABEL}: ${mode.length} class weights for ${K} classes`);
  if (typeof mode === 'string' && mode !== 'auto' && mode !== 'none') throw new NbfError(`${LABEL}: class weights must be 'auto', 'none' or ${K} numbers, got ${JSON.stringify(mode)}`);
  const size = o.config.inputSize;
  const landmarks = segmenterReadsLandmarks(o.config) ? (o.landmarks ?? {}) : undefined;
  const data = { size, sampler: o.data?.sampler, landmarks };
  const trainingData = { size, sampler: { ...o.data?.sampler, ...o.data?.trainingSampler }, landmarks };
  const log = runLog(o);
  const measureBatches = o.classWeightBatches ?? 8;
  let classWeights: number[] | undefined = Array.isArray(mode) ? [...mode] : undefined;
  const trainingOptions: Record<string, unknown> = {};
  const record = () => {
    trainingOptions.classWeightsMode = Array.isArray(mode) ? 'given' : mode;
    trainingOptions.classWeights = classWeights ?? null;
    // The latest sitting's drawing (a resume may change it).
    trainingOptions.sampler = o.data?.sampler ?? {};
    trainingOptions.trainingSampler = o.data?.trainingSampler ?? {};
    if (landmarks) trainingOptions.landmarks = landmarks;
    if (o.init) trainingOptions.init = o.init.path;
  };
  const measure = () => {
    const count = measureBatches * s.batch;
    const counts = classPixelCounts(rt, generator, { ...data, seed: s.seed, count, batch: s.batch, classes: K });
    classWeights = inverseSqrtClassWeights(counts);
    const names = SEGMENTER_CLASS_NAMES;
    log(`${LABEL}: class weights (1/√frequency over the first ${count} training pictures): ${classWeights.map((w, k) => `${names[k] ?? k} ${w.toFixed(2)}`).join(', ')}`);
  };

  const net = new SegmenterNetwork(rt, o.config, { seed: o.initSeed ?? 0 });
  try {
    // Loaded before the run folder is made: a file of another configuration is refused with nothing written.
    if (o.init) {
      const loaded = assignSegmenterWeights(net, o.init.bytes, o.init.path);
      if (loaded.widened.length) log(`${LABEL}: ${o.init.path} reads ${loaded.config.input ?? 'rgb'}; this run reads ${o.config.input ?? 'rgb'}: ${loaded.widened.join(', ')} take the file's weights for its channels and zeros for the new ones`);
    }
    const result = await runTraining<SegmenterEvaluation>({
      label: LABEL,
      network: net,
      metric: { key: 'mIoU', name: 'mIoU', better: 'higher', format: percent },
      trainingOptions,
      initialise: () => {
        if (mode === 'auto') measure();
        record();
      },
      restore: (saved) => {
        const recorded = saved.options?.classWeights;
        if (mode === 'auto') {
          if (Array.isArray(recorded) && recorded.length === K) classWeights = recorded as number[];
          else measure();
        }
        record();
      },
      trainStep: (step, optimizer) => {
        const b = segmenterBatch(rt, generator, s.batch, s.seed, step * s.batch, trainingData);
        let loss: number;
        try {
          const { value, grads } = valueAndGrad((params: ParamRecord) => segmenterLoss(net.forward(params, b.images, true, { landmarks: b.landmarks ?? undefined }), b.labels, { classWeights }))(net.params.toRecord());
          try {
            optimizer.step(net.params, grads);
          } finally {
            for (const g of Object.values(grads)) g.dispose();
          }
          loss = value.readSync()[0];
          value.dispose();
        } finally {
          disposeSegmenterBatch(b);
        }
        return { loss };
      },
      validate: () => evaluateSegmenter(rt, net, generator, { seed: s.valSeed, count: s.valCount, batch: o.valBatch ?? 16, classWeights, sampler: data.sampler, landmarks }),
      describeValidation: (v) => `loss ${v.summary.loss.toFixed(4)}, mIoU ${percent(v.summary.mIoU)}, foreground IoU ${percent(v.summary.foregroundIoU)}, pixel accuracy ${percent(v.summary.pixelAccuracy)} (all background: ${percent(v.baseline.pixelAccuracy)})`,
      encodeBest: (info) => encodeSegmenterWeights(net, { info }),
      curves: (history, v) => curvesPng(history, v.baseline),
      onValidation: o.onValidation,
    }, o, s);
    return result as TrainSegmenterResult;
  } finally {
    net.dispose();
  }
}

function curvesPng(history: LogRecord[], baseline: { pixelAccuracy: number }): Uint8Array {
  const train = history.filter((r) => r.type === 'train');
  const val = history.filter((r) => r.type === 'val');
  const lastStep = Math.max(1, ...history.map((r) => r.step));
  return renderCurves([
    {
      title: 'loss (class-weighted cross-entropy)', logY: true,
      series: [{ name: 'train', lineWidth: 1, points: logPoints(train, 'loss') }, { name: 'train (mean of 20)', points: smooth(logPoints(train, 'loss'), 20) }, { name: 'validation', points: logPoints(val, 'loss') }],
    },
    {
      title: 'validation (%)',
      series: [
        { name: 'mIoU (12 parts)', points: logPoints(val, 'mIoU', 100) },
        { name: 'foreground IoU', points: logPoints(val, 'foregroundIoU', 100) },
        { name: 'pixel accuracy', points: logPoints(val, 'pixelAccuracy', 100) },
        { name: 'all background: accuracy', dashed: true, points: [[0, baseline.pixelAccuracy * 100], [lastStep, baseline.pixelAccuracy * 100]] },
      ],
    },
  ], { title: 'nbf train segmenter' });
}
