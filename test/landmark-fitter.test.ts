/**
 * The fitting network that reads landmarks: the detector's view of true joints it trains on
 * (synth/landmark-noise.ts), its heatmap input (nn/landmark-heatmaps.ts, against the float64
 * reference), its training data, starting it from a network that reads another input
 * (assignFitterWeights acrossInputs), and its place in the landmarks route (pipeline/fit-landmarks.ts,
 * fit-photo.ts fitToLandmarks) and in `nbf fit`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { captureCommand } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { Rng } from '../src/util/random.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { BODY_JOINTS, detectLandmarkJoints } from '../src/synth/landmark-noise.js';
import { bodyJointTargets, LANDMARK_BODY_JOINTS, poseLandmarksOfJoints, type BodyJointTargets } from '../src/landmarks/to-body-joints.js';
import { landmarkHeatmaps } from '../src/nn/landmark-heatmaps.js';
import { jointHeatmapsRef } from '../src/kernels/joint-heatmaps.ref.js';
import { heatmapSigma } from '../src/nn/fitter-inputs.js';
import { disposeFitterBatch, fitterBatch, meanLatent } from '../src/train/fitter-data.js';
import { fitterConfigWithInput, FitterNetwork } from '../src/nn/fitter.js';
import { assignFitterWeights, encodeFitterWeights } from '../src/nn/weights-file.js';
import { fitLandmarkJoints, jointOutlineBox, landmarkNetwork, personFrame } from '../src/pipeline/fit-landmarks.js';
import { cropToImage } from '../src/pipeline/part-map.js';
import { fitToLandmarks, translationInCamera, type LandmarkNetwork } from '../src/pipeline/fit-photo.js';
import { exchangeLandmarkSides, LEG_SIDE_MARGIN } from '../src/pipeline/leg-check.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-landmark-fitter-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY = TINY_FITTER;

/** 24 joints of a standing person about 100 px tall, in a 128-px picture. */
function standingJoints(): Float32Array {
  const p = new Float32Array(48);
  for (let j = 0; j < 24; j++) {
    p[2 * j] = 50 + (j % 5) * 7 + (j % 2 ? 3 : -3);
    p[2 * j + 1] = 15 + j * 4;
  }
  return p;
}

