/**
 * `nbf experiment` (src/experiments): experiment files and their errors; a smoke experiment of a few
 * seconds (two training steps per run) that stops, resumes, evaluates, degrades maps, takes another
 * experiment's run and a segmenter; the report from fake results; the committed experiment files.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { testRuntime } from './helpers/gl.js';
import { captureCommand } from './helpers/cli.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { resizeNearest } from '../src/kernels/resize.js';
import { ExperimentConfigError, parseExperimentConfig, type ExperimentConfig } from '../src/experiments/config.js';
import { experimentPaths, listExperiments, loadExperimentConfig, readResults, runExperiment, type ExperimentResults, type RunResult } from '../src/experiments/runner.js';
import { segmenterLabelSource } from '../src/train/fitter-data.js';
import { buildReport, writeReport } from '../src/experiments/report.js';
import { SegmenterNetwork, type SegmenterConfig } from '../src/nn/refinenet.js';
import { encodeFitterWeights, encodeSegmenterWeights } from '../src/nn/weights-file.js';
import { FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { meanLatent } from '../src/train/fitter-data.js';
import { main } from '../src/cli/main.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-experiments-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY_NET = {
  name: 'tiny', inputSize: 32, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
};
const SEG_TINY: SegmenterConfig = {
  name: 'tiny', inputSize: 64, classes: 13,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
  decoder: { kind: 'light', widths: [8, 8], crpStages: 1 },
};

/** A valid small experiment, 2 steps of 4 per run. */
function smoke(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name, title: `Smoke ${name}`, network: TINY_NET, samples: 8, batch: 4, warmupSteps: 1, meanCount: 16,
    seeds: { train: 3, init: 1, validation: 900001, test: 777 }, validation: { count: 4, times: 1 }, test: { count: 4 },
    runs: [{ name: 'parts12', input: 'parts12', x: 12 }, { name: 'joints', input: 'joints' }],
    plot: [{ kind: 'bars', title: 'error' }],
    ...extra,
  };
}

