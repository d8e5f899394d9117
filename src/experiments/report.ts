/**
 * `nbf experiment --report`: docs/experiments.md and one PNG per experiment (docs/experiments/NAME.png)
 * from the experiment files and their results (runner.ts). The page is generated whole: the hand-
 * written part (how to run, the budget and how it was measured) comes from experiments/notes.md, then
 * per experiment its setup, a table of its runs (MPJPE, PA-MPJPE, PVE, 2D px, rotation error, samples, hours; the
 * mean-pose floor), the degradation sweep and segmenter rows where configured, the plot, and what NBF
 * found beside where we differ (the experiment file's "paper" and "differences"). Runs without
 * results are listed as "not run yet": no number is ever made up. Every file is written atomically.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFilesAtomically, type PendingFile } from '../cli/atomic-write.js';
import { fitterInputInfo, type FitterInputType } from '../nn/fitter-inputs.js';
import { CURVE_PALETTE, type CurveSeries } from '../train/curves.js';
import type { ExperimentConfig, PlotPanel, RunConfig } from './config.js';
import { renderExperimentPlot, type ExperimentPanel } from './plot.js';
import type { ExperimentResults, RunResult } from './runner.js';

export interface ReportOptions {
  /** The page (default docs/experiments.md). */
  docPath: string;
  /** Folder of the plots (default docs/experiments). */
  plotDir: string;
  /** Hand-written text put first (default experiments/notes.md; absent: a short line). */
  notesPath?: string | null;
}

export interface ReportOutput {
  markdown: string;
  /** Plot files (path → PNG bytes) of experiments with results. */
  plots: PendingFile[];
}

const mm = (m: number | undefined | null) => (m === undefined || m === null || !Number.isFinite(m) ? '—' : (m * 1000).toFixed(1));
const px = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '—' : v.toFixed(2));
const deg = (v: number | undefined | null) => (v === undefined || v === null || !Number.isFinite(v) ? '—' : v.toFixed(1));
const thousands = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

function lossText(l: RunConfig['loss']): string {
  const parts = (['params', 'joints3d', 'joints2d'] as const).filter((k) => l[k] > 0).map((k) => (l[k] === 1 ? k : `${l[k]}·${k}`));
  return parts.join(' + ') + (l.joints3dKind === 'l2' && l.joints3d > 0 ? ' (3D: L2)' : '');
}

function status(run: RunConfig, r: RunResult | undefined, config: ExperimentConfig): string {
  if (!r) return run.fromRun ? `not run yet (from ${run.fromRun})` : 'not run yet';
  if (r.status === 'training') return `training: ${thousands(r.samples)} of ${thousands(config.samples)} samples`;
  return run.reference ? 'done (reference)' : run.fromRun ? `done (weights of ${run.fromRun})` : 'done';
}

