/**
 * Synthetic-data throughput: samples/s of SynthGenerator.generateBatch at 64², 224² and 512² with
 * batch 16 (sampling on the CPU, SMPL layer, rasteriser, part/label maps, shading, augmentations), the
 * GPU work timed to completion (gl.finish), nothing read back. Also reports the CPU sampling share and
 * one read-back of the network inputs (what `nbf synth` pays on top to write files).
 *
 *   node scripts/with-display.mjs node --import tsx bench/synth.ts [--quick] [--repeats=N]
 *
 * Writes bench/results/synth.json (full runs) and prints a table.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeContext } from '../src/runtime/node-context.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { disposeBatch, SynthGenerator } from '../src/synth/generate.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const repeats = Number(args.find((a) => a.startsWith('--repeats='))?.slice('--repeats='.length) ?? (quick ? 2 : 5));
const batch = 16;
const sizes = [64, 224, 512];

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelPath = join(root, 'weights', 'nbf-open-body.nbfm');
const model = decodeBodyModel(new Uint8Array(readFileSync(modelPath)), modelPath);
const rt = createNodeContext();
const generator = new SynthGenerator(rt, model);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Row {
  size: number;
  batch: number;
  msPerBatch: number;
  samplesPerSecond: number;
  samplingMsPerBatch: number;
  readbackMsPerBatch: number;
}
const rows: Row[] = [];
let start = 0;
for (const size of sizes) {
  // Warm-up: compiles every program (llvmpipe compiles at the first draw).
  disposeBatch(generator.generateBatch(batch, { size, seed: 1, start }));
  rt.gl.finish();
  const times: number[] = [];
  const sampling: number[] = [];
  const readback: number[] = [];
  for (let r = 0; r < repeats; r++) {
    start += batch;
    const t0 = performance.now();
    generator.sample(batch, { size, seed: 1, start });
    sampling.push(performance.now() - t0);
    const t1 = performance.now();
    const b = generator.generateBatch(batch, { size, seed: 1, start });
    rt.gl.finish();
    times.push(performance.now() - t1);
    const t2 = performance.now();
    for (const t of [b.inputs.parts, b.inputs.rgb, b.inputs.labels, b.targets.joints3d, b.targets.joints2d]) t.readSync();
    readback.push(performance.now() - t2);
    disposeBatch(b);
  }
  const ms = median(times);
  rows.push({
    size, batch, msPerBatch: ms, samplesPerSecond: (1000 * batch) / ms,
    samplingMsPerBatch: median(sampling), readbackMsPerBatch: median(readback),
  });
}

console.log(`synthetic data, batch ${batch}, median of ${repeats} (load average ${loadavg()[0].toFixed(2)})`);
console.log('size   ms/batch  samples/s  CPU sampling ms  read-back ms');
for (const r of rows) {
  console.log(`${String(r.size).padStart(4)}  ${r.msPerBatch.toFixed(0).padStart(8)}  ${r.samplesPerSecond.toFixed(1).padStart(9)}  ${r.samplingMsPerBatch.toFixed(1).padStart(15)}  ${r.readbackMsPerBatch.toFixed(0).padStart(12)}`);
}
if (!quick) {
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'synth.json'), JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg()[0], repeats, rows }, null, 2) + '\n');
}
generator.dispose();
rt.destroy();