describe('experiment files', () => {
  const parse = (json: unknown, file = 'experiments/smoke.json') => parseExperimentConfig(json, file);

  it('fills in the defaults', () => {
    const c = parse(smoke('smoke'));
    expect(c.runs.map((r) => [r.name, r.input, r.corrupt, r.has3d])).toEqual([['parts12', 'parts12', 0, 1], ['joints', 'joints', 0, 1]]);
    expect(c.runs[0].loss).toEqual({ params: 1, joints3d: 1, joints2d: 1, joints3dKind: 'euclidean' });
    expect(c.schedule).toBe('cosine');
    expect(c.seeds).toEqual({ train: 3, init: 1, validation: 900001, test: 777 });
    const text = parse(smoke('smoke', { defaults: { loss: 'params=1,joints2d=0.5' } }));
    expect(text.runs[1].loss).toEqual({ params: 1, joints3d: 0, joints2d: 0.5, joints3dKind: 'euclidean' });
  });

  it('names the file and the key of the first problem', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ ...smoke('smoke'), name: 'other' }, /smoke\.json: name: is "other" but the file is smoke\.json/],
      [{ ...smoke('smoke'), extra: 1 }, /smoke\.json: extra: unknown key/],
      [{ ...smoke('smoke'), samples: 10 }, /samples: 10 is not a multiple of the batch 4/],
      [{ ...smoke('smoke'), samples: -4 }, /samples: must be an integer/],
      [{ ...smoke('smoke'), network: 'huge' }, /network: unknown fitter configuration "huge"/],
      [{ ...smoke('smoke'), network: { ...TINY_NET, input: 'rgb' } }, /network\.input: the input type is set per run/],
      [{ ...smoke('smoke'), seeds: { train: 5, validation: 5 } }, /seeds\.validation: equals seeds\.train/],
      [{ ...smoke('smoke'), seeds: { train: 3, test: 3 } }, /seeds\.test: equals seeds\.train \(3\)/],
      [{ ...smoke('smoke'), runs: [] }, /runs: must be a non-empty array/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', input: 'parts5' }] }, /runs\[0\]\.input: unknown input type "parts5"/],
      [{ ...smoke('smoke'), runs: [{ name: 'a' }, { name: 'a' }] }, /runs\[1\]\.name: "a" is used by an earlier run/],
      [{ ...smoke('smoke'), runs: [{ name: 'A b' }] }, /runs\[0\]\.name: must be lower-case/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', input: 'rgb', corrupt: 0.5 }] }, /runs\[0\]\.corrupt: 0\.5 > 0, but corruption applies to 12-part maps and input "rgb"/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', has3d: 1.5 }] }, /runs\[0\]\.has3d: must be a number in \[0, 1\]/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', loss: { params: 0 } }] }, /runs\[0\]\.loss: fitter loss: every weight is 0/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', loss: { l1: 1 } }] }, /runs\[0\]\.loss\.l1: unknown key/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', fromRun: 'x' }] }, /runs\[0\]\.fromRun: must be "EXPERIMENT\/RUN"/],
      [{ ...smoke('smoke'), runs: [{ name: 'a', weights: 'w.nbfw' }] }, /runs\[0\]\.reference: a run evaluating a weights file/],
      [{ ...smoke('smoke'), evaluate: { corrupt: [0, 2, 1] } }, /evaluate\.corrupt\[2\]: strengths must increase/],
      [{ ...smoke('smoke'), evaluate: { corrupt: [0, 1] } }, /runs\[1\]\.input: "joints": evaluate\.corrupt \/ evaluate\.segmenter degrade the 12-part map/],
      [{ ...smoke('smoke'), plot: [{ kind: 'pie', title: 't' }] }, /plot\[0\]\.kind: must be "bars", "line" or "degradation"/],
      [{ ...smoke('smoke'), plot: [{ kind: 'line', title: 't' }] }, /plot\[0\]: a line panel places runs at their "x"; run "joints" has none/],
      [{ ...smoke('smoke'), plot: [{ kind: 'bars', title: 't', runs: ['nope'] }] }, /plot\[0\]\.runs\[0\]: no run is named "nope"/],
      [{ ...smoke('smoke'), plot: [{ kind: 'degradation', title: 't' }] }, /plot\[0\]\.kind: a degradation panel plots evaluate\.corrupt/],
    ];
    for (const [json, message] of bad) expect(() => parse(json), String(message)).toThrow(message);
    expect(() => parse([1])).toThrow(ExperimentConfigError);
  });

  it('reads files from a folder and names a missing or broken one', () => {
    const dir = join(root, 'files');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'good.json'), JSON.stringify(smoke('good')));
    writeFileSync(join(dir, 'broken.json'), '{ "name": ');
    expect(listExperiments(dir)).toEqual(['broken', 'good']);
    expect(loadExperimentConfig(dir, 'good').runs.length).toBe(2);
    expect(() => loadExperimentConfig(dir, 'broken')).toThrow(/broken\.json: not valid JSON/);
    expect(() => loadExperimentConfig(dir, 'absent')).toThrow(/absent\.json: no such experiment file \(experiments in .*: broken, good\)/);
  });

  it('the committed experiments are valid, share one network, budget and validation set each, and cover the issue', () => {
    const names = listExperiments('experiments');
    expect(names).toEqual(['input-type', 'segmentation-quality', 'supervision']);
    const configs = names.map((n) => loadExperimentConfig('experiments', n));
    const inputs = configs[0].runs.map((r) => r.input).sort();
    expect(inputs).toEqual(['joints', 'parts1', 'parts12', 'parts12+joints', 'parts24', 'parts3', 'parts6', 'rgb']);
    const sup = configs[2];
    expect(sup.runs.filter((r) => !r.fromRun).map((r) => r.has3d).sort()).toEqual([0.05, 0.2, 0.5, 1, 1, 1, 1]);
    // fromRun links must point at runs trained with the same budget, network, seeds and validation set.
    for (const c of configs) {
      for (const key of ['network', 'samples', 'batch', 'seeds', 'validation', 'test'] as const) expect(c[key], `${c.name}.${key}`).toEqual(configs[0][key]);
    }
  });
});

