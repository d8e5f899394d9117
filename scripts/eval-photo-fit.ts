/**
 * The photo route (BlazePose landmarks → refinement, src/pipeline/fit-photo.ts) on synthetic RGB
 * people whose bodies we know: how often a person is found, MPJPE (pelvis-aligned), PA-MPJPE and the
 * 2D error of the fitted joints, beside the rest-pose floor (mean shape, zero pose: PA-MPJPE of a
 * body that knows nothing of the picture).
 *
 *   node scripts/with-display.mjs node --import tsx scripts/eval-photo-fit.ts [--count N] [--seed S] [--size PX] [--steps N] [--weight-3d X] [--json FILE]
 *
 * The refinement is given the render's true camera (these renders use NBF's long lens, f = 5000·S/512),
 * as a calibrated photo would be. Seeds used here are validation seeds, never drawn by training.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { createPoseLandmarker } from '../src/landmarks/model-files.js';
import { fitPhoto } from '../src/pipeline/fit-photo.js';
import { mpjpe, paMpjpe } from '../src/eval/metrics.js';
import { NoPersonError } from '../src/landmarks/blazepose.js';
import { rgbFloatsToImage } from '../src/io/image.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const count = arg('count', 32);
const seed = arg('seed', 900001);
const size = arg('size', 256);
const steps = arg('steps', 300);
const weight3d = arg('weight-3d', 0.05);
const jsonIndex = process.argv.indexOf('--json');
const jsonPath = jsonIndex > 0 ? process.argv[jsonIndex + 1] : null;

const rt = createNodeContext();
const model = loadOpenBodyModel();
const generator = new SynthGenerator(rt, model);
const landmarker = createPoseLandmarker(rt);
const rest = generator.skeleton.restJoints(new Float64Array(generator.skeleton.shapeCount));
const rows: { index: number; found: boolean; mpjpe?: number; paMpjpe?: number; px?: number; restPa: number; seconds?: number }[] = [];
for (let i = 0; i < count; i++) {
  const batch = generator.generateBatch(1, { size, seed, start: i });
  const rgb = batch.inputs.rgb.readSync();
  const joints3d = batch.targets.joints3d.readSync();
  const joints2d = batch.targets.joints2d.readSync();
  const camera = batch.examples[0].camera;
  disposeBatch(batch);
  const restPa = paMpjpe(rest, joints3d, 24);
  const t0 = performance.now();
  try {
    const fit = fitPhoto(landmarker, generator.gpuModel, generator.skeleton, rgbFloatsToImage(rgb, size, size), { steps, focal: camera[0], weight3d });
    let px = 0;
    for (let j = 0; j < 24; j++) px += Math.hypot(fit.joints2d[2 * j] - joints2d[2 * j], fit.joints2d[2 * j + 1] - joints2d[2 * j + 1]) / 24;
    rows.push({ index: i, found: true, mpjpe: mpjpe(fit.joints3d, joints3d, 24), paMpjpe: paMpjpe(fit.joints3d, joints3d, 24), px, restPa, seconds: (performance.now() - t0) / 1000 });
  } catch (e) {
    if (!(e instanceof NoPersonError)) throw e;
    rows.push({ index: i, found: false, restPa });
  }
  const r = rows[rows.length - 1];
  process.stderr.write(`${i + 1}/${count}: ${r.found ? `MPJPE ${(r.mpjpe! * 1000).toFixed(1)} mm, PA ${(r.paMpjpe! * 1000).toFixed(1)} mm, 2D ${r.px!.toFixed(1)} px` : 'no person found'} (rest pose PA ${(restPa * 1000).toFixed(1)} mm)\n`);
}
const found = rows.filter((r) => r.found);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN; };
const summary = {
  count, seed, size, steps, weight3d,
  found: found.length,
  mpjpeMm: { mean: mean(found.map((r) => r.mpjpe! * 1000)), median: median(found.map((r) => r.mpjpe! * 1000)) },
  paMpjpeMm: { mean: mean(found.map((r) => r.paMpjpe! * 1000)), median: median(found.map((r) => r.paMpjpe! * 1000)) },
  joints2dPx: { mean: mean(found.map((r) => r.px!)), median: median(found.map((r) => r.px!)) },
  restPosePaMpjpeMm: { mean: mean(rows.map((r) => r.restPa * 1000)) },
  secondsPerPicture: mean(found.map((r) => r.seconds!)),
};
console.log(JSON.stringify(summary, null, 2));
if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ summary, rows }, null, 2) + '\n');
}
landmarker.dispose();
generator.dispose();
rt.destroy();
