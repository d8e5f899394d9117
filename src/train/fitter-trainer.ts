/**
 * The fitting network's training loop (`nbf train fitter`): on-the-fly synthetic batches, Adam(W),
 * periodic validation on a fixed seed that training never draws, the best weights kept, atomic
 * checkpoints with the optimizer state, resume, a JSONL log and a PNG of the curves.
 *
 * Run directory (--out):
 *   checkpoint.nbfp   latest resumable state (parameters, Adam moments, buffers, step, schedule)
 *   best.nbfw         weights of the best validation PA-MPJPE so far (fp16, a weights file)
 *   log.jsonl         one JSON object per logged step ("train") and per validation ("val")
 *   curves.png        training loss, validation loss and errors (with the mean-pose baseline)
 *   config.json       the network and training options
 *
 * Determinism: step k trains on examples k·batch … k·batch + batch − 1 of the training seed, and
 * everything a step depends on is in the checkpoint, so a resumed run continues exactly where an
 * uninterrupted one would be.
 *
 * Learning rate: a linear warm-up, then `lr`, multiplied by `decay` whenever `patience` validations
 * in a row have not improved the best PA-MPJPE (the factor is saved with the checkpoint); or, with
 * `cosine`, a half-cosine annealing to a step target (saved too, so a resume follows the same curve).
 *
 * The loop, the schedule, checkpoints, resume, the log and the best weights are training-run.ts's
 * (shared with the segmenter's trainer); this file supplies the fitter's batches, loss, validation
 * and curves.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { valueAndGrad } from '../autodiff/tape.js';
import { concat as concatPlain } from '../kernels/concat.js';
import { reshape as reshapePlain } from '../kernels/reshape.js';
import { FitterNetwork, type FitterConfig } from '../nn/fitter.js';
import { fitterInputType } from '../nn/fitter-inputs.js';
import { DEFAULT_FITTER_LOSS, fitterLoss, type FitterLossWeights } from '../nn/fitter-loss.js';
import { assignFitterWeights, encodeFitterWeights } from '../nn/weights-file.js';
import type { ParamRecord } from '../nn/layers.js';
import type { SynthGenerator } from '../synth/generate.js';
import type { DetectionCache } from './detection-cache.js';
import { disposeFitterBatch, fitterBatch, meanLatent, type FitterDataOptions, type LabelSource } from './fitter-data.js';
import { evaluateFitter, type FitterEvaluation } from '../eval/fitter-eval.js';
import { renderCurves, smooth } from './curves.js';
import { logPoints, resolveRunSettings, runLog, runTraining, type LogRecord, type TrainingRunOptions } from './training-run.js';

export { CHECKPOINT_FILE, BEST_FILE, LAST_FILE, LOG_FILE, CURVES_FILE, type ProgressInfo } from './training-run.js';

export interface TrainFitterOptions extends TrainingRunOptions {
  config: FitterConfig;
  loss?: FitterLossWeights;
  /** Data options; the input type is the configuration's. */
  data?: Omit<FitterDataOptions, 'size' | 'shapeCount' | 'input'>;
  /** Examples the mean latent is computed from (default 4096). */
  meanCount?: number;
  /**
   * A new run starts from these trained weights (parameters, buffers and mean latent; the same
   * configuration, or the same network reading another input: then the tensors whose shape follows
   * the input, the stem's filters, keep their random initialisation) instead of a random
   * initialisation; the optimizer starts afresh.
   */
  init?: { bytes: Uint8Array; path: string };
  /**
   * The 12-part maps validation reads (e.g. the segmenter's labels, when training reads them too);
   * default: the true maps.
   */
  validationLabels?: LabelSource;
  /**
   * Validate on a real detector's joints (train/detection-cache.ts, recorded on validation bodies)
   * instead of the modelled detector's on valSeed's: its first valCount records.
   */
  validationDetections?: DetectionCache;
  /** Extra facts recorded with the training options (config.json, checkpoints, best weights' info). */
  record?: Record<string, unknown>;
  /** Called with each validation (tests). */
  onValidation?: (v: FitterEvaluation & { step: number }) => void;
}

export interface TrainResult {
  step: number;
  best: { step: number; paMpjpe: number } | null;
  lastValidation: (FitterEvaluation & { step: number }) | null;
  secondsThisRun: number;
}

/**
 * Trains (or resumes) a fitter; resolves when the time or step budget is spent or `shouldStop` says
 * so (training-run.ts runs the loop; this supplies the batches, the loss, the validation and the curves).
 * Defaults: batch 16, lr 1e-3, 512 validation examples; the best weights are kept on PA-MPJPE.
 */