describe('a smoke experiment (2 steps per run): stop, resume, evaluate, report', () => {
  const dir = join(root, 'exp');
  const paths = experimentPaths(dir);
  const segPath = join(root, 'seg.nbfw');
  const refPath = join(root, 'ref.nbfw');
  const quiet = { log: () => {}, progress: () => {} };
  let base: ExperimentConfig;
  let derived: ExperimentConfig;

  beforeAll(() => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'smoke.json'), JSON.stringify(smoke('smoke')));
    writeFileSync(join(dir, 'smoke-seg.json'), JSON.stringify(smoke('smoke-seg', {
      runs: [{ name: 'clean', fromRun: 'smoke/parts12' }, { name: 'noisy', corrupt: 1 }, { name: 'ref', weights: refPath, reference: true }],
      evaluate: { corrupt: [0, 1, 3], segmenter: segPath },
      plot: [{ kind: 'degradation', title: 'error vs mIoU' }],
    })));
    const seg = new SegmenterNetwork(rt, SEG_TINY, { seed: 4 });
    writeFileSync(segPath, encodeSegmenterWeights(seg));
    seg.dispose();
    const ref = new FitterNetwork(rt, TINY_NET as FitterConfig, { seed: 5, meanLatent: meanLatent(generator, { size: 32, shapeCount: 10, seed: 1, count: 16 }) });
    writeFileSync(refPath, encodeFitterWeights(ref, { info: { step: 5, hours: 0.1, samples: 123 } }));
    ref.dispose();
    base = loadExperimentConfig(dir, 'smoke');
    derived = loadExperimentConfig(dir, 'smoke-seg');
  });

  it('a stopped run is marked "training", refuses to continue without --resume, resumes to done and is evaluated', async () => {
    let polls = 0;
    const first = await runExperiment(rt, generator, base, { paths, run: 'parts12', shouldStop: () => ++polls > 2, ...quiet });
    expect(first.pending).toEqual(['parts12']);
    let r = readResults(paths.resultsDir, 'smoke')!;
    expect(r.runs.parts12.status).toBe('training');
    expect(r.runs.parts12.steps).toBe(1);
    expect(r.runs.parts12.test).toBeNull();
    await expect(runExperiment(rt, generator, base, { paths, run: 'parts12', ...quiet })).rejects.toThrow(/step 1 of 2\); pass --resume/);
    const second = await runExperiment(rt, generator, base, { paths, resume: true, ...quiet });
    expect(second.done).toEqual(['parts12', 'joints']);
    r = readResults(paths.resultsDir, 'smoke')!;
    for (const name of ['parts12', 'joints']) {
      const run = r.runs[name];
      expect(run.status).toBe('done');
      expect(run.samples).toBe(8);
      expect(run.steps).toBe(2);
      expect(run.hours).toBeGreaterThan(0);
      expect(run.seeds).toEqual(base.seeds);
      expect(run.test!.count).toBe(4);
      for (const k of ['mpjpe', 'paMpjpe', 'pve', 'joint2dPx'] as const) {
        expect(Number.isFinite(run.test![k]), `${name} ${k}`).toBe(true);
        expect(Number.isFinite(run.baseline![k]), `${name} baseline ${k}`).toBe(true);
      }
      expect(existsSync(join(paths.resultsDir, 'smoke', `${name}.log.jsonl`))).toBe(true);
    }
    expect(r.runs.joints.options.input).toBe('joints');
    // The mean-pose floor is the same for every run (same mean, same test set).
    expect(r.runs.joints.baseline!.mpjpe).toBeCloseTo(r.runs.parts12.baseline!.mpjpe, 6);
    // Done runs are skipped.
    const third = await runExperiment(rt, generator, base, { paths, resume: true, ...quiet });
    expect(third.worked).toEqual([]);
    expect(third.done).toEqual(['parts12', 'joints']);
    // Done elsewhere: the run folders are not committed; the results alone mark a run done.
    const moved = join(root, 'moved-joints');
    renameSync(join(paths.runsDir, 'smoke', 'joints'), moved);
    const fourth = await runExperiment(rt, generator, base, { paths, ...quiet });
    expect(fourth.worked).toEqual([]);
    expect(existsSync(join(paths.runsDir, 'smoke', 'joints'))).toBe(false);
    renameSync(moved, join(paths.runsDir, 'smoke', 'joints'));
  });

  it('refuses to resume a run whose experiment file changed', async () => {
    const changed = parseExperimentConfig({ ...smoke('smoke'), lr: 0.01 }, join(dir, 'smoke.json'));
    await expect(runExperiment(rt, generator, changed, { paths, run: 'joints', resume: true, ...quiet })).rejects.toThrow(/was started with other settings .*\(lr differ\)/);
  });

  it('evaluates another experiment\'s run and a trained one on degraded maps and on a segmenter\'s labels', async () => {
    const s = await runExperiment(rt, generator, derived, { paths, ...quiet });
    expect(s.done).toEqual(['clean', 'noisy', 'ref']);
    const r = readResults(paths.resultsDir, 'smoke-seg')!;
    expect(r.runs.ref).toMatchObject({ status: 'done', reference: true, source: refPath, samples: 123, hours: 0.1, steps: 5 });
    expect(Number.isFinite(r.runs.ref.test!.mpjpe)).toBe(true);
    const clean = r.runs.clean;
    expect(clean.source).toBe('smoke/parts12');
    expect(clean.samples).toBe(8);
    // The same weights and test set as the source experiment's run: the same numbers.
    expect(clean.test!.mpjpe).toBeCloseTo(readResults(paths.resultsDir, 'smoke')!.runs.parts12.test!.mpjpe, 9);
    for (const run of [clean, r.runs.noisy, r.runs.ref]) {
      expect(run.sweep!.map((x) => x.corrupt)).toEqual([0, 1, 3]);
      expect(run.sweep![0].mIoU).toBe(1);
      expect(run.sweep![0].mpjpe).toBe(run.test!.mpjpe);
      expect(run.sweep![1].mIoU).toBeLessThan(1);
      expect(run.sweep![2].mIoU).toBeLessThan(run.sweep![1].mIoU);
      const seg = run.segmenter as { mIoU: number; mpjpe: number; weights: string };
      expect(seg.weights).toBe(segPath);
      expect(seg.mIoU).toBeGreaterThanOrEqual(0);
      expect(seg.mIoU).toBeLessThan(0.5); // an untrained segmenter
      expect(Number.isFinite(seg.mpjpe)).toBe(true);
    }
    expect(r.runs.noisy.options.corrupt).toBe(1);
    // Other evaluation settings (here: no segmenter) evaluate the done runs again, without training.
    const again = await runExperiment(rt, generator, derived, { paths, segmenter: null, ...quiet });
    expect(again.worked).toEqual(['clean', 'noisy', 'ref']);
    const r2 = readResults(paths.resultsDir, 'smoke-seg')!;
    expect(r2.runs.noisy.segmenter).toBeNull();
    expect(r2.runs.noisy.steps).toBe(2);
    expect(r2.runs.noisy.test!.mpjpe).toBe(r.runs.noisy.test!.mpjpe);
    await runExperiment(rt, generator, derived, { paths, ...quiet });
    // The degraded test maps are the same for every fitter (seeded per example).
    expect(r.runs.noisy.sweep![1].mIoU).toBe(clean.sweep![1].mIoU);
  });

  it('a fromRun waits for its source run, and names it when asked for explicitly', async () => {
    const other = join(root, 'exp2');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'smoke.json'), JSON.stringify(smoke('smoke')));
    writeFileSync(join(other, 'smoke-seg.json'), JSON.stringify(smoke('smoke-seg', { runs: [{ name: 'clean', fromRun: 'smoke/parts12' }] })));
    const c = loadExperimentConfig(other, 'smoke-seg');
    const s = await runExperiment(rt, generator, c, { paths: experimentPaths(other), ...quiet });
    expect(s.pending).toEqual(['clean']);
    await expect(runExperiment(rt, generator, c, { paths: experimentPaths(other), run: 'clean', ...quiet })).rejects.toThrow(/waits for smoke\/parts12 \(nbf experiment smoke --run parts12\)/);
    writeFileSync(join(other, 'smoke.json'), JSON.stringify({ ...smoke('smoke'), samples: 16 }));
    await expect(runExperiment(rt, generator, c, { paths: experimentPaths(other), ...quiet })).rejects.toThrow(/trained with another samples than this experiment's/);
  });

  it('writes the report and a plot per experiment with results', () => {
    const doc = join(root, 'docs', 'experiments.md');
    const results = new Map([['smoke', readResults(paths.resultsDir, 'smoke')], ['smoke-seg', readResults(paths.resultsDir, 'smoke-seg')]]);
    const written = writeReport([base, derived], results, { docPath: doc, plotDir: join(root, 'docs', 'experiments'), notesPath: null });
    expect(written.map((f) => f.replace(root, ''))).toEqual(['/docs/experiments.md', '/docs/experiments/smoke.png', '/docs/experiments/smoke-seg.png']);
    const md = readFileSync(doc, 'utf8');
    expect(md).toContain('![Smoke smoke](experiments/smoke.png)');
    expect(md).toMatch(/\| mean pose \(floor\) \|/);
  });
});

