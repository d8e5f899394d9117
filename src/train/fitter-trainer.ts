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
 */
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { valueAndGrad } from '../autodiff/tape.js';
import { concat as concatPlain } from '../kernels/concat.js';
import { reshape as reshapePlain } from '../kernels/reshape.js';
import { adamw } from '../optim/optimizers.js';
import { loadCheckpoint, saveCheckpoint } from '../optim/checkpoint.js';
import { FitterNetwork, type FitterConfig } from '../nn/fitter.js';
import { DEFAULT_FITTER_LOSS, fitterLoss, type FitterLossWeights } from '../nn/fitter-loss.js';
import { encodeFitterWeights } from '../nn/weights-file.js';
import type { ParamRecord } from '../nn/layers.js';
import type { SynthGenerator } from '../synth/generate.js';
import { writeFilesAtomically } from '../cli/atomic-write.js';
import { disposeFitterBatch, fitterBatch, meanLatent, type FitterDataOptions } from './fitter-data.js';
import { evaluateFitter, type FitterEvaluation } from '../eval/fitter-eval.js';
import { renderCurves, smooth } from './curves.js';

export interface TrainFitterOptions {
  config: FitterConfig;
  /** Run directory. */
  out: string;
  batch?: number;
  lr?: number;
  /** AdamW's decoupled weight decay (default 1e-4). */
  weightDecay?: number;
  warmupSteps?: number;
  /** LR factor after `patience` validations without improvement (default 0.3, patience 3). */
  decay?: number;
  patience?: number;
  /** Stop after this many minutes of this invocation, or at this total step (whichever first). */
  minutes?: number;
  steps?: number;
  /**
   * Anneal the learning rate along a half cosine from `lr` down to `lr / 100`, from the step this
   * run (or resume) starts at to `steps` — a warm restart when resuming a run whose rate had decayed.
   * Plateau decay is off while annealing. A resumed run that was annealing towards the same `steps`
   * goes on along the same curve.
   */
  cosine?: boolean;
  resume?: boolean;
  /** Training data seed (default 1) and validation seed (default 900001: never drawn by training). */
  seed?: number;
  valSeed?: number;
  valCount?: number;
  /** Minutes between validations and between checkpoints (defaults 10 and 5). */
  valEveryMinutes?: number;
  checkpointEveryMinutes?: number;
  /** Validate every this many steps instead (tests, small runs). */
  valEverySteps?: number;
  loss?: FitterLossWeights;
  data?: Omit<FitterDataOptions, 'size' | 'shapeCount'>;
  /** Examples the mean latent is computed from (default 4096). */
  meanCount?: number;
  /** Initialisation seed (default 0). */
  initSeed?: number;
  /** Progress output: a TTY bar or plain lines (default: stderr, TTY-aware). */
  progress?: (p: ProgressInfo) => void;
  /** Logged lines (validations, checkpoints). */
  log?: (line: string) => void;
  /** Polled after every step: true ends the run as if its budget were spent (final validation and checkpoint). */
  shouldStop?: () => boolean;
  /** Validate before the first step of a new run (the curves' starting point; default true). */
  validateAtStart?: boolean;
  /** Called with each validation (tests). */
  onValidation?: (v: FitterEvaluation & { step: number }) => void;
}

export interface ProgressInfo {
  step: number;
  targetStep: number | null;
  samplesPerSecond: number;
  loss: number;
  etaSeconds: number | null;
  lr: number;
}

export interface TrainResult {
  step: number;
  best: { step: number; paMpjpe: number } | null;
  lastValidation: (FitterEvaluation & { step: number }) | null;
  secondsThisRun: number;
}

interface RunState {
  lrScale: number;
  /** The cosine annealing in progress, if any: from step `from` (rate `lr`) to step `to` (rate lr/100). */
  cosine?: { from: number; to: number; lr: number } | null;
  stale: number;
  best: { step: number; paMpjpe: number } | null;
  seconds: number;
  samples: number;
  buffers: { name: string; shape: number[]; data: number[] }[];
  options: Record<string, unknown>;
}

