/**
 * What BlazePose adds to the segmenter's part map (docs/pipeline.md, "With BlazePose"): on validation
 * renders, the 12-part mIoU, person IoU and pixel accuracy of the segmenter alone, gated by BlazePose's
 * person mask, filled inside it, with sides from BlazePose's bones, and all together (`--route both`).
 *
 *   node scripts/with-display.mjs node --import tsx scripts/eval-landmark-fusion.ts
 *        [--segmenter F.nbfw] [--prior-correction A] [--count N] [--size PX] [--backgrounds DIR] [--json FILE]
 *
 * Pictures: seed 900001 (never drawn by training), a second person in 30 %, 25 % seen from behind,
 * photo backgrounds in 60 % when --backgrounds is given (scripts/fetch-backgrounds.sh). BlazePose
 * full unless --model names another. A segmenter that reads landmarks (input 'rgb+landmarks') reads
 * BlazePose's joints in every row but "segmenter alone" (none: as if BlazePose found no one).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadSegmenterWeights } from '../src/nn/weights-file.js';
import { defaultSegmenterWeightsPath } from '../src/nn/default-weights.js';
import { accumulateConfusion, confusionMetrics } from '../src/eval/segmenter-eval.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { segmentPerson } from '../src/pipeline/segment.js';
import { rgbFloatsToImage } from '../src/io/image.js';
import { createPoseLandmarker } from '../src/landmarks/model-files.js';
import { NoPersonError } from '../src/landmarks/blazepose.js';
import { fuseWithPersonMask, maskBox, PERSON_MASK_THRESHOLD } from '../src/pipeline/person-mask.js';
import { sidesFromLandmarks } from '../src/pipeline/landmark-sides.js';
import { SEGMENTER_CLASSES } from '../src/nn/refinenet.js';
import { bodyJointTargets } from '../src/landmarks/to-body-joints.js';
import type { BlazePoseVariant } from '../src/landmarks/model-files.js';

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
// --mirror on|off: the segmenter's mirrored second look (default off: one look, as measured before).
const mirror = flag('mirror') === 'on';
const weightsPath = flag('segmenter') ?? defaultSegmenterWeightsPath() ?? 'weights/nbf-segmenter-compact.nbfw';
const count = Number(flag('count') ?? 32);
const size = Number(flag('size') ?? 224);
const backgroundsDir = flag('backgrounds');
const jsonPath = flag('json');

const rt = createNodeContext();
const model = loadOpenBodyModel();
const backgrounds = backgroundsDir ? await loadBackgroundBank(rt, backgroundsDir) : null;
const generator = new SynthGenerator(rt, model, { backgrounds, photoFraction: 0.6 });
const priorCorrection = flag('prior-correction') === undefined ? undefined : Number(flag('prior-correction'));
const segmenter = loadSegmenterWeights(rt, new Uint8Array(readFileSync(weightsPath)), weightsPath, { priorCorrection }).network;
const landmarker = createPoseLandmarker(rt, { variant: flag('model') as BlazePoseVariant | undefined });
const K = SEGMENTER_CLASSES;
const variants = ['segmenter alone', 'segmenter reading BlazePose\'s joints', 'mask alone (person/background)', 'gated by the mask', 'gated + filled', 'sides from BlazePose only', 'mask + fill + sides (--route both)'] as const;
const confusion = variants.map(() => new Float64Array(K * K));
let found = 0;
for (let i = 0; i < count; i++) {
  const b = generator.generateBatch(1, { size, seed: 900001, start: i, otherPersonRate: 0.3, backViewRate: 0.25 });
  const truth = Uint8Array.from(b.inputs.labels.readSync());
  const image = rgbFloatsToImage(b.inputs.rgb.readSync(), size, size);
  disposeBatch(b);
  let landmarks = null;
  try {
    landmarks = landmarker.detect(image);
    found++;
  } catch (e) {
    if (!(e instanceof NoPersonError)) throw e;
  }
  const mask = landmarks?.mask ?? null;
  const box = mask ? maskBox(mask, size, size) : null;
  const joints = landmarks && segmenter.readsLandmarks ? bodyJointTargets(landmarks) : null;
  const segmented = (options: Parameters<typeof segmentPerson>[2]) => {
    try { return Uint8Array.from(segmentPerson(segmenter, image, { mirror, ...options }).labels); } catch (e) { if (!(e instanceof NoPersonError)) throw e; return new Uint8Array(size * size); }
  };
  const alone = segmented({});
  const withJoints = joints ? segmented({ joints }) : alone;
  const guided = box ? segmented({ personBox: box, joints }) : withJoints;
  const gated = mask ? guided.map((l, p) => (mask[p] >= PERSON_MASK_THRESHOLD ? l : 0)) : guided;
  const filled = mask ? fuseWithPersonMask(guided, mask, size, size) : guided;
  const maps = [
    alone,
    withJoints,
    truth.map((t, p) => (mask && mask[p] >= PERSON_MASK_THRESHOLD ? (t === 0 ? 1 : t) : 0)), // only its person/background counts
    gated,
    filled,
    landmarks ? sidesFromLandmarks(withJoints, size, size, landmarks.keypoints) : withJoints,
    landmarks ? sidesFromLandmarks(filled, size, size, landmarks.keypoints) : filled,
  ];
  maps.forEach((m, v) => accumulateConfusion(confusion[v], truth, m, K));
  process.stderr.write(`\r${i + 1}/${count}`);
}
process.stderr.write('\n');
const rows = variants.map((name, v) => {
  const m = confusionMetrics(confusion[v], K);
  return { name, mIoU: m.mIoU, foregroundIoU: m.foregroundIoU, pixelAccuracy: m.pixelAccuracy };
});
console.log(`${count} pictures at ${size}², BlazePose ${landmarker.variant} found a person in ${found}; segmenter ${weightsPath}${segmenter.readsLandmarks ? ' (reads BlazePose\'s joints but alone)' : ''}`);
for (const r of rows) console.log(`${r.name.padEnd(36)} mIoU ${(100 * r.mIoU).toFixed(1).padStart(5)} %  person IoU ${(100 * r.foregroundIoU).toFixed(1).padStart(5)} %  pixel accuracy ${(100 * r.pixelAccuracy).toFixed(1).padStart(5)} %`);
if (jsonPath) {
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify({ count, size, found, weights: weightsPath, backgrounds: backgroundsDir ?? null, rows }, null, 2) + '\n');
}
segmenter.dispose();
generator.dispose();
backgrounds?.dispose();
rt.destroy();