describe('report from fake results', () => {
  const config = parseExperimentConfig(smoke('fake', {
    runs: [{ name: 'a', label: 'A', input: 'parts12', x: 1 }, { name: 'b', label: 'B', input: 'parts12', x: 3 }, { name: 'c', label: 'C', input: 'rgb' }],
    plot: [{ kind: 'bars', title: 'by run' }, { kind: 'line', title: 'by x', runs: ['a', 'b'], xLabel: 'parts' }],
    paper: 'The paper found X.', differences: 'We differ in Y.', findings: 'We found Z.',
  }), 'experiments/fake.json');
  // Made-up numbers for the renderer only; never written under experiments/ or docs/.
  const fake = (mpjpe: number, status: RunResult['status'] = 'done'): RunResult => ({
    status, label: '', reference: false, options: { input: 'parts12', loss: config.runs[0].loss, corrupt: 0, has3d: 1 }, source: null, seeds: config.seeds,
    samples: status === 'done' ? 8 : 4, targetSamples: 8, steps: 2, hours: 0.5, samplesPerSecond: 1, best: null, validation: null,
    test: status === 'done' ? { seed: 777, count: 4, loss: 1, mpjpe, paMpjpe: mpjpe / 2, pve: mpjpe * 1.1, joint2dPx: 1.234, angleDeg: 10 } : null,
    baseline: status === 'done' ? { mpjpe: 0.3, paMpjpe: 0.2, pve: 0.31, joint2dPx: 8, angleDeg: 90 } : null,
    sweep: null, segmenter: null, evalSeconds: 1, identity: {}, evaluation: {}, weights: null, log: null, updated: '',
  });

  it('fills the table, marks missing runs "not run yet", and draws the panels', () => {
    const results: ExperimentResults = { experiment: 'fake', updated: '', runs: { a: fake(0.1), b: fake(0.08) } };
    const { markdown, plots } = buildReport([config], new Map([['fake', results]]), { docPath: 'docs/experiments.md', plotDir: 'docs/experiments', notesPath: null });
    expect(markdown).toMatch(/\| A \| 12-part map \(NBF's\) \| params \+ joints3d \+ joints2d \| — \| 100 % \| 100\.0 \| 50\.0 \| 110\.0 \| 1\.23 \| 10\.0 \| 8 \| 0\.50 \| done \|/);
    expect(markdown).toMatch(/\| C \| RGB picture \| .* \| — \| — \| — \| — \| — \| — \| — \| not run yet \|/);
    expect(markdown).toMatch(/\| mean pose \(floor\) \| — \| — \| — \| — \| 300\.0 \| 200\.0 \| 310\.0 \| 8\.00 \| 90\.0 \|/);
    expect(markdown).toContain('**What NBF found** (../shared/reference/nbf.md). The paper found X.');
    expect(markdown).toContain('**Where we differ.** We differ in Y.');
    expect(markdown).toContain('**What we found.** We found Z.');
    expect(markdown).toContain('![Smoke fake](experiments/fake.png)');
    expect(markdown).toContain('**Status:** fake 2 of 3 runs done.');
    expect(plots.length).toBe(1);
    const png = PNG.sync.read(Buffer.from(plots[0].data as Uint8Array));
    expect(png.width).toBe(1100);
    // The bars are drawn in the palette's first two colours.
    let blue = 0;
    let orange = 0;
    for (let i = 0; i < png.data.length; i += 4) {
      if (png.data[i] === 31 && png.data[i + 1] === 119 && png.data[i + 2] === 180) blue++;
      if (png.data[i] === 255 && png.data[i + 1] === 127 && png.data[i + 2] === 14) orange++;
    }
    expect(blue).toBeGreaterThan(500);
    expect(orange).toBeGreaterThan(300);
  });

  it('without results: every run "not run yet", no plot, a partial run shows its progress', () => {
    const none = buildReport([config], new Map([['fake', null]]), { docPath: 'docs/experiments.md', plotDir: 'docs/experiments', notesPath: null });
    expect(none.plots).toEqual([]);
    expect(none.markdown.match(/not run yet \|/g)!.length).toBe(4); // 3 runs + the mean pose
    expect(none.markdown).toContain('Plot: drawn by `nbf experiment --report` once a run of this experiment is done.');
    expect(none.markdown).not.toMatch(/\d+\.\d mm/);
    expect(none.markdown).toContain('**Status: no run has been done yet**');
    const partial = buildReport([config], new Map([['fake', { experiment: 'fake', updated: '', runs: { a: fake(0, 'training') } }]]), { docPath: 'd.md', plotDir: 'p', notesPath: null });
    expect(partial.markdown).toContain('training: 4 of 8 samples');
  });
});

describe('nbf experiment (CLI)', () => {
  const run = (argv: string[]) => captureCommand(() => main(argv));

  it('names what is wrong in the arguments', async () => {
    let r = await run(['experiment', '--dir', join(root, 'exp')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/name an experiment \(smoke, smoke-seg\)/);
    r = await run(['experiment', 'smoke', '--run', 'nope', '--dir', join(root, 'exp')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/experiment "smoke" has no run "nope" \(runs: parts12, joints\)/);
    r = await run(['experiment', 'smoke', '--minutes', '-1', '--dir', join(root, 'exp')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--minutes must be a number/);
    r = await run(['experiment', 'absent', '--dir', join(root, 'exp')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/absent\.json: no such experiment file/);
  });

  it('lists experiments and their state, and writes the report', async () => {
    let r = await run(['experiment', '--list', '--dir', join(root, 'exp')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/smoke +2 runs, 2 done; 8 samples per run/);
    const doc = join(root, 'cli-docs', 'experiments.md');
    r = await run(['experiment', '--report', '--dir', join(root, 'exp'), '--docs', doc]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${doc}`);
    expect(existsSync(join(root, 'cli-docs', 'experiments', 'smoke-seg.png'))).toBe(true);
  });
});

describe('segmenter labels', () => {
  it('the examples rendered at another size are the same people: joints scale with the size, labels shrunk from 128² match those at 64²', () => {
    const small = generator.generateBatch(3, { size: 64, seed: 11, start: 5 });
    const large = generator.generateBatch(3, { size: 128, seed: 11, start: 5 });
    try {
      const j64 = small.targets.joints2d.readSync();
      const j128 = large.targets.joints2d.readSync();
      for (let i = 0; i < j64.length; i++) expect(Math.abs(j128[i] / 2 - j64[i]), `joint value ${i}`).toBeLessThan(1e-3);
      const shrunk = rt.scope(() => resizeNearest(large.inputs.labels, [64, 64]).readSync());
      const truth = small.inputs.labels.readSync();
      let same = 0;
      let person = 0;
      for (let i = 0; i < truth.length; i++) {
        if (truth[i] > 0 || shrunk[i] > 0) person++;
        if (truth[i] > 0 && truth[i] === shrunk[i]) same++;
      }
      expect(person).toBeGreaterThan(600);
      expect(same / person).toBeGreaterThan(0.8);
    } finally {
      disposeBatch(small);
      disposeBatch(large);
    }
  });

  it('runs the segmenter on the batch\'s pictures at its own size and returns labels at the fitter\'s', () => {
    // An "oracle" segmenter: returns the true labels of pictures of its input size (via the generator).
    const oracle = {
      config: { inputSize: 64 },
      calls: 0,
      predict(images: import('../src/runtime/tensor.js').Tensor) {
        this.calls++;
        expect([...images.shape]).toEqual([2, 64, 64, 3]);
        const b = generator.generateBatch(2, { size: 64, seed: 9, start: 3 });
        try {
          return rt.view(b.inputs.labels, b.inputs.labels.shape);
        } finally {
          disposeBatch(b);
        }
      },
    };
    const source = segmenterLabelSource(generator, oracle);
    const b = generator.generateBatch(2, { size: 32, seed: 9, start: 3 });
    try {
      const out = rt.scope(() => source(b.inputs.labels, b.examples, 9).readSync());
      expect(oracle.calls).toBe(1);
      const truth = b.inputs.labels.readSync();
      let agree = 0;
      for (let i = 0; i < truth.length; i++) if (truth[i] === out[i]) agree++;
      expect(agree / truth.length).toBeGreaterThan(0.9);
    } finally {
      disposeBatch(b);
    }
  });
});