describe('a detector\'s view of true joints (landmark-noise.ts)', () => {
  const noiseless = { jitter: 0, poorRate: 0, swapRate: 0, hipSpread: [1, 1] as const, rise: 0 };

  it('gives the 18 landmark joints, the rest missing; without noise the true positions, the pelvis between the hips', () => {
    const truth = standingJoints();
    const d = detectLandmarkJoints(truth, new Rng(1), noiseless);
    expect(LANDMARK_BODY_JOINTS.length).toBe(18);
    for (let j = 0; j < BODY_JOINTS; j++) {
      const given = LANDMARK_BODY_JOINTS.includes(j);
      if (!given) {
        expect(Number.isNaN(d.joints2d[2 * j]), `joint ${j} missing`).toBe(true);
        expect(d.confidence[j]).toBe(0);
        continue;
      }
      expect(d.confidence[j], `joint ${j}`).toBeGreaterThanOrEqual(0.7);
      expect(d.confidence[j]).toBeLessThanOrEqual(1);
      if (j === 0) continue;
      expect(d.joints2d[2 * j]).toBeCloseTo(truth[2 * j], 4);
      expect(d.joints2d[2 * j + 1]).toBeCloseTo(truth[2 * j + 1], 4);
    }
    expect(d.joints2d[0]).toBeCloseTo((truth[2] + truth[4]) / 2, 4);
    expect(d.joints2d[1]).toBeCloseTo((truth[3] + truth[5]) / 2, 4);
  });

  it('spreads the hips, swaps sides, jitters and marks poorly seen joints as its options say; the same stream gives the same view', () => {
    const truth = standingJoints();
    const hipGap = (p: Float32Array) => Math.hypot(p[2] - p[4], p[3] - p[5]);
    const spread = detectLandmarkJoints(truth, new Rng(3), { ...noiseless, hipSpread: [1.2, 1.5] });
    expect(hipGap(spread.joints2d)).toBeGreaterThanOrEqual(1.2 * hipGap(truth) - 1e-4);
    expect(hipGap(spread.joints2d)).toBeLessThanOrEqual(1.5 * hipGap(truth) + 1e-4);
    // Up the body is from the pelvis (15 px) towards the neck (63 px): the picture's down here.
    const risen = detectLandmarkJoints(truth, new Rng(3), { ...noiseless, rise: 0.1 });
    for (const j of [7, 8, 15]) {
      expect(risen.joints2d[2 * j + 1] - truth[2 * j + 1], `joint ${j}`).toBeGreaterThan(0);
      expect(risen.joints2d[2 * j + 1] - truth[2 * j + 1]).toBeLessThanOrEqual(0.1 * (truth[47] - truth[1]) + 1e-3);
    }
    expect(risen.joints2d[2 * 4 + 1]).toBeCloseTo(truth[2 * 4 + 1], 4);
    const swapped = detectLandmarkJoints(truth, new Rng(3), { ...noiseless, swapRate: 1 });
    for (const [a, b] of [[16, 17], [20, 21], [4, 5], [10, 11]]) {
      expect(swapped.joints2d[2 * a]).toBeCloseTo(truth[2 * b], 4);
      expect(swapped.joints2d[2 * b]).toBeCloseTo(truth[2 * a], 4);
    }
    const poor = detectLandmarkJoints(truth, new Rng(3), { ...noiseless, poorRate: 1 });
    for (const j of LANDMARK_BODY_JOINTS) expect(poor.confidence[j]).toBeLessThanOrEqual(0.5);
    let moved = 0;
    const jittered = detectLandmarkJoints(truth, new Rng(5), { ...noiseless, jitter: 0.05 });
    for (const j of LANDMARK_BODY_JOINTS) moved = Math.max(moved, Math.abs(jittered.joints2d[2 * j] - truth[2 * j]));
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(0.05 * 100 * 5); // 5 σ of the largest σ (extent ≈ 100 px)
    const again = detectLandmarkJoints(truth, new Rng(5), { ...noiseless, jitter: 0.05 });
    expect(Array.from(again.joints2d)).toEqual(Array.from(jittered.joints2d));
  });

  it('cuts the body across when truncation is drawn: the joints below the cut become faint guesses, the rest stay as drawn', () => {
    const truth = standingJoints();
    const extent = truth[47] - truth[1];
    // Up the body is down this picture (pelvis at the top): the cut 0.3 of the extent "above" the
    // pelvis leaves the hips and knees (joints 1, 2, 4, 5; 3 and 6 have no landmark) below it.
    const options = { ...noiseless, jitter: 0.03, poorRate: 0, truncationRate: 1, truncationCut: [0.3, 0.3] as const, truncatedVisibility: [0.05, 0.2] as const, truncatedJitter: 0 };
    const whole = detectLandmarkJoints(truth, new Rng(7), { ...options, truncationRate: 0 });
    const cut = detectLandmarkJoints(truth, new Rng(7), options);
    const below = [1, 2, 4, 5];
    for (const j of LANDMARK_BODY_JOINTS) {
      if (j === 0) continue;
      expect(truth[2 * j + 1] - truth[1] < 0.3 * extent, `joint ${j} below the cut`).toBe(below.includes(j));
      if (below.includes(j)) {
        expect(cut.confidence[j], `joint ${j}`).toBeGreaterThanOrEqual(0.05);
        expect(cut.confidence[j], `joint ${j}`).toBeLessThanOrEqual(0.2);
      } else {
        expect(cut.confidence[j], `joint ${j}`).toBe(whole.confidence[j]);
      }
      // Drawn after everything else: without its extra error, every position is as without truncation.
      expect(cut.joints2d[2 * j]).toBe(whole.joints2d[2 * j]);
    }
    expect(cut.confidence[0]).toBeCloseTo((cut.confidence[1] + cut.confidence[2]) / 2, 6);
    const guessed = detectLandmarkJoints(truth, new Rng(7), { ...options, truncatedJitter: 0.2 });
    expect(Math.max(...below.map((j) => Math.abs(guessed.joints2d[2 * j] - whole.joints2d[2 * j])))).toBeGreaterThan(0.01 * extent);
    expect(guessed.joints2d[2 * 16]).toBe(whole.joints2d[2 * 16]);
  });
});

