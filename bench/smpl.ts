/**
 * SMPL body-model benchmark: the GPU layer (src/smpl/gpu) against the plain TypeScript float64 CPU
 * implementation (src/smpl/cpu-forward.ts forward, src/smpl/gpu/backward.ref.ts backward), on a random
 * model of SMPL's size (6890 vertices, 24 joints, 10 β, 207 pose blend shapes, 4 influences; random
 * data, never SMPL's), with a perspective camera.
 *
 *   node scripts/with-display.mjs node --import tsx bench/smpl.ts [--quick]
 *
 * Rows: forward and forward+backward at batch 1 and 32. Each run is timed from uploading the inputs to
 * having every output (vertices, joints, joints2d; for backward every gradient: β, θ, trans, camera)
 * in a Float32Array; the CPU side computes the same outputs in float64. Runs alternate GPU/CPU so
 * machine noise hits both; the median is reported, ratio = cpu_ms / gpu_ms (> 1: the GPU is faster).
 * Before timing, every row checks that both sides agree. Then, at batch 32, a per-kernel breakdown of
 * the GPU forward+backward: every draw bracketed by gl.finish() (so the times add up to more than an
 * unbracketed run, where the CPU queues draws while llvmpipe renders), mean of 5 runs.
 * Writes bench/results/smpl.json (not with --quick).
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadavg, cpus } from 'node:os';
import { createNodeContext } from '../src/runtime/node-context.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { smplBackward, smplForward } from '../src/smpl/gpu/layer.js';
import { blendProductKernel } from '../src/smpl/gpu/kernels.js';
import { smplForward as cpuForward, projectPerspective } from '../src/smpl/cpu-forward.js';
import { smplBackwardRef } from '../src/smpl/gpu/backward.ref.js';
import { Rng } from '../src/util/random.js';

const quick = process.argv.includes('--quick');
const rt = createNodeContext({});
const rng = new Rng(2024);
const model = makeRandomBodyModel(1, { vertexCount: 6890, shapeCount: 10, influences: 4, faceCount: 13776 });
const gpuModel = GpuBodyModel.upload(rt, model);
const V = model.vertexCount;
const J = model.jointCount;
const B = model.shapeCount;

interface Row { name: string; gpu_ms: number; cpu_ms: number; ratio: number; load_average: number }
const rows: Row[] = [];
let profile: { kernel: string; ms: number; draws: number }[] = [];

/** Runs `work` `repeats` times with every draw bracketed by gl.finish(); mean ms per kernel (and defines) per run. */
function profileKernels(work: () => void, repeats: number): { kernel: string; ms: number; draws: number }[] {
  const gl = rt.gl;
  const totals = new Map<string, { ms: number; draws: number }>();
  const plainRun = rt.run;
  rt.run = (call) => {
    gl.finish();
    const t0 = performance.now();
    const out = plainRun.call(rt, call);
    gl.finish();
    const key = call.kernel + (call.defines ? ' ' + JSON.stringify(call.defines) : '');
    const entry = totals.get(key) ?? { ms: 0, draws: 0 };
    entry.ms += performance.now() - t0;
    entry.draws++;
    totals.set(key, entry);
    return out;
  };
  try {
    for (let r = 0; r < repeats; r++) work();
  } finally {
    rt.run = plainRun;
  }
  return [...totals].map(([kernel, e]) => ({ kernel, ms: +(e.ms / repeats).toFixed(2), draws: e.draws / repeats })).sort((a, b) => b.ms - a.ms);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  return maxAbsDiff(a, b) / scale;
}