export async function trainFitter(rt: Runtime, generator: SynthGenerator, o: TrainFitterOptions): Promise<TrainResult> {
  const s = resolveRunSettings('train fitter', o, { batch: 16, lr: 1e-3, valCount: 512 });
  const loss = o.loss ?? DEFAULT_FITTER_LOSS;
  const size = o.config.inputSize;
  const shapeCount = o.config.shapeCount;
  const data: FitterDataOptions = { ...o.data, size, shapeCount, input: fitterInputType(o.config) };
  const net = new FitterNetwork(rt, o.config, { seed: o.initSeed ?? 0 });
  try {
    // Trained weights are loaded before the run folder is made: a file of another configuration is
    // refused with nothing written.
    if (o.init) {
      // Weights of the same network reading another input start it too (the stem's filters fresh, or
      // widened with zeros for an input that extends the file's).
      const loaded = assignFitterWeights(net, o.init.bytes, o.init.path, { acrossInputs: true });
      if (loaded.reinitialised.length) {
        runLog(o)(`train fitter: ${o.init.path} reads ${fitterInputType(loaded.config)}; this run reads ${fitterInputType(o.config)}: ${loaded.reinitialised.join(', ')} start afresh, the rest from the file`);
      }
      if (loaded.widened.length) {
        runLog(o)(`train fitter: ${o.init.path} reads ${fitterInputType(loaded.config)}; this run reads ${fitterInputType(o.config)}: ${loaded.widened.join(', ')} take the file's weights for its channels and zeros for the new ones`);
      }
    }
    const result = await runTraining<FitterEvaluation>({
      label: 'train fitter',
      network: net,
      metric: { key: 'paMpjpe', name: 'PA-MPJPE', better: 'lower', format: (v) => `${(v * 1000).toFixed(1)} mm` },
      trainingOptions: { ...o.record, loss, has3dFraction: data.has3dFraction ?? 1 },
      initialise: () => {
        if (!o.init) net.setMeanLatent(meanLatent(generator, { size, shapeCount, seed: s.seed, count: o.meanCount ?? 4096, sampler: data.sampler }));
      },
      trainStep: (step, optimizer) => {
        const b = fitterBatch(rt, generator, s.batch, s.seed, step * s.batch, data);
        let termsOut: Tensor | null = null;
        let value: Tensor;
        try {
          const { value: v, grads } = valueAndGrad((params: ParamRecord) => {
            const prediction = net.forward(params, b.inputs, true);
            const body = loss.joints3d > 0 || loss.joints2d > 0 ? net.body(generator.gpuModel, prediction) : null;
            const l = fitterLoss(prediction, body, b.targets, size, loss);
            const parts = [l.terms.params, l.terms.joints3d, l.terms.joints2d].map((t) => (t ? reshapePlain(t, [1]) : rt.fill([1], -1)));
            termsOut = rt.keep(concatPlain(parts, 0));
            return l.total;
          })(net.params.toRecord());
          value = v;
          try {
            optimizer.step(net.params, grads);
          } finally {
            for (const g of Object.values(grads)) g.dispose();
          }
        } finally {
          disposeFitterBatch(b);
        }
        const lossValue = value.readSync()[0];
        value.dispose();
        const terms = termsOut ? Array.from((termsOut as Tensor).readSync()) : [];
        (termsOut as Tensor | null)?.dispose();
        return { loss: lossValue, fields: { params: terms[0] >= 0 ? terms[0] : null, joints3d: terms[1] >= 0 ? terms[1] : null, joints2d: terms[2] >= 0 ? terms[2] : null } };
      },
      validate: () => evaluateFitter(rt, net, generator, { seed: s.valSeed, count: o.validationDetections ? Math.min(s.valCount, o.validationDetections.count) : s.valCount, batch: 32, loss, sampler: data.sampler, corrupt: o.validationLabels, detections: o.validationDetections }),
      describeValidation: (v) => `${o.validationDetections ? `${o.validationDetections.detector}'s recorded joints, ` : ''}loss ${v.summary.loss.toFixed(4)}, MPJPE ${(v.summary.mpjpe * 1000).toFixed(1)} mm, PA-MPJPE ${(v.summary.paMpjpe * 1000).toFixed(1)} mm, 2D ${v.summary.joint2dPx.toFixed(2)} px (mean pose: ${(v.baseline.mpjpe * 1000).toFixed(1)} / ${(v.baseline.paMpjpe * 1000).toFixed(1)} mm, ${v.baseline.joint2dPx.toFixed(2)} px)`,
      encodeBest: (info) => encodeFitterWeights(net, { info }),
      curves: (history, v) => curvesPng(history, v.baseline),
      onValidation: o.onValidation,
    }, o, s);
    return result as TrainResult;
  } finally {
    net.dispose();
  }
}

function curvesPng(history: LogRecord[], baseline: { mpjpe: number; paMpjpe: number }): Uint8Array {
  const train = history.filter((r) => r.type === 'train');
  const val = history.filter((r) => r.type === 'val');
  const pts = logPoints;
  const lastStep = Math.max(1, ...history.map((r) => r.step));
  return renderCurves([
    {
      title: 'loss', logY: true,
      series: [{ name: 'train', lineWidth: 1, points: pts(train, 'loss') }, { name: 'train (mean of 20)', points: smooth(pts(train, 'loss'), 20) }, { name: 'validation', points: pts(val, 'loss') }],
    },
    {
      title: 'validation error (mm)',
      series: [
        { name: 'MPJPE', points: pts(val, 'mpjpe', 1000) },
        { name: 'PA-MPJPE', points: pts(val, 'paMpjpe', 1000) },
        { name: 'mean pose MPJPE', dashed: true, points: [[0, baseline.mpjpe * 1000], [lastStep, baseline.mpjpe * 1000]] },
        { name: 'mean pose PA-MPJPE', dashed: true, points: [[0, baseline.paMpjpe * 1000], [lastStep, baseline.paMpjpe * 1000]] },
      ],
    },
  ], { title: 'nbf train fitter' });
}