describe('landmark heatmaps (nn/landmark-heatmaps.ts)', () => {
  it('are the joint heatmaps scaled by each joint\'s confidence, empty for a missing joint (float64 reference, batch 2, odd size)', () => {
    const n = 2;
    const S = 13;
    const rng = new Rng(9);
    const joints = Float32Array.from({ length: n * 48 }, () => rng.uniform(-2, S + 2));
    const confidence = Float32Array.from({ length: n * 24 }, () => rng.uniform(0, 1));
    joints[2 * 5] = NaN; // example 0, joint 5 missing
    confidence[24 + 7] = 0; // example 1, joint 7 unseen
    const got = rt.scope(() => landmarkHeatmaps(rt, joints, confidence, n, S).readSync());
    const heat = jointHeatmapsRef(joints, n, 24, S, S, heatmapSigma(S));
    let worst = 0;
    for (let i = 0; i < heat.length; i++) {
      const c = confidence[Math.floor(i / (S * S * 24)) * 24 + (i % 24)];
      worst = Math.max(worst, Math.abs(got[i] - heat[i] * c));
    }
    expect(worst).toBeLessThan(1e-5);
    let missing = 0;
    for (let p = 0; p < S * S; p++) missing += Math.abs(got[p * 24 + 5]) + Math.abs(got[(S * S + p) * 24 + 7]);
    expect(missing).toBe(0);
    expect(() => landmarkHeatmaps(rt, joints.subarray(2), confidence, n, S)).toThrow(/94 joint coordinates for 2 × 24 joints \(want 96\)/);
  });

  it('make the "landmarks" training input: 24 channels, joints without a landmark empty, the same batch twice alike', () => {
    const one = fitterBatch(rt, generator, 3, 1, 4, { size: 32, shapeCount: 10, input: 'landmarks' });
    const two = fitterBatch(rt, generator, 3, 1, 4, { size: 32, shapeCount: 10, input: 'landmarks' });
    try {
      expect([...one.inputs.shape]).toEqual([3, 32, 32, 24]);
      const v = one.inputs.readSync();
      expect(Array.from(two.inputs.readSync())).toEqual(Array.from(v));
      for (let j = 0; j < 24; j++) {
        let peak = 0;
        for (let p = j; p < v.length; p += 24) peak = Math.max(peak, v[p]);
        if (LANDMARK_BODY_JOINTS.includes(j)) continue;
        expect(peak, `joint ${j} has no landmark`).toBe(0);
      }
      expect(Math.max(...v)).toBeGreaterThan(0.3);
    } finally {
      disposeFitterBatch(one);
      disposeFitterBatch(two);
    }
  });
});

