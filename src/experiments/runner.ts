/**
 * `nbf experiment NAME`: runs, resumes and evaluates the runs of an experiment file (config.ts) and
 * keeps their results (issue 15).
 *
 *   experiments/NAME.json                 the experiment (committed)
 *   experiments/runs/NAME/RUN/            one training run (gitignored): checkpoint.nbfp, best.nbfw,
 *                                         log.jsonl, curves.png, config.json (training-run.ts) and
 *                                         experiment.json (what the run is; a resume must match it)
 *   experiments/results/NAME.json         results of every run so far (committed; atomic writes)
 *   experiments/results/NAME/RUN.log.jsonl  the run's training log, copied beside the results
 *
 * A training run trains samples / batch steps of the experiment's network on the run's input, loss,
 * corruption and 3D-label fraction (fitter-trainer.ts: on-the-fly synthetic batches, validation on
 * the experiment's validation seed, best weights on PA-MPJPE, checkpoints). A run stopped by the time
 * budget (--minutes) or a signal keeps its checkpoint and is marked "training" in the results;
 * `--resume` continues it exactly. A finished run's best weights are evaluated on the test set
 * (seeds.test, test.count): MPJPE, PA-MPJPE, PVE, 2D px, rotation error, beside the mean-pose
 * baseline; with evaluate.corrupt also on maps degraded at each strength (with the degraded maps'
 * mIoU against the truth), and with a segmenter weights file on that segmenter's labels of the
 * rendered pictures. Runs with fromRun/weights are only evaluated.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { writeFilesAtomically } from '../cli/atomic-write.js';
import { decodeParamFile } from '../nn/param-format.js';
import { loadFitterWeights, loadSegmenterWeights } from '../nn/weights-file.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { corruptibleInput } from '../nn/fitter-inputs.js';
import { disposeBatch, type SynthGenerator } from '../synth/generate.js';
import { evaluateFitter, type FitterSummary } from '../eval/fitter-eval.js';
import { accumulateConfusion, confusionMetrics } from '../eval/segmenter-eval.js';
import { trainFitter } from '../train/fitter-trainer.js';
import { partNoiseCorruptor, segmenterLabelSource, type FitterDataOptions } from '../train/fitter-data.js';
import { BEST_FILE, CHECKPOINT_FILE, LOG_FILE, type ProgressInfo } from '../train/training-run.js';
import { ExperimentConfigError, parseExperimentConfig, runIdentity, runNetwork, runSteps, type ExperimentConfig, type RunConfig } from './config.js';

export interface ExperimentPaths {
  /** Where NAME.json files are (default "experiments"). */
  configDir: string;
  /** Run folders (default "experiments/runs"). */
  runsDir: string;
  /** Results (default "experiments/results"). */
  resultsDir: string;
}

export function experimentPaths(configDir = 'experiments'): ExperimentPaths {
  return { configDir, runsDir: join(configDir, 'runs'), resultsDir: join(configDir, 'results') };
}

export const RUN_IDENTITY_FILE = 'experiment.json';

