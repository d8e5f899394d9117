/**
 * What the benchmarks that race TensorFlow.js share: one headless-gl WebGL2 context for both
 * libraries, medians, and wall-clock plus process CPU time of a call; a per-kernel profile and its
 * --profile printout; the rows of a network race (interleaved runs, medians, ratios, the table) and
 * the machine record.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release } from 'node:os';
import { Runtime } from '../src/runtime/runtime.js';
import { KernelProfiler, type KernelTiming } from '../src/runtime/profiler.js';
import { tfjsOnContext } from '../test/helpers/tfjs-small-resnet.js';

/** One WebGL2 context, our runtime and tfjs-webgl on it. */
export async function sharedContext(): Promise<{ gl: WebGL2RenderingContext; rt: Runtime; tf: Awaited<ReturnType<typeof tfjsOnContext>> }> {
  const require = createRequire(import.meta.url);
  const createGL = require('gl') as (w: number, h: number, o: object) => WebGL2RenderingContext | null;
  const gl = createGL(1, 1, { createWebGL2Context: true, preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false });
  if (!gl) throw new Error('headless-gl returned no context: run under scripts/with-display.mjs (needs an X display)');
  const rt = new Runtime(gl);
  return { gl, rt, tf: await tfjsOnContext(gl) };
}

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

/**
 * Wall-clock ms of fn, and the CPU ms the whole process spent meanwhile (llvmpipe renders on worker
 * threads of this process): on a shared machine CPU time is the steadier measure of the work.
 */
export function time(fn: () => unknown): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}

// ------------------------------------------------------------------ per-kernel profile
export type { KernelTiming } from '../src/runtime/profiler.js';

/**
 * Runs `fn` under the runtime's KernelProfiler (src/runtime/profiler.ts: gl.finish() around every
 * kernel draw, so each draw's wall time is its own); totals by kernel and by shapes, and the time of
 * the whole call.
 */
export function profileKernels(rt: Runtime, _gl: WebGL2RenderingContext, fn: () => void): { byKernel: KernelTiming[]; byShape: KernelTiming[]; totalMs: number; kernelMs: number } {
  const profiler = new KernelProfiler(rt);
  profiler.start();
  const t0 = performance.now();
  try {
    fn();
  } finally {
    profiler.stop();
  }
  const totalMs = performance.now() - t0;
  const r = profiler.report();
  return { byKernel: r.byKernel, byShape: r.byShape, totalMs: round(totalMs, 1), kernelMs: r.kernelMs };
}
export type KernelProfile = ReturnType<typeof profileKernels>;

/**
 * A race benchmark's --profile: run(name, fn), when enabled, runs fn once under profileKernels,
 * prints the time per kernel and the top (kernel, input shapes, output shape), and keeps the profile
 * under `name` in `profiles` (what the benchmark writes to its -profile.json); disabled, it does nothing.
 */
export function raceProfiler(rt: Runtime, gl: WebGL2RenderingContext, enabled: boolean): { profiles: Record<string, KernelProfile>; run: (name: string, fn: () => void) => void } {
  const profiles: Record<string, KernelProfile> = {};
  const run = (name: string, fn: () => void): void => {
    if (!enabled) return;
    const p = profileKernels(rt, gl, fn);
    profiles[name] = p;
    console.log(`  profile ${name}: ${p.totalMs} ms, of which in kernels ${p.kernelMs} ms`);
    for (const e of p.byKernel.slice(0, 12)) console.log(`    ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)}× ${e.key}`);
    console.log('    top (kernel, input shapes, output shape):');
    for (const e of p.byShape.slice(0, 20)) console.log(`    ${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)}× ${e.key}`);
  };
  return { profiles, run };
}

// ------------------------------------------------------------------ rows of a race against tfjs
/** One row of a network benchmark against tfjs (bench/fitter.ts, bench/segmenter.ts). */
export interface RaceRow {
  name: string;
  kind: 'inference' | 'training';
  config: string;
  input: string;
  batch: number;
  /** What the step does (loss, readback). */
  measures: string;
  ours_ms: number;
  tfjs_ms: number | null;
  /** tfjs_ms / ours_ms (> 1: we are faster). */
  ratio: number | null;
  target: number | null;
  meets_target: boolean | null;
  ours_cpu_ms: number;
  tfjs_cpu_ms: number | null;
  cpu_ratio: number | null;
  ours_samples_per_s: number;
  tfjs_samples_per_s: number | null;
  /** The check before timing. */
  agreement: Record<string, number>;
  /** 1-minute load average when the row started (2 cores: above ~2, something else competes). */
  load_average: number;
  timed_runs: number;
  ours_runs_ms: number[];
  tfjs_runs_ms: number[] | null;
}

export interface RunTimes { wall: number[]; cpu: number[] }

