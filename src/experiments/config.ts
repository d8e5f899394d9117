/**
 * Experiment configuration files (experiments/NAME.json; issue 15: NBF's experiments on our synthetic
 * benchmark). One file per experiment: the network, the sample budget, the seeds and the validation
 * and test sets — shared by every run by construction, since runs cannot set them — and the runs,
 * each differing only in what the experiment varies (input type, loss, corruption, 3D-label fraction).
 *
 *   {
 *     "name": "input-type",                    the file's base name
 *     "title": "Input type", "question": "…",  for the report
 *     "network": "compact" | { FitterConfig },  input/inputChannels are set per run
 *     "samples": 16000, "batch": 16,            training examples per run (steps = samples / batch)
 *     "lr": 1e-3, "warmupSteps": 100, "weightDecay": 1e-4, "meanCount": 4096,
 *     "schedule": "cosine" | "plateau",         cosine: lr → lr/100 over the budget (default)
 *     "seeds": { "train": 1, "init": 0, "validation": 900001, "test": 123 },
 *     "validation": { "count": 256, "times": 4 },   validations over a run, besides the start
 *     "test": { "count": 512 },                     the final evaluation of the best weights
 *     "defaults": { run options every run starts from },
 *     "runs": [ { "name", "label"?, "x"?, "input"?, "loss"?, "corrupt"?, "has3d"?,
 *                 "fromRun"? ("EXPERIMENT/RUN": that run's weights, no training),
 *                 "weights"? (a weights file, no training), "reference"? (not on the budget) } ],
 *     "evaluate": { "corrupt": [0, 0.5, …], "segmenter": "FILE.nbfw" | null },   extra evaluations
 *     "plot": [ { "kind": "bars" | "line" | "degradation", "title", "runs"?, "xLabel"? } ],
 *     "paper": "what NBF found (../shared/reference/nbf.md)", "differences": "where we differ",
 *     "findings": "what our runs found (written when results are in; the report prints it as is)"
 *   }
 *
 * parseExperimentConfig checks everything and names the file and the key of the first problem.
 */
import { NbfError } from '../runtime/errors.js';
import { checkFitterConfig, fitterConfig, fitterConfigWithInput, type FitterConfig } from '../nn/fitter.js';
import { checkFitterInputType, corruptibleInput, DEFAULT_FITTER_INPUT, fitterInputInfo, type FitterInputType } from '../nn/fitter-inputs.js';
import { checkLossWeights, DEFAULT_FITTER_LOSS, type FitterLossWeights } from '../nn/fitter-loss.js';

/** A bad experiment file: the message names the file and the key. */
export class ExperimentConfigError extends NbfError {
  override name = 'ExperimentConfigError';
}

export interface RunOptions {
  input: FitterInputType;
  loss: FitterLossWeights;
  /** Strength of the segmenter-like corruption of training maps (0: clean). */
  corrupt: number;
  /** Fraction of training examples with 3D labels. */
  has3d: number;
}

export interface RunConfig extends RunOptions {
  name: string;
  label: string;
  /** Position on a line plot (number of parts, % of 3D labels, …). */
  x: number | null;
  /** "EXPERIMENT/RUN": evaluates that run's best weights instead of training. */
  fromRun: string | null;
  /** A weights file to evaluate instead of training. */
  weights: string | null;
  /** Shown for reference; not trained on this experiment's budget. */
  reference: boolean;
}

export type PlotKind = 'bars' | 'line' | 'degradation';
export interface PlotPanel {
  kind: PlotKind;
  title: string;
  /** Runs shown (default: all). */
  runs: string[] | null;
  xLabel: string;
}

