/**
 * NBF's route after the segmentation: the part evidence (distance fields and samples of a part map),
 * the refinement's part terms moving a body towards the truth, and the picture pipeline
 * (fitPicture / NbfPipeline.fitParts) with its "no person" and memory behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { Rng } from '../src/util/random.js';
import { evidenceLabel, partEvidence, pictureToGrid, PART_COUNT } from '../src/pipeline/part-evidence.js';
import { NBF_SIDE_PAIRS } from '../src/smpl/types.js';
import { refineBody, joint2dError } from '../src/pipeline/refine.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SEGMENTER_CLASSES, SegmenterNetwork } from '../src/nn/refinenet.js';
import { FitterNetwork } from '../src/nn/fitter.js';
import { fitLabels, fitPicture } from '../src/pipeline/fit-picture.js';
import { exchangeLandmarkSides, LEG_SIDE_MARGIN } from '../src/pipeline/leg-check.js';
import { NoPersonError, type PoseLandmarks } from '../src/landmarks/blazepose.js';
import { NbfError } from '../src/runtime/errors.js';
import type { RgbaImage } from '../src/io/image.js';
import { TINY_SEGMENTER } from './helpers/tiny-networks.js';
import { inverseRodrigues, rodrigues } from '../src/smpl/cpu-forward.js';

const rng = new Rng(31);

describe('part evidence', () => {
  it('distance fields equal brute-force Euclidean distances; samples lie in their parts', () => {
    const W = 23;
    const H = 17;
    const labels = new Uint8Array(W * H);
    // A few rectangles of parts 1, 4 and 12 and scattered pixels of part 7.
    const fill = (p: number, x0: number, y0: number, x1: number, y1: number) => { for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) labels[y * W + x] = p; };
    fill(1, 2, 2, 6, 5);
    fill(4, 10, 3, 14, 15);
    fill(12, 17, 9, 22, 12);
    for (let i = 0; i < 6; i++) labels[Math.floor(rng.uniform(0, W * H))] = 7;
    const e = partEvidence({ width: W, height: H, labels }, { margin: 3, samplesPerPart: 5, minCells: 1 });
    expect(e.scale).toBe(1);
    expect([e.width, e.height, e.side]).toEqual([W + 6, H + 6, W]);
    for (let p = 0; p < PART_COUNT; p++) {
      const cells: [number, number][] = [];
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (labels[y * W + x] === p + 1) cells.push([x + 3, y + 3]);
      expect(e.cells[p]).toBe(cells.length);
      expect(e.seen[p]).toBe(cells.length > 0);
      if (!cells.length) continue;
      for (let y = 0; y < e.height; y++) {
        for (let x = 0; x < e.width; x++) {
          const want = Math.min(...cells.map(([cx, cy]) => Math.hypot(cx - x, cy - y)));
          expect(e.field[(y * e.width + x) * PART_COUNT + p]).toBeCloseTo(want, 4);
        }
      }
    }
    const S = e.samples.length / 3;
    expect(S).toBe(5 + 5 + 5 + Math.min(5, e.cells[6]));
    for (let s = 0; s < S; s++) {
      const [x, y, p] = [e.samples[3 * s], e.samples[3 * s + 1], e.samples[3 * s + 2]];
      expect(labels[(Math.floor(y) - 3) * W + Math.floor(x) - 3]).toBe(p + 1);
    }
    expect(pictureToGrid(e, 0)).toBe(3);
  });

  it('downscales big maps, treats tiny parts as unseen and names bad maps', () => {
    const W = 300;
    const H = 150;
    const labels = new Uint8Array(W * H);
    for (let y = 30; y < 120; y++) for (let x = 100; x < 160; x++) labels[y * W + x] = 2;
    labels[5] = 3; // one pixel of part 3
    const e = partEvidence({ width: W, height: H, labels }, { maxSide: 100, margin: 4 });
    expect(e.scale).toBe(3);
    expect([e.width, e.height]).toEqual([108, 58]);
    expect(e.seen[1]).toBe(true);
    expect(e.seen[2]).toBe(false);
    expect(() => partEvidence({ width: 4, height: 4, labels: new Uint8Array(16) })).toThrow(/shows no body part/);
    expect(() => partEvidence({ width: 4, height: 4, labels: new Uint8Array(15) })).toThrow(/15 labels for a 4×4 map/);
  });

  it('mergeSides: each left limb and its right twin make one part, under the pair\'s first label', () => {
    const W = 19;
    const H = 13;
    const labels = new Uint8Array(W * H);
    const fill = (p: number, x0: number, y0: number, x1: number, y1: number) => { for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) labels[y * W + x] = p; };
    fill(3, 1, 1, 4, 5); // left lower arm
    fill(10, 14, 2, 18, 6); // right lower arm
    fill(6, 8, 7, 11, 12); // right upper leg alone
    fill(2, 6, 1, 12, 5); // upper torso (no twin)
    const split = partEvidence({ width: W, height: H, labels }, { margin: 2, minCells: 1 });
    const merged = partEvidence({ width: W, height: H, labels }, { margin: 2, minCells: 1, mergeSides: true });
    expect(split.mergeSides).toBe(false);
    expect(merged.mergeSides).toBe(true);
    for (const [a, b] of NBF_SIDE_PAIRS) {
      expect(evidenceLabel(b, true)).toBe(a);
      expect(evidenceLabel(a, true)).toBe(a);
      expect(evidenceLabel(b, false)).toBe(b);
      expect(merged.cells[a - 1]).toBe(split.cells[a - 1] + split.cells[b - 1]);
      expect(merged.cells[b - 1]).toBe(0);
      expect(merged.seen[b - 1]).toBe(false);
    }
    expect(merged.cells[1]).toBe(split.cells[1]); // the torso has no twin
    // The merged lower-arm field is the nearer of the two arms' fields.
    for (let i = 0; i < merged.width * merged.height; i++) {
      const want = Math.min(split.field[i * PART_COUNT + 2], split.field[i * PART_COUNT + 9]);
      expect(merged.field[i * PART_COUNT + 2]).toBeCloseTo(want, 5);
    }
    for (let s = 0; s < merged.samples.length / 3; s++) expect([3, 10, 4, 9, 5, 6, 11, 12].filter((l) => l !== evidenceLabel(l, true))).not.toContain(merged.samples[3 * s + 2] + 1);
  });
});

describe('refinement on a part map', () => {
  const model = loadOpenBodyModel();
  let generator: SynthGenerator;
  beforeAll(() => { generator = new SynthGenerator(testRuntime(), model); });
  afterAll(() => generator.dispose());
  /** One render's true part labels, 2D joints and drawn body. */
  function renderOne(size: number, seed: number) {
    const batch = generator.generateBatch(1, { size, seed });
    const labels = Uint8Array.from(batch.inputs.labels.readSync());
    const truth2d = batch.targets.joints2d.readSync();
    const ex = batch.examples[0];
    disposeBatch(batch);
    return { labels, truth2d, ex };
  }

  it('moves a perturbed body towards the true one using the part map alone', () => {
    const size = 128;
    const { labels, truth2d, ex } = renderOne(size, 77);
    const noise = new Rng(5);
    const pose = Array.from(ex.pose, (v, i) => (i < 3 ? v : v + noise.uniform(-0.25, 0.25)));
    const trans = [ex.trans[0] + 0.06, ex.trans[1] - 0.04, ex.trans[2]];
    const rt = generator.runtime;
    const evidence = partEvidence({ width: size, height: size, labels });
    const fit = () => refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, parts: evidence }, { steps: 60, starts: [{ pose, betas: ex.betas, trans }] });
    fit(); // first use of each kernel may cache a constant
    const before = rt.memory();
    const result = fit();
    expect(rt.memory().tensors).toBe(before.tensors);
    expect(result.facingStarts).toBe(0);
    expect(result.chosen).toBe(0);
    expect(Number.isNaN(result.startError)).toBe(true); // no 2D joints given
    expect(result.loss).toBeLessThan(0.5 * result.lossBefore);
    expect(result.keptStart).toBe(false);
    // The start's joints, posed without fitting, against the fit's: the fit is much closer to the truth.
    const start = refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, joints2d: truth2d }, { steps: 2, starts: [{ pose, betas: ex.betas, trans }], facing: false });
    expect(joint2dError(result.body.joints2d, truth2d)).toBeLessThan(0.6 * start.startError);
  });

  it('returns the start unchanged when fitting ends above the loss it began with (never worse by its own loss)', () => {
    const size = 96;
    const { labels, ex } = renderOne(size, 78);
    // The true body as the start and a stay-near prior so strong that any Adam step away costs more
    // than the part terms can give back.
    const start = { pose: Array.from(ex.pose), betas: ex.betas, trans: ex.trans };
    const target = { camera: ex.camera, size, parts: partEvidence({ width: size, height: size, labels }), partWeights: { start: 1e6 } };
    const rt = generator.runtime;
    const before = rt.memory();
    const result = refineBody(generator.gpuModel, generator.skeleton, target, { steps: 4, starts: [start] });
    expect(rt.memory().tensors).toBe(before.tensors);
    expect(result.keptStart).toBe(true);
    expect(result.loss).toBe(result.lossBefore);
    expect(result.losses[0]).toBeGreaterThan(result.lossBefore);
    for (let i = 0; i < 72; i++) expect(result.pose[i]).toBeCloseTo(ex.pose[i], 6);
    for (let i = 0; i < 3; i++) expect(result.trans[i]).toBeCloseTo(ex.trans[i], 6);
  });

  it('with merged sides, a map whose left and right limbs are swapped does not twist the body', () => {
    const size = 128;
    const { labels, truth2d, ex } = renderOne(size, 78);
    const swapped = labels.map((l) => { for (const [a, b] of NBF_SIDE_PAIRS) { if (l === a) return b; if (l === b) return a; } return l; });
    const start = { pose: ex.pose, betas: ex.betas, trans: ex.trans };
    const fit = (mergeSides: boolean) => refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, parts: partEvidence({ width: size, height: size, labels: swapped }, { mergeSides }) }, { steps: 60, starts: [start] });
    const trusting = fit(false);
    const merged = fit(true);
    // Starting at the truth: trusting the swapped sides pulls the limbs across; merged sides keep them.
    expect(joint2dError(merged.body.joints2d, truth2d)).toBeLessThan(0.5 * joint2dError(trusting.body.joints2d, truth2d));
    expect(merged.lossBefore).toBeLessThan(0.5 * trusting.lossBefore);
  });

  it('a robust coverage term (coverSigma) lets pixels wrongly labelled far from the body pull less', () => {
    const size = 128;
    const { labels, truth2d, ex } = renderOne(size, 79);
    // A blob of every part in a corner, as a segmenter's false positives on a busy background.
    for (let y = 2; y < 22; y++) for (let x = 2; x < 22; x++) labels[y * size + x] = 1 + ((x + y) % 12);
    const start = { pose: ex.pose, betas: ex.betas, trans: ex.trans };
    const fit = (coverSigma: number) => refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, parts: partEvidence({ width: size, height: size, labels }), partWeights: { coverSigma } }, { steps: 60, starts: [start] });
    const plain = joint2dError(fit(0).body.joints2d, truth2d);
    const robust = joint2dError(fit(0.03).body.joints2d, truth2d);
    expect(robust).toBeLessThan(0.7 * plain);
  });

  it('a robust 2D joint term (robust2d) lets joints a detector put far from the body pull less', () => {
    const size = 128;
    const { labels, truth2d, ex } = renderOne(size, 80);
    // A detector that put the left wrist, elbow and knee 45 % of the picture away (BlazePose on an
    // occluder), the other joints where they are.
    const detected = Float32Array.from(truth2d);
    const moved = [4, 18, 20];
    for (const j of moved) { detected[2 * j] += 0.45 * size; detected[2 * j + 1] -= 0.3 * size; }
    const start = { pose: ex.pose, betas: ex.betas, trans: ex.trans };
    const fit = (robust2d: number, steps = 60) => refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, joints2d: detected, parts: partEvidence({ width: size, height: size, labels }), robust2d }, { steps, starts: [start] });
    const plain = fit(0);
    const robust = fit(0.1);
    expect(joint2dError(robust.body.joints2d, truth2d)).toBeLessThan(0.5 * joint2dError(plain.body.joints2d, truth2d));
    // The term itself, at the start (the true body: every other term the same for both): per
    // coordinate d² against σ²d²/(d² + σ²), d in units of the picture, a mean over 24 × 2 numbers.
    const s2 = 0.01;
    let gap = 0;
    for (const j of moved) for (const d of [0.45, 0.3]) gap += (d * d - (s2 * d * d) / (d * d + s2)) / 48;
    expect(plain.lossBefore - robust.lossBefore).toBeCloseTo(gap, 4);
    // Near the body it is the plain term: true joints from a perturbed start are fitted as closely.
    const noise = new Rng(6);
    const pose = Array.from(ex.pose, (v, i) => (i < 3 ? v : v + noise.uniform(-0.2, 0.2)));
    const fromNoise = (robust2d: number) => refineBody(generator.gpuModel, generator.skeleton, { camera: ex.camera, size, joints2d: truth2d, robust2d }, { steps: 60, starts: [{ ...start, pose }], facing: false });
    const a = fromNoise(0);
    const b = fromNoise(0.1);
    expect(joint2dError(b.body.joints2d, truth2d)).toBeLessThan(0.5 * b.startError);
    expect(joint2dError(b.body.joints2d, truth2d)).toBeLessThan(1.5 * joint2dError(a.body.joints2d, truth2d) + 0.2);
  });

  it('fitLabels: extra starts in their own camera join the network\'s; the lowest final loss is kept', () => {
    const size = 128;
    const { labels, truth2d, ex } = renderOne(size, 81);
    // An untrained fitting network answers far off; the true body, given in the render's camera
    // (not the network's crop camera), starts beside it.
    const fitter = new FitterNetwork(generator.runtime, {
      name: 'tiny', inputSize: 32, shapeCount: 10,
      encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
    }, { seed: 3 });
    try {
      const map = { width: size, height: size, labels };
      // The true body seen through a camera of twice the focal length and another centre: twice as
      // far, moved so that it projects where it did.
      const [f, , cx, cy] = ex.camera;
      const other = [2 * f, 2 * f, cx + 20, cy - 15];
      const [x, y, z] = ex.trans;
      const z2 = 2 * z;
      const trans = [((f * x) / z + cx - other[2]) * (z2 / other[0]), ((f * y) / z + cy - other[3]) * (z2 / other[1]), z2];
      const truth = { pose: ex.pose, betas: ex.betas, trans, camera: other };
      const fit = fitLabels(fitter, generator.gpuModel, generator.skeleton, map, { steps: 2, extraStarts: [truth] });
      expect(fit.refine!.losses).toHaveLength(2);
      expect(fit.refine!.chosen).toBe(1);
      expect(fit.refine!.losses[1]).toBeLessThan(0.5 * fit.refine!.losses[0]);
      // Moved into the network's camera, the true body still lands on its joints.
      expect(joint2dError(fit.joints2d, truth2d)).toBeLessThan(0.02 * size);
    } finally {
      fitter.dispose();
    }
  });

  it('refuses a fit with nothing to fit to, or with a part map and no start', () => {
    const ex = { camera: [100, 100, 32, 32], size: 64 };
    expect(() => refineBody(generator.gpuModel, generator.skeleton, ex)).toThrow(/nothing to fit to/);
    const joints2d = new Float32Array(48).fill(30);
    for (const robust2d of [-0.1, Number.NaN, Infinity]) expect(() => refineBody(generator.gpuModel, generator.skeleton, { ...ex, joints2d, robust2d })).toThrow(/robust2d must be a number ≥ 0/);
    const labels = new Uint8Array(64 * 64).fill(0);
    labels.fill(2, 64 * 20, 64 * 40);
    expect(() => refineBody(generator.gpuModel, generator.skeleton, { ...ex, parts: partEvidence({ width: 64, height: 64, labels }) })).toThrow(/needs a start/);
  });
});

