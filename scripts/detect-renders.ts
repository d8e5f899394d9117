/**
 * Records what BlazePose finds on rendered synthetic people (src/train/detection-cache.ts), for
 * `nbf train fitter --input landmarks --detections FILE`: the landmark fitter then trains on the
 * detector's own mistakes on renders beside the modelled ones (a training seed; `nbf train` refuses
 * seeds ≥ 900001), and `--val-detections` / `nbf eval fitter --detections` measure a network on them
 * (a validation seed: 900001's examples are the fitter's validation set). Renders examples start …
 * start + count − 1 of the seed with the sampler's defaults, as fitter training draws them, runs the product's PoseLandmarker
 * (person detector, then the landmark model) on each picture and keeps the body joints it gives.
 * Resumable: run it again with the same flags and it goes on from the last saved record (saved
 * atomically every --save-every examples).
 *
 *   node scripts/with-display.mjs node --import tsx scripts/detect-renders.ts --out FILE [--seed 11]
 *        [--start 0] [--count 8000] [--size 224] [--model full] [--backgrounds DIR] [--photo-fraction 0.5]
 *        [--save-every 100]
 *   … scripts/detect-renders.ts --merge A.bin,B.bin --out FILE   # adjoining ranges of one seed → one file
 */
import { existsSync, readFileSync } from 'node:fs';
import { createNodeContext } from '../src/runtime/node-context.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { BLAZEPOSE_VARIANTS, createPoseLandmarker, type BlazePoseVariant } from '../src/landmarks/model-files.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { recordDetections } from '../src/train/record-detections.js';
import { writeFilesAtomically } from '../src/cli/atomic-write.js';
import { decodeDetections, encodeDetections, mergeDetections, RECORD_FLOATS, type DetectionCache } from '../src/train/detection-cache.js';

/** Bad flags or files: one line naming the problem, exit 2, nothing written. */
function fail(message: string): never {
  process.stderr.write(`detect-renders: ${message}\n`);
  process.exit(2);
}
/** A detections file's contents, or fail() naming the file and what is wrong with it. */
function readDetections(file: string): DetectionCache {
  if (!existsSync(file)) fail(`${file}: no such file`);
  try {
    return decodeDetections(new Uint8Array(readFileSync(file)), file);
  } catch (e) {
    return fail((e as Error).message);
  }
}
const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const int = (name: string, fallback: number) => {
  const raw = flag(name);
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be an integer ≥ 0, got ${raw}`);
  return n;
};
const out = flag('out');
if (!out) fail('give --out FILE (the detections file to write or continue)');
const merge = flag('merge');
if (merge !== undefined) {
  const parts = merge.split(',').map(readDetections);
  let merged: DetectionCache;
  try {
    merged = mergeDetections(parts);
  } catch (e) {
    fail((e as Error).message);
  }
  writeFilesAtomically([{ path: out, data: encodeDetections(merged) }]);
  process.stderr.write(`detect-renders: ${out}: examples ${merged.start}…${merged.start + merged.count - 1} of seed ${merged.seed}\n`);
  process.exit(0);
}
const seed = int('seed', 11);
const start = int('start', 0);
const count = int('count', 8000);
const size = int('size', 224);
const saveEvery = Math.max(1, int('save-every', 100));
const variant = (flag('model') ?? 'full') as BlazePoseVariant;
if (!BLAZEPOSE_VARIANTS.includes(variant)) fail(`--model ${variant}: one of ${BLAZEPOSE_VARIANTS.join(', ')}`);
const backgroundsDir = flag('backgrounds');
const photoFraction = Number(flag('photo-fraction') ?? 0.5);
if (!(photoFraction >= 0 && photoFraction <= 1)) fail(`--photo-fraction must be a number in [0, 1], got ${flag('photo-fraction')}`);
if (backgroundsDir !== undefined && !existsSync(backgroundsDir)) fail(`--backgrounds ${backgroundsDir}: no such folder (bash scripts/fetch-backgrounds.sh DIR fetches them)`);
const pictures = { backgrounds: backgroundsDir ? 'photos from scripts/fetch-backgrounds.sh' : 'procedural', photoFraction: backgroundsDir ? photoFraction : 0, sampler: 'defaults' };
const detector = `blazepose-${variant}`;

let cache: DetectionCache = { format: 'nbf-detections', seed, start, size, detector, pictures, count: 0, records: new Float32Array(0) };
if (existsSync(out)) {
  const old = readDetections(out);
  for (const key of ['seed', 'start', 'size', 'detector'] as const) {
    if (old[key] !== cache[key]) fail(`${out} holds ${key} ${old[key]}, not ${cache[key]}: give another --out or the same flags`);
  }
  cache = old;
  process.stderr.write(`detect-renders: ${out} has ${old.count} records; going on\n`);
}
const records = new Float32Array(count * RECORD_FLOATS);
records.set(cache.records.subarray(0, Math.min(cache.count, count) * RECORD_FLOATS));
let done = Math.min(cache.count, count);
const save = () => writeFilesAtomically([{ path: out, data: encodeDetections({ ...cache, count: done, records: records.subarray(0, done * RECORD_FLOATS) }) }]);

const rt = createNodeContext();
const model = loadOpenBodyModel();
const backgrounds = backgroundsDir ? await loadBackgroundBank(rt, backgroundsDir) : null;
const generator = new SynthGenerator(rt, model, { backgrounds, photoFraction });
const landmarker = createPoseLandmarker(rt, { variant });
const t0 = performance.now();
let found = 0;
const first = done;
try {
  while (done < count) {
    const before = done;
    done = Math.min(count, (Math.floor(done / saveEvery) + 1) * saveEvery);
    found += recordDetections(generator, landmarker, { seed, start, size, records }, before, done);
    save();
    const rate = (done - first) / ((performance.now() - t0) / 1000);
    process.stderr.write(`detect-renders: ${done}/${count} (${found}/${done - first} found this run), ${rate.toFixed(2)} pictures/s, ${((count - done) / rate / 60).toFixed(0)} min left\n`);
  }
} finally {
  landmarker.dispose();
  generator.dispose();
  backgrounds?.dispose();
  rt.destroy();
}
process.stderr.write(`detect-renders: ${out}: ${done} records\n`);
