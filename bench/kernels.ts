/**
 * Kernel benchmark: our matmul and conv2d against @tensorflow/tfjs-backend-webgl on the SAME headless-gl
 * context, in the same process. Every row first checks that both sides compute the same result, then
 * times ≥ 10 runs per side after warm-up (runs interleaved ours/tfjs so machine noise hits both),
 * each run timed until the full result is downloaded to a Float32Array (readPixels) — the same for
 * both sides. Reports the median ms, GFLOP/s and ratio = tfjs_ms / ours_ms (> 1: we are faster).
 *
 *   node scripts/with-display.mjs node --import tsx bench/kernels.ts [--quick] [--only=<substring>] [--loop]
 *
 * --quick: 3 timed runs, batch 1 only (smoke test). --loop: on matmul rows and the convolutions that
 * reach matmul (1×1, the im2col stems) also time the same call with matmul's loop kernel forced
 * (forceMatmulKernel: matmul.glsl + matmul_unblock instead of matmul_quad, and the dispatch that goes
 * with it — conv2d_pointwise up to K = 128, conv2d_small for the RGB stem), as variant "loop".
 * Writes bench/results/kernels.json (full runs only, unless --write) and prints a table.
 */
import { createRequire } from 'node:module';
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runtime } from '../src/runtime/runtime.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { forceMatmulKernel, matmul } from '../src/kernels/matmul.js';
import { conv2d, conv2dGeometry, type Conv2dOptions } from '../src/kernels/conv2d.js';
import { winogradApplies } from '../src/kernels/conv2d-winograd.js';
import { Rng } from '../src/util/random.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const write = args.includes('--write') || (!quick && !only);
const loop = args.includes('--loop');
const repeats = Number(args.find((a) => a.startsWith('--repeats='))?.slice('--repeats='.length) ?? (quick ? 3 : 10));
const warmups = 2;

// ------------------------------------------------------------------ one context, two libraries
const require = createRequire(import.meta.url);
const createGL = require('gl') as (w: number, h: number, o: object) => WebGL2RenderingContext | null;
const gl = createGL(1, 1, { createWebGL2Context: true, preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false });
if (!gl) throw new Error('headless-gl returned no context: run under scripts/with-display.mjs (needs an X display)');
const rt = new Runtime(gl);

const tf = await import('@tensorflow/tfjs-core');
const tfwebgl = await import('@tensorflow/tfjs-backend-webgl');
tfwebgl.setWebGLContext(2, gl);
if (tf.findBackendFactory('webgl')) tf.removeBackend('webgl');
tf.registerBackend('webgl', () => new tfwebgl.MathBackendWebGL(new tfwebgl.GPGPUContext(gl)), 10);
if (!(await tf.setBackend('webgl'))) throw new Error('tfjs could not start its webgl backend on the headless-gl context');
if (tf.env().getNumber('WEBGL_VERSION') !== 2) throw new Error('tfjs did not pick WebGL2');

// ------------------------------------------------------------------ rows
interface Row {
  name: string;
  flops: number;
  /**
   * Builds inputs on both sides; returns runners that produce a result and download it. `variants`:
   * our other paths for the same op, timed interleaved with the two (results: ours_<name>_ms, …).
   */
  setup(): { ours: () => Float32Array; tfjs: () => Float32Array; variants?: Record<string, () => Float32Array>; dispose(): void };
}

const rng = new Rng(7);

function matmulRow(n: number): Row {
  return {
    name: `matmul ${n}x${n}x${n}`,
    flops: 2 * n ** 3,
    setup() {
      const a = rng.uniformArray(n * n, -1, 1);
      const b = rng.uniformArray(n * n, -1, 1);
      const ga = rt.keep(rt.tensor(a, [n, n]));
      const gb = rt.keep(rt.tensor(b, [n, n]));
      const ta = tf.tensor2d(a, [n, n]);
      const tb = tf.tensor2d(b, [n, n]);
      return {
        ours: () => download(matmul(ga, gb)),
        tfjs: () => tfDownload(tf.matMul(ta, tb)),
        variants: loop ? { loop: withLoopKernel(() => download(matmul(ga, gb))) } : undefined,
        dispose: () => { ga.dispose(); gb.dispose(); ta.dispose(); tb.dispose(); },
      };
    },
  };
}

