/**
 * What the trainers share (`nbf train fitter`, `nbf train segmenter`): the run directory, the step
 * loop with its time and step budgets, the learning-rate schedule, validation on a fixed seed with
 * the best weights kept, atomic checkpoints with the optimizer state and buffers, resume, the JSONL
 * log, the curves, progress and a cooperative stop. A trainer supplies a TrainingTask: its network,
 * one training step, one validation, the metric the best weights are chosen on, and how to present
 * them (fitter-trainer.ts, segmenter-trainer.ts).
 *
 * Run directory (--out):
 *   checkpoint.nbfp   latest resumable state (parameters, Adam moments, buffers, step, schedule)
 *   best.nbfw         weights of the best validation metric so far (fp16, a weights file)
 *   last.nbfw         weights as the run stopped, with that validation (fp16): for a run that trades
 *                     its validation metric for what validation does not measure (a fine-tuning on
 *                     harder inputs), and to compare the last state with the best
 *   log.jsonl         one JSON object per logged step ("train", every 10 steps) and per validation ("val")
 *   curves.png        the trainer's curves, redrawn after every validation
 *   config.json       the network and training options
 *
 * Determinism: step k trains on examples k·batch … k·batch + batch − 1 of the training seed (the
 * task's business), and everything a step depends on is in the checkpoint, so a resumed run
 * continues exactly where an uninterrupted one would be.
 *
 * Learning rate: a linear warm-up, then `lr`, multiplied by `decay` whenever `patience` validations
 * in a row have not improved the best metric (the factor is saved with the checkpoint); or, with
 * `cosine`, a half-cosine annealing to a step target (saved too, so a resume follows the same curve).
 */
