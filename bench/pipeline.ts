/**
 * The photo → body pipeline (NbfPipeline, src/pipeline) per stage, cold and warm: the first picture on
 * a fresh context (every shader compiled on the way) against the median of the following ones.
 *
 *   npm run bench:pipeline [-- --route landmarks|parts --runs N --steps N --no-network --warmup --model full|lite|heavy]   (Mesa's on-disk shader cache off, so cold is cold)
 *
 * Routes: landmarks (NbfPipeline.fit: BlazePose → the landmark network → refinement, 100 steps by
 * default; `--no-network` leaves the network out, 300 steps) or parts
 * (NbfPipeline.fitParts: segmenter → fitting network → refinement on the part map, 150 steps by
 * default; needs weights/nbf-segmenter-compact.nbfw) — each the CLI's default step count.
 * Pictures: examples/web/sample.png and rendered synthetic people (seed 900001) at 256². Writes
 * bench/results/pipeline[-parts]-shader-cache-off.json (a first run on a machine: every shader
 * compiled) or -on.json (run directly: Mesa's on-disk shader cache warm). `--warmup` (landmarks
 * route) calls NbfPipeline.warmup() before the first picture and records its time (…-warmup-….json).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeContext } from '../src/runtime/node-context.js';
import { createNodePipeline } from '../src/pipeline/nbf-pipeline-node.js';
import { BLAZEPOSE_VARIANTS, DEFAULT_BLAZEPOSE_VARIANT, type BlazePoseVariant } from '../src/landmarks/model-files.js';
import { decodeImage, rgbFloatsToImage, type RgbaImage } from '../src/io/image.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { median, round } from './shared.js';
import { LANDMARK_ROUTE_STEPS } from '../src/pipeline/fit-photo.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const routeIndex = process.argv.indexOf('--route');
const route = routeIndex > 0 ? process.argv[routeIndex + 1] : 'landmarks';
if (route !== 'landmarks' && route !== 'parts') throw new Error(`--route must be landmarks or parts, got ${route}`);
const runs = arg('runs', 5);
const withNetwork = !process.argv.includes('--no-network');
const warmup = process.argv.includes('--warmup');
if (warmup && route !== 'landmarks') throw new Error('--warmup warms the landmarks route (NbfPipeline.warmup)');
const modelIndex = process.argv.indexOf('--model');
const variant = (modelIndex > 0 ? process.argv[modelIndex + 1] : DEFAULT_BLAZEPOSE_VARIANT) as BlazePoseVariant;
if (!BLAZEPOSE_VARIANTS.includes(variant)) throw new Error(`--model must be one of ${BLAZEPOSE_VARIANTS.join(', ')}, got ${variant}`);
const steps = arg('steps', route === 'parts' ? 150 : LANDMARK_ROUTE_STEPS[withNetwork ? 'network' : 'alone']);
const here = dirname(fileURLToPath(import.meta.url));

const t0 = performance.now();
const rt = createNodeContext();
const contextMs = performance.now() - t0;
const t1 = performance.now();
const pipeline = createNodePipeline(rt, { variant, parts: route === 'parts', landmarkNetwork: withNetwork });
const loadMs = performance.now() - t1;

const pictures: RgbaImage[] = [decodeImage(readFileSync(join(here, '..', 'examples', 'web', 'sample.png')), 'sample.png')];
{
  const generator = new SynthGenerator(rt, loadOpenBodyModel());
  const batch = generator.generateBatch(runs, { size: 256, seed: 900001 });
  const rgb = batch.inputs.rgb.readSync();
  for (let n = 0; n < runs; n++) pictures.push(rgbFloatsToImage(rgb, 256, 256, n * 256 * 256));
  disposeBatch(batch);
  generator.dispose();
}

const warmupMs = warmup ? pipeline.warmup() : null;
if (warmupMs !== null) console.log(`warmup: ${warmupMs.toFixed(0)} ms`);
type Row = Record<string, number>;
const rows: Row[] = [];
for (const [i, picture] of pictures.entries()) {
  try {
    const r = route === 'parts' ? pipeline.fitParts(picture, { steps }) : pipeline.fit(picture, { steps });
    const row: Row = { ...r.timings };
    rows.push(row);
    console.log(`${i === 0 ? 'cold' : `warm ${i}`}: ${Object.entries(row).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v.toFixed(0)} ms`).join(', ')}`);
  } catch (e) {
    console.log(`picture ${i}: ${(e as Error).message}`);
  }
}
const cold = rows[0];
const warm = rows.slice(1);
const med = (k: string) => median(warm.map((r) => r[k]));
const stages = Object.keys(cold);
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
  route,
  landmarkModel: route === 'landmarks' ? `blazepose-${variant}` : null,
  landmarkNetwork: withNetwork,
  steps,
  contextMs: round(contextMs, 1),
  loadModelsMs: round(loadMs, 1),
  warmupMs: warmupMs === null ? null : round(warmupMs, 1),
  cold: Object.fromEntries(stages.map((k) => [k, round(cold[k], 1)])),
  warmMedian: { ...Object.fromEntries(stages.map((k) => [k, round(med(k), 1)])), pictures: warm.length },
  coldOverWarm: round(cold.totalMs / med('totalMs')),
  mesaShaderCache: process.env.MESA_SHADER_CACHE_DISABLE === 'true' ? 'off' : 'on',
};
console.log(JSON.stringify(result, null, 2));
const file = join(here, 'results', `pipeline${route === 'parts' ? '-parts' : withNetwork ? '' : '-no-network'}${variant === 'lite' || route === 'parts' ? '' : `-${variant}`}${warmup ? '-warmup' : ''}-shader-cache-${result.mesaShaderCache}.json`);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
pipeline.dispose();
rt.destroy();