function convRow(label: string, batch: number, size: number, k: number, stride: number, cin: number, cout: number): Row {
  const xShape = [batch, size, size, cin];
  const wShape = [k, k, cin, cout];
  const padding = k === 1 ? 'valid' : 'same';
  const g = conv2dGeometry(xShape, wShape, { strides: stride, padding });
  const flops = 2 * batch * g.outSize[0] * g.outSize[1] * cout * k * k * cin;
  return {
    name: `conv2d ${label} b${batch}`,
    flops,
    setup() {
      const x = rng.uniformArray(xShape.reduce((p, d) => p * d, 1), -1, 1);
      const w = rng.uniformArray(wShape.reduce((p, d) => p * d, 1), -1, 1);
      const gx = rt.keep(rt.tensor(x, xShape));
      const gw = rt.keep(rt.tensor(w, wShape));
      const tx = tf.tensor4d(x, xShape as [number, number, number, number]);
      const tw = tf.tensor4d(w, wShape as [number, number, number, number]);
      const pointwise = k === 1 && stride === 1;
      const variant = (options: Conv2dOptions) => () => download(conv2d(gx, gw, { strides: stride, padding, ...options }));
      // 3×3 stride 1: each path by name, and 'auto' with the weights' transformed layout cached (as
      // inference runs it: cacheWeights), beside 'auto' without (the main column, as tfjs runs).
      const winograd = winogradApplies(conv2dGeometry(xShape, wShape, { strides: stride, padding }));
      const variants: Record<string, () => Float32Array> = {};
      if (!pointwise) variants.im2col = variant({ algorithm: 'im2col' });
      if (winograd) Object.assign(variants, { direct: variant({ algorithm: 'direct' }), winograd: variant({ algorithm: 'winograd' }), cached: variant({ cacheWeights: true }) });
      if (loop && !winograd) variants.loop = withLoopKernel(variant({}));
      return {
        ours: variant({}),
        tfjs: () => tfDownload(tf.conv2d(tx, tw, stride, padding)),
        variants,
        dispose: () => { gx.dispose(); gw.dispose(); tx.dispose(); tw.dispose(); },
      };
    },
  };
}

/** `run` with matmul's loop kernel forced (--loop). */
function withLoopKernel(run: () => Float32Array): () => Float32Array {
  return () => {
    forceMatmulKernel(rt, 'loop');
    try {
      return run();
    } finally {
      forceMatmulKernel(rt, null);
    }
  };
}

function download(t: Tensor): Float32Array {
  try {
    return t.readSync();
  } finally {
    t.dispose();
  }
}
function tfDownload(t: import('@tensorflow/tfjs-core').Tensor): Float32Array {
  try {
    return t.dataSync() as Float32Array;
  } finally {
    t.dispose();
  }
}

// ResNet-50 convolutions at 224² input.
const convShapes: [string, number, number, number, number, number][] = [
  ['7x7 s2 3->64 @224', 224, 7, 2, 3, 64],
  ['3x3 64->64 @56', 56, 3, 1, 64, 64],
  ['1x1 256->64 @56', 56, 1, 1, 256, 64],
  ['3x3 128->128 @28', 28, 3, 1, 128, 128],
  ['3x3 256->256 @14', 14, 3, 1, 256, 256],
  ['3x3 512->512 @7', 7, 3, 1, 512, 512],
];
const rows: Row[] = [matmulRow(256), matmulRow(512), matmulRow(1024)];
for (const batch of quick ? [1] : [1, 8]) {
  for (const [label, size, k, stride, cin, cout] of convShapes) rows.push(convRow(label, batch, size, k, stride, cin, cout));
}