function runTable(config: ExperimentConfig, results: ExperimentResults | null): string[] {
  const lines = [
    '| run | input | loss | corruption | 3D labels | MPJPE (mm) | PA-MPJPE (mm) | PVE (mm) | 2D (px) | rotations (°) | samples | hours | status |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  let baseline: RunResult['baseline'] = null;
  for (const run of config.runs) {
    const r = results?.runs[run.name];
    const t = r?.status === 'done' ? r.test : null;
    baseline ??= r?.baseline ?? null;
    lines.push(`| ${run.label}${run.reference ? ' *' : ''} | ${fitterInputInfo(run.input as FitterInputType).description} | ${lossText(run.loss)} | ${run.corrupt || '—'} | ${Math.round(run.has3d * 100)} % | ${mm(t?.mpjpe)} | ${mm(t?.paMpjpe)} | ${mm(t?.pve)} | ${px(t?.joint2dPx)} | ${deg(t?.angleDeg)} | ${r ? thousands(r.samples) : '—'} | ${r ? r.hours.toFixed(2) : '—'} | ${status(run, r, config)} |`);
  }
  lines.push(`| mean pose (floor) | — | — | — | — | ${mm(baseline?.mpjpe)} | ${mm(baseline?.paMpjpe)} | ${mm(baseline?.pve)} | ${px(baseline?.joint2dPx)} | ${deg(baseline?.angleDeg)} | — | — | ${baseline ? 'on the same test set' : 'not run yet'} |`);
  return lines;
}

function sweepTable(config: ExperimentConfig, results: ExperimentResults | null): string[] {
  const runs = config.runs;
  const lines: string[] = [];
  if (config.evaluate.corrupt.length) {
    lines.push(`Test maps degraded by the segmentation-error augmentation (src/synth/part-noise.ts) at each strength — the same maps for every fitter — with their mIoU against the true maps (12 parts), then each fitter's MPJPE / PA-MPJPE in mm:`, '');
    lines.push(`| strength | mIoU | ${runs.map((r) => r.label).join(' | ')} |`);
    lines.push(`|---|---|${runs.map(() => '---').join('|')}|`);
    config.evaluate.corrupt.forEach((s, i) => {
      const cells = runs.map((run) => results?.runs[run.name]?.sweep?.[i] ?? null);
      const mIoU = cells.find((c) => c)?.mIoU;
      lines.push(`| ${s} | ${mIoU === undefined ? '—' : mIoU.toFixed(3)} | ${cells.map((c) => (c ? `${mm(c.mpjpe)} / ${mm(c.paMpjpe)}` : 'not run yet')).join(' | ')} |`);
    });
    lines.push('');
  }
  const seg = config.evaluate.segmenter;
  const segRows = runs.map((run) => ({ run, s: results?.runs[run.name]?.segmenter ?? null }));
  if (seg || segRows.some((x) => x.s)) {
    lines.push(`On the segmenter's own labels (${seg ? `\`${seg}\`` : 'given by --segmenter'}; pictures rendered at its input size, labels shrunk to the fitter's by nearest neighbour):`, '');
    lines.push('| fitter | segmenter mIoU | MPJPE | PA-MPJPE | PVE | 2D px |', '|---|---|---|---|---|---|');
    for (const { run, s } of segRows) {
      if (s && !('missing' in s)) lines.push(`| ${run.label} | ${s.mIoU.toFixed(3)} | ${mm(s.mpjpe)} | ${mm(s.paMpjpe)} | ${mm(s.pve)} | ${px(s.joint2dPx)} |`);
      else lines.push(`| ${run.label} | ${s ? 'segmenter weights not found' : 'not run yet'} | — | — | — | — |`);
    }
    lines.push('');
  } else {
    lines.push('On the segmenter\'s own labels: not run yet (no segmenter weights; set `evaluate.segmenter` or pass `--segmenter FILE`).', '');
  }
  return lines;
}

function panelData(config: ExperimentConfig, results: ExperimentResults | null, panel: PlotPanel): ExperimentPanel {
  const shown = config.runs.filter((r) => !panel.runs || panel.runs.includes(r.name));
  const done = (run: RunConfig) => {
    const r = results?.runs[run.name];
    return r?.status === 'done' ? r : null;
  };
  if (panel.kind === 'bars') {
    return {
      kind: 'bars', title: panel.title, yLabel: 'mm',
      categories: shown.map((r) => r.label),
      series: [
        { name: 'MPJPE', values: shown.map((r) => (done(r)?.test ? done(r)!.test!.mpjpe * 1000 : null)) },
        { name: 'PA-MPJPE', values: shown.map((r) => (done(r)?.test ? done(r)!.test!.paMpjpe * 1000 : null)) },
      ],
    };
  }
  if (panel.kind === 'line') {
    const pts = (key: 'mpjpe' | 'paMpjpe') => shown.filter((r) => done(r)?.test).map((r) => [r.x!, done(r)!.test![key] * 1000] as [number, number]).sort((a, b) => a[0] - b[0]);
    return { kind: 'line', title: panel.title, xLabel: panel.xLabel, yLabel: 'mm', series: [{ name: 'MPJPE', points: pts('mpjpe') }, { name: 'PA-MPJPE', points: pts('paMpjpe') }] };
  }
  // One colour per fitter: MPJPE solid, PA-MPJPE dashed, the segmenter's labels as a square (MPJPE).
  const series: CurveSeries[] = [];
  shown.forEach((run, k) => {
    const r = done(run);
    if (!r?.sweep) return;
    const colour = CURVE_PALETTE[k % CURVE_PALETTE.length];
    series.push({ name: `${run.label}: MPJPE`, colour, points: r.sweep.map((s) => [s.mIoU, s.mpjpe * 1000] as [number, number]) });
    series.push({ name: `${run.label}: PA-MPJPE`, colour, dashed: true, points: r.sweep.map((s) => [s.mIoU, s.paMpjpe * 1000] as [number, number]) });
    if (r.segmenter && !('missing' in r.segmenter)) series.push({ name: `${run.label}: segmenter`, colour, lineWidth: 5, points: [[r.segmenter.mIoU, r.segmenter.mpjpe * 1000]] });
  });
  return { kind: 'line', title: panel.title, xLabel: panel.xLabel, yLabel: 'mm', series };
}

function setup(c: ExperimentConfig): string {
  const net = c.network;
  const steps = c.samples / c.batch;
  return [
    `Network \`${c.networkName}\` (${net.inputSize}², ${net.encoder.block} blocks [${net.encoder.blocks.join(', ')}] × [${net.encoder.widths.join(', ')}]; input channels follow the run's input), `,
    `**${thousands(c.samples)} training samples per run** (${thousands(steps)} steps of ${c.batch}), AdamW lr ${c.lr} (${c.schedule === 'cosine' ? 'half-cosine to lr/100 over the budget' : 'plateau decay'}, ${c.warmupSteps}-step warm-up, weight decay ${c.weightDecay}). `,
    `Seeds: training data ${c.seeds.train}, initialisation ${c.seeds.init}; validation ${c.validation.count} examples of seed ${c.seeds.validation} (${c.validation.times} times per run, best weights on PA-MPJPE); `,
    `test ${c.test.count} examples of seed ${c.seeds.test} (the numbers below, best weights, clean inputs unless stated).`,
  ].join('');
}

/** The page and the plots (nothing written). */
export function buildReport(configs: readonly ExperimentConfig[], results: ReadonlyMap<string, ExperimentResults | null>, o: ReportOptions): ReportOutput {
  const notesPath = o.notesPath === undefined ? 'experiments/notes.md' : o.notesPath;
  const notes = notesPath && existsSync(notesPath) ? readFileSync(notesPath, 'utf8').trimEnd() : '# NBF\'s experiments on our synthetic benchmark';
  const out: string[] = [
    `<!-- Generated by \`nbf experiment --report\` from ${notesPath ?? 'the experiment files'}, experiments/*.json and experiments/results/*.json; edit those, not this page. -->`,
    '',
    notes,
    '',
  ];
  // Where the runs stand (computed, so the page never claims more than the results hold).
  const progress = configs.map((c) => {
    const runs = results.get(c.name)?.runs ?? {};
    return { name: c.name, total: c.runs.length, done: c.runs.filter((r) => runs[r.name]?.status === 'done').length, training: c.runs.filter((r) => runs[r.name]?.status === 'training').length };
  });
  const doneRuns = progress.reduce((a, p) => a + p.done, 0);
  out.push(doneRuns === 0 && progress.every((p) => p.training === 0)
    ? '**Status: no run has been done yet** — every table says "not run yet".'
    : `**Status:** ${progress.map((p) => `${p.name} ${p.done} of ${p.total} runs done${p.training ? ` (${p.training} in training)` : ''}`).join('; ')}.`, '');
  const plots: PendingFile[] = [];
  for (const c of configs) {
    const res = results.get(c.name) ?? null;
    out.push(`## ${c.title} (\`experiments/${c.name}.json\`)`, '');
    if (c.question) out.push(c.question, '');
    out.push(setup(c), '');
    out.push(...runTable(c, res), '');
    if (c.runs.some((r) => r.reference)) out.push('\\* reference: not trained on this experiment\'s budget (its own samples and hours are shown).', '');
    if (c.evaluate.corrupt.length || c.evaluate.segmenter) out.push(...sweepTable(c, res));
    const anyDone = Object.values(res?.runs ?? {}).some((r) => r.status === 'done');
    if (anyDone) {
      const path = join(o.plotDir, `${c.name}.png`);
      plots.push({ path, data: renderExperimentPlot(c.plot.map((p) => panelData(c, res, p)), c.title) });
      out.push(`![${c.title}](${relative(dirname(o.docPath), path).replace(/\\/g, '/')})`, '');
    } else {
      out.push('Plot: drawn by `nbf experiment --report` once a run of this experiment is done.', '');
    }
    if (c.paper) out.push(`**What NBF found** (../shared/reference/nbf.md). ${c.paper}`, '');
    if (c.differences) out.push(`**Where we differ.** ${c.differences}`, '');
    if (c.findings) out.push(`**What we found.** ${c.findings}`, '');
  }
  return { markdown: out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n', plots };
}

/** Builds the page and the plots and writes them together, atomically. Returns the paths written. */
export function writeReport(configs: readonly ExperimentConfig[], results: ReadonlyMap<string, ExperimentResults | null>, o: ReportOptions): string[] {
  const { markdown, plots } = buildReport(configs, results, o);
  const files: PendingFile[] = [{ path: o.docPath, data: markdown }, ...plots];
  mkdirSync(dirname(o.docPath), { recursive: true });
  if (plots.length) mkdirSync(o.plotDir, { recursive: true });
  writeFilesAtomically(files);
  return files.map((f) => f.path);
}
