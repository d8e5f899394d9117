/**
 * The landmarks route (`nbf fit`'s default) on synthetic people whose bodies we know: BlazePose on the
 * rendered picture, then (a) the refinement alone from 8 facing directions (the route without the
 * landmark network), (b) the landmark network's body, (c) the network, then the refinement — each
 * scored by MPJPE (pelvis-aligned), PA-MPJPE and the 2D joint error, beside the rest-pose floor, and
 * BlazePose's own 2D error on the 18 joints it gives. Every variant goes through
 * src/pipeline/fit-photo.ts (fitToLandmarks), as the product does.
 *
 *   node scripts/with-display.mjs node --import tsx scripts/eval-landmark-fit.ts [--count N] [--seed S]
 *        [--size PX] [--model lite|full|heavy] [--fitter F | --no-network] [--steps N] [--alone-steps N] [--start-prior W]
 *        [--weight-3d W] [--alone-weight-3d W] [--no-alone] [--exchange-landmarks all|legs] [--backgrounds DIR] [--close-up-rate R] [--json FILE]
 *
 * The refinement without the network gets the render's true focal length (these renders use NBF's
 * long lens, f = 5000·S/512), as a calibrated photo would (a photo's is unknown: nbf fit guesses one);
 * the network answers in its crop's camera, as in the product. Seeds are validation seeds (900101 by
 * default), never drawn by training. (Replaces scripts/eval-photo-fit.ts: `--no-network` is its run.)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadFitterWeights } from '../src/nn/weights-file.js';
import { defaultLandmarkFitterWeightsPath } from '../src/nn/default-weights.js';
import { fitToLandmarks, LANDMARK_NETWORK_REFINEMENT, LANDMARK_ROUTE_STEPS } from '../src/pipeline/fit-photo.js';
import { landmarkNetwork } from '../src/pipeline/fit-landmarks.js';
import { BLAZEPOSE_VARIANTS, createPoseLandmarker, type BlazePoseVariant } from '../src/landmarks/model-files.js';
import { NoPersonError } from '../src/landmarks/blazepose.js';
import { bodyJointTargets, LANDMARK_BODY_JOINTS } from '../src/landmarks/to-body-joints.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { rgbFloatsToImage } from '../src/io/image.js';
import { mpjpe, paMpjpe } from '../src/eval/metrics.js';
import { personExtent } from '../src/synth/landmark-noise.js';
import { exchangeLandmarkSides } from '../src/pipeline/leg-check.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, fallback: number) => (flag(name) === undefined ? fallback : Number(flag(name)));
const count = num('count', 48);
const seed = num('seed', 900101);
const size = num('size', 224);
const steps = num('steps', LANDMARK_ROUTE_STEPS.network);
const aloneSteps = num('alone-steps', LANDMARK_ROUTE_STEPS.alone);
const startPrior = num('start-prior', LANDMARK_NETWORK_REFINEMENT.startPrior);
const weight3d = num('weight-3d', LANDMARK_NETWORK_REFINEMENT.weight3d);
const aloneWeight3d = num('alone-weight-3d', 0.05);
const alone = !process.argv.includes('--no-alone');
const withNetwork = !process.argv.includes('--no-network');
if (!alone && !withNetwork) throw new Error('--no-alone and --no-network leave nothing to evaluate');
const jsonPath = flag('json');
const backgroundsDir = flag('backgrounds');
// A fraction of the pictures framed from the hips up (synth/sampler.ts closeUpRate): the legs leave
// the picture and BlazePose guesses them; the per-joint table below measures how (landmark-noise.ts).
const closeUpRate = num('close-up-rate', 0);
// --exchange-landmarks all|legs: fit BlazePose's landmarks with left and right exchanged — all of them or
// the legs' (leg-check.ts) — to see what the other reading of a side flip gives.
const exchange = flag('exchange-landmarks');
if (exchange !== undefined && exchange !== 'all' && exchange !== 'legs') throw new Error(`--exchange-landmarks must be all or legs, got ${exchange}`);

const rt = createNodeContext();
const model = loadOpenBodyModel();
const backgrounds = backgroundsDir ? await loadBackgroundBank(rt, backgroundsDir) : null;
const generator = new SynthGenerator(rt, model, { backgrounds, photoFraction: 0.6 });
const variant = (flag('model') ?? 'lite') as BlazePoseVariant;
if (!BLAZEPOSE_VARIANTS.includes(variant)) throw new Error(`--model ${variant}: one of ${BLAZEPOSE_VARIANTS.join(', ')}`);
const landmarker = createPoseLandmarker(rt, { variant });
const fitterPath = withNetwork ? flag('fitter') ?? defaultLandmarkFitterWeightsPath() : null;
if (withNetwork && !fitterPath) throw new Error('no landmark fitter: pass --fitter FILE.nbfw (weights/nbf-fitter-landmarks.nbfw is not here) or --no-network');
const fitter = fitterPath ? loadFitterWeights(rt, new Uint8Array(readFileSync(fitterPath)), fitterPath, { inputs: ['landmarks'] }).network : null;
// --mirror on|off: the landmark network's mirrored second look (default: as the product, LANDMARK_FITTER_MIRROR).
const mirror = flag('mirror') === undefined ? undefined : flag('mirror') === 'on';
const network = fitter ? landmarkNetwork(fitter, generator.gpuModel, { mirror }) : null;
const rest = generator.skeleton.restJoints(new Float64Array(generator.skeleton.shapeCount));
const mm = (x: number) => x * 1000;
const rows: Record<string, number>[] = [];
/** Every given joint of every picture: out of the picture or not, BlazePose's visibility, error / extent. */
const seen: { outside: boolean; visibility: number; error: number }[] = [];
for (let i = 0; i < count; i++) {
  const batch = generator.generateBatch(1, { size, seed, start: i, closeUpRate });
  const rgb = batch.inputs.rgb.readSync();
  const joints3d = batch.targets.joints3d.readSync();
  const joints2d = batch.targets.joints2d.readSync();
  const focal = batch.examples[0].camera[0];
  disposeBatch(batch);
  let landmarks;
  try {
    landmarks = landmarker.detect(rgbFloatsToImage(rgb, size, size));
    if (exchange) landmarks = exchangeLandmarkSides(landmarks, exchange);
  } catch (e) {
    if (!(e instanceof NoPersonError)) throw e;
    process.stderr.write(`${i + 1}/${count}: no person found\n`);
    rows.push({ index: i, found: 0 });
    continue;
  }
  const px = (p: ArrayLike<number>) => { let s = 0; for (let j = 0; j < 24; j++) s += Math.hypot(p[2 * j] - joints2d[2 * j], p[2 * j + 1] - joints2d[2 * j + 1]) / 24; return s; };
  const score = (name: string, fit: { joints3d: Float32Array; joints2d: Float32Array }) => ({
    [`${name}Mpjpe`]: mm(mpjpe(fit.joints3d, joints3d, 24)), [`${name}Pa`]: mm(paMpjpe(fit.joints3d, joints3d, 24)), [`${name}Px`]: px(fit.joints2d),
  });
  // BlazePose's own 2D error on the joints it gives.
  const targets = bodyJointTargets(landmarks);
  let detector = 0;
  let given = 0;
  const extent = personExtent(joints2d); // landmark-noise.ts's unit
  for (const j of LANDMARK_BODY_JOINTS) {
    const error = Math.hypot(targets.joints2d[2 * j] - joints2d[2 * j], targets.joints2d[2 * j + 1] - joints2d[2 * j + 1]);
    detector += error;
    given++;
    const [x, y] = [joints2d[2 * j], joints2d[2 * j + 1]];
    seen.push({ outside: x < 0 || y < 0 || x >= size || y >= size, visibility: targets.visibility[j], error: error / extent });
  }
  const t0 = performance.now();
  const networkFit = network ? fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { network, refine: false }) : null;
  const refined = network ? fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { network, steps, startPrior, weight3d }) : null;
  const t1 = performance.now();
  const aloneFit = alone ? fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { steps: aloneSteps, focal, weight3d: aloneWeight3d }) : null;
  const t2 = performance.now();
  const row: Record<string, number> = {
    index: i, found: 1, detectorPx: detector / given,
    ...(networkFit ? score('network', networkFit) : {}), ...(refined ? { ...score('refined', refined), refineMs: t1 - t0, lossBefore: refined.refine!.lossBefore, lossAfter: refined.refine!.loss } : {}),
    ...(aloneFit ? { ...score('alone', aloneFit), aloneMs: t2 - t1 } : {}),
    restPa: mm(paMpjpe(rest, joints3d, 24)),
  };
  rows.push(row);
  const net = refined ? `; network ${row.networkMpjpe.toFixed(1)} / PA ${row.networkPa.toFixed(1)} mm, ${row.networkPx.toFixed(1)} px → refined ${row.refinedMpjpe.toFixed(1)} / PA ${row.refinedPa.toFixed(1)} mm, ${row.refinedPx.toFixed(1)} px` : '';
  process.stderr.write(`${i + 1}/${count}: detector ${row.detectorPx.toFixed(1)} px${net}${aloneFit ? `; alone ${row.aloneMpjpe.toFixed(1)} / PA ${row.alonePa.toFixed(1)} mm` : ''}\n`);
}
const found = rows.filter((r) => r.found);
const mean = (k: string) => found.reduce((s, r) => s + r[k], 0) / found.length;
const median = (k: string) => { const s = found.map((r) => r[k]).sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const keys = ['detectorPx', ...(network ? ['networkMpjpe', 'networkPa', 'networkPx', 'refinedMpjpe', 'refinedPa', 'refinedPx', 'refineMs'] : []), ...(alone ? ['aloneMpjpe', 'alonePa', 'alonePx', 'aloneMs'] : []), 'restPa'];
const summary = {
  count, found: found.length, exchangeLandmarks: exchange ?? 'none', seed, size, steps: network ? steps : null, startPrior: network ? startPrior : null, weight3d: network ? weight3d : null,
  closeUpRate, model: variant, aloneSteps: alone ? aloneSteps : null, aloneWeight3d: alone ? aloneWeight3d : null, fitter: fitterPath, backgrounds: backgroundsDir ?? null,
  means: Object.fromEntries(keys.map((k) => [k, Number(mean(k).toFixed(2))])), medians: Object.fromEntries(keys.map((k) => [k, Number(median(k).toFixed(2))])),
};
const quartiles = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length ? [0.25, 0.5, 0.75].map((q) => Number(s[Math.floor(q * (s.length - 1))].toFixed(3))) : null; };
const jointsSeen = Object.fromEntries((['inside', 'outside'] as const).map((where) => {
  const part = seen.filter((s) => s.outside === (where === 'outside'));
  return [where, { joints: part.length, visibilityQuartiles: quartiles(part.map((s) => s.visibility)), errorOverExtentQuartiles: quartiles(part.map((s) => s.error)) }];
}));
Object.assign(summary, { jointsSeen });
console.log(JSON.stringify(summary, null, 2));
if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ summary, rows }, null, 2) + '\n');
}
fitter?.dispose();
landmarker.dispose();
generator.dispose();
backgrounds?.dispose();
rt.destroy();