describe('a fitter started from one that reads another input', () => {
  it('keeps every tensor but the stem\'s filters; without acrossInputs the file is refused', () => {
    const from = new FitterNetwork(rt, TINY, { seed: 4 });
    const to = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'landmarks'), { seed: 8 });
    try {
      const bytes = encodeFitterWeights(from, { dtype: 'float32' });
      expect(() => assignFitterWeights(to, bytes, 'parts.nbfw')).toThrow(/parts\.nbfw holds the fitter configuration "tiny" \(parts12, 32²\), not this run's "tiny" \(landmarks, 32²\)/);
      const stemBefore = to.params.get('encoder/stem/conv/weights').readSync();
      const loaded = assignFitterWeights(to, bytes, 'parts.nbfw', { acrossInputs: true });
      expect(loaded.reinitialised).toEqual(['encoder/stem/conv/weights']);
      expect(Array.from(to.params.get('encoder/stem/conv/weights').readSync())).toEqual(Array.from(stemBefore));
      for (const name of from.params.names()) {
        if (name === 'encoder/stem/conv/weights') continue;
        expect(Array.from(to.params.get(name).readSync()), name).toEqual(Array.from(from.params.get(name).readSync()));
      }
      const other = new FitterNetwork(rt, { ...fitterConfigWithInput(TINY, 'landmarks'), inputSize: 48 });
      expect(() => assignFitterWeights(other, bytes, 'parts.nbfw', { acrossInputs: true })).toThrow(/not this run's "tiny" \(landmarks, 48²\)/);
      other.dispose();
    } finally {
      from.dispose();
      to.dispose();
    }
  });
});

/** Body-joint targets as to-body-joints.ts makes them, from true joints seen perfectly. */
function targetsOf(joints2d: ArrayLike<number>): BodyJointTargets {
  const visibility = new Float32Array(24);
  for (const j of LANDMARK_BODY_JOINTS) visibility[j] = 0.9;
  return { joints2d: Float32Array.from(joints2d), joints3d: new Float32Array(72), weights: visibility.slice(), visibility };
}

