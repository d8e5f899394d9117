/**
 * BlazePose GHUM benchmark: the TF.js graph models run by our graph executor (src/graph) against the
 * same files run by tfjs-converter on tfjs-webgl, on the SAME headless-gl context in one process.
 *
 *   node scripts/with-display.mjs node --import tsx bench/blazepose.ts [--quick] [--profile] [--only=lite]
 *
 * Rows (batch 1, the 256×256×3 landmark input, every output read back to the CPU):
 *   lite / full / heavy   warm: median over interleaved runs; target tfjs/ours ≥ 1.5. Also ours with
 *                         the plan's graph fusions off (`{ fuse: false }`, the executor before them),
 *                         interleaved in the same runs: ours_unfused_ms.
 *   cold                  the first call of each on a fresh model, shader compilation included.
 * Models: weights/blazepose/blazepose-<variant>.json (lite ships; full and heavy come from
 * scripts/fetch-blazepose.sh — a missing one is reported and skipped).
 * Before timing, every output of ours is checked against tfjs: ≤ 1e-3 absolute for outputs in [0, 1]
 * (probabilities, heatmaps) and ≤ 1e-4 relative to the output's largest magnitude otherwise (0.03 px for landmarks); the
 * person mask ≤ 3e-3: its last 1×1 conv turns inputs ≤ 6 into logits of |800|, amplifying float32
 * rounding on both sides (tfjs-webgl itself is 1.9e-3 from a float64 evaluation, ours 8e-4;
 * test/graph-model.test.ts).
 *   --quick    lite only, few runs, writes nothing     --profile  per-kernel time of ours, printed
 * Full runs write bench/results/blazepose.json: rows { name, ours_ms, tfjs_ms, ratio, ... }.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadGraphModel } from '../src/graph/load-node.js';
import { blazePoseModelPath, BLAZEPOSE_VARIANTS } from '../src/landmarks/model-files.js';
import { median, profileKernels, round, sharedContext, time } from './shared.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const here = dirname(fileURLToPath(import.meta.url));

const { gl, rt, tf } = await sharedContext();
const SIZE = 256;
const input = new Float32Array(SIZE * SIZE * 3);
// A smooth, picture-like input (values in [0, 1]), the same for both.
for (let y = 0; y < SIZE; y++) for (let x = 0; x < SIZE; x++) for (let c = 0; c < 3; c++) input[(y * SIZE + x) * 3 + c] = 0.5 + 0.4 * Math.sin(x * 0.05 + c) * Math.cos(y * 0.03 - c);

type Row = { name: string; ours_ms: number; tfjs_ms: number; ratio: number; ours_unfused_ms?: number; ours_cpu_ms?: number; tfjs_cpu_ms?: number; runs?: number; max_error?: Record<string, number> };
const rows: Row[] = [];
const variants = quick ? (['lite'] as const) : BLAZEPOSE_VARIANTS.filter((v) => !only || v.includes(only));

for (const variant of variants) {
  const path = blazePoseModelPath(variant);
  if (!path || !existsSync(path)) {
    console.log(`${variant}: weights/blazepose/blazepose-${variant}.json missing (bash scripts/fetch-blazepose.sh ${variant}); skipped`);
    continue;
  }
  const json = JSON.parse(readFileSync(path, 'utf8'));
  const bin = readFileSync(join(dirname(path), json.weightsManifest[0].paths[0]));
  const ours = loadGraphModel(rt, path);
  const oursUnfused = loadGraphModel(rt, path, { fuse: false });
  const outputKeys = ours.outputNames;
  const tfModel = await tf.converter.loadGraphModel(tf.io.fromMemory({
    modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g: { weights: unknown[] }) => g.weights),
    weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength), signature: json.signature, format: json.format,
  } as never));
  const tfNames = outputKeys.map((k) => String(json.signature.outputs[k].name).replace(/:0$/, ''));

  const runModel = (model: typeof ours) => rt.scope(() => {
    const out = model.execute(rt.tensor(input, [1, SIZE, SIZE, 3]), outputKeys);
    return outputKeys.map((k) => rt.readSync(out[k]));
  });
  const runOurs = () => runModel(ours);
  // The arrays are read inside tidy and handed out after it: returned from tidy, tfjs would walk
  // every element of them looking for tensors (30–56 ms here), which is not inference time.
  const runTfjs = () => {
    let arrays: Float32Array[] = [];
    tf.tidy(() => {
      const out = tfModel.execute(tf.tensor(input, [1, SIZE, SIZE, 3]), tfNames);
      arrays = (Array.isArray(out) ? out : [out]).map((t) => t.dataSync() as Float32Array);
    });
    return arrays;
  };

  // Cold: the first call of each, shaders compiled on the way.
  const coldOurs = time(runOurs);
  const coldTfjs = time(runTfjs);
  rows.push({ name: `${variant} cold`, ours_ms: round(coldOurs.wall, 1), tfjs_ms: round(coldTfjs.wall, 1), ratio: round(coldTfjs.wall / coldOurs.wall) });

  // Agreement.
  const a = runOurs();
  const b = runTfjs();
  const errors: Record<string, number> = {};
  outputKeys.forEach((k, i) => {
    let maxAbs = 0;
    let maxDiff = 0;
    for (let j = 0; j < a[i].length; j++) {
      maxAbs = Math.max(maxAbs, Math.abs(b[i][j]));
      maxDiff = Math.max(maxDiff, Math.abs(a[i][j] - b[i][j]));
    }
    const bounded = maxAbs <= 1;
    const error = bounded ? maxDiff : maxDiff / maxAbs;
    errors[k] = Number(error.toExponential(2));
    const tolerance = k === 'activation_segmentation' ? 3e-3 : bounded ? 1e-3 : 1e-4;
    if (error > tolerance) throw new Error(`${variant}: output ${k} differs from tfjs by ${error.toExponential(2)} (${bounded ? 'absolute' : 'relative'})`);
  });

  const warm = quick ? 1 : 2;
  const runs = quick ? 3 : variant === 'heavy' ? 7 : 11;
  for (let i = 0; i < warm; i++) {
    runOurs();
    runModel(oursUnfused);
    runTfjs();
  }
  const oursT: { wall: number; cpu: number }[] = [];
  const unfusedT: { wall: number; cpu: number }[] = [];
  const tfjsT: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < runs; i++) {
    oursT.push(time(() => { runOurs(); gl.finish(); }));
    unfusedT.push(time(() => { runModel(oursUnfused); gl.finish(); }));
    tfjsT.push(time(() => { runTfjs(); gl.finish(); }));
  }
  const o = median(oursT.map((t) => t.wall));
  const u = median(unfusedT.map((t) => t.wall));
  const t = median(tfjsT.map((t) => t.wall));
  rows.push({
    name: variant, ours_ms: round(o, 1), tfjs_ms: round(t, 1), ratio: round(t / o), ours_unfused_ms: round(u, 1),
    ours_cpu_ms: round(median(oursT.map((x) => x.cpu)), 1), tfjs_cpu_ms: round(median(tfjsT.map((x) => x.cpu)), 1), runs, max_error: errors,
  });
  console.log(`${variant}: ours ${o.toFixed(1)} ms (graph fusions off: ${u.toFixed(1)} ms), tfjs ${t.toFixed(1)} ms → ${(t / o).toFixed(2)}× (cold ${coldOurs.wall.toFixed(0)} / ${coldTfjs.wall.toFixed(0)} ms); max errors ${JSON.stringify(errors)}`);

  if (profile) {
    const p = profileKernels(rt, gl, () => void runOurs());
    console.log(`  ours per kernel (${p.kernelMs.toFixed(1)} of ${p.totalMs.toFixed(1)} ms):`);
    for (const k of p.byKernel.slice(0, 12)) console.log(`    ${k.key.padEnd(28)} ${String(k.calls).padStart(4)} calls ${k.ms.toFixed(1).padStart(8)} ms`);
    for (const k of p.byShape.slice(0, 12)) console.log(`    ${k.key.slice(0, 90).padEnd(90)} ${k.ms.toFixed(1).padStart(7)} ms ${String(k.calls).padStart(4)} calls`);
  }
  ours.dispose();
  oursUnfused.dispose();
  tfModel.dispose();
}

console.table(rows.map(({ max_error: _, ...r }) => r));
if (!quick && !only) {
  const file = join(here, 'results', 'blazepose.json');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({
    date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, platform: platform(), release: release(), loadavg: loadavg() },
    note: 'batch 1, 256x256x3, all outputs read back; warm = median of interleaved runs; cold = first call incl. shader compile',
    rows,
  }, null, 2) + '\n');
  console.log(`wrote ${file}`);
}
rt.destroy();