for (const n of [1, 32]) {
  const pose = Float32Array.from({ length: n * J * 3 }, () => rng.normal(0, 0.3));
  const betas = Float32Array.from({ length: n * B }, () => rng.normal(0, 1));
  const trans = Float32Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? rng.uniform(5, 8) : rng.uniform(-0.2, 0.2)));
  const camera = Float32Array.from({ length: n * 4 }, (_, i) => [1000, 1000, 256, 256][i % 4]);
  const gradVertices = Float32Array.from({ length: n * V * 3 }, () => rng.normal());
  const gradJoints2d = Float32Array.from({ length: n * J * 2 }, () => rng.normal(0, 0.01));

  const gpuForward = () => rt.scope(() => {
    const out = smplForward(gpuModel, {
      betas: rt.tensor(betas, [n, B]), pose: rt.tensor(pose, [n, J * 3]), trans: rt.tensor(trans, [n, 3]),
      camera: { type: 'perspective', params: rt.tensor(camera, [n, 4]) },
    });
    return { vertices: out.vertices.readSync(), joints: out.joints.readSync(), joints2d: (out.joints2d as NonNullable<typeof out.joints2d>).readSync() };
  });
  const gpuForwardBackward = () => rt.scope(() => {
    const out = smplForward(gpuModel, {
      betas: rt.tensor(betas, [n, B]), pose: rt.tensor(pose, [n, J * 3]), trans: rt.tensor(trans, [n, 3]),
      camera: { type: 'perspective', params: rt.tensor(camera, [n, 4]) }, keepForBackward: true,
    });
    const saved = out.saved as NonNullable<typeof out.saved>;
    const g = smplBackward(gpuModel, saved, { vertices: rt.tensor(gradVertices, [n, V, 3]), joints2d: rt.tensor(gradJoints2d, [n, J, 2]) });
    saved.dispose();
    out.vertices.readSync();
    return { betas: g.betas.readSync(), pose: (g.pose as NonNullable<typeof g.pose>).readSync(), trans: g.trans.readSync(), camera: (g.camera as NonNullable<typeof g.camera>).readSync() };
  });
  const cpuRun = (backward: boolean) => {
    const vertices = new Float64Array(n * V * 3);
    const joints2d = new Float64Array(n * J * 2);
    const grads = { betas: new Float64Array(n * B), pose: new Float64Array(n * J * 3), trans: new Float64Array(n * 3), camera: new Float64Array(n * 4) };
    for (let b = 0; b < n; b++) {
      const po = pose.subarray(b * J * 3, (b + 1) * J * 3);
      const tr = trans.subarray(3 * b, 3 * b + 3);
      const cam = camera.subarray(4 * b, 4 * b + 4);
      const fwd = cpuForward(model, { pose: po, betas: betas.subarray(b * B, (b + 1) * B), trans: tr });
      vertices.set(fwd.vertices, b * V * 3);
      joints2d.set(projectPerspective(fwd.joints, { focalLength: [cam[0], cam[1]], principalPoint: [cam[2], cam[3]] }), b * J * 2);
      if (backward) {
        const g = smplBackwardRef(model, po, fwd, tr, { type: 'perspective', params: cam },
          { vertices: gradVertices.subarray(b * V * 3, (b + 1) * V * 3), joints2d: gradJoints2d.subarray(b * J * 2, (b + 1) * J * 2) });
        grads.betas.set(g.betas, b * B);
        grads.pose.set(g.pose, b * J * 3);
        grads.trans.set(g.trans, 3 * b);
        grads.camera.set(g.camera, 4 * b);
      }
    }
    return { vertices, joints2d, grads };
  };

  // Agreement first (also warms up the GPU programs and the JIT).
  const f = gpuForward();
  const c = cpuRun(true);
  const fb = gpuForwardBackward();
  const vErr = maxAbsDiff(f.vertices, c.vertices);
  const gErr = Math.max(...(['betas', 'pose', 'trans', 'camera'] as const).map((k) => maxRel(fb[k], c.grads[k])));
  console.log(`batch ${n}: GPU vs CPU: vertices max |Δ| ${vErr.toExponential(2)} m, joints2d max |Δ| ${maxAbsDiff(f.joints2d, c.joints2d).toExponential(2)} px, gradients max rel ${gErr.toExponential(2)}`);
  if (!(vErr < 1e-4) || !(gErr < 1e-3)) throw new Error(`batch ${n}: GPU and CPU disagree; not timing`);

  const repeats = quick ? 3 : n === 1 ? 15 : 11;
  for (const backward of [false, true]) {
    const gpuTimes: number[] = [];
    const cpuTimes: number[] = [];
    for (let r = 0; r < repeats; r++) {
      let t0 = performance.now();
      if (backward) gpuForwardBackward(); else gpuForward();
      gpuTimes.push(performance.now() - t0);
      t0 = performance.now();
      cpuRun(backward);
      cpuTimes.push(performance.now() - t0);
    }
    const row = {
      name: `smpl ${backward ? 'forward+backward' : 'forward'} batch ${n}`,
      gpu_ms: +median(gpuTimes).toFixed(2),
      cpu_ms: +median(cpuTimes).toFixed(2),
      ratio: +(median(cpuTimes) / median(gpuTimes)).toFixed(2),
      load_average: +loadavg()[0].toFixed(2),
    };
    rows.push(row);
    console.log(`${row.name.padEnd(34)} gpu ${row.gpu_ms.toFixed(1).padStart(8)} ms   cpu ${row.cpu_ms.toFixed(1).padStart(8)} ms   ratio ${row.ratio.toFixed(2)}   (load ${row.load_average})`);
  }
  if (n === 32) {
    profile = profileKernels(() => { gpuForwardBackward(); }, quick ? 1 : 5);
    console.log(`per-kernel breakdown, forward+backward batch ${n} (gl.finish() around every draw):`);
    for (const p of profile) console.log(`  ${p.kernel.padEnd(56)} ${p.ms.toFixed(2).padStart(7)} ms  ${p.draws} draw(s)`);
    console.log(`  ${'sum'.padEnd(56)} ${profile.reduce((s, p) => s + p.ms, 0).toFixed(2).padStart(7)} ms`);
  }
}
const blendKernel = blendProductKernel(rt);
console.log(`blend products: ${blendKernel === 'quad' ? 'smpl_quad_product' : 'matmul (no fine derivatives on this context)'}`);
gpuModel.dispose();
rt.destroy();

if (!quick) {
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'smpl.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    benchmark: 'bench/smpl.ts',
    model: 'random, SMPL-size: 6890 vertices, 24 joints, 10 betas, 207 pose blend shapes, 4 influences, 13776 faces',
    gpu: 'nbf-gl GPU layer, WebGL2 on Mesa llvmpipe (headless-gl), float32',
    blend_product_kernel: blendKernel,
    cpu: 'plain TypeScript, float64: src/smpl/cpu-forward.ts (forward) + src/smpl/gpu/backward.ref.ts (backward), single thread',
    timing: 'median ms from input upload to outputs (and gradients) downloaded; ratio = cpu_ms / gpu_ms',
    machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), load average ${loadavg().map((x) => x.toFixed(1)).join(' ')} at the end (shared machine)`,
    rows,
    profile_forward_backward_batch32: { note: 'mean ms per run with gl.finish() around every draw', kernels: profile },
  }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