export const CHECKPOINT_FILE = 'checkpoint.nbfp';
export const BEST_FILE = 'best.nbfw';
export const LOG_FILE = 'log.jsonl';
export const CURVES_FILE = 'curves.png';

/** Lets pending events (a signal's handler, timers) run between steps. */
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Trains (or resumes) a fitter; resolves when the time or step budget is spent or `shouldStop` says
 * so. Async only to yield to the event loop after every step, so that signal handlers run.
 */
export async function trainFitter(rt: Runtime, generator: SynthGenerator, o: TrainFitterOptions): Promise<TrainResult> {
  const batch = o.batch ?? 16;
  const lr = o.lr ?? 1e-3;
  const warmup = o.warmupSteps ?? 300;
  const decay = o.decay ?? 0.3;
  const patience = o.patience ?? 3;
  const seed = o.seed ?? 1;
  const valSeed = o.valSeed ?? 900001;
  const valCount = o.valCount ?? 512;
  if (seed === valSeed) throw new NbfError(`train fitter: the training seed and the validation seed are both ${seed}; validation must use examples training never draws`);
  if (!Number.isInteger(batch) || batch < 2) throw new NbfError(`train fitter: batch must be an integer ≥ 2 (batch norm), got ${batch}`);
  const loss = o.loss ?? DEFAULT_FITTER_LOSS;
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const size = o.config.inputSize;
  const shapeCount = o.config.shapeCount;
  const data: FitterDataOptions = { ...o.data, size, shapeCount };
  mkdirSync(o.out, { recursive: true });
  const checkpointPath = join(o.out, CHECKPOINT_FILE);
  const resuming = !!o.resume && existsSync(checkpointPath);
  if (!o.resume && existsSync(checkpointPath)) {
    throw new NbfError(`train fitter: ${checkpointPath} exists; pass --resume to continue that run, or choose another --out`);
  }

  const state: RunState = { lrScale: 1, stale: 0, best: null, seconds: 0, samples: 0, buffers: [], options: { batch, lr, weightDecay: o.weightDecay ?? 1e-4, warmup, decay, patience, seed, valSeed, valCount, loss, has3dFraction: data.has3dFraction ?? 1 } };
  const net = new FitterNetwork(rt, o.config, { seed: o.initSeed ?? 0 });
  const optimizer = adamw({ lr: (optimizerStep) => scheduledLr(optimizerStep), weightDecay: o.weightDecay ?? 1e-4, beta1: 0.9, beta2: 0.999 });
  let step = 0;
  const scheduledLr = (at: number) => {
    const c = state.cosine;
    if (c) {
      const t = Math.min(1, Math.max(0, (at - c.from) / Math.max(1, c.to - c.from)));
      return c.lr * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
    return lr * state.lrScale * Math.min(1, (at + 1) / warmup);
  };
  try {
    if (resuming) {
      const restored = loadCheckpoint(readFileSync(checkpointPath), { params: net.params, optimizer }, checkpointPath);
      const extra = restored.extra as RunState & { config: FitterConfig };
      if (JSON.stringify(extra.config) !== JSON.stringify(net.config)) {
        throw new NbfError(`train fitter: ${checkpointPath} was trained with another network configuration (${extra.config?.name}); resume with the same --config`);
      }
      Object.assign(state, { lrScale: extra.lrScale, stale: extra.stale, best: extra.best, seconds: extra.seconds, samples: extra.samples, cosine: extra.cosine ?? null });
      net.buffers.assign(extra.buffers.map((b) => ({ name: b.name, shape: b.shape, data: Float32Array.from(b.data) })), `${checkpointPath} (buffers)`);
      step = restored.step;
      log(`train fitter: resumed ${checkpointPath} at step ${step} (${(state.seconds / 3600).toFixed(2)} h trained, best PA-MPJPE ${state.best ? (state.best.paMpjpe * 1000).toFixed(1) + ' mm' : '—'})`);
    } else {
      const mean = meanLatent(generator, { size, shapeCount, seed, count: o.meanCount ?? 4096, sampler: data.sampler });
      net.setMeanLatent(mean);
      writeFilesAtomically([{ path: join(o.out, 'config.json'), data: JSON.stringify({ config: net.config, training: state.options }, null, 2) + '\n' }]);
    }

    if (o.cosine) {
      if (o.steps === undefined || o.steps <= step) throw new NbfError(`train fitter: cosine annealing needs a --steps target beyond the current step ${step}`);
      const c = state.cosine;
      if (!c || c.to !== o.steps || c.lr !== lr) {
        state.cosine = { from: step, to: o.steps, lr };
        log(`train fitter: cosine annealing of the learning rate from ${lr.toExponential(1)} at step ${step} to ${(lr / 100).toExponential(1)} at step ${o.steps}`);
      }
    } else if (state.cosine) {
      state.cosine = null;
      log('train fitter: this run does not anneal; the earlier cosine schedule is dropped');
    }

    const saveCheckpointNow = () => {
      state.buffers = net.buffers.readAll().map((b) => ({ name: b.name, shape: b.shape, data: Array.from(b.data) }));
      const bytes = saveCheckpoint({ params: net.params, optimizer, step, extra: { ...state, config: net.config } });
      writeFilesAtomically([{ path: checkpointPath, data: bytes }]);
    };

    const history = readLog(join(o.out, LOG_FILE));
    const t0 = performance.now();
    const secondsAtStart = state.seconds;
    const deadline = o.minutes !== undefined ? t0 + o.minutes * 60_000 : Infinity;
    const targetStep = o.steps ?? null;
    let lastCheckpoint = t0;
    let lastValidation = t0;
    let lastVal = null as TrainResult['lastValidation'];
    let windowStart = performance.now();
    let windowSamples = 0;
    const lossTrace: number[] = [];

    const validate = () => {
      const v = evaluateFitter(rt, net, generator, { seed: valSeed, count: valCount, batch: 32, loss, sampler: data.sampler });
      const record = { type: 'val', step, hours: state.seconds / 3600, ...v.summary };
      appendFileSync(join(o.out, LOG_FILE), JSON.stringify(record) + '\n');
      history.push(record);
      const pa = v.summary.paMpjpe;
      const improved = !state.best || pa < state.best.paMpjpe;
      if (improved) {
        state.best = { step, paMpjpe: pa };
        state.stale = 0;
        const info = { step, hours: Number((state.seconds / 3600).toFixed(3)), samples: state.samples, validation: { seed: valSeed, count: valCount, ...v.summary }, training: state.options };
        writeFilesAtomically([{ path: join(o.out, BEST_FILE), data: encodeFitterWeights(net, { info }) }]);
      } else if (!state.cosine && ++state.stale >= patience) {
        state.lrScale = Math.max(state.lrScale * decay, 1e-3);
        state.stale = 0;
        log(`train fitter: no improvement in ${patience} validations; learning rate × ${decay} → ${(lr * state.lrScale).toExponential(2)}`);
      }
      log(`train fitter: step ${step} validation (${valCount} samples, seed ${valSeed}): loss ${v.summary.loss.toFixed(4)}, MPJPE ${(v.summary.mpjpe * 1000).toFixed(1)} mm, PA-MPJPE ${(pa * 1000).toFixed(1)} mm, 2D ${v.summary.joint2dPx.toFixed(2)} px (mean pose: ${(v.baseline.mpjpe * 1000).toFixed(1)} / ${(v.baseline.paMpjpe * 1000).toFixed(1)} mm, ${v.baseline.joint2dPx.toFixed(2)} px)${improved ? ' — best so far' : ''}`);
      lastVal = { ...v, step };
      o.onValidation?.(lastVal);
      writeFilesAtomically([{ path: join(o.out, CURVES_FILE), data: curvesPng(history, v.baseline) }]);
    };

    if (!resuming && (o.validateAtStart ?? true)) validate();

    while ((targetStep === null || step < targetStep) && performance.now() < deadline && !o.shouldStop?.()) {
      const b = fitterBatch(rt, generator, batch, seed, step * batch, data);
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
      if (!Number.isFinite(lossValue)) {
        throw new NbfError(`train fitter: the loss is ${lossValue} at step ${step}; stopping without saving this state (the last checkpoint is intact). Try a lower --lr.`);
      }
      step++;
      state.samples += batch;
      windowSamples += batch;
      lossTrace.push(lossValue);
      const now = performance.now();
      state.seconds = secondsAtStart + (now - t0) / 1000;
      const rate = windowSamples / ((now - windowStart) / 1000);
      if (now - windowStart > 60_000) {
        windowStart = now;
        windowSamples = 0;
      }
      if (step % 10 === 0 || step === targetStep) {
        const meanLoss = lossTrace.reduce((a, c) => a + c, 0) / lossTrace.length;
        const record = { type: 'train', step, hours: state.seconds / 3600, loss: meanLoss, params: terms[0] >= 0 ? terms[0] : null, joints3d: terms[1] >= 0 ? terms[1] : null, joints2d: terms[2] >= 0 ? terms[2] : null, lr: optimizer.learningRate(), samplesPerSecond: rate };
        appendFileSync(join(o.out, LOG_FILE), JSON.stringify(record) + '\n');
        history.push(record);
        lossTrace.length = 0;
      }
      const remainingByTime = deadline === Infinity ? Infinity : (deadline - now) / 1000;
      const remainingBySteps = targetStep === null ? Infinity : ((targetStep - step) * batch) / Math.max(rate, 1e-9);
      const eta = Math.min(remainingByTime, remainingBySteps);
      o.progress?.({ step, targetStep, samplesPerSecond: rate, loss: lossValue, etaSeconds: Number.isFinite(eta) ? eta : null, lr: optimizer.learningRate() });
      await yieldToEvents();
      const valDue = o.valEverySteps ? step % o.valEverySteps === 0 : now - lastValidation > (o.valEveryMinutes ?? 10) * 60_000;
      if (valDue) {
        validate();
        lastValidation = performance.now();
      }
      if (valDue || performance.now() - lastCheckpoint > (o.checkpointEveryMinutes ?? 5) * 60_000) {
        saveCheckpointNow();
        lastCheckpoint = performance.now();
      }
    }
    if (!lastVal || (lastVal as { step: number }).step !== step) validate();
    saveCheckpointNow();
    log(`train fitter: stopped at step ${step}; checkpoint ${checkpointPath}; best ${state.best ? `${(state.best.paMpjpe * 1000).toFixed(1)} mm PA-MPJPE at step ${state.best.step} → ${join(o.out, BEST_FILE)}` : '—'}`);
    return { step, best: state.best, lastValidation: lastVal, secondsThisRun: (performance.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
    net.dispose();
  }
}

type LogRecord = Record<string, unknown> & { type: string; step: number };

function readLog(path: string): LogRecord[] {
  if (!existsSync(path)) return [];
  const out: LogRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // A line cut by a killed run: skip it, keep the rest.
    }
  }
  return out;
}

function curvesPng(history: LogRecord[], baseline: { mpjpe: number; paMpjpe: number }): Uint8Array {
  const train = history.filter((r) => r.type === 'train');
  const val = history.filter((r) => r.type === 'val');
  const pts = (rs: LogRecord[], key: string, scale = 1): [number, number][] => rs.filter((r) => typeof r[key] === 'number').map((r) => [r.step, (r[key] as number) * scale]);
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
