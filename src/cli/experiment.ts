/**
 * `nbf experiment`: NBF's experiments on our synthetic benchmark (src/experiments, docs/experiments.md).
 *
 *   nbf experiment NAME [--run RUN] [--minutes M] [--resume] [--segmenter FILE]   run / resume
 *   nbf experiment [NAME...] --report [--docs FILE]                               docs + plots
 *   nbf experiment --list                                                         experiments and their state
 *
 * Thin: parses flags, builds the generator, calls the runner or the report writer.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createNodeContext } from '../runtime/node-context.js';
import { SynthGenerator } from '../synth/generate.js';
import { progressPrinter, stopOnSignals } from '../train/training-run.js';
import { experimentPaths, listExperiments, loadExperimentConfig, readResults, runExperiment } from '../experiments/runner.js';
import { writeReport } from '../experiments/report.js';
import { runSteps } from '../experiments/config.js';
import { ArgError, parseArgs, stringFlag } from './args.js';
import { numberFlag } from './train.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';

export const EXPERIMENT_USAGE = [
  'nbf experiment NAME [--run RUN] [--minutes M] [--resume] [--segmenter FILE.nbfw] [--dir DIR] [--body-model FILE]',
  '       nbf experiment [NAME...] --report [--docs FILE.md] [--dir DIR]',
  '       nbf experiment --list [--dir DIR]',
].join('\n');
export const EXPERIMENT_SUMMARY = "NBF's experiments (input type, segmentation quality, supervision) on synthetic people: run, resume, report";

export async function experiment(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, ['run', 'minutes', 'segmenter', 'dir', 'docs', 'body-model'], ['resume', 'report', 'list']);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf experiment: ${e.message}\nusage: ${EXPERIMENT_USAGE}`);
      return 2;
    }
    throw e;
  }
  const dir = stringFlag(args, 'dir') ?? 'experiments';
  const paths = experimentPaths(dir);
  const fail = (message: string) => {
    console.error(`nbf experiment: ${message}\nusage: ${EXPERIMENT_USAGE}`);
    return 2;
  };

  if (args.flags.has('list')) {
    for (const name of listExperiments(dir)) {
      const c = loadExperimentConfig(dir, name);
      const r = readResults(paths.resultsDir, name);
      const done = c.runs.filter((run) => r?.runs[run.name]?.status === 'done').length;
      console.log(`${name.padEnd(28)} ${String(c.runs.length).padStart(2)} runs, ${done} done; ${c.samples} samples per run — ${c.title}`);
    }
    return 0;
  }

  if (args.flags.has('report')) {
    const names = args.positional.length ? args.positional : listExperiments(dir);
    if (!names.length) return fail(`no experiment files in ${dir}`);
    const configs = names.map((n) => loadExperimentConfig(dir, n));
    const results = new Map(configs.map((c) => [c.name, readResults(paths.resultsDir, c.name)] as const));
    const docPath = stringFlag(args, 'docs') ?? 'docs/experiments.md';
    const written = writeReport(configs, results, { docPath, plotDir: join(dirname(docPath), 'experiments'), notesPath: join(dir, 'notes.md') });
    for (const f of written) console.log(`wrote ${f}`);
    return 0;
  }

  if (args.positional.length !== 1) return fail(args.positional.length ? `one experiment at a time (got ${args.positional.join(', ')})` : `name an experiment (${listExperiments(dir).join(', ') || `none in ${dir}`})`);
  let minutes: number | undefined;
  try {
    minutes = args.flags.has('minutes') ? numberFlag(args, 'minutes', 0, 0.01, 1e6) : undefined;
  } catch (e) {
    return fail((e as Error).message);
  }
  const segmenter = stringFlag(args, 'segmenter');
  if (segmenter !== undefined && !existsSync(segmenter)) return fail(`--segmenter ${segmenter}: no such file`);
  const config = loadExperimentConfig(dir, args.positional[0]);
  const run = stringFlag(args, 'run');
  if (run !== undefined && !config.runs.some((r) => r.name === run)) return fail(`experiment "${config.name}" has no run "${run}" (runs: ${config.runs.map((r) => r.name).join(', ')})`);

  const model = readBodyModelFile(bodyModelPathOrDefault(stringFlag(args, 'body-model')));
  const rt = createNodeContext();
  const generator = new SynthGenerator(rt, model);
  const tty = !!process.stderr.isTTY;
  const signals = stopOnSignals('experiment');
  try {
    const summary = await runExperiment(rt, generator, config, {
      paths, run, minutes, resume: args.flags.has('resume'), segmenter,
      shouldStop: signals.stopRequested,
      progress: progressPrinter(`experiment ${config.name}`, tty),
      log: (l) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${l}\n`),
    });
    console.log(`nbf experiment ${config.name}: ${summary.done.length} of ${run ? 1 : config.runs.length} run(s) done${summary.pending.length ? `; not done: ${summary.pending.join(', ')} (continue with --resume)` : ''}; ${runSteps(config)} steps per run; results ${join(paths.resultsDir, config.name + '.json')}`);
  } finally {
    signals.dispose();
    generator.dispose();
    rt.destroy();
  }
  return 0;
}
