/**
 * The photo route: BlazePose landmarks → body-joint targets → refinement (src/pipeline/refine.ts,
 * fit-photo.ts), and `nbf fit PHOTO...` through the CLI.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { captureCommand } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { refineBody } from '../src/pipeline/refine.js';
import { LEG_SIDE_MARGIN } from '../src/pipeline/leg-check.js';
import { fitPhoto } from '../src/pipeline/fit-photo.js';
import { bodyJointTargets } from '../src/landmarks/to-body-joints.js';
import { createPoseLandmarker } from '../src/landmarks/model-files.js';
import { mpjpe, paMpjpe } from '../src/eval/metrics.js';
import { encodePng, rgbFloatsToImage } from '../src/io/image.js';
import type { PoseLandmarks } from '../src/landmarks/blazepose.js';
import { createNodePipeline } from '../src/pipeline/nbf-pipeline-node.js';
import { SegmenterNetwork } from '../src/nn/refinenet.js';
import { FitterNetwork } from '../src/nn/fitter.js';
import { encodeFitterWeights, encodeSegmenterWeights } from '../src/nn/weights-file.js';
import { TINY_SEGMENTER } from './helpers/tiny-networks.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-fit-photo-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** Tiny segmenter and fitter weights with fixed random values: the wiring, not the accuracy. */
let tiny: { segmenter: string; fitter: string } | null = null;
function tinyNetworks(): { segmenter: string; fitter: string } {
  if (tiny) return tiny;
  const segmenter = new SegmenterNetwork(rt, TINY_SEGMENTER, { seed: 5 });
  const fitter = new FitterNetwork(rt, {
    name: 'tiny', inputSize: 32, shapeCount: 10,
    encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
  }, { seed: 2 });
  tiny = { segmenter: join(root, 'tiny-segmenter.nbfw'), fitter: join(root, 'tiny-fitter.nbfw') };
  writeFileSync(tiny.segmenter, encodeSegmenterWeights(segmenter));
  writeFileSync(tiny.fitter, encodeFitterWeights(fitter));
  segmenter.dispose();
  fitter.dispose();
  return tiny;
}

function person(seed: number, index: number, size = 256) {
  const batch = generator.generateBatch(1, { size, seed, start: index });
  try {
    return { image: rgbFloatsToImage(batch.inputs.rgb.readSync(), size, size), joints2d: batch.targets.joints2d.readSync(), joints3d: batch.targets.joints3d.readSync(), camera: Array.from(batch.examples[0].camera) };
  } finally {
    disposeBatch(batch);
  }
}

describe('refinement', () => {
  it('with exact 2D and 3D targets recovers the body; the 3D term is what removes the depth ambiguity', () => {
    const p = person(900001, 3);
    const withDepth = refineBody(generator.gpuModel, generator.skeleton, { joints2d: p.joints2d, joints3d: p.joints3d, camera: p.camera, size: 256 }, { steps: 300 });
    const flat = refineBody(generator.gpuModel, generator.skeleton, { joints2d: p.joints2d, camera: p.camera, size: 256 }, { steps: 300 });
    // Measured: 28 mm with the 3D term, 102 mm from the 2D joints alone (a limb bent the wrong way in depth).
    expect(mpjpe(withDepth.body.joints3d, p.joints3d, 24)).toBeLessThan(0.04);
    expect(mpjpe(flat.body.joints3d, p.joints3d, 24)).toBeGreaterThan(2 * mpjpe(withDepth.body.joints3d, p.joints3d, 24));
    expect(withDepth.losses).toHaveLength(8);
    // Half the joints unweighted: the fit ignores wrong targets there.
    const wrong = Float32Array.from(p.joints2d);
    const weights = new Float32Array(24).fill(1);
    for (const j of [20, 21, 22, 23]) {
      wrong[2 * j] += 60;
      weights[j] = 0;
    }
    const masked = refineBody(generator.gpuModel, generator.skeleton, { joints2d: wrong, weights2d: weights, camera: p.camera, size: 256 }, { steps: 150 });
    let off = 0;
    for (const j of [16, 17, 18, 19]) off += Math.hypot(masked.body.joints2d[2 * j] - p.joints2d[2 * j], masked.body.joints2d[2 * j + 1] - p.joints2d[2 * j + 1]) / 4;
    expect(off).toBeLessThan(3);
  });

  it('refuses targets of the wrong size', () => {
    expect(() => refineBody(generator.gpuModel, generator.skeleton, { joints2d: new Float32Array(10), camera: [100, 100, 50, 50], size: 100 })).toThrow(/joints2d must hold 48 numbers/);
  });
});