/** `warmups` untimed runs of every side (beyond the caller's checking run), then `repeats` interleaved timed runs. */
export function measureInterleaved(sides: readonly (() => unknown)[], repeats: number, warmups = 1): RunTimes[] {
  for (let i = 0; i < warmups; i++) for (const fn of sides) fn();
  const out = sides.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  for (let i = 0; i < repeats; i++) {
    sides.forEach((fn, k) => {
      const t = time(fn);
      out[k].wall.push(t.wall);
      out[k].cpu.push(t.cpu);
    });
  }
  return out;
}

type RowBase = Omit<RaceRow, 'ours_ms' | 'tfjs_ms' | 'ratio' | 'meets_target' | 'ours_cpu_ms' | 'tfjs_cpu_ms' | 'cpu_ratio' | 'ours_samples_per_s' | 'tfjs_samples_per_s' | 'timed_runs' | 'ours_runs_ms' | 'tfjs_runs_ms'>;

/** Medians (wall and CPU), ratios and throughputs of a row's runs. */
export function raceRow(base: RowBase, ours: RunTimes, theirs: RunTimes | null): RaceRow {
  const oursMs = median(ours.wall);
  const tfjsMs = theirs ? median(theirs.wall) : null;
  const ratio = tfjsMs !== null ? tfjsMs / oursMs : null;
  return {
    ...base,
    ours_ms: round(oursMs, 1),
    tfjs_ms: tfjsMs !== null ? round(tfjsMs, 1) : null,
    ratio: ratio !== null ? round(ratio, 3) : null,
    meets_target: ratio !== null && base.target !== null ? ratio >= base.target : null,
    ours_cpu_ms: round(median(ours.cpu), 0),
    tfjs_cpu_ms: theirs ? round(median(theirs.cpu), 0) : null,
    cpu_ratio: theirs ? round(median(theirs.cpu) / median(ours.cpu), 3) : null,
    ours_samples_per_s: round((base.batch * 1000) / oursMs, 2),
    tfjs_samples_per_s: tfjsMs !== null ? round((base.batch * 1000) / tfjsMs, 2) : null,
    timed_runs: ours.wall.length,
    ours_runs_ms: ours.wall.map((v) => round(v, 0)),
    tfjs_runs_ms: theirs ? theirs.wall.map((v) => round(v, 0)) : null,
  };
}

export function printRaceRow(r: RaceRow): void {
  const ratio = r.ratio !== null ? `ratio ${r.ratio.toFixed(2)} (CPU ${r.cpu_ratio!.toFixed(2)}), target ≥ ${r.target} ${r.meets_target ? 'met' : 'NOT met'}` : '(no tfjs counterpart)';
  console.log(`${r.name}: ours ${r.ours_ms} ms (CPU ${r.ours_cpu_ms}), tfjs ${r.tfjs_ms ?? '—'} ms (CPU ${r.tfjs_cpu_ms ?? '—'}); ${ratio}; load ${r.load_average}`);
  console.log(`  runs ms ours [${r.ours_runs_ms.join(' ')}] tfjs [${r.tfjs_runs_ms?.join(' ') ?? ''}]; agreement ${JSON.stringify(r.agreement)}`);
}

/** The rows as a Markdown table (what docs/performance.md quotes). */
export function printRaceTable(rows: readonly RaceRow[]): void {
  const cell = (v: number | null, d = 1) => (v === null ? '—' : v.toFixed(d));
  console.log('\n| row | ours ms | tfjs ms | ratio tfjs/ours | target | CPU ratio | ours samples/s | tfjs samples/s |');
  console.log('|---|---:|---:|---:|---|---:|---:|---:|');
  for (const r of rows) {
    const target = r.target === null ? '—' : `≥ ${r.target} ${r.meets_target ? '✓' : '✗'}`;
    console.log(`| ${r.name} | ${cell(r.ours_ms)} | ${cell(r.tfjs_ms)} | ${cell(r.ratio, 2)} | ${target} | ${cell(r.cpu_ratio, 2)} | ${cell(r.ours_samples_per_s, 2)} | ${cell(r.tfjs_samples_per_s, 2)} |`);
  }
}

/** What a results file records about the machine (the renderer string from the context). */
export function machineInfo(gl: WebGL2RenderingContext, loadAtStart: readonly number[]): Record<string, unknown> {
  const dbg = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number } | null;
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? null,
    platform: `${platform()} ${release()}`,
    node: process.version,
    renderer: String(gl.getParameter(dbg ? dbg.UNMASKED_RENDERER_WEBGL : gl.RENDERER)),
    loadavg_start: loadAtStart.map((v) => round(v, 2)),
    loadavg_end: loadavg().map((v) => round(v, 2)),
  };
}

/** Writes bench/results/<file> (pretty JSON, folder made as needed) and says so. */
export function writeBenchResult(file: string, data: unknown): void {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), JSON.stringify(data, null, 2) + '\n');
  console.log(`wrote bench/results/${file}`);
}