describe('fitPicture', () => {
  const tinySegmenter = TINY_SEGMENTER;
  const picture = (w: number, h: number): RgbaImage => ({ width: w, height: h, data: Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 37) % 256)) });

  it('runs segmenter → fitter → refinement with flat memory, and says "no person found" for an empty map', () => {
    const rt = testRuntime();
    const model = loadOpenBodyModel();
    const generator = new SynthGenerator(rt, model);
    const segmenter = new SegmenterNetwork(rt, tinySegmenter, { seed: 5 });
    const fitter = new FitterNetwork(rt, {
      name: 'tiny', inputSize: 32, shapeCount: 10,
      encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
    }, { seed: 2 });
    try {
      const image = picture(90, 70);
      const first = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 10 });
      const before = rt.memory();
      for (let i = 0; i < 3; i++) fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 10 });
      expect(rt.memory().tensors).toBe(before.tensors);
      expect(rt.memory().liveTextures).toBe(before.liveTextures);
      expect(first.segmentation.labels).toHaveLength(90 * 70);
      expect(first.joints2d).toHaveLength(48);
      expect(first.refine!.lossAfter).toBeLessThanOrEqual(first.refine!.lossBefore);
      const plain = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { refine: false });
      expect(plain.refine).toBeNull();
      expect(Array.from(plain.joints2d)).toEqual(Array.from(plain.network.joints2d));
      // The fitting network's two looks are the default, also when a caller (the CLI) passes
      // fitterMirror: undefined; false reads the map once, and answers differently.
      const twoLooks = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { refine: false, fitterMirror: true });
      const unsaid = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { refine: false, fitterMirror: undefined });
      const oneLook = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { refine: false, fitterMirror: false });
      expect(Array.from(plain.pose)).toEqual(Array.from(twoLooks.pose));
      expect(Array.from(unsaid.pose)).toEqual(Array.from(twoLooks.pose));
      expect(Array.from(oneLook.pose)).not.toEqual(Array.from(twoLooks.pose));

      // With landmarks: their person mask gives the box (one segmenter pass) and the background.
      const mask = new Float32Array(90 * 70);
      for (let y = 10; y < 60; y++) for (let x = 30; x < 55; x++) mask[y * 90 + x] = 0.8;
      const landmarks = {
        keypoints: Array.from({ length: 33 }, (_, k) => [32 + (k % 5) * 5, 12 + Math.floor(k / 5) * 7, 0.9]),
        world: Array.from({ length: 33 }, () => [0, 0, 0]), score: 1, box: [32, 12, 52, 54], mask, width: 90, height: 70,
      } as unknown as PoseLandmarks;
      const guided = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 5, landmarks });
      expect(guided.segmentation.personMask).toBe(true);
      expect(guided.segmentation.boxFrom).toBe('given');
      expect(guided.segmentation.first).toBeNull();
      expect(guided.segmentation.box).toEqual([30, 10, 55, 60]);
      expect(guided.segmentation.labels.every((l, i) => mask[i] > 0 || l === 0)).toBe(true);
      expect(guided.refine!.landmarks).toBe(true);
      expect(guided.refine!.blended).toBe(false);
      // The legs' sides check: both readings scored by their start loss, the kept one refined — its
      // lossBefore is that reading's start loss, and the reading as detected, refined alone
      // (legSides false), starts at the first.
      const legs = guided.legSides!;
      expect(legs.startLosses.every((l) => Number.isFinite(l) && l > 0)).toBe(true);
      expect(legs.exchanged).toBe(legs.startLosses[1] < LEG_SIDE_MARGIN * legs.startLosses[0]);
      expect(Math.abs(guided.refine!.lossBefore - legs.startLosses[legs.exchanged ? 1 : 0])).toBeLessThan(1e-5 * guided.refine!.lossBefore);
      const asDetected = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 5, landmarks, legSides: false });
      expect(asDetected.legSides).toBeNull();
      expect(Math.abs(asDetected.refine!.lossBefore - legs.startLosses[0])).toBeLessThan(1e-5 * legs.startLosses[0]);
      // Landmarks whose legs already stand exchanged: the check scores the same two readings the other way round.
      const swapped = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 5, landmarks: exchangeLandmarkSides(landmarks, 'legs') });
      expect(swapped.legSides!.startLosses[0]).toBeCloseTo(legs.startLosses[1], 6);
      expect(swapped.legSides!.startLosses[1]).toBeCloseTo(legs.startLosses[0], 6);
      // Without refinement (NBF's answer alone) there is no check; textures stay flat with it.
      expect(fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { refine: false, landmarks }).legSides).toBeNull();
      const beforeChecks = rt.memory();
      for (let i = 0; i < 2; i++) fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 3, landmarks });
      expect(rt.memory().tensors).toBe(beforeChecks.tensors);
      expect(rt.memory().liveTextures).toBe(beforeChecks.liveTextures);
      // A landmark network: its answer blended with the fitting network's starts the refinement where
      // the two face the same way. Here it answers what the fitting network did (the blend is that
      // answer: the same fit), or that body turned round (no blend).
      const same = (() => ({ ...guided.network })) as never;
      const root = rodrigues(guided.network.pose[0], guided.network.pose[1], guided.network.pose[2]);
      const halfTurn = rodrigues(0, Math.PI, 0);
      const turnedRoot = new Float64Array(9);
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) for (let k = 0; k < 3; k++) turnedRoot[3 * r + c] += halfTurn[3 * r + k] * root[3 * k + c];
      const turned = (() => ({ ...guided.network, pose: [...inverseRodrigues(turnedRoot), ...guided.network.pose.slice(3)] })) as never;
      const blended = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 5, landmarks, landmarkNetwork: same });
      const unblended = fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image, { steps: 5, landmarks, landmarkNetwork: turned });
      expect(blended.refine!.blended).toBe(true);
      expect(unblended.refine!.blended).toBe(false);
      expect(Math.abs(blended.refine!.lossBefore - guided.refine!.lossBefore)).toBeLessThan(1e-4 * guided.refine!.lossBefore);
      for (let i = 0; i < 72; i++) expect(Math.abs(unblended.pose[i] - guided.pose[i])).toBeLessThan(1e-5);
      expect(first.segmentation.personMask).toBe(false);
      expect(first.segmentation.boxFrom).toBe('segmenter');

      // A segmenter that sees background everywhere: the head's bias favours class 0.
      const bias = segmenter.params.get('head/bias');
      const b = new Float32Array(SEGMENTER_CLASSES);
      b[0] = 1e4;
      segmenter.params.set('head/bias', rt.tensor(b, bias.shape));
      expect(() => fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image)).toThrow(NoPersonError);
      expect(() => fitPicture(segmenter, fitter, generator.gpuModel, generator.skeleton, image)).toThrow(/no person found/);
      expect(NoPersonError.prototype).toBeInstanceOf(NbfError);
    } finally {
      segmenter.dispose();
      fitter.dispose();
      generator.dispose();
    }
  });
});