describe('landmarks → body joints', () => {
  it('maps limb joints one to one, midpoints elsewhere, weights scaled by visibility', () => {
    const keypoints = Array.from({ length: 33 }, (_, k) => [k * 10, k * 10 + 1, k % 2 ? 1 : 0.5] as [number, number, number]);
    const world = Array.from({ length: 33 }, (_, k) => [k, -k, 2 * k] as [number, number, number]);
    const t = bodyJointTargets({ keypoints, world } as PoseLandmarks);
    expect([t.joints2d[2 * 18], t.joints2d[2 * 18 + 1]]).toEqual([130, 131]); // left elbow ← 13
    expect(t.weights[18]).toBe(1);
    expect(t.weights[19]).toBe(0.5); // right elbow ← 14, visibility 0.5
    expect(t.joints2d[0]).toBeCloseTo(235, 6); // pelvis ← middle of hips 23, 24
    expect(Array.from(t.joints3d.slice(45, 48))).toEqual([7.5, -7.5, 15]); // head ← middle of ears 7, 8
    expect(t.weights[3]).toBe(0); // spine: no landmark
  });
});

describe('photo → body', () => {
  it('fits a rendered person from its picture far better than the rest pose', () => {
    const landmarker = createPoseLandmarker(rt);
    try {
      const p = person(7, 0);
      const fit = fitPhoto(landmarker, generator.gpuModel, generator.skeleton, p.image, { steps: 200, focal: p.camera[0] });
      const rest = generator.skeleton.restJoints(new Float64Array(generator.skeleton.shapeCount));
      expect(paMpjpe(fit.joints3d, p.joints3d, 24)).toBeLessThan(0.5 * paMpjpe(rest, p.joints3d, 24));
      expect(fit.refine!.finalError).toBeLessThan(fit.refine!.startError);
      expect(fit.camera).toEqual([p.camera[0], p.camera[0], 128, 128]);
    } finally {
      landmarker.dispose();
    }
  });
});

describe('NbfPipeline', () => {
  it('fits pictures with flat texture memory, and refuses use after dispose', () => {
    const pipeline = createNodePipeline(rt);
    const pictures = [person(7, 0, 160), person(7, 3, 160)];
    const first = pipeline.fit(pictures[0].image, { steps: 10 });
    expect(first.faces).toEqual(generator.model.faces);
    expect(first.timings.totalMs).toBeGreaterThan(0);
    const before = rt.memory();
    for (let i = 0; i < 10; i++) pipeline.fit(pictures[i % 2].image, { steps: 10 });
    const after = rt.memory();
    expect(after.liveTextures).toBe(before.liveTextures);
    expect(after.liveBytes).toBe(before.liveBytes);
    const held = rt.memory().liveTextures;
    pipeline.dispose();
    expect(rt.memory().liveTextures).toBeLessThan(held);
    expect(() => pipeline.fit(pictures[0].image)).toThrow(/after dispose/);
  });

  it('fitParts runs NBF\'s route when created with the networks, and refuses without them', () => {
    const files = tinyNetworks();
    const plain = createNodePipeline(rt, { noDetector: true });
    try {
      expect(() => plain.fitParts(person(7, 2, 96).image)).toThrow(/no segmenter and fitting network/);
    } finally {
      plain.dispose();
    }
    expect(() => createNodePipeline(rt, { parts: { segmenter: join(root, 'missing.nbfw'), fitter: files.fitter } })).toThrow(/missing\.nbfw: no such file/);
    const pipeline = createNodePipeline(rt, { parts: files, noDetector: true });
    try {
      const pictures = [person(7, 2, 96).image, person(7, 3, 80).image];
      pipeline.fitParts(pictures[0], { steps: 4, landmarks: true }); // first use of each kernel may cache a constant
      const before = rt.memory();
      const result = pipeline.fitParts(pictures[0], { steps: 4, landmarks: true });
      // A batch of 50 pictures: texture memory stays flat.
      for (let i = 0; i < 50; i++) pipeline.fitParts(pictures[i % 2], { steps: 2 });
      expect(rt.memory().tensors).toBe(before.tensors);
      expect(rt.memory().liveTextures).toBe(before.liveTextures);
      expect(rt.memory().pooledBytes).toBeLessThanOrEqual(1.05 * before.pooledBytes + 4e6);
      expect(result.faces.length).toBeGreaterThan(0);
      expect(result.landmarks).not.toBeNull();
      expect(result.refine!.landmarks).toBe(true);
      expect(result.timings.totalMs).toBeGreaterThan(0);
    } finally {
      pipeline.dispose();
    }
  });
});