// ------------------------------------------------------------------ measure
/** max |ours − tfjs| / max |tfjs|: both sums are float32, in different orders. */
function normwiseDifference(ours: Float32Array, theirs: Float32Array): number {
  if (ours.length !== theirs.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    if (!(d <= diff)) diff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(theirs[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/** CPU time (ms, all threads of this process: llvmpipe renders on worker threads) of each timed run. */
const cpuTimes = new Map<() => unknown, number[]>();

function time(fn: () => unknown): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (!cpuTimes.has(fn)) cpuTimes.set(fn, []);
  cpuTimes.get(fn)!.push((c.user + c.system) / 1000);
  return wall;
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

interface Result {
  name: string;
  ours_ms: number;
  tfjs_ms: number;
  ratio: number;
  ours_gflops: number;
  tfjs_gflops: number;
  /** Fastest run of each side: less sensitive to other load on the machine than the median. */
  ours_min_ms: number;
  tfjs_min_ms: number;
  /** Median CPU time over all threads: what the work costs when other processes share the cores. */
  ours_cpu_ms: number;
  tfjs_cpu_ms: number;
  /**
   * Per variant (im2col; for 3×3 stride 1 also direct, winograd and cached = 'auto' with cacheWeights; with --loop, loop):
   * ours_<name>_ms (median), ours_<name>_min_ms, ours_<name>_cpu_ms, ratio_<name> = tfjs_ms / ours_<name>_ms.
   */
  [variant: `ours_${string}_ms` | `ratio_${string}`]: number;
  max_rel_difference: number;
  runs: number;
  /** 1-minute load average when the row started (this machine has 2 cores shared with other work). */
  load_average: number;
}

const TOLERANCE = 1e-4;
const results: Result[] = [];
const started = performance.now();
for (const row of rows) {
  if (only && !row.name.includes(only)) continue;
  const load = loadavg()[0];
  const r = row.setup();
  try {
    // Same answer first (also the first draw of every program: llvmpipe compiles at draw time).
    const o1 = r.ours();
    const t1 = r.tfjs();
    const difference = normwiseDifference(o1, t1);
    if (!(difference <= TOLERANCE)) throw new Error(`${row.name}: ours and tfjs differ by ${difference} (max |diff| / max |value|)`);
    const variants = Object.entries(r.variants ?? {});
    for (const [name, run] of variants) {
      const d = normwiseDifference(run(), t1);
      if (!(d <= TOLERANCE)) throw new Error(`${row.name}: our ${name} path and tfjs differ by ${d}`);
    }
    for (let i = 1; i < warmups; i++) { r.ours(); r.tfjs(); for (const [, run] of variants) run(); }
    const ours: number[] = [];
    const theirs: number[] = [];
    const variantTimes = variants.map((): number[] => []);
    for (let i = 0; i < repeats; i++) {
      ours.push(time(r.ours));
      theirs.push(time(r.tfjs));
      variants.forEach(([, run], v) => variantTimes[v].push(time(run)));
    }
    const oursMs = median(ours);
    const tfjsMs = median(theirs);
    const result: Result = {
      name: row.name,
      ours_ms: round(oursMs),
      tfjs_ms: round(tfjsMs),
      ratio: round(tfjsMs / oursMs, 3),
      ours_gflops: round(row.flops / oursMs / 1e6),
      tfjs_gflops: round(row.flops / tfjsMs / 1e6),
      ours_min_ms: round(Math.min(...ours)),
      tfjs_min_ms: round(Math.min(...theirs)),
      ours_cpu_ms: round(median(cpuTimes.get(r.ours) ?? [NaN])),
      tfjs_cpu_ms: round(median(cpuTimes.get(r.tfjs) ?? [NaN])),
      max_rel_difference: Number(difference.toExponential(2)),
      runs: repeats,
      load_average: round(load),
    };
    variants.forEach(([name, run], v) => {
      const ms = median(variantTimes[v]);
      result[`ours_${name}_ms`] = round(ms);
      result[`ours_${name}_min_ms`] = round(Math.min(...variantTimes[v]));
      result[`ours_${name}_cpu_ms`] = round(median(cpuTimes.get(run) ?? [NaN]));
      result[`ratio_${name}`] = round(tfjsMs / ms, 3);
    });
    results.push(result);
    console.log(formatRow(result));
  } finally {
    r.dispose();
  }
}

function round(v: number, digits = 2): number {
  return Number(v.toFixed(digits));
}
/** Our variants of a result (im2col, direct, winograd, cached), in the order they ran. */
function variantNames(r: Result): string[] {
  return Object.keys(r).filter((k) => /^ours_\w+_min_ms$/.test(k)).map((k) => k.slice('ours_'.length, -'_min_ms'.length));
}
function formatRow(r: Result): string {
  const names = variantNames(r);
  const each = (f: (name: string) => string) => names.map((n) => ` ${n} ${f(n)}`).join('');
  return `${r.name.padEnd(32)} ours ${r.ours_ms.toFixed(1).padStart(8)} ms ${r.ours_gflops.toFixed(2).padStart(6)} GFLOP/s | ` +
    `tfjs ${r.tfjs_ms.toFixed(1).padStart(8)} ms ${r.tfjs_gflops.toFixed(2).padStart(6)} GFLOP/s | ratio ${r.ratio.toFixed(2)}` +
    (names.length ? ` |${each((n) => `${r[`ours_${n}_ms`].toFixed(1)} ms (ratio ${r[`ratio_${n}`].toFixed(2)})`)}` : '') +
    ` | min: ours ${r.ours_min_ms.toFixed(1)}${each((n) => r[`ours_${n}_min_ms`].toFixed(1))} tfjs ${r.tfjs_min_ms.toFixed(1)}` +
    ` | cpu: ours ${r.ours_cpu_ms.toFixed(0)}${each((n) => r[`ours_${n}_cpu_ms`].toFixed(0))} tfjs ${r.tfjs_cpu_ms.toFixed(0)}`;
}

console.log(`\n${results.length} rows in ${((performance.now() - started) / 1000).toFixed(0)} s (median of ${repeats} runs after warm-up; ratio = tfjs_ms / ours_ms)`);
console.log('| kernel | ours ms | ours GFLOP/s | tfjs ms | tfjs GFLOP/s | ratio | our variants: ms (ratio) |');
console.log('|---|---:|---:|---:|---:|---:|---|');
for (const r of results) {
  const variants = variantNames(r).map((n) => `${n} ${r[`ours_${n}_ms`]} (${r[`ratio_${n}`]})`).join(', ');
  console.log(`| ${r.name} | ${r.ours_ms} | ${r.ours_gflops} | ${r.tfjs_ms} | ${r.tfjs_gflops} | ${r.ratio} | ${variants} |`);
}
if (write) {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'kernels.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
tf.disposeVariables();
rt.destroy();