describe('the landmark network in the landmarks route', () => {
  it('frames the person as the training renders do and maps its joints back to the picture', () => {
    const frame = personFrame([10, 20, 50, 100], 64);
    expect(frame.side).toBeCloseTo(80 / 0.8, 6);
    expect(frame.x0 + frame.side / 2).toBeCloseTo(30, 6);
    expect(frame.y0 + frame.side / 2).toBeCloseTo(60, 6);
    const box = jointOutlineBox(targetsOf(standingJoints()));
    expect(box[3] - box[1]).toBeGreaterThan(standingJoints()[47] - standingJoints()[1]);
    expect(() => jointOutlineBox({ ...targetsOf(standingJoints()), visibility: new Float32Array(24) })).toThrow(/no landmark is visible/);

    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'landmarks'), { seed: 1 });
    const parts = new FitterNetwork(rt, TINY, { seed: 1 });
    try {
      const fit = fitLandmarkJoints(net, generator.gpuModel, targetsOf(standingJoints()));
      expect(fit.crop.size).toBe(32);
      for (const v of [...fit.betas, ...fit.pose, ...fit.trans, ...fit.joints2d]) expect(Number.isFinite(v)).toBe(true);
      const [f, , cx, cy] = fit.camera;
      const [x, y, z] = [fit.joints3d[0], fit.joints3d[1], fit.joints3d[2]];
      // The pelvis projected through the returned camera is where the 2D joints say.
      expect((f * x) / z + cx).toBeCloseTo(fit.joints2d[0], 1);
      expect((f * y) / z + cy).toBeCloseTo(fit.joints2d[1], 1);
      const [u, v] = cropToImage(fit.crop, 0, 0);
      expect([u, v]).toEqual([fit.crop.x0, fit.crop.y0]);
      expect(() => fitLandmarkJoints(parts, generator.gpuModel, targetsOf(standingJoints()))).toThrow(/reads "parts12", not "landmarks"/);
      expect(() => landmarkNetwork(parts, generator.gpuModel)).toThrow(/reads "parts12", not "landmarks"/);
    } finally {
      net.dispose();
      parts.dispose();
    }
  });

  it('moves a body between cameras so that it projects to the same pixel', () => {
    const from = [2000, 2000, 100, 90];
    const to = [300, 300, 128, 128];
    const t = [0.1, -0.2, 9];
    const moved = translationInCamera(t, from, to);
    expect((to[0] * moved[0]) / moved[2] + to[2]).toBeCloseTo((from[0] * t[0]) / t[2] + from[2], 6);
    expect((to[1] * moved[1]) / moved[2] + to[3]).toBeCloseTo((from[1] * t[1]) / t[2] + from[3], 6);
    expect(moved[2]).toBeCloseTo((9 * 300) / 2000, 9);
  });

  it('starts the refinement from the network\'s body (no facing starts); refine: false keeps the network\'s answer', () => {
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'landmarks'), { seed: 1 });
    try {
      // BlazePose's landmarks at the body joints' places; they map back to those joints.
      const joints = standingJoints();
      const landmarks = poseLandmarksOfJoints(joints, 128, 128);
      const back = bodyJointTargets(landmarks);
      for (const j of LANDMARK_BODY_JOINTS) {
        expect(back.visibility[j]).toBe(1);
        if (j === 0) continue; // the pelvis is the middle of the hips
        expect(back.joints2d[2 * j], `joint ${j}`).toBeCloseTo(joints[2 * j], 4);
        expect(back.joints2d[2 * j + 1], `joint ${j}`).toBeCloseTo(joints[2 * j + 1], 4);
      }
      const kept = fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { network: landmarkNetwork(net, generator.gpuModel), refine: false });
      expect(kept.refine).toBeNull();
      expect(Array.from(kept.betas)).toEqual(kept.network!.betas.map((b) => Math.fround(b)));
      expect(kept.camera).toEqual(kept.network!.camera);
      const refined = fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { network: landmarkNetwork(net, generator.gpuModel), steps: 20 });
      expect(refined.refine!.chosen).toBe(0);
      expect(refined.refine!.finalError).toBeLessThan(refined.refine!.startError);
      expect(refined.camera).toEqual(refined.network!.camera);
      const focal = fitToLandmarks(generator.gpuModel, generator.skeleton, landmarks, { network: landmarkNetwork(net, generator.gpuModel), steps: 4, focal: 200 });
      expect(focal.camera).toEqual([200, 200, 64, 64]);

      // The legs' sides check: landmarks where a network's body projects, read with the legs
      // exchanged, start far worse; given the exchanged ones as the detection, the check reads them
      // back and refines that reading (a network that answers the same body whatever it reads).
      const answer = kept.network!;
      const same: LandmarkNetwork = () => answer;
      const own = poseLandmarksOfJoints(answer.joints2d, 128, 128);
      const asIs = fitToLandmarks(generator.gpuModel, generator.skeleton, own, { network: same, steps: 4 });
      expect(asIs.legSides!.exchanged).toBe(false);
      const flipped = exchangeLandmarkSides(own, 'legs');
      const checked = fitToLandmarks(generator.gpuModel, generator.skeleton, flipped, { network: same, steps: 4 });
      const [detected, exchanged] = checked.legSides!.startLosses;
      expect(checked.legSides!.exchanged).toBe(true);
      expect(exchanged).toBeLessThan(LEG_SIDE_MARGIN * detected);
      expect(Math.abs(checked.refine!.lossBefore - exchanged)).toBeLessThan(1e-5 * detected);
      expect(Math.abs(exchanged - asIs.legSides!.startLosses[0])).toBeLessThan(1e-6 + 1e-4 * exchanged);
      expect(Array.from(checked.targets.joints2d)).toEqual(Array.from(bodyJointTargets(own).joints2d));
      expect(checked.landmarks).toBe(flipped);
      const unchecked = fitToLandmarks(generator.gpuModel, generator.skeleton, flipped, { network: same, steps: 4, legSides: false });
      expect(unchecked.legSides).toBeNull();
      expect(Math.abs(unchecked.refine!.lossBefore - detected)).toBeLessThan(1e-5 * detected);
      expect(fitToLandmarks(generator.gpuModel, generator.skeleton, flipped, { network: same, refine: false }).legSides).toBeNull();
    } finally {
      net.dispose();
    }
  });
});