describe('nbf fit PHOTO (CLI)', () => {
  it('writes params.json, body.glb, body.obj, overlay.png, landmarks.json and mask.png per photo; a bad one is skipped', async () => {
    const p = person(7, 0, 192);
    const photo = join(root, 'walker.png');
    writeFileSync(photo, encodePng(p.image));
    writeFileSync(join(root, 'bad.png'), 'no picture here');
    const out = join(root, 'out');
    const run = await captureCommand(() => main(['fit', photo, join(root, 'bad.png'), '--out', out, '--steps', '40']));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/bad\.png: ImageError: .*is not a PNG or JPEG picture; nothing written/);
    expect(readdirSync(out)).toEqual(['walker']);
    expect(readdirSync(join(out, 'walker')).sort()).toEqual(['body.glb', 'body.obj', 'landmarks.json', 'mask.png', 'overlay.png', 'params.json']);
    const params = JSON.parse(readFileSync(join(out, 'walker', 'params.json'), 'utf8'));
    expect(params.pose).toHaveLength(72);
    expect(params.joints2d).toHaveLength(24);
    // The shipped landmark network ran: the camera is NBF's for its crop (focal 5000·side/512).
    const crop = params.network.crop;
    expect(params.camera.fx).toBeCloseTo((5000 * crop.side) / 512, 1);
    expect(params.camera.cx).toBeCloseTo(crop.x0 + crop.side / 2, 2);
    expect(params.timingsMs.network).toBeGreaterThan(0);
    expect(params.route).toBe('landmarks');
    expect(params.landmarkModel).toBe('blazepose-full'); // Node's default (DEFAULT_BLAZEPOSE_VARIANT)
    // The legs' sides check ran on the network's two readings.
    expect(params.legSides.startLosses).toHaveLength(2);
    expect(params.legSides.exchanged).toBe(params.legSides.startLosses[1] < LEG_SIDE_MARGIN * params.legSides.startLosses[0]);
    // Without it: 8 facing starts, a normal lens, f = max(width, height), centred.
    const alone = await captureCommand(() => main(['fit', photo, '--out', join(root, 'alone'), '--steps', '20', '--no-network']));
    expect(alone.code, alone.err).toBe(0);
    const aloneParams = JSON.parse(readFileSync(join(root, 'alone', 'walker', 'params.json'), 'utf8'));
    expect(aloneParams.camera).toEqual({ fx: 192, fy: 192, cx: 96, cy: 96 });
    expect(aloneParams.network).toBeNull();
    expect(aloneParams.legSides).toBeNull();
  });

  it('bad pictures: one clear line each, exit 1, nothing partial written', async () => {
    const p = person(7, 0, 160);
    const cases: [string, Uint8Array, RegExp][] = [];
    const png = encodePng(p.image);
    cases.push(['truncated.png', png.slice(0, Math.floor(png.length / 2)), /truncated\.png: ImageError: .*(truncated|corrupt)/]);
    cases.push(['tiny.png', encodePng({ width: 1, height: 1, data: new Uint8Array([200, 100, 50, 255]) }), /tiny\.png: no person found/]);
    // A PNG whose header says 10000 × 10000: refused from the header, before any decoding.
    const huge = Uint8Array.from(png);
    new DataView(huge.buffer).setUint32(16, 10000);
    new DataView(huge.buffer).setUint32(20, 10000);
    cases.push(['huge.png', huge, /huge\.png: ImageError: .*10000×10000/]);
    cases.push(['text.jpg', new TextEncoder().encode('hello'), /text\.jpg: ImageError: .*not a PNG or JPEG/]);
    const { segmenter, fitter } = tinyNetworks();
    for (const route of [[], ['--route', 'parts', '--segmenter', segmenter, '--fitter', fitter]]) {
      for (const [name, bytes, message] of cases) {
        const path = join(root, name);
        writeFileSync(path, bytes);
        const out = join(root, `bad-${name}`);
        const run = await captureCommand(() => main(['fit', path, ...route, '--out', out, '--steps', '4']));
        expect(run.code, `${name} ${route.join(' ')}`).toBe(1);
        expect(run.err, name).toMatch(message);
        expect(run.err.trim().split('\n'), name).toHaveLength(1);
        expect(existsSync(out), name).toBe(false);
      }
    }
    // Weights of the wrong network, or not weights at all: one line naming the file, exit 1.
    writeFileSync(join(root, 'ok-parts.png'), png);
    writeFileSync(join(root, 'garbage.nbfw'), 'no weights here');
    for (const [flags, file] of [[['--segmenter', fitter, '--fitter', fitter], fitter], [['--segmenter', segmenter, '--fitter', segmenter], segmenter], [['--segmenter', join(root, 'garbage.nbfw'), '--fitter', fitter], join(root, 'garbage.nbfw')]] as const) {
      const out = join(root, 'bad-weights');
      const run = await captureCommand(() => main(['fit', join(root, 'ok-parts.png'), '--route', 'parts', ...flags, '--out', out]));
      expect(run.code, flags.join(' ')).toBe(1);
      expect(run.err.trim().split('\n')).toHaveLength(1);
      expect(run.err).toContain(file);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('greyscale and transparent pictures fit like RGB ones', async () => {
    const p = person(7, 0, 160);
    const grey = Uint8Array.from(p.image.data);
    for (let i = 0; i < grey.length; i += 4) grey[i] = grey[i + 1] = grey[i + 2] = Math.round((grey[i] + grey[i + 1] + grey[i + 2]) / 3);
    const seeThrough = Uint8Array.from(p.image.data);
    for (let i = 3; i < seeThrough.length; i += 4) seeThrough[i] = 128;
    writeFileSync(join(root, 'grey.png'), encodePng({ width: 160, height: 160, data: grey }));
    writeFileSync(join(root, 'alpha.png'), encodePng({ width: 160, height: 160, data: seeThrough }));
    const out = join(root, 'kinds');
    const run = await captureCommand(() => main(['fit', join(root, 'grey.png'), join(root, 'alpha.png'), '--out', out, '--steps', '20']));
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['alpha', 'grey']);
  });

  it('an output folder that cannot be made: one clear line, exit 1', async () => {
    const p = person(7, 0, 160);
    writeFileSync(join(root, 'a-file'), 'x');
    writeFileSync(join(root, 'ok.png'), encodePng(p.image));
    const run = await captureCommand(() => main(['fit', join(root, 'ok.png'), '--out', join(root, 'a-file', 'sub'), '--steps', '4']));
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/cannot create the output folder ".*a-file\/sub\/ok": a part of the path is a file, not a folder/);
  });

  it('--route parts and both: segmenter → fitting network → refinement; parts.png beside the body', async () => {
    const { segmenter, fitter } = tinyNetworks();
    const p = person(7, 1, 160);
    const photo = join(root, 'parts-walker.png');
    writeFileSync(photo, encodePng(p.image));
    const out = join(root, 'parts-out');
    const run = await captureCommand(() => main(['fit', photo, '--route', 'parts', '--segmenter', segmenter, '--fitter', fitter, '--out', out, '--steps', '6']));
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/body fitted to the predicted part map, refinement loss [\d.e+-]+ → [\d.e+-]+/);
    expect(readdirSync(join(out, 'parts-walker')).sort()).toEqual(['body.glb', 'body.obj', 'overlay.png', 'params.json', 'parts.png']);
    const params = JSON.parse(readFileSync(join(out, 'parts-walker', 'params.json'), 'utf8'));
    expect(params.route).toBe('parts');
    expect(params.refinement.steps).toBe(6);
    expect(params.joints2d).toHaveLength(24);
    expect(params.personBox).toHaveLength(4);
    expect(params.personFrom).toBe('segmenter');
    const both = await captureCommand(() => main(['fit', photo, '--route', 'both', '--segmenter', segmenter, '--fitter', fitter, '--out', join(root, 'both-out'), '--no-refine']));
    expect(both.code, both.err).toBe(0);
    expect(both.out).toMatch(/predicted part map and landmarks, not refined/);
    expect(readdirSync(join(root, 'both-out', 'parts-walker')).sort()).toEqual(['body.glb', 'body.obj', 'landmarks.json', 'mask.png', 'overlay.png', 'params.json', 'parts.png']);
    const bothParams = JSON.parse(readFileSync(join(root, 'both-out', 'parts-walker', 'params.json'), 'utf8'));
    expect(bothParams.refinement).toBeNull();
    // BlazePose found the walker: its person mask gave the box the segmenter read.
    expect(bothParams.personFrom).toBe('landmarks');
    expect(bothParams.legSides).toBeNull();
    // Refined, the legs' landmarks are read both ways (fitPicture's check, part-refine.test.ts; the
    // landmarks route's above); --no-leg-check reads them as detected only. (One run: each in-process
    // CLI run is a GL context of its own.)
    const unchecked = await captureCommand(() => main(['fit', photo, '--route', 'both', '--segmenter', segmenter, '--fitter', fitter, '--out', join(root, 'both-unchecked'), '--steps', '4', '--no-leg-check']));
    expect(unchecked.code, unchecked.err).toBe(0);
    const uncheckedParams = JSON.parse(readFileSync(join(root, 'both-unchecked', 'parts-walker', 'params.json'), 'utf8'));
    expect(uncheckedParams.refinement.steps).toBe(4);
    expect(uncheckedParams.legSides).toBeNull();
  });

  it('bad arguments: one clear line, exit 2, nothing written', async () => {
    const out = join(root, 'none');
    for (const [argv, message] of [
      [['fit', '--out', out], /give at least one photo/],
      [['fit', 'x.png', '--focal', '-3', '--out', out], /--focal must be/],
      [['fit', 'x.png', '--model', 'giant', '--out', out], /--model must be one of/],
      [['fit', 'x.png', '--route', 'magic', '--out', out], /--route must be one of landmarks, parts, both/],
      [['fit', 'x.png', '--no-network', '--no-refine', '--out', out], /--no-refine needs the landmark network/],
      [['fit', 'x.png', '--segmenter', 'x.nbfw', '--out', out], /--segmenter belongs to the part routes/],
      [['fit', 'x.png', '--route', 'parts', '--no-leg-check', '--out', out], /--no-leg-check belongs to the routes that read landmarks/],
      [['fit', 'x.png', '--route', 'parts', '--segmenter', join(root, 'none.nbfw'), '--out', out], /none\.nbfw: no such file/],
    ] as const) {
      const run = await captureCommand(() => main([...argv]));
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.err).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});