import { existsSync, mkdirSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { NbfError } from '../runtime/errors.js';
import { adamw } from '../optim/optimizers.js';
import type { Optimizer } from '../optim/optimizers.js';
import { loadCheckpoint, saveCheckpoint } from '../optim/checkpoint.js';
import type { ParamStore } from '../nn/params.js';
import { decodeParamFile } from '../nn/param-format.js';
import { writeFilesAtomically } from '../cli/atomic-write.js';

export const CHECKPOINT_FILE = 'checkpoint.nbfp';
export const BEST_FILE = 'best.nbfw';
export const LAST_FILE = 'last.nbfw';
export const LOG_FILE = 'log.jsonl';
export const CURVES_FILE = 'curves.png';
export const CONFIG_FILE = 'config.json';

/** Options every trainer takes; the defaults are each trainer's (RunDefaults). */
export interface TrainingRunOptions {
  /** Run directory. */
  out: string;
  batch?: number;
  lr?: number;
  /** AdamW's decoupled weight decay (default 1e-4). */
  weightDecay?: number;
  /** Linear warm-up steps (default 300). */
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
  /** Initialisation seed (default 0). */
  initSeed?: number;
  /** Progress output: a TTY bar or plain lines (default: none; the CLI passes progressPrinter). */
  progress?: (p: ProgressInfo) => void;
  /** Logged lines (validations, checkpoints; default: stderr). */
  log?: (line: string) => void;
  /** Polled after every step: true ends the run as if its budget were spent (final validation and checkpoint). */
  shouldStop?: () => boolean;
  /** Validate before the first step of a new run (the curves' starting point; default true). */
  validateAtStart?: boolean;
}

export interface ProgressInfo {
  step: number;
  targetStep: number | null;
  samplesPerSecond: number;
  loss: number;
  etaSeconds: number | null;
  lr: number;
}

/** The options with every default filled in. */
export interface RunSettings {
  batch: number;
  lr: number;
  weightDecay: number;
  warmup: number;
  decay: number;
  patience: number;
  seed: number;
  valSeed: number;
  valCount: number;
}

/** A trainer's defaults where they differ between trainers. */
export type RunDefaults = Pick<RunSettings, 'batch' | 'lr' | 'valCount'>;

/** Fills in the defaults and checks what every trainer needs (`label`: "train fitter", for messages). */
export function resolveRunSettings(label: string, o: TrainingRunOptions, defaults: RunDefaults): RunSettings {
  const s: RunSettings = {
    batch: o.batch ?? defaults.batch,
    lr: o.lr ?? defaults.lr,
    weightDecay: o.weightDecay ?? 1e-4,
    warmup: o.warmupSteps ?? 300,
    decay: o.decay ?? 0.3,
    patience: o.patience ?? 3,
    seed: o.seed ?? 1,
    valSeed: o.valSeed ?? 900001,
    valCount: o.valCount ?? defaults.valCount,
  };
  if (s.seed === s.valSeed) throw new NbfError(`${label}: the training seed and the validation seed are both ${s.seed}; validation must use examples training never draws`);
  if (!Number.isInteger(s.batch) || s.batch < 2) throw new NbfError(`${label}: batch must be an integer ≥ 2 (batch norm), got ${s.batch}`);
  return s;
}

/** The best validation so far: its step and the metric's value under the metric's key. */
export type BestSoFar = { step: number } & Record<string, number>;

/** What a checkpoint's metadata carries besides parameters and optimizer state ("extra"). */
export interface RunState {
  lrScale: number;
  /** The cosine annealing in progress, if any: from step `from` (rate `lr`) to step `to` (rate lr/100). */
  cosine?: { from: number; to: number; lr: number } | null;
  stale: number;
  best: BestSoFar | null;
  seconds: number;
  samples: number;
  buffers: { name: string; shape: number[]; data: number[] }[];
  options: Record<string, unknown>;
}

export type SavedRunState = RunState & { config: { name?: string } };

export type LogRecord = Record<string, unknown> & { type: string; step: number };

/** A validation: its summary (numbers) goes into the log's "val" records and the best weights' info. */
export interface Validation {
  summary: object;
}

export interface ValidationMetric {
  /** Key of the summary (and of BestSoFar): "paMpjpe", "mIoU". */
  key: string;
  /** For messages: "PA-MPJPE". */
  name: string;
  better: 'lower' | 'higher';
  /** For messages: 0.0123 → "12.3 mm". */
  format(value: number): string;
}

export interface TrainingTask<V extends Validation> {
  /** Prefix of messages: "train fitter". */
  label: string;
  network: { params: ParamStore; buffers: ParamStore; config: { name: string } };
  metric: ValidationMetric;
  /**
   * Training options beyond the shared ones, recorded in config.json, checkpoints and the best
   * weights' info. Read after initialise / restore, which may fill it in.
   */
  trainingOptions?: Record<string, unknown>;
  /** A new run, before config.json and the first validation (e.g. the head's mean, class weights). */
  initialise?(): void;
  /** A resumed run, after its parameters and buffers are back: the checkpoint's saved state. */
  restore?(saved: SavedRunState): void;
  /** One optimisation step on the examples of `step`: its loss, and extra fields for the "train" log record. */
  trainStep(step: number, optimizer: Optimizer): { loss: number; fields?: Record<string, unknown> };
  /** Validates the network as it is now (the validation seed and count are the task's, from RunSettings). */
  validate(): V;
  /** The numbers of a validation line (after "step N validation (count samples, seed S): "). */
  describeValidation(v: V): string;
  /** The weights file of the network as it is now, with `info` in its metadata. */
  encodeBest(info: Record<string, unknown>): Uint8Array;
  /** The curves PNG from the log so far and the latest validation. */
  curves(history: LogRecord[], latest: V): Uint8Array;
  onValidation?(v: V & { step: number }): void;
}

export interface RunResult<V extends Validation> {
  step: number;
  best: BestSoFar | null;
  lastValidation: (V & { step: number }) | null;
  secondsThisRun: number;
}

/** Lets pending events (a signal's handler, timers) run between steps. */
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Where a run's messages go: the options' `log`, else stderr. */
export function runLog(o: Pick<TrainingRunOptions, 'log'>): (line: string) => void {
  return o.log ?? ((l: string) => process.stderr.write(l + '\n'));
}

/**
 * Trains (or resumes) the task's network; resolves when the time or step budget is spent or
 * `shouldStop` says so. Async only to yield to the event loop after every step, so that signal
 * handlers run. The caller owns (and disposes) the network; the optimizer (AdamW) is made here.
 */
export async function runTraining<V extends Validation>(task: TrainingTask<V>, o: TrainingRunOptions, s: RunSettings): Promise<RunResult<V>> {
  const { label, network: net, metric } = task;
  const log = runLog(o);
  mkdirSync(o.out, { recursive: true });
  const checkpointPath = join(o.out, CHECKPOINT_FILE);
  const resuming = !!o.resume && existsSync(checkpointPath);
  if (!o.resume && existsSync(checkpointPath)) {
    throw new NbfError(`${label}: ${checkpointPath} exists; pass --resume to continue that run, or choose another --out`);
  }

  const state: RunState = { lrScale: 1, stale: 0, best: null, seconds: 0, samples: 0, buffers: [], options: {} };
  const sharedOptions = { batch: s.batch, lr: s.lr, weightDecay: s.weightDecay, warmup: s.warmup, decay: s.decay, patience: s.patience, seed: s.seed, valSeed: s.valSeed, valCount: s.valCount };
  const { lr, batch, patience, decay } = s;
  const optimizer = adamw({ lr: (optimizerStep) => scheduledLr(optimizerStep), weightDecay: s.weightDecay, beta1: 0.9, beta2: 0.999 });
  let step = 0;
  const scheduledLr = (at: number) => {
    // The warm-up counts from the run's first step, so a fresh cosine run warms up too and a
    // resumed one (past the warm-up) is unaffected.
    const warm = Math.min(1, (at + 1) / s.warmup);
    const c = state.cosine;
    if (c) {
      const t = Math.min(1, Math.max(0, (at - c.from) / Math.max(1, c.to - c.from)));
      return warm * c.lr * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * t)));
    }
    return lr * state.lrScale * warm;
  };
  const bestText = (b: BestSoFar) => metric.format(b[metric.key]);
  try {
    if (resuming) {
      const bytes = readFileSync(checkpointPath);
      // The configuration first, so that another network is named as such (not as a tensor's shape).
      const saved = (decodeParamFile(bytes, checkpointPath).meta as { extra?: SavedRunState } | null)?.extra;
      if (!saved || typeof saved !== 'object' || !Array.isArray(saved.buffers)) throw new NbfError(`${label}: ${checkpointPath} holds no training-run state; not a checkpoint of nbf train`);
      if (JSON.stringify(saved.config) !== JSON.stringify(net.config)) {
        throw new NbfError(`${label}: ${checkpointPath} was trained with another network configuration (${saved.config?.name}); resume with the same --config`);
      }
      const restored = loadCheckpoint(bytes, { params: net.params, optimizer }, checkpointPath);
      const extra = restored.extra as SavedRunState;
      Object.assign(state, { lrScale: extra.lrScale, stale: extra.stale, best: extra.best, seconds: extra.seconds, samples: extra.samples, cosine: extra.cosine ?? null });
      net.buffers.assign(extra.buffers.map((b) => ({ name: b.name, shape: b.shape, data: Float32Array.from(b.data) })), `${checkpointPath} (buffers)`);
      step = restored.step;
      task.restore?.(extra);
      state.options = { ...sharedOptions, ...task.trainingOptions };
      log(`${label}: resumed ${checkpointPath} at step ${step} (${(state.seconds / 3600).toFixed(2)} h trained, best ${metric.name} ${state.best ? bestText(state.best) : '—'})`);
    } else {
      task.initialise?.();
      state.options = { ...sharedOptions, ...task.trainingOptions };
      writeFilesAtomically([{ path: join(o.out, CONFIG_FILE), data: JSON.stringify({ config: net.config, training: state.options }, null, 2) + '\n' }]);
    }

    if (o.cosine) {
      if (o.steps === undefined || o.steps <= step) throw new NbfError(`${label}: cosine annealing needs a --steps target beyond the current step ${step}`);
      const c = state.cosine;
      if (!c || c.to !== o.steps || c.lr !== lr) {
        state.cosine = { from: step, to: o.steps, lr };
        log(`${label}: cosine annealing of the learning rate from ${lr.toExponential(1)} at step ${step} to ${(lr / 100).toExponential(1)} at step ${o.steps}`);
      }
    } else if (state.cosine) {
      state.cosine = null;
      log(`${label}: this run does not anneal; the earlier cosine schedule is dropped`);
    }

    const saveCheckpointNow = () => {
      state.buffers = net.buffers.readAll().map((b) => ({ name: b.name, shape: b.shape, data: Array.from(b.data) }));
      const bytes = saveCheckpoint({ params: net.params, optimizer, step, extra: { ...state, config: net.config } });
      writeFilesAtomically([{ path: checkpointPath, data: bytes }]);
    };

    const logPath = join(o.out, LOG_FILE);
    const history = readLog(logPath);
    const t0 = performance.now();
    const secondsAtStart = state.seconds;
    const deadline = o.minutes !== undefined ? t0 + o.minutes * 60_000 : Infinity;
    const targetStep = o.steps ?? null;
    let lastCheckpoint = t0;
    let lastValidation = t0;
    let lastVal = null as RunResult<V>['lastValidation'];
    let windowStart = performance.now();
    let windowSamples = 0;
    const lossTrace: number[] = [];

    /** What a weights file of this run records: where it stands and its validation. */
    const weightsInfo = (summary: V['summary']) => ({
      step, hours: Number((state.seconds / 3600).toFixed(3)), samples: state.samples, validation: { seed: s.valSeed, count: s.valCount, ...summary }, training: state.options,
    });

    const validate = () => {
      const v = task.validate();
      const record = { type: 'val', step, hours: state.seconds / 3600, ...v.summary };
      appendFileSync(logPath, JSON.stringify(record) + '\n');
      history.push(record);
      const value = (v.summary as Record<string, number>)[metric.key];
      const improved = !state.best || (metric.better === 'lower' ? value < state.best[metric.key] : value > state.best[metric.key]);
      if (improved) {
        state.best = { step, [metric.key]: value } as BestSoFar;
        state.stale = 0;
        writeFilesAtomically([{ path: join(o.out, BEST_FILE), data: task.encodeBest(weightsInfo(v.summary)) }]);
      } else if (!state.cosine && ++state.stale >= patience) {
        state.lrScale = Math.max(state.lrScale * decay, 1e-3);
        state.stale = 0;
        log(`${label}: no improvement in ${patience} validations; learning rate × ${decay} → ${(lr * state.lrScale).toExponential(2)}`);
      }
      log(`${label}: step ${step} validation (${s.valCount} samples, seed ${s.valSeed}): ${task.describeValidation(v)}${improved ? ' — best so far' : ''}`);
      lastVal = { ...v, step };
      task.onValidation?.(lastVal);
      writeFilesAtomically([{ path: join(o.out, CURVES_FILE), data: task.curves(history, v) }]);
    };

    if (!resuming && (o.validateAtStart ?? true)) validate();

    while ((targetStep === null || step < targetStep) && performance.now() < deadline && !o.shouldStop?.()) {
      const { loss: lossValue, fields } = task.trainStep(step, optimizer);
      if (!Number.isFinite(lossValue)) {
        throw new NbfError(`${label}: the loss is ${lossValue} at step ${step}; stopping without saving this state (the last checkpoint is intact). Try a lower --lr.`);
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
        const record = { type: 'train', step, hours: state.seconds / 3600, loss: meanLoss, ...fields, lr: optimizer.learningRate(), samplesPerSecond: rate };
        appendFileSync(logPath, JSON.stringify(record) + '\n');
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
    writeFilesAtomically([{ path: join(o.out, LAST_FILE), data: task.encodeBest(weightsInfo(lastVal!.summary)) }]);
    log(`${label}: stopped at step ${step}; checkpoint ${checkpointPath}; best ${state.best ? `${bestText(state.best)} ${metric.name} at step ${state.best.step} → ${join(o.out, BEST_FILE)}` : '—'}`);
    return { step, best: state.best, lastValidation: lastVal, secondsThisRun: (performance.now() - t0) / 1000 };
  } finally {
    optimizer.dispose();
  }
}

/** The log's records (a line cut by a killed run is skipped). */
export function readLog(path: string): LogRecord[] {
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

/** [step, value·scale] of the records that have a number under `key`. */
export function logPoints(records: readonly LogRecord[], key: string, scale = 1): [number, number][] {
  return records.filter((r) => typeof r[key] === 'number').map((r) => [r.step, (r[key] as number) * scale]);
}

/** "1h05m", "3m07s". */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s)) return '—';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
}