export interface ExperimentConfig {
  name: string;
  title: string;
  question: string;
  /** The network every run trains (its input set per run). */
  network: FitterConfig;
  /** How the file named it ("compact", or "inline"). */
  networkName: string;
  samples: number;
  batch: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  meanCount: number;
  schedule: 'cosine' | 'plateau';
  seeds: { train: number; init: number; validation: number; test: number };
  validation: { count: number; times: number };
  test: { count: number };
  runs: RunConfig[];
  evaluate: { corrupt: number[]; segmenter: string | null };
  plot: PlotPanel[];
  paper: string;
  differences: string;
  findings: string;
}

type Json = Record<string, unknown>;

const NAME_RE = /^[a-z0-9][a-z0-9._+-]*$/;

class Reader {
  constructor(readonly file: string) {}
  fail(key: string, message: string): never {
    throw new ExperimentConfigError(`${this.file}: ${key}: ${message}`);
  }
  object(v: unknown, key: string): Json {
    if (!v || typeof v !== 'object' || Array.isArray(v)) this.fail(key, `must be an object, got ${JSON.stringify(v)}`);
    return v as Json;
  }
  keys(o: Json, key: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) this.fail(key ? `${key}.${k}` : k, `unknown key (known: ${allowed.join(', ')})`);
  }
  string(v: unknown, key: string): string {
    if (typeof v !== 'string' || !v.trim()) this.fail(key, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  number(v: unknown, key: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) this.fail(key, `must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }
  int(v: unknown, key: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(key, `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  }
}

const TOP_KEYS = ['name', 'title', 'question', 'network', 'samples', 'batch', 'lr', 'warmupSteps', 'weightDecay', 'meanCount', 'schedule', 'seeds', 'validation', 'test', 'defaults', 'runs', 'evaluate', 'plot', 'paper', 'differences', 'findings'] as const;
const RUN_OPTION_KEYS = ['input', 'loss', 'corrupt', 'has3d'] as const;
const RUN_KEYS = ['name', 'label', 'x', 'fromRun', 'weights', 'reference', ...RUN_OPTION_KEYS] as const;

/** A loss given as an object ({"params": 1, …}) or as text ("params=1,joints2d=1"). */
function readLoss(r: Reader, v: unknown, key: string): FitterLossWeights {
  let o: Json;
  if (typeof v === 'string') {
    o = {};
    for (const part of v.split(',')) {
      const [k, w] = part.split('=').map((s) => s.trim());
      o[k] = k === 'joints3dKind' ? w : Number(w);
    }
  } else {
    o = r.object(v, key);
  }
  r.keys(o, key, ['params', 'joints3d', 'joints2d', 'joints3dKind']);
  const w: FitterLossWeights = { params: 0, joints3d: 0, joints2d: 0, joints3dKind: 'euclidean' };
  for (const k of ['params', 'joints3d', 'joints2d'] as const) if (o[k] !== undefined) w[k] = r.number(o[k], `${key}.${k}`, 0, 1e6);
  if (o.joints3dKind !== undefined) {
    if (o.joints3dKind !== 'euclidean' && o.joints3dKind !== 'l2') r.fail(`${key}.joints3dKind`, `must be "euclidean" or "l2", got ${JSON.stringify(o.joints3dKind)}`);
    w.joints3dKind = o.joints3dKind;
  }
  try {
    checkLossWeights(w);
  } catch (e) {
    r.fail(key, (e as Error).message);
  }
  return w;
}

function readRunOptions(r: Reader, o: Json, key: string, base: RunOptions): RunOptions {
  const out = { ...base, loss: { ...base.loss } };
  if (o.input !== undefined) {
    try {
      out.input = checkFitterInputType(o.input, `${key}.input`);
    } catch (e) {
      r.fail(`${key}.input`, (e as Error).message.replace(`${key}.input: `, ''));
    }
  }
  if (o.loss !== undefined) out.loss = readLoss(r, o.loss, `${key}.loss`);
  if (o.corrupt !== undefined) out.corrupt = r.number(o.corrupt, `${key}.corrupt`, 0, 4);
  if (o.has3d !== undefined) out.has3d = r.number(o.has3d, `${key}.has3d`, 0, 1);
  return out;
}

/**
 * Checks an experiment file's parsed JSON and fills in the defaults. `file`: its path, for messages
 * (its base name must be the experiment's name).
 */
export function parseExperimentConfig(json: unknown, file: string): ExperimentConfig {
  const r = new Reader(file);
  const o = r.object(json, '(top level)');
  r.keys(o, '', TOP_KEYS);
  const name = r.string(o.name, 'name');
  if (!NAME_RE.test(name)) r.fail('name', `must be lower-case letters, digits and . _ + - (a file name), got ${JSON.stringify(name)}`);
  const base = file.replace(/\\/g, '/').split('/').pop()!.replace(/\.json$/, '');
  if (base !== name) r.fail('name', `is "${name}" but the file is ${base}.json; they must agree (nbf experiment NAME finds the file by name)`);

  let network: FitterConfig = fitterConfig('compact');
  let networkName: string;
  const net = o.network ?? 'compact';
  if (typeof net === 'string') {
    try {
      network = fitterConfig(net);
    } catch (e) {
      r.fail('network', (e as Error).message);
    }
    networkName = net;
  } else {
    const n = r.object(net, 'network') as unknown as FitterConfig;
    if ((n as { input?: unknown }).input !== undefined) r.fail('network.input', 'the input type is set per run (runs[i].input or defaults.input), not in the network');
    try {
      checkFitterConfig(fitterConfigWithInput(n, DEFAULT_FITTER_INPUT), `network`);
    } catch (e) {
      r.fail('network', (e as Error).message);
    }
    network = structuredClone(n);
    networkName = 'inline';
  }
  const batch = o.batch === undefined ? 16 : r.int(o.batch, 'batch', 2, 512);
  const samples = r.int(o.samples, 'samples', batch, 1e9);
  if (samples % batch !== 0) r.fail('samples', `${samples} is not a multiple of the batch ${batch} (every run trains samples / batch steps)`);
  const schedule = (o.schedule ?? 'cosine') as ExperimentConfig['schedule'];
  if (schedule !== 'cosine' && schedule !== 'plateau') r.fail('schedule', `must be "cosine" or "plateau", got ${JSON.stringify(schedule)}`);

  const seedsIn = r.object(o.seeds ?? {}, 'seeds');
  r.keys(seedsIn, 'seeds', ['train', 'init', 'validation', 'test']);
  const seed = (k: string, fallback: number) => (seedsIn[k] === undefined ? fallback : r.int(seedsIn[k], `seeds.${k}`, 0, 2 ** 32 - 1));
  const seeds = { train: seed('train', 1), init: seed('init', 0), validation: seed('validation', 900001), test: seed('test', 123) };
  if (seeds.validation === seeds.train) r.fail('seeds.validation', `equals seeds.train (${seeds.train}); validation must use examples training never draws`);
  if (seeds.test === seeds.train) r.fail('seeds.test', `equals seeds.train (${seeds.train}); the test set must be held out`);

  const valIn = r.object(o.validation ?? {}, 'validation');
  r.keys(valIn, 'validation', ['count', 'times']);
  const validation = { count: valIn.count === undefined ? 256 : r.int(valIn.count, 'validation.count', 1, 100000), times: valIn.times === undefined ? 4 : r.int(valIn.times, 'validation.times', 1, 1000) };
  const testIn = r.object(o.test ?? {}, 'test');
  r.keys(testIn, 'test', ['count']);
  const test = { count: testIn.count === undefined ? 512 : r.int(testIn.count, 'test.count', 1, 100000) };

  const defaultsIn = r.object(o.defaults ?? {}, 'defaults');
  r.keys(defaultsIn, 'defaults', RUN_OPTION_KEYS);
  const defaults = readRunOptions(r, defaultsIn, 'defaults', { input: DEFAULT_FITTER_INPUT, loss: { ...DEFAULT_FITTER_LOSS }, corrupt: 0, has3d: 1 });

  if (!Array.isArray(o.runs) || o.runs.length === 0) r.fail('runs', 'must be a non-empty array of runs');
  const runs: RunConfig[] = [];
  (o.runs as unknown[]).forEach((v, i) => {
    const key = `runs[${i}]`;
    const ro = r.object(v, key);
    r.keys(ro, key, RUN_KEYS);
    const runName = r.string(ro.name, `${key}.name`);
    if (!NAME_RE.test(runName)) r.fail(`${key}.name`, `must be lower-case letters, digits and . _ + - (a folder name), got ${JSON.stringify(runName)}`);
    if (runs.some((x) => x.name === runName)) r.fail(`${key}.name`, `"${runName}" is used by an earlier run`);
    const opts = readRunOptions(r, ro, key, defaults);
    if (opts.corrupt > 0 && !corruptibleInput(opts.input)) {
      r.fail(`${key}.corrupt`, `${opts.corrupt} > 0, but corruption applies to 12-part maps and input "${opts.input}" (${fitterInputInfo(opts.input).description}) has none`);
    }
    const fromRun = ro.fromRun === undefined ? null : r.string(ro.fromRun, `${key}.fromRun`);
    if (fromRun !== null && !/^[a-z0-9][a-z0-9._+-]*\/[a-z0-9][a-z0-9._+-]*$/.test(fromRun)) r.fail(`${key}.fromRun`, `must be "EXPERIMENT/RUN", got ${JSON.stringify(fromRun)}`);
    if (fromRun === `${name}/${runName}`) r.fail(`${key}.fromRun`, 'names the run itself');
    const weights = ro.weights === undefined ? null : r.string(ro.weights, `${key}.weights`);
    if (fromRun !== null && weights !== null) r.fail(key, 'give fromRun or weights, not both');
    const reference = ro.reference === undefined ? false : ro.reference === true ? true : ro.reference === false ? false : r.fail(`${key}.reference`, `must be true or false, got ${JSON.stringify(ro.reference)}`);
    if (weights !== null && !reference) r.fail(`${key}.reference`, 'a run evaluating a weights file of its own is not trained on this budget; mark it "reference": true');
    runs.push({
      name: runName,
      label: ro.label === undefined ? runName : r.string(ro.label, `${key}.label`),
      x: ro.x === undefined ? null : r.number(ro.x, `${key}.x`, -1e9, 1e9),
      fromRun, weights, reference, ...opts,
    });
  });

  const evalIn = r.object(o.evaluate ?? {}, 'evaluate');
  r.keys(evalIn, 'evaluate', ['corrupt', 'segmenter']);
  let corrupt: number[] = [];
  if (evalIn.corrupt !== undefined) {
    if (!Array.isArray(evalIn.corrupt) || evalIn.corrupt.length === 0) r.fail('evaluate.corrupt', 'must be a non-empty array of strengths');
    corrupt = (evalIn.corrupt as unknown[]).map((v, i) => r.number(v, `evaluate.corrupt[${i}]`, 0, 4));
    for (let i = 1; i < corrupt.length; i++) if (!(corrupt[i] > corrupt[i - 1])) r.fail(`evaluate.corrupt[${i}]`, 'strengths must increase');
  }
  const segmenter = evalIn.segmenter === undefined || evalIn.segmenter === null ? null : r.string(evalIn.segmenter, 'evaluate.segmenter');
  if (corrupt.length || segmenter) {
    runs.forEach((run, i) => {
      if (!corruptibleInput(run.input)) r.fail(`runs[${i}].input`, `"${run.input}": evaluate.corrupt / evaluate.segmenter degrade the 12-part map, which this input does not contain`);
    });
  }

  const plotIn = o.plot ?? [{ kind: 'bars', title: 'error by run' }];
  if (!Array.isArray(plotIn) || plotIn.length === 0 || plotIn.length > 4) r.fail('plot', 'must be an array of 1–4 panels');
  const plot = (plotIn as unknown[]).map((v, i): PlotPanel => {
    const key = `plot[${i}]`;
    const p = r.object(v, key);
    r.keys(p, key, ['kind', 'title', 'runs', 'xLabel']);
    const kind = p.kind as PlotKind;
    if (kind !== 'bars' && kind !== 'line' && kind !== 'degradation') r.fail(`${key}.kind`, `must be "bars", "line" or "degradation", got ${JSON.stringify(kind)}`);
    let panelRuns: string[] | null = null;
    if (p.runs !== undefined) {
      if (!Array.isArray(p.runs) || p.runs.length === 0) r.fail(`${key}.runs`, 'must be a non-empty array of run names');
      panelRuns = (p.runs as unknown[]).map((n, k) => {
        const s = r.string(n, `${key}.runs[${k}]`);
        if (!runs.some((x) => x.name === s)) r.fail(`${key}.runs[${k}]`, `no run is named "${s}" (runs: ${runs.map((x) => x.name).join(', ')})`);
        return s;
      });
    }
    const shown = runs.filter((x) => !panelRuns || panelRuns.includes(x.name));
    if (kind === 'line') shown.forEach((x) => x.x === null && r.fail(`${key}`, `a line panel places runs at their "x"; run "${x.name}" has none`));
    if (kind === 'degradation' && corrupt.length === 0) r.fail(`${key}.kind`, 'a degradation panel plots evaluate.corrupt, which is not given');
    return { kind, title: r.string(p.title, `${key}.title`), runs: panelRuns, xLabel: p.xLabel === undefined ? (kind === 'degradation' ? 'mIoU of the input maps' : kind === 'line' ? 'x' : '') : r.string(p.xLabel, `${key}.xLabel`) };
  });

  return {
    name,
    title: r.string(o.title ?? name, 'title'),
    question: o.question === undefined ? '' : r.string(o.question, 'question'),
    network, networkName,
    samples, batch,
    lr: o.lr === undefined ? 1e-3 : r.number(o.lr, 'lr', 1e-7, 1),
    warmupSteps: o.warmupSteps === undefined ? 100 : r.int(o.warmupSteps, 'warmupSteps', 1, 1e6),
    weightDecay: o.weightDecay === undefined ? 1e-4 : r.number(o.weightDecay, 'weightDecay', 0, 1),
    meanCount: o.meanCount === undefined ? 4096 : r.int(o.meanCount, 'meanCount', 1, 1e6),
    schedule,
    seeds, validation, test, runs,
    evaluate: { corrupt, segmenter },
    plot,
    paper: o.paper === undefined ? '' : r.string(o.paper, 'paper'),
    differences: o.differences === undefined ? '' : r.string(o.differences, 'differences'),
    findings: o.findings === undefined ? '' : r.string(o.findings, 'findings'),
  };
}

/** Steps a run trains: the sample budget over the batch. */
export function runSteps(c: ExperimentConfig): number {
  return c.samples / c.batch;
}

/** The network a run trains: the experiment's, reading the run's input. */
export function runNetwork(c: ExperimentConfig, run: RunConfig): FitterConfig {
  return fitterConfigWithInput(c.network, run.input);
}

/** What makes a run's training what it is (stored in its folder; a resume must match it). */
export function runIdentity(c: ExperimentConfig, run: RunConfig): Record<string, unknown> {
  return {
    experiment: c.name, run: run.name,
    network: runNetwork(c, run),
    samples: c.samples, batch: c.batch, lr: c.lr, warmupSteps: c.warmupSteps, weightDecay: c.weightDecay, meanCount: c.meanCount, schedule: c.schedule,
    seeds: c.seeds, validation: c.validation,
    options: { input: run.input, loss: run.loss, corrupt: run.corrupt, has3d: run.has3d },
  };
}
