/**
 * The part-map route on synthetic people whose bodies we know: the fitting network's prediction from a
 * 12-part map, then the refinement on that map (src/pipeline/refine.ts, part terms), each scored by
 * MPJPE (pelvis-aligned), PA-MPJPE and the 2D joint error, beside the rest-pose floor. The map is the
 * ground truth (`--maps truth`, default; the network reads the whole render, framed as its training
 * renders) or the whole pipeline runs from the RGB picture (`--maps segmenter --segmenter FILE.nbfw`:
 * fitPicture — segmenter in two passes, person crop, network, refinement; the segmentation's mIoU and
 * person IoU are reported too). The summary counts the bodies with their legs or arms on the wrong
 * sides (`sideFlips`: exchanging left and right lowers PA-MPJPE by ≥ 20 mm) and gives the mean
 * PA-MPJPE with those put right (`sidesRightPa`).
 *
 *   node scripts/with-display.mjs node --import tsx scripts/eval-part-refine.ts [--count N] [--seed S]
 *        [--size PX] [--steps N (0: the network alone)] [--distance W] [--cover W] [--maps truth|segmenter] [--segmenter F [--prior-correction A]] [--fitter F] [--sides merge|trust] [--cover-sigma S] [--landmarks [--landmark-model lite|full|heavy] [--facing] [--weight-3d W] [--robust-2d S] [--landmark-start F | --blend F] [--exchange-landmarks all|legs] [--no-leg-check]] [--backgrounds DIR] [--first N] [--dump DIR] [--sheet FILE [--sheet-count N]] [--json FILE]
 *
 * Seeds are validation seeds (900001 by default), never drawn by training.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadFitterWeights, loadSegmenterWeights } from '../src/nn/weights-file.js';
import { defaultFitterWeightsPath } from '../src/nn/default-weights.js';
import { fitPartMap } from '../src/pipeline/fit-parts.js';
import { partEvidence } from '../src/pipeline/part-evidence.js';
import { joint2dError, refineBody } from '../src/pipeline/refine.js';
import { fitPicture, DEFAULT_PICTURE_REFINE_STEPS, SEGMENTER_MAP_REFINEMENT } from '../src/pipeline/fit-picture.js';
import { exchangeLandmarkSides } from '../src/pipeline/leg-check.js';
import { createPoseLandmarker } from '../src/landmarks/model-files.js';
import { NoPersonError, type PoseLandmarks } from '../src/landmarks/blazepose.js';
import { BLAZEPOSE_VARIANTS, type BlazePoseVariant } from '../src/landmarks/model-files.js';
import { bodyJointTargets } from '../src/landmarks/to-body-joints.js';
import { landmarkNetwork } from '../src/pipeline/fit-landmarks.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { accumulateConfusion, confusionMetrics } from '../src/eval/segmenter-eval.js';
import { SEGMENTER_CLASSES } from '../src/nn/refinenet.js';
import { encodePng, rgbFloatsToImage, type RgbaImage } from '../src/io/image.js';
import { partsImage } from '../src/pipeline/segment.js';
import { sheet } from './contact-sheet.js';
import { mpjpe, paMpjpe } from '../src/eval/metrics.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const num = (name: string, fallback: number) => (flag(name) === undefined ? fallback : Number(flag(name)));
const count = num('count', 16);
const seed = num('seed', 900001);
const size = num('size', 224);
const steps = num('steps', DEFAULT_PICTURE_REFINE_STEPS);
const distance = num('distance', NaN);
const cover = num('cover', NaN);
const start = num('start', NaN);
const coverSigma = num('cover-sigma', NaN);
const maps = flag('maps') ?? 'truth';
// Left and right limbs as one part each in the refinement (part-evidence.ts): --sides merge|trust;
// by default as the product does (fitPicture merges a segmenter's sides, a true map is trusted).
const sides = flag('sides') ?? (maps === 'segmenter' ? 'merge' : 'trust');
if (sides !== 'merge' && sides !== 'trust') throw new Error(`--sides must be merge or trust, got ${sides}`);
const mergeSides = sides === 'merge';
const jsonPath = flag('json');
// --dump DIR: per example DIR/NNN.png — the picture, the true part map and the segmenter's, side by side
// (--maps segmenter) — and DIR/NNN.json, the true, the network's and the refined 3D joints, the true
// and the network's 2D joints and BlazePose's (--landmarks).
const dumpDir = flag('dump');
if (dumpDir) mkdirSync(dumpDir, { recursive: true });
// --sheet FILE [--sheet-count N]: one PNG of the N (default 6) renders with the largest refined
// PA-MPJPE, worst first, each row as --dump's picture (--maps segmenter).
const sheetPath = flag('sheet');
const sheetCount = num('sheet-count', 6);
const sheetPanels = new Map<number, RgbaImage[]>();

// --landmarks: BlazePose runs on the picture too, as `nbf fit --route both` (its person mask and 2D joints).
const withLandmarks = process.argv.includes('--landmarks');
const facing = process.argv.includes('--facing') ? true : undefined;
// --mirror on|off: the segmenter's mirrored second look (default: as the product, SEGMENTER_MIRROR).
const mirror = flag('mirror') === undefined ? undefined : flag('mirror') === 'on';
// --fitter-mirror on|off: the fitting network's mirrored second look (default: as the product: on a
// segmenter's map SEGMENTER_MAP_FITTER_MIRROR, on a true map off).
const fitterMirror = flag('fitter-mirror') === undefined ? undefined : flag('fitter-mirror') === 'on';
const weight3d = flag('weight-3d') === undefined ? undefined : Number(flag('weight-3d'));
// --robust-2d S: robust scale of the refinement's 2D joint term (default: the product's, SEGMENTER_MAP_REFINEMENT; 0: plain squares).
const robust2d = flag('robust-2d') === undefined ? undefined : Number(flag('robust-2d'));
if (withLandmarks && maps !== 'segmenter') throw new Error('--landmarks needs --maps segmenter (the route from the picture)');
const backgroundsDir = flag('backgrounds');
// --landmark-start F: the landmark network F (input landmarks) reads BlazePose's joints too, and its
// answer starts the refinement beside the fitting network's (the lower final loss is kept).
const landmarkStartPath = flag('landmark-start') ?? flag('blend');
// --blend F: the refinement starts from the blend of the fitting network's answer and landmark network
// F's (fitPicture's landmarkNetwork; blend-bodies.ts) where they agree on the facing.
const blend = flag('blend') !== undefined;
if (landmarkStartPath && !withLandmarks) throw new Error('--landmark-start needs --landmarks');

const rt = createNodeContext();
const model = loadOpenBodyModel();
const backgrounds = backgroundsDir ? await loadBackgroundBank(rt, backgroundsDir) : null;
const generator = new SynthGenerator(rt, model, { backgrounds, photoFraction: 0.6 });
// --landmark-model lite|full|heavy: BlazePose's variant (default: the product's).
const landmarkModel = flag('landmark-model') as BlazePoseVariant | undefined;
if (landmarkModel && !(BLAZEPOSE_VARIANTS as readonly string[]).includes(landmarkModel)) throw new Error(`--landmark-model must be one of ${BLAZEPOSE_VARIANTS.join(', ')}, got ${landmarkModel}`);
const landmarker = withLandmarks ? createPoseLandmarker(rt, landmarkModel ? { variant: landmarkModel } : {}) : null;
const fitterPath = flag('fitter') ?? defaultFitterWeightsPath() ?? 'weights/nbf-fitter-compact.nbfw';
const fitter = loadFitterWeights(rt, new Uint8Array(readFileSync(fitterPath)), fitterPath).network;
const landmarkStart = landmarkStartPath ? landmarkNetwork(loadFitterWeights(rt, new Uint8Array(readFileSync(landmarkStartPath)), landmarkStartPath, { inputs: ['landmarks'] }).network, generator.gpuModel, { mirror: true }) : null;
const priorCorrection = flag('prior-correction') === undefined ? undefined : Number(flag('prior-correction'));
const segmenter = maps === 'segmenter' ? loadSegmenterWeights(rt, new Uint8Array(readFileSync(flag('segmenter') ?? '')), flag('segmenter') ?? '', { priorCorrection }).network : null;
const rest = generator.skeleton.restJoints(new Float64Array(generator.skeleton.shapeCount));
const rows: Record<string, number>[] = [];
const mm = (x: number) => x * 1000;
/** Knees, ankles, feet; elbows, wrists, hands: left and right (SMPL joint indices). */
const LEG_TWINS = [[4, 5], [7, 8], [10, 11]];
// --exchange-landmarks all|legs: fit with BlazePose's left and right landmarks exchanged — all of them
// (the body read as facing the other way) or the legs' (hips, knees, ankles, heels, toes) — to see
// what the other reading of a side flip gives (docs/pipeline.md, "Checking the legs' sides").
const exchangeLandmarks = flag('exchange-landmarks');
if (exchangeLandmarks !== undefined && exchangeLandmarks !== 'all' && exchangeLandmarks !== 'legs') throw new Error(`--exchange-landmarks must be all or legs, got ${exchangeLandmarks}`);
if (exchangeLandmarks !== undefined && !withLandmarks) throw new Error('--exchange-landmarks needs --landmarks');
// --no-leg-check: fit BlazePose's legs as detected only (fitPicture's legSides off; the product checks
// them, LEG_SIDE_CHECK). Off as well with --exchange-landmarks, which fixes one reading.
const legSides = exchangeLandmarks || process.argv.includes('--no-leg-check') ? false : undefined;
const ARM_TWINS = [[18, 19], [20, 21], [22, 23]];
// --first N: the first example's index (default 0), to look at one picture again.
const first = num('first', 0);
for (let i = first; i < first + count; i++) {
  const batch = generator.generateBatch(1, { size, seed, start: i });
  const truthLabels = Uint8Array.from(batch.inputs.labels.readSync());
  const rgb = batch.inputs.rgb.readSync();
  const joints3d = batch.targets.joints3d.readSync();
  const joints2d = batch.targets.joints2d.readSync();
  const camera = Array.from(batch.examples[0].camera);
  disposeBatch(batch);
  // The product's weights for this kind of map, then whatever the flags give.
  const given = Object.entries({ distance, cover, start, coverSigma }).filter(([, v]) => !Number.isNaN(v));
  const partWeights = { ...(maps === 'segmenter' ? SEGMENTER_MAP_REFINEMENT.partWeights : {}), ...Object.fromEntries(given) };
  let net;
  let fit;
  let t0 = performance.now();
  let t1 = t0;
  let t2 = t0;
  const seg: Record<string, number> = {};
  let detector2d: Float32Array | null = null;
  if (segmenter) {
    let picture;
    let landmarks: PoseLandmarks | null = null;
    try {
      const image = rgbFloatsToImage(rgb, size, size);
      if (landmarker) {
        try { landmarks = landmarker.detect(image); } catch (e) { if (!(e instanceof NoPersonError)) throw e; }
        if (landmarks && exchangeLandmarks) landmarks = exchangeLandmarkSides(landmarks, exchangeLandmarks);
      }
      picture = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps, refine: steps > 0, mergeSides, partWeights, landmarks, facing, weight3d, mirror, fitterMirror, robust2d, extraStarts: landmarkStart && landmarks && !blend ? [landmarkStart(bodyJointTargets(landmarks))] : [], landmarkNetwork: blend ? landmarkStart : null, legSides });
      if (picture.refine) {
        seg.chosen = picture.refine.chosen;
        seg.blended = picture.refine.blended ? 1 : 0;
      }
      if (picture.legSides) {
        seg.legsExchanged = picture.legSides.exchanged ? 1 : 0;
        [seg.legStartLoss, seg.legStartLossExchanged] = picture.legSides.startLosses;
      }
    } catch (e) {
      process.stderr.write(`${i + 1}/${count}: ${(e as Error).message}\n`);
      rows.push({ index: i, found: 0 });
      continue;
    }
    const confusion = new Float64Array(SEGMENTER_CLASSES * SEGMENTER_CLASSES);
    accumulateConfusion(confusion, truthLabels, picture.segmentation.labels, SEGMENTER_CLASSES);
    const m = confusionMetrics(confusion, SEGMENTER_CLASSES);
    seg.mIoU = m.mIoU;
    seg.foregroundIoU = m.foregroundIoU;
    if (dumpDir || sheetPath) {
      const panels = [rgbFloatsToImage(rgb, size, size), partsImage(truthLabels, size, size), partsImage(picture.segmentation.labels, size, size)];
      if (dumpDir) writeFileSync(`${dumpDir}/${String(i).padStart(3, '0')}.png`, encodePng(sheet([panels], size)));
      if (sheetPath) sheetPanels.set(i, panels);
    }
    net = picture.network;
    // --steps 0: the network's answer alone (no refinement; its rows repeat the network's).
    fit = { body: { joints3d: picture.joints3d, joints2d: picture.joints2d }, lossBefore: picture.refine?.lossBefore ?? 0, loss: picture.refine?.lossAfter ?? 0 };
    if (landmarks) {
      const t = bodyJointTargets(landmarks);
      seg.detectorPxNetwork = joint2dError(picture.network.joints2d, t.joints2d, t.weights);
      detector2d = t.joints2d;
      seg.detectorPxRefined = joint2dError(picture.joints2d, t.joints2d, t.weights);
    }
    t1 = t0 + picture.timings.segmentMs + picture.timings.networkMs;
    t2 = t1 + picture.timings.refineMs;
  } else {
    const map = { width: size, height: size, labels: truthLabels };
    t0 = performance.now();
    net = fitPartMap(fitter, generator.gpuModel, map, { framing: 'image', mirror: fitterMirror ?? false });
    t1 = performance.now();
    fit = refineBody(generator.gpuModel, generator.skeleton, { camera, size, parts: partEvidence(map, { mergeSides }), partWeights }, { steps, starts: [{ pose: net.pose, betas: net.betas, trans: net.trans }] });
    t2 = performance.now();
  }
  const px = (p: ArrayLike<number>) => { let s = 0; for (let j = 0; j < 24; j++) s += Math.hypot(p[2 * j] - joints2d[2 * j], p[2 * j + 1] - joints2d[2 * j + 1]) / 24; return s; };
  const row = {
    index: i,
    networkMpjpe: mm(mpjpe(net.joints3d, joints3d, 24)), networkPa: mm(paMpjpe(net.joints3d, joints3d, 24)), networkPx: px(net.joints2d),
    refinedMpjpe: mm(mpjpe(fit.body.joints3d, joints3d, 24)), refinedPa: mm(paMpjpe(fit.body.joints3d, joints3d, 24)), refinedPx: px(fit.body.joints2d),
    restPa: mm(paMpjpe(rest, joints3d, 24)),
    // The refined body's PA-MPJPE with its legs' (arms') left and right joints exchanged: far below
    // refinedPa when the body has them on the wrong sides (BlazePose's side flips on renders).
    legsSwappedPa: mm(paMpjpe(swapJoints(fit.body.joints3d, LEG_TWINS), joints3d, 24)), armsSwappedPa: mm(paMpjpe(swapJoints(fit.body.joints3d, ARM_TWINS), joints3d, 24)),
    lossBefore: fit.lossBefore, lossAfter: fit.loss, networkMs: t1 - t0, refineMs: t2 - t1, found: 1, ...seg,
  };
  rows.push(row);
  if (dumpDir) {
    const list = (a: ArrayLike<number>) => Array.from(a, (v) => Number(v.toFixed(5)));
    writeFileSync(`${dumpDir}/${String(i).padStart(3, '0')}.json`, JSON.stringify({ truth: list(joints3d), network: list(net.joints3d), refined: list(fit.body.joints3d), truth2d: list(joints2d), network2d: list(net.joints2d), ...(detector2d ? { detector2d: list(detector2d) } : {}) }) + '\n');
  }
  process.stderr.write(`${i + 1}/${count}: ${segmenter ? `mIoU ${(100 * seg.mIoU).toFixed(1)} %, ` : ''}network ${row.networkMpjpe.toFixed(1)} / PA ${row.networkPa.toFixed(1)} mm, ${row.networkPx.toFixed(1)} px → refined ${row.refinedMpjpe.toFixed(1)} / PA ${row.refinedPa.toFixed(1)} mm, ${row.refinedPx.toFixed(1)} px; loss ${row.lossBefore.toExponential(2)} → ${row.lossAfter.toExponential(2)} (${(row.refineMs / 1000).toFixed(1)} s)\n`);
}
function swapJoints(joints: ArrayLike<number>, twins: number[][]): Float64Array {
  const out = Float64Array.from(joints);
  for (const [a, b] of twins) for (let k = 0; k < 3; k++) { out[3 * a + k] = joints[3 * b + k]; out[3 * b + k] = joints[3 * a + k]; }
  return out;
}
const found = rows.filter((r) => r.found);
const mean = (k: string) => found.reduce((s, r) => s + r[k], 0) / found.length;
const median = (k: string) => { const s = found.map((r) => r[k]).sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const keys = ['networkMpjpe', 'networkPa', 'networkPx', 'refinedMpjpe', 'refinedPa', 'refinedPx', 'restPa', 'refineMs', ...(segmenter ? ['mIoU', 'foregroundIoU'] : [])];
// Bodies whose legs or arms are on the wrong sides: exchanging them lowers PA-MPJPE by ≥ 20 mm.
const sideFlips = found.filter((r) => Math.min(r.legsSwappedPa, r.armsSwappedPa) < r.refinedPa - 20).length;
// What the refined mean PA-MPJPE would be with every such body's sides put right.
const sidesRightPa = found.reduce((sum, r) => sum + Math.min(r.refinedPa, r.legsSwappedPa, r.armsSwappedPa), 0) / found.length;
const summary = { count, found: found.length, exchangeLandmarks: exchangeLandmarks ?? 'none', legsExchanged: found.filter((r) => r.legsExchanged).length, sideFlips, sidesRightPa: Number(sidesRightPa.toFixed(2)), seed, size, steps, maps, fitter: fitterPath, mergeSides, landmarks: withLandmarks, facing: facing ?? false, weight3d: weight3d ?? 0, backgrounds: backgroundsDir ?? null, robust2d: robust2d ?? SEGMENTER_MAP_REFINEMENT.robust2d, weights: partWeightsText(), means: Object.fromEntries(keys.map((k) => [k, Number(mean(k).toFixed(2))])), medians: Object.fromEntries(keys.map((k) => [k, Number(median(k).toFixed(2))])) };
function partWeightsText() { return { distance: Number.isNaN(distance) ? 'default' : distance, cover: Number.isNaN(cover) ? 'default' : cover, start: Number.isNaN(start) ? 'default' : start, coverSigma: Number.isNaN(coverSigma) ? (maps === 'segmenter' ? SEGMENTER_MAP_REFINEMENT.partWeights?.coverSigma : 0) : coverSigma }; }
console.log(JSON.stringify(summary, null, 2));
if (sheetPath) {
  const worst = [...found].sort((a, b) => b.refinedPa - a.refinedPa).slice(0, sheetCount).filter((r) => sheetPanels.has(r.index));
  if (worst.length) {
    mkdirSync(dirname(sheetPath), { recursive: true });
    writeFileSync(sheetPath, encodePng(sheet(worst.map((r) => sheetPanels.get(r.index)!), size)));
    process.stderr.write(`wrote ${sheetPath}: examples ${worst.map((r) => `${r.index} (${r.refinedPa.toFixed(0)} mm)`).join(', ')}\n`);
  }
}
if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ summary, rows }, null, 2) + '\n');
}
fitter.dispose();
segmenter?.dispose();
generator.dispose();
backgrounds?.dispose();
rt.destroy();