/** Reads and checks experiments/NAME.json; errors name the file. */
export function loadExperimentConfig(configDir: string, name: string): ExperimentConfig {
  const file = join(configDir, `${name}.json`);
  if (!existsSync(file)) {
    const known = listExperiments(configDir);
    throw new ExperimentConfigError(`${file}: no such experiment file (experiments in ${configDir}: ${known.length ? known.join(', ') : 'none'})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ExperimentConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return parseExperimentConfig(json, file);
}

/** Names of the experiment files in a folder (NAME of every NAME.json), sorted. */
export function listExperiments(configDir: string): string[] {
  if (!existsSync(configDir)) return [];
  return readdirSync(configDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** Test-set numbers of one evaluation (metres, pixels at the network's input, degrees). */
export type Metrics = Omit<FitterSummary, 'loss'>;

export interface DegradedResult extends Metrics {
  /** Corruption strength (sweep) of the input maps. */
  corrupt?: number;
  /** The input maps against the true 12-part maps (13 classes: mIoU over the 12 parts). */
  mIoU: number;
  foregroundIoU: number;
  pixelAccuracy: number;
}

export interface RunResult {
  /** "training": stopped before the budget was spent (resume it); "done": trained and evaluated. */
  status: 'training' | 'done';
  label: string;
  reference: boolean;
  options: { input: string; loss: RunConfig['loss']; corrupt: number; has3d: number };
  /** Where the weights came from when the run did not train here ("EXPERIMENT/RUN" or a file). */
  source: string | null;
  seeds: ExperimentConfig['seeds'];
  /** Training examples seen, of the target. */
  samples: number;
  targetSamples: number;
  steps: number;
  /** Training time (validations included), hours. */
  hours: number;
  samplesPerSecond: number | null;
  best: { step: number; paMpjpe: number } | null;
  /** The validation of the best weights (validation seed and count). */
  validation: (Metrics & { loss: number; seed: number; count: number }) | null;
  test: (Metrics & { seed: number; count: number; loss: number }) | null;
  /** The mean-pose floor on the test set. */
  baseline: Metrics | null;
  /** Errors on maps degraded at each evaluate.corrupt strength. */
  sweep: DegradedResult[] | null;
  /** Errors on the segmenter's labels (null: none configured). */
  segmenter: (DegradedResult & { weights: string }) | { weights: string; missing: true } | null;
  evalSeconds: number | null;
  /** What the run trained with (config.ts runIdentity; evaluation-only runs: their source and options). */
  identity: Record<string, unknown>;
  /** What the evaluation used (test set, degradations, segmenter): a change re-evaluates. */
  evaluation: Record<string, unknown>;
  weights: string | null;
  log: string | null;
  updated: string;
}

export interface ExperimentResults {
  experiment: string;
  updated: string;
  runs: Record<string, RunResult>;
}

export function resultsFile(resultsDir: string, name: string): string {
  return join(resultsDir, `${name}.json`);
}

/** The results of an experiment so far (null: none yet); errors name the file. */
export function readResults(resultsDir: string, name: string): ExperimentResults | null {
  const file = resultsFile(resultsDir, name);
  if (!existsSync(file)) return null;
  let json: ExperimentResults;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ExperimentResults;
  } catch (e) {
    throw new NbfError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (!json || typeof json !== 'object' || json.experiment !== name || typeof json.runs !== 'object' || json.runs === null) {
    throw new NbfError(`${file}: not the results of experiment "${name}" (expected { "experiment": "${name}", "runs": { … } })`);
  }
  return json;
}

/** Replaces one run's entry of the results file (atomically). */
function writeRunResult(resultsDir: string, name: string, run: string, result: RunResult): void {
  mkdirSync(resultsDir, { recursive: true });
  const current = readResults(resultsDir, name) ?? { experiment: name, updated: '', runs: {} };
  current.runs[run] = result;
  current.updated = result.updated;
  writeFilesAtomically([{ path: resultsFile(resultsDir, name), data: JSON.stringify(current, null, 2) + '\n' }]);
}

/** A labels source for the fitter's data (FitterDataOptions.corrupt). */
type LabelSource = NonNullable<FitterDataOptions['corrupt']>;

/** Wraps a labels source (none: the true maps) so that it counts its labels against the truth. */
function measuredSource(source: LabelSource | null, confusion: Float64Array): LabelSource {
  return (labels, examples, seed) => {
    const out = source ? source(labels, examples, seed) : labels;
    accumulateConfusion(confusion, labels.readSync(), out.readSync(), 13);
    return out;
  };
}

export interface RunExperimentOptions {
  paths: ExperimentPaths;
  /** Only this run (default: every run, in the file's order). */
  run?: string;
  /** Minutes of training for this invocation, all runs together (default: until every run is done). */
  minutes?: number;
  /** Continue runs that have a checkpoint (without it such a run is an error). */
  resume?: boolean;
  /** A segmenter weights file, overriding evaluate.segmenter. */
  segmenter?: string | null;
  /** Examples per evaluation batch (default 32). */
  evalBatch?: number;
  log?: (line: string) => void;
  progress?: (p: ProgressInfo) => void;
  shouldStop?: () => boolean;
}

export interface RunExperimentSummary {
  /** Runs trained, resumed or evaluated by this invocation. */
  worked: string[];
  /** Runs done (trained and evaluated) now. */
  done: string[];
  /** Runs not done yet (stopped by the budget, or waiting for another experiment's run). */
  pending: string[];
}

function checkpointState(path: string): { step: number; seconds: number; samples: number; best: { step: number; paMpjpe: number } | null } {
  const meta = decodeParamFile(readFileSync(path), path).meta as { step: number; extra?: { seconds: number; samples: number; best: { step: number; paMpjpe: number } | null } };
  return { step: meta.step, seconds: meta.extra?.seconds ?? 0, samples: meta.extra?.samples ?? 0, best: meta.extra?.best ?? null };
}

const now = () => new Date().toISOString();
const metrics = (s: FitterSummary | Metrics): Metrics => ({ mpjpe: s.mpjpe, paMpjpe: s.paMpjpe, pve: s.pve, joint2dPx: s.joint2dPx, angleDeg: s.angleDeg });

/**
 * Runs (or resumes) an experiment's runs until they are done or the time is spent; evaluates each
 * finished run; writes results as it goes. The caller owns the runtime and the generator.
 */
export async function runExperiment(rt: Runtime, generator: SynthGenerator, config: ExperimentConfig, o: RunExperimentOptions): Promise<RunExperimentSummary> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const runs = o.run === undefined ? config.runs : config.runs.filter((r) => r.name === o.run);
  if (runs.length === 0) throw new NbfError(`experiment "${config.name}" has no run "${o.run}" (runs: ${config.runs.map((r) => r.name).join(', ')})`);
  const deadline = o.minutes === undefined ? Infinity : performance.now() + o.minutes * 60_000;
  const summary: RunExperimentSummary = { worked: [], done: [], pending: [] };
  const previous = readResults(o.paths.resultsDir, config.name);

  const segPath = o.segmenter !== undefined ? o.segmenter : config.evaluate.segmenter;
  // The segmenter by path and content: new weights at the same path evaluate done runs again.
  const segmenterSha256 = segPath && existsSync(segPath) ? createHash('sha256').update(readFileSync(segPath)).digest('hex') : undefined;
  for (const run of runs) {
    const label = `experiment ${config.name}/${run.name}`;
    if (o.shouldStop?.()) {
      summary.pending.push(run.name);
      continue;
    }
    const prior = previous?.runs[run.name];
    const evaluation = { seed: config.seeds.test, count: config.test.count, corrupt: config.evaluate.corrupt, segmenter: segPath, segmenterSha256 };
    const identity = run.fromRun || run.weights ? { source: run.fromRun ?? run.weights, options: runIdentity(config, run).options } : runIdentity(config, run);
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    const priorDone = prior?.status === 'done' && same(prior.identity, identity);
    if (priorDone && same(prior.evaluation, evaluation)) {
      log(`${label}: done (${prior.samples} samples, ${prior.hours.toFixed(2)} h); skipped`);
      summary.done.push(run.name);
      continue;
    }
    // Trained runs and their folders.
    if (!run.fromRun && !run.weights) {
      const dir = join(o.paths.runsDir, config.name, run.name);
      const checkpoint = join(dir, CHECKPOINT_FILE);
      const identityPath = join(dir, RUN_IDENTITY_FILE);
      const steps = runSteps(config);
      const started = existsSync(checkpoint);
      if (started) {
        const saved = existsSync(identityPath) ? (JSON.parse(readFileSync(identityPath, 'utf8')) as unknown) : null;
        if (JSON.stringify(saved) !== JSON.stringify(identity)) {
          throw new NbfError(`${label}: ${dir} was started with other settings than ${join(o.paths.configDir, config.name + '.json')} gives now (${describeDifference(saved, identity)}); restore the file, or delete the folder to start the run again`);
        }
      }
      if (!started && priorDone) {
        // Done here or elsewhere (the run folders are not committed): its evaluation settings changed,
        // but its weights are not on this machine.
        log(`${label}: done, but ${dir} is not here to evaluate again with the current test settings; results kept`);
        summary.done.push(run.name);
        continue;
      }
      let state = started ? checkpointState(checkpoint) : null;
      if (!state || state.step < steps) {
        if (started && !o.resume) throw new NbfError(`${label}: ${checkpoint} exists (step ${state!.step} of ${steps}); pass --resume to continue it`);
        const minutes = (deadline - performance.now()) / 60_000;
        if (!(minutes > 0)) {
          summary.pending.push(run.name);
          continue;
        }
        mkdirSync(dir, { recursive: true });
        if (!started) writeFilesAtomically([{ path: identityPath, data: JSON.stringify(identity, null, 2) + '\n' }]);
        log(`${label}: ${started ? `resuming at step ${state!.step}` : 'starting'} — ${steps} steps of ${config.batch} (${config.samples} samples), input "${run.input}"${Number.isFinite(minutes) ? `, ${minutes.toFixed(1)} min left` : ''}`);
        summary.worked.push(run.name);
        await trainFitter(rt, generator, {
          config: runNetwork(config, run),
          out: dir,
          steps,
          minutes: Number.isFinite(minutes) ? minutes : undefined,
          resume: started,
          cosine: config.schedule === 'cosine',
          batch: config.batch,
          lr: config.lr,
          weightDecay: config.weightDecay,
          warmupSteps: config.warmupSteps,
          seed: config.seeds.train,
          valSeed: config.seeds.validation,
          valCount: config.validation.count,
          valEverySteps: Math.max(1, Math.ceil(steps / config.validation.times)),
          initSeed: config.seeds.init,
          meanCount: config.meanCount,
          loss: run.loss,
          data: { has3dFraction: run.has3d, corrupt: run.corrupt > 0 ? partNoiseCorruptor({ strength: run.corrupt }) : undefined },
          record: { experiment: config.name, run: run.name, corrupt: run.corrupt },
          shouldStop: o.shouldStop,
          log,
          progress: o.progress,
        });
        state = checkpointState(checkpoint);
      }
      const copyLog = () => {
        const logOut = join(o.paths.resultsDir, config.name, `${run.name}.log.jsonl`);
        mkdirSync(join(o.paths.resultsDir, config.name), { recursive: true });
        writeFilesAtomically([{ path: logOut, data: readFileSync(join(dir, LOG_FILE)) }]);
        return logOut;
      };
      const base: RunResult = {
        status: 'training', label: run.label, reference: run.reference,
        options: { input: run.input, loss: run.loss, corrupt: run.corrupt, has3d: run.has3d },
        source: null, seeds: config.seeds,
        samples: state.samples, targetSamples: config.samples, steps: state.step, hours: state.seconds / 3600,
        samplesPerSecond: state.seconds > 0 ? state.samples / state.seconds : null,
        best: state.best, validation: null, test: null, baseline: null, sweep: null, segmenter: null,
        evalSeconds: null, identity, evaluation, weights: join(dir, BEST_FILE), log: null, updated: now(),
      };
      if (state.step < steps) {
        base.log = copyLog();
        writeRunResult(o.paths.resultsDir, config.name, run.name, base);
        log(`${label}: stopped at step ${state.step} of ${steps}; resume with nbf experiment ${config.name} --run ${run.name} --resume`);
        summary.pending.push(run.name);
        continue;
      }
      if (!summary.worked.includes(run.name)) summary.worked.push(run.name);
      const evaluated = evaluateRun(rt, generator, config, join(dir, BEST_FILE), segPath, o, label);
      writeRunResult(o.paths.resultsDir, config.name, run.name, { ...base, ...evaluated, status: 'done', log: copyLog(), updated: now() });
      summary.done.push(run.name);
      continue;
    }

    // Evaluation-only runs: another experiment's run, or a weights file.
    let weights: string;
    let trained: Pick<RunResult, 'samples' | 'hours' | 'steps' | 'samplesPerSecond' | 'best'>;
    if (run.fromRun) {
      const [exp, srcRun] = run.fromRun.split('/');
      const src = loadExperimentConfig(o.paths.configDir, exp);
      const srcRunConfig = src.runs.find((r) => r.name === srcRun);
      if (!srcRunConfig) throw new NbfError(`${label}: fromRun "${run.fromRun}": experiment "${exp}" has no run "${srcRun}"`);
      const same = (k: keyof ExperimentConfig) => JSON.stringify(src[k]) === JSON.stringify(config[k]);
      for (const k of ['network', 'samples', 'batch', 'seeds', 'validation'] as const) {
        if (!same(k)) throw new NbfError(`${label}: fromRun "${run.fromRun}" was trained with another ${k} than this experiment's; every run of an experiment shares network, budget, seeds and validation set`);
      }
      if (JSON.stringify(runIdentity(src, srcRunConfig).options) !== JSON.stringify(runIdentity(config, run).options)) {
        throw new NbfError(`${label}: fromRun "${run.fromRun}" has other run options (input, loss, corrupt, has3d) than this run declares; make them equal`);
      }
      const srcResult = readResults(o.paths.resultsDir, exp)?.runs[srcRun];
      if (!srcResult || srcResult.status !== 'done') {
        const message = `${label}: waits for ${run.fromRun} (nbf experiment ${exp} --run ${srcRun})`;
        if (o.run !== undefined) throw new NbfError(message);
        log(message);
        summary.pending.push(run.name);
        continue;
      }
      weights = join(o.paths.runsDir, exp, srcRun, BEST_FILE);
      if (!existsSync(weights)) {
        const message = `${label}: ${run.fromRun} is done, but its weights ${weights} are not on this machine (run folders are not committed)`;
        if (o.run !== undefined) throw new NbfError(message);
        log(message);
        summary.pending.push(run.name);
        continue;
      }
      trained = { samples: srcResult.samples, hours: srcResult.hours, steps: srcResult.steps, samplesPerSecond: srcResult.samplesPerSecond, best: srcResult.best };
    } else {
      weights = run.weights!;
      if (!existsSync(weights)) throw new NbfError(`${label}: weights file ${weights} not found`);
      const info = (decodeParamFile(readFileSync(weights), weights).meta as { info?: { step?: number; hours?: number; samples?: number } }).info ?? {};
      trained = { samples: info.samples ?? 0, hours: info.hours ?? 0, steps: info.step ?? 0, samplesPerSecond: info.samples && info.hours ? info.samples / (info.hours * 3600) : null, best: null };
    }
    summary.worked.push(run.name);
    const evaluated = evaluateRun(rt, generator, config, weights, segPath, o, label);
    writeRunResult(o.paths.resultsDir, config.name, run.name, {
      status: 'done', label: run.label, reference: run.reference,
      options: { input: run.input, loss: run.loss, corrupt: run.corrupt, has3d: run.has3d },
      source: run.fromRun ?? run.weights, seeds: config.seeds, targetSamples: config.samples, ...trained,
      ...evaluated, identity, evaluation, log: null, weights, updated: now(),
    });
    summary.done.push(run.name);
  }
  return summary;
}