/** Progress on stderr: a bar redrawn in place on a TTY, otherwise a line every 30 s prefixed with `label`. */
export function progressPrinter(label: string, tty: boolean): (p: ProgressInfo) => void {
  let last = 0;
  return (p) => {
    // Past --minutes the step in progress still finishes: the time left is then 0, not negative.
    const eta = p.etaSeconds === null ? '—' : formatDuration(Math.max(0, p.etaSeconds));
    const text = `step ${p.step}${p.targetStep ? `/${p.targetStep}` : ''}  ${p.samplesPerSecond.toFixed(1)} samples/s  loss ${p.loss.toFixed(4)}  lr ${p.lr.toExponential(1)}  ETA ${eta}`;
    if (tty) {
      const width = 24;
      const frac = p.targetStep ? p.step / p.targetStep : 0;
      const bar = p.targetStep ? `[${'#'.repeat(Math.round(width * frac)).padEnd(width, '.')}] ` : '';
      process.stderr.write(`\r${bar}${text}\x1b[K`);
    } else if (performance.now() - last > 30_000) {
      last = performance.now();
      process.stderr.write(`${label}: ${text}\n`);
    }
  };
}

/**
 * Ctrl-C or a kill (SIGINT, SIGTERM) asks the run to stop after its step (validation and checkpoint
 * first); a second signal exits at once (130). `dispose` removes the handlers.
 */
export function stopOnSignals(label: string): { stopRequested: () => boolean; dispose: () => void } {
  let stopRequested = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopRequested) process.exit(130);
    stopRequested = true;
    process.stderr.write(`\n${label}: ${signal}: stopping after this step (validation and checkpoint first; send it again to abort)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    stopRequested: () => stopRequested,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