describe('nbf fit on the landmarks route with a landmark network', () => {
  it('names the wrong network, and refuses flags that contradict each other', async () => {
    const parts = new FitterNetwork(rt, TINY, { seed: 1 });
    const partsFile = join(root, 'parts.nbfw');
    writeFileSync(partsFile, encodeFitterWeights(parts));
    parts.dispose();
    const picture = join(root, 'p.png');
    writeFileSync(picture, readFileSync('examples/web/sample.png'));
    const wrong = await captureCommand(() => main(['fit', picture, '--fitter', partsFile, '--out', join(root, 'out')]));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/parts\.nbfw holds a fitter that reads 12-part map \(NBF's\) \(input "parts12"\); this caller feeds only "landmarks"/);
    const both = await captureCommand(() => main(['fit', picture, '--fitter', partsFile, '--no-network']));
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/--fitter and --no-network contradict each other/);
    const noNet = await captureCommand(() => main(['fit', picture, '--no-network', '--no-refine']));
    expect(noNet.code).toBe(2);
    expect(noNet.err).toMatch(/--no-refine needs the landmark network/);
    const partsRoute = await captureCommand(() => main(['fit', picture, '--route', 'parts', '--no-network']));
    expect(partsRoute.code).toBe(2);
    expect(partsRoute.err).toMatch(/--no-network belongs to the landmarks route/);
  });

  it('writes the network\'s crop and timings in params.json', async () => {
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'landmarks'), { seed: 1 });
    const file = join(root, 'landmarks.nbfw');
    writeFileSync(file, encodeFitterWeights(net));
    net.dispose();
    const out = join(root, 'fit');
    const r = await captureCommand(() => main(['fit', 'examples/web/sample.png', '--fitter', file, '--steps', '6', '--out', out]));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/network, then refined/);
    const params = JSON.parse(readFileSync(join(out, 'sample', 'params.json'), 'utf8'));
    expect(params.network.crop.networkInput).toBe(32);
    expect(params.network.crop.side).toBeGreaterThan(0);
    expect(params.timingsMs.network).toBeGreaterThan(0);
    expect(params.refinement.finalErrorPx).toBeGreaterThanOrEqual(0);
  });
});

describe('--truncation (bodies cut across by the picture\'s edge) in nbf train fitter and nbf eval fitter', () => {
  it('belongs to landmark networks only, and evaluates a landmark network on cut bodies', async () => {
    const train = await captureCommand(() => main(['train', 'fitter', '--steps', '1', '--truncation', '0.2', '--out', join(root, 'run')]));
    expect(train.code).toBe(2);
    expect(train.err).toMatch(/--truncation applies to a landmark detector's joints \(input "landmarks" or "parts12\+landmarks"\), not to input "parts12"/);
    const range = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--steps', '1', '--truncation', '1.5', '--out', join(root, 'run')]));
    expect(range.code).toBe(2);
    expect(range.err).toMatch(/--truncation must be a number in \[0, 1\], got 1\.5/);
    const parts = new FitterNetwork(rt, TINY, { seed: 1 });
    const partsFile = join(root, 'parts-eval.nbfw');
    writeFileSync(partsFile, encodeFitterWeights(parts));
    parts.dispose();
    const wrong = await captureCommand(() => main(['eval', 'fitter', '--weights', partsFile, '--count', '2', '--truncation', '1', '--json', join(root, 'e0.json')]));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/--truncation: .*parts-eval\.nbfw reads .*truncation is of a landmark detector's joints/);
    // An untrained network's answers are offsets from its mean latent: give it a real one.
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'landmarks'), { seed: 1, meanLatent: meanLatent(generator, { size: 32, shapeCount: 10, seed: 3, count: 16 }) });
    const file = join(root, 'landmarks-eval.nbfw');
    writeFileSync(file, encodeFitterWeights(net));
    net.dispose();
    const json = join(root, 'e1.json');
    const ok = await captureCommand(() => main(['eval', 'fitter', '--weights', file, '--count', '3', '--truncation', '1', '--json', json]));
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/a modelled detector's joints, 100 % cut across/);
    expect(JSON.parse(readFileSync(json, 'utf8')).truncation).toBe(1);
  });
});