function describeDifference(saved: unknown, now: Record<string, unknown>): string {
  if (!saved || typeof saved !== 'object') return `no ${RUN_IDENTITY_FILE} in the folder`;
  const keys = Object.keys(now).filter((k) => JSON.stringify((saved as Record<string, unknown>)[k]) !== JSON.stringify(now[k]));
  return keys.length ? `${keys.join(', ')} differ` : 'the settings differ';
}

/** Test-set evaluation of a weights file (with the degradation sweep and the segmenter, if configured). */
function evaluateRun(rt: Runtime, generator: SynthGenerator, config: ExperimentConfig, weightsPath: string, segPath: string | null, o: RunExperimentOptions, label: string): Pick<RunResult, 'validation' | 'test' | 'baseline' | 'sweep' | 'segmenter' | 'evalSeconds'> {
  const log = o.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const t0 = performance.now();
  const bytes = new Uint8Array(readFileSync(weightsPath));
  const { network, meta } = loadFitterWeights(rt, bytes, weightsPath, { inputs: 'any' });
  try {
    const batch = o.evalBatch ?? 32;
    const evalOn = (corrupt?: LabelSource) => evaluateFitter(rt, network, generator, { seed: config.seeds.test, count: config.test.count, batch, corrupt });
    const main = evalOn();
    log(`${label}: test (${config.test.count} examples, seed ${config.seeds.test}): MPJPE ${mm(main.summary.mpjpe)}, PA-MPJPE ${mm(main.summary.paMpjpe)}, PVE ${mm(main.summary.pve)}, 2D ${main.summary.joint2dPx.toFixed(2)} px (mean pose ${mm(main.baseline.mpjpe)} / ${mm(main.baseline.paMpjpe)})`);
    const degraded = (source: LabelSource | null) => {
      const confusion = new Float64Array(13 * 13);
      const v = evalOn(measuredSource(source, confusion));
      const seg = confusionMetrics(confusion, 13);
      return { ...metrics(v.summary), mIoU: seg.mIoU, foregroundIoU: seg.foregroundIoU, pixelAccuracy: seg.pixelAccuracy };
    };
    // Degradations change the 12-part map; a network without one (a --segmenter given for every run) has none to degrade.
    const degradable = corruptibleInput(network.input);
    let sweep: DegradedResult[] | null = null;
    if (config.evaluate.corrupt.length && degradable) {
      sweep = config.evaluate.corrupt.map((s) => {
        const r: DegradedResult = { corrupt: s, ...(s === 0 ? { ...metrics(main.summary), mIoU: 1, foregroundIoU: 1, pixelAccuracy: 1 } : degraded(partNoiseCorruptor({ strength: s }))) };
        log(`${label}: maps corrupted at strength ${s} (mIoU ${r.mIoU.toFixed(3)}): MPJPE ${mm(r.mpjpe)}, PA-MPJPE ${mm(r.paMpjpe)}`);
        return r;
      });
    }
    let segmenter: RunResult['segmenter'] = null;
    if (segPath && degradable) {
      if (!existsSync(segPath)) {
        log(`${label}: segmenter ${segPath} not found; its row stays empty`);
        segmenter = { weights: segPath, missing: true };
      } else {
        const seg = loadSegmenterWeights(rt, new Uint8Array(readFileSync(segPath)), segPath).network;
        try {
          segmenter = { weights: segPath, ...degraded(segmenterLabelSource(generator, seg)) };
          log(`${label}: on the segmenter's labels (mIoU ${segmenter.mIoU.toFixed(3)}): MPJPE ${mm(segmenter.mpjpe)}, PA-MPJPE ${mm(segmenter.paMpjpe)}`);
        } finally {
          seg.dispose();
        }
      }
    }
    const info = meta.info as { validation?: Metrics & { loss: number; seed: number; count: number } };
    return {
      validation: info.validation ?? null,
      test: { seed: config.seeds.test, count: config.test.count, loss: main.summary.loss, ...metrics(main.summary) },
      baseline: metrics(main.baseline),
      sweep,
      segmenter,
      evalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    (network as FitterNetwork).dispose();
  }
}

const mm = (m: number) => `${(m * 1000).toFixed(1)} mm`;
