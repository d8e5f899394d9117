import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { testRuntime } from './helpers/gl.js';
import { expectMostlyClose, expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { rodrigues } from '../src/smpl/cpu-forward.js';
import { partPalette } from '../src/render/parts.js';
import { MeshRenderer } from '../src/render/renderer.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { smplForward } from '../src/smpl/gpu/layer.js';
import { APPEARANCE_SIZE, packAppearance, packAugmentation, packOccluder, sampleAppearance, sampleAugmentation, sampleOccluder, Pattern } from '../src/synth/appearance.js';
import { augmentImages, occluderMask, personOccluderMask, shadePeople } from '../src/synth/shade.js';
import { augmentImagesRef, bodyRegion, faceMarks, hairlineHeight, limbCoordinates, occluderMaskRef, personOccluderMaskRef, shadePeopleRef } from '../src/synth/synth.ref.js';
import { Skeleton } from '../src/synth/skeleton.js';
import { sha256Hex } from '../src/util/sha256.js';
import { disposeBatch, FLAG_COLUMNS, generateBatch, SynthGenerator } from '../src/synth/generate.js';

const modelBytes = new Uint8Array(readFileSync('weights/nbf-open-body.nbfm'));
const model = decodeBodyModel(modelBytes, 'weights/nbf-open-body.nbfm');
const rng = new Rng(2024);
/** The template's rest joints (24·3), as the generator gives them to synth_shade. */
const templateJoints = Float32Array.from(new Skeleton(model).restJoints(new Float64Array(model.shapeCount)));


/** A rendered G-buffer and surface buffer of N random bodies at H×W (odd sizes) plus what the shader needs. */
function renderedBodies(N: number, H: number, W: number) {
  const rt = testRuntime();
  const gpu = GpuBodyModel.upload(rt, model);
  const renderer = new MeshRenderer(rt, model);
  const pose = new Float32Array(N * 72);
  for (let n = 0; n < N; n++) {
    pose[n * 72] = Math.PI;
    pose[n * 72 + 1] = rng.uniform(-1, 1);
    for (let i = 3; i < 72; i++) pose[n * 72 + i] = rng.normal(0, 0.2);
  }
  const f = (5000 * H) / 512;
  const cameraData = Array.from({ length: N }, () => [f, f, W / 2, H / 2]).flat();
  const out = rt.scope(() => {
    const camera = rt.tensor(cameraData, [N, 4]);
    const body = smplForward(gpu, { betas: rt.zeros([N, 10]), pose: rt.tensor(pose, [N, 72]), trans: rt.tensor(Array.from({ length: N }, () => [0, 0, 18]).flat(), [N, 3]) });
    return { ...renderer.renderLayers(body.vertices, camera, { width: W, height: H }), restJoints: rt.tensor(templateJoints, [24, 3]) };
  });
  renderer.dispose();
  gpu.dispose();
  return out;
}

describe('synthetic-image kernels against their CPU references', () => {
  it('occluder masks: boxes and ellipses, batch 4, odd size 29×37', () => {
    const rt = testRuntime();
    const N = 4;
    const [H, W] = [29, 37];
    const params = new Float32Array(N * 8);
    for (let n = 0; n < N; n++) packOccluder({ ...sampleOccluder(rng, 33, 1), shape: n % 2, enabled: n !== 3 }, params, 8 * n);
    rt.scope(() => {
      const mask = occluderMask(rt.tensor(params, [N, 8]), H, W);
      const want = occluderMaskRef(params, N, H, W);
      expectMostlyClose(mask, want, [N, H, W, 1], 0, 0.002);
      const m = mask.readSync();
      expect(m.slice(3 * H * W).every((v) => v === 0)).toBe(true); // disabled → no occluder
      expect(m.slice(0, H * W).some((v) => v === 1)).toBe(true);
    });
  });

  it('shading: skin, hair, garments with every pattern, shoes, backgrounds, occluders (batch 4, 31×27)', () => {
    const rt = testRuntime();
    const N = 4;
    const [H, W] = [31, 27];
    const { gbuffer, surface, restJoints } = renderedBodies(N, H, W);
    const appearance = new Float32Array(N * APPEARANCE_SIZE);
    const patterns = [Pattern.Noise, Pattern.Stripes, Pattern.Checks, Pattern.Plaid];
    for (let n = 0; n < N; n++) {
      const a = sampleAppearance(rng);
      a.top.pattern = patterns[n];
      a.bottom.pattern = patterns[(n + 1) % 4];
      a.top.frequency = 20; // several cycles on a body of a few pixels
      a.bottom.frequency = 20;
      a.background.pattern = [Pattern.Gradient, Pattern.Blobs, Pattern.Stripes, Pattern.Noise][n];
      a.sleeve = [-0.1, 0.3, 0.9, 0.5][n];
      a.hem = [0.3, 1, 0.5, 0.95][n];
      a.wrinkle = 0.1;
      a.skinNoise = 0.05;
      a.seamWidth = 0.03; // seams a pixel or two wide at this size
      a.hairSide = [0.08, 0, -0.05, 0.02][n];
      a.hairBack = [0.02, -0.03, -0.07, 0.2][n];
      a.occluder.pattern = Pattern.Stripes; // the occluder (example 1) textured like a backdrop
      a.occluder.frequency = 15;
      packAppearance(a, appearance, n * APPEARANCE_SIZE);
    }
    const occluders = new Float32Array(N * 8);
    for (let n = 0; n < N; n++) packOccluder(sampleOccluder(rng, 27, n === 1 ? 1 : 0), occluders, 8 * n);
    rt.scope(() => {
      const mask = occluderMask(rt.tensor(occluders, [N, 8]), H, W);
      const rgb = shadePeople(gbuffer, surface, mask, rt.tensor(appearance, [N, APPEARANCE_SIZE]), restJoints);
      const g = gbuffer.readSync();
      const sf = surface.readSync();
      const want = shadePeopleRef(g, sf, mask.readSync(), appearance, templateJoints, N, H, W);
      expectMostlyClose(rgb, want, [N, H, W, 3], 1e-5, 0.001);
      // The bodies show every region (skin, top, bottom, shoes, head), so each branch was compared.
      const seen = new Set<number>();
      for (let p = 0; p < N * H * W; p++) {
        if (g[4 * p] === 0) continue;
        const n = Math.floor(p / (H * W));
        const part = (Math.round(g[4 * p]) - 1) & 31;
        seen.add(bodyRegion(part, [sf[4 * p], sf[4 * p + 1], sf[4 * p + 2]], (j) => Array.from(templateJoints.subarray(3 * j, 3 * j + 3)), (k) => appearance[n * APPEARANCE_SIZE + k]).region);
      }
      expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);

      // A second person (other random bodies) drawn as an occluder: its pixels shaded with rows N..2N−1.
      const other = renderedBodies(N, H, W);
      const looks = new Float32Array(2 * N * APPEARANCE_SIZE);
      looks.set(appearance);
      for (let n = 0; n < N; n++) packAppearance(sampleAppearance(rng), looks, (N + n) * APPEARANCE_SIZE);
      const personMask = personOccluderMask(gbuffer, other.gbuffer, mask);
      const cleared = rt.tensor(g.map((v, i) => (personMask.readSync()[Math.floor(i / 4)] > 0.5 ? 0 : v)), [N, H, W, 4]);
      const both = shadePeople(cleared, surface, mask, rt.tensor(looks, [2 * N, APPEARANCE_SIZE]), restJoints, null, { gbuffer: other.gbuffer, surface: other.surface, mask: personMask });
      const m = personMask.readSync();
      const wantBoth = shadePeopleRef(cleared.readSync(), sf, mask.readSync(), looks, templateJoints, N, H, W, null, { gbuffer: other.gbuffer.readSync(), surface: other.surface.readSync(), mask: m });
      expectMostlyClose(both, wantBoth, [N, H, W, 3], 1e-5, 0.001);
      // The second person shows somewhere, and elsewhere the picture is the one without it.
      expect(m.reduce((acc, v) => acc + v, 0)).toBeGreaterThan(10);
      const alone = rgb.readSync();
      const got = both.readSync();
      for (let p = 0; p < N * H * W; p++) if (m[p] === 0) for (let k = 0; k < 3; k++) expect(Math.abs(got[3 * p + k] - alone[3 * p + k])).toBeLessThanOrEqual(1e-6);
      expect(() => shadePeople(cleared, surface, mask, rt.tensor(appearance, [N, APPEARANCE_SIZE]), restJoints, null, { gbuffer: other.gbuffer, surface: other.surface, mask: personMask })).toThrow(/appearance should be \[8, 80\]/);
      [other.gbuffer, other.surface, other.restJoints].forEach((t) => t.dispose());
    });
    [gbuffer, surface, restJoints].forEach((t) => t.dispose());
  });

  it('garment regions, seams, hairlines and limb-aligned texture coordinates follow the template (CPU rules)', () => {
    const J = (j: number) => Array.from(templateJoints.subarray(3 * j, 3 * j + 3));
    const a = sampleAppearance(new Rng(5));
    Object.assign(a, { sleeve: 0.5, hem: 0.5, waist: 0.05, neckline: -0.04, neckDip: 0.05, hairline: 0.12, hairSide: 0.02, hairBack: -0.06, faceAngle: 1, hairWave: 0 });
    const packed = packAppearance(a);
    const at = (k: number) => packed[k];
    const region = (part: number, r: number[]) => bodyRegion(part, r, J, at).region;
    const edge = (part: number, r: number[]) => bodyRegion(part, r, J, at).edge;
    const [shoulder, wrist, hip, ankle, neck, head] = [J(16), J(20), J(1), J(7), J(12), J(15)];
    const onArm = (f: number) => [shoulder[0] + f * (wrist[0] - shoulder[0]), shoulder[1], shoulder[2]];
    const span = wrist[0] - shoulder[0];
    expect(region(16, onArm(0.3))).toBe(1); // inside the sleeve
    expect(edge(16, onArm(0.3))).toBeCloseTo(0.2 * span, 5); // 20 % of the arm from its end: the seam is there
    expect(region(18, onArm(0.7))).toBe(0); // forearm beyond a half sleeve: skin
    const mirrored = onArm(0.3);
    mirrored[0] = -mirrored[0];
    expect(region(17, mirrored)).toBe(1);
    const onLeg = (f: number) => [hip[0], hip[1] + f * (ankle[1] - hip[1]), hip[2]];
    expect(region(1, onLeg(0.3))).toBe(2); // thigh inside the shorts
    expect(edge(1, onLeg(0.45))).toBeCloseTo(0.05 * (hip[1] - ankle[1]), 5); // near the hem
    expect(region(4, onLeg(0.7))).toBe(0); // shin below the hem: skin
    expect(region(7, onLeg(1))).toBe(3); // shoes
    expect(region(3, [0, J(0)[1] + 0.1, 0.1])).toBe(1); // belly above the waist: top
    expect(edge(3, [0, J(0)[1] + 0.06, 0.1])).toBeCloseTo(0.01, 5); // 1 cm above the waist seam
    expect(region(0, [0, J(0)[1] + 0.02, 0.1])).toBe(2); // below the waist: bottom
    expect(edge(0, [0, J(0)[1] + 0.02, 0.1])).toBeCloseTo(0.03, 5);
    expect(region(9, [0, neck[1] - 0.06, 0.1])).toBe(0); // in the V of the neckline, at the front
    expect(region(9, [0, neck[1] - 0.06, -0.1])).toBe(1); // the same height at the back: covered
    expect(edge(9, [0, neck[1] - 0.05, -0.1])).toBeCloseTo(0.01, 5); // 1 cm below the back neckline
    expect(region(12, neck)).toBe(0);
    expect(region(15, head)).toBe(4);
    // Hairline by angle round the head: front 0.12 (forehead), sides 0.02, back −0.06 (long hair).
    expect(hairlineHeight([0, 0.05, 0.1], at, 1)).toBeCloseTo(0.12, 6);
    expect(hairlineHeight([0.1, 0.05, 0], at, 1)).toBeCloseTo(0.02, 6);
    expect(hairlineHeight([0, 0.05, -0.1], at, 1)).toBeCloseTo(-0.06, 6);
    // Face marks only on the front: an eye is dark, the same place at the back is plain skin.
    const skin = [0.8, 0.6, 0.5];
    faceMarks(skin, [0.1, 0.1, 0.1], [0.032, 0.065, 0.12], 1).forEach((v, i) => expect(v).toBeCloseTo([0.1, 0.08, 0.07][i], 12));
    expect(faceMarks(skin, [0.1, 0.1, 0.1], [0.032, 0.065, -0.12], 1)).toEqual(skin);
    expect(faceMarks(skin, [0.1, 0.1, 0.1], [0.032, 0.065, 0.12], 0)).toEqual(skin);
    // An arm's coordinates run along it like a leg's: down the arm is −y, mirrored on the right.
    const qa = limbCoordinates(16, onArm(0.5), J);
    expect(qa[1]).toBeCloseTo(-0.5 * span, 5);
    const mirroredArm = onArm(0.5);
    mirroredArm[0] = -mirroredArm[0];
    expect(limbCoordinates(17, mirroredArm, J)[1]).toBeCloseTo(qa[1], 5);
    expect(limbCoordinates(3, [0.1, 0.2, 0.3], J)).toEqual([0.1 - J(0)[0], 0.2 - J(0)[1], 0.3 - J(0)[2]]);
  });

  it('the plain look shades as it always did: mid-grey · (0.4 + 0.6·max(0, n·l)), black backdrop, no hair, seams or marks', () => {
    const plain = packAppearance(sampleAppearance(new Rng(1), false));
    const r = new Rng(9);
    const P = 40;
    const gbuffer = new Float64Array(P * 4);
    const surface = new Float64Array(P * 4);
    for (let p = 0; p < P; p++) {
      const [nx, ny] = [r.uniform(-0.6, 0.6), r.uniform(-0.6, 0.6)];
      if (p % 5 !== 0) gbuffer.set([1 + r.int(0, 23) + 32 * r.int(1, 12), 20, nx, ny], 4 * p);
      // Rest positions all over the template: heads, faces, necklines, hems.
      surface.set([r.uniform(-0.8, 0.8), r.uniform(-0.9, 0.8), r.uniform(-0.15, 0.15), 1], 4 * p);
    }
    const rgb = shadePeopleRef(gbuffer, surface, new Float64Array(P), plain, templateJoints, 1, 1, P);
    for (let p = 0; p < P; p++) {
      const [nx, ny] = [gbuffer[4 * p + 2], gbuffer[4 * p + 3]];
      const lambert = Math.sqrt(1 - nx * nx - ny * ny); // light from the camera: n·l = −n.z
      const want = p % 5 === 0 ? 0 : 0.5 * (0.4 + 0.6 * lambert);
      for (let k = 0; k < 3; k++) expect(rgb[3 * p + k]).toBeCloseTo(want, 6); // float32 parameters
    }
  });

  it('second-person masks: the other body where it is nearer or alone, never under a box occluder (batch 3, 17×23)', () => {
    const rt = testRuntime();
    const [N, H, W] = [3, 17, 23];
    const gbuffer = () => {
      const g = new Float32Array(N * H * W * 4);
      for (let p = 0; p < N * H * W; p++) if (rng.next() < 0.6) g.set([rng.int(1, 300), rng.uniform(10, 30), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)], 4 * p);
      return g;
    };
    const main = gbuffer();
    const other = gbuffer();
    const box = Float32Array.from({ length: N * H * W }, () => (rng.next() < 0.2 ? 1 : 0));
    rt.scope(() => {
      const mask = personOccluderMask(rt.tensor(main, [N, H, W, 4]), rt.tensor(other, [N, H, W, 4]), rt.tensor(box, [N, H, W, 1]));
      const want = personOccluderMaskRef(main, other, box);
      expectTensorClose(mask, want, [N, H, W, 1], 0);
      // Every case occurs: the other alone, in front, behind, under a box.
      let alone = 0;
      let front = 0;
      let behind = 0;
      for (let p = 0; p < N * H * W; p++) {
        if (other[4 * p] === 0 || box[p] === 1) continue;
        if (main[4 * p] === 0) alone += want[p];
        else if (other[4 * p + 1] < main[4 * p + 1]) front += want[p];
        else behind += 1 - want[p];
      }
      expect(Math.min(alone, front, behind)).toBeGreaterThan(20);
      expect(() => personOccluderMask(rt.zeros([N, H, W, 4]), rt.zeros([N, H, W + 1, 4]), rt.zeros([N, H, W, 1]))).toThrow(/other G-buffer should be/);
    });
  });

  it('augmentations: blur, colour jitter, noise (batch 4, 23×19), exact up to float32 rounding', () => {
    const rt = testRuntime();
    const N = 4;
    const [H, W] = [23, 19];
    const images = rng.uniformArray(N * H * W * 3, 0, 1);
    const params = new Float32Array(N * 8);
    for (let n = 0; n < N; n++) {
      const a = sampleAugmentation(rng);
      a.blurSigma = [0, 0.7, 1.4, 0.3][n];
      a.noiseStd = [0.03, 0, 0.01, 0.02][n];
      packAugmentation(a, params, 8 * n);
    }
    rt.scope(() => {
      const out = augmentImages(rt.tensor(images, [N, H, W, 3]), rt.tensor(params, [N, 8]));
      expectTensorClose(out, augmentImagesRef(images, params, N, H, W), [N, H, W, 3], 1e-5);
    });
  });

  it('clear errors for mismatched shapes', () => {
    const rt = testRuntime();
    rt.scope(() => {
      expect(() => occluderMask(rt.zeros([2, 7]), 8, 8)).toThrow(/params should be \[N, 8\]/);
      const g = rt.zeros([2, 8, 8, 4]);
      const j = rt.zeros([24, 3]);
      expect(() => shadePeople(g, g, rt.zeros([2, 8, 8, 1]), rt.zeros([2, 40]), j)).toThrow(ShapeError);
      expect(() => shadePeople(g, g, rt.zeros([2, 8, 7, 1]), rt.zeros([2, APPEARANCE_SIZE]), j)).toThrow(/occluder mask should be \[2, 8, 8, 1\]/);
      expect(() => shadePeople(g, rt.zeros([2, 8, 8, 3]), rt.zeros([2, 8, 8, 1]), rt.zeros([2, APPEARANCE_SIZE]), j)).toThrow(/surface buffer should be \[2, 8, 8, 4\]/);
      expect(() => shadePeople(g, g, rt.zeros([2, 8, 8, 1]), rt.zeros([2, APPEARANCE_SIZE]), rt.zeros([2, 24, 3]))).toThrow(/rest joints should be \[24, 3\]/);
      expect(() => augmentImages(rt.zeros([2, 8, 8, 4]), rt.zeros([2, 8]))).toThrow(/images should be \[N, H, W, 3\]/);
    });
  });
});

describe('generateBatch', () => {
  const rt = testRuntime();
  const generator = new SynthGenerator(rt, model);

  it('returns GPU tensors of the documented shapes, consistent with each other, with no NaN', () => {
    const S = 64;
    const N = 6;
    const before = rt.memory().tensors;
    const batch = generateBatch(N, { generator, size: S, seed: 3, granularities: [1, 3, 6, 24] });
    const { inputs, targets } = batch;
    expect([...inputs.parts.shape]).toEqual([N, S, S, 3]);
    expect([...inputs.rgb.shape]).toEqual([N, S, S, 3]);
    expect([...inputs.labels.shape]).toEqual([N, S, S, 1]);
    expect([...inputs.depth.shape]).toEqual([N, S, S, 1]);
    expect([...targets.betas.shape]).toEqual([N, 10]);
    expect([...targets.pose.shape]).toEqual([N, 72]);
    expect([...targets.rotations.shape]).toEqual([N, 24, 9]);
    expect([...targets.joints3d.shape]).toEqual([N, 24, 3]);
    expect([...targets.joints2d.shape]).toEqual([N, 24, 2]);
    expect([...targets.trans.shape]).toEqual([N, 3]);
    expect([...targets.camera.shape]).toEqual([N, 4]);
    expect([...targets.flags.shape]).toEqual([N, FLAG_COLUMNS.length]);
    const all = [inputs.parts, inputs.rgb, inputs.labels, inputs.depth, ...Object.values(targets), ...Object.values(inputs.variants).flatMap((v) => [v!.labels, v!.parts])];
    for (const t of all) expect(t.readSync().every(Number.isFinite), t.toString()).toBe(true);

    const rgb = inputs.rgb.readSync();
    expect(rgb.every((v) => v >= 0 && v <= 1)).toBe(true);
    // Colour maps are the palette of the label maps, pixel by pixel, at every granularity.
    for (const [g, labelsT, partsT] of [[12, inputs.labels, inputs.parts], ...Object.entries(inputs.variants).map(([k, v]) => [Number(k), v!.labels, v!.parts])] as [number, Tensor, Tensor][]) {
      const labels = labelsT.readSync();
      const parts = partsT.readSync();
      const pal = partPalette(g as 12);
      for (let p = 0; p < labels.length; p++) {
        expect(Number.isInteger(labels[p]) && labels[p] >= 0 && labels[p] <= g).toBe(true);
        const c = pal[labels[p]];
        if (parts[3 * p] !== c[0] || parts[3 * p + 1] !== c[1] || parts[3 * p + 2] !== c[2]) throw new Error(`granularity ${g}: pixel ${p} colour ≠ palette[${labels[p]}]`);
      }
    }
    // Silhouette = union of the parts; depth > 0 exactly on the body.
    const labels12 = inputs.labels.readSync();
    const silhouette = inputs.variants[1]!.labels.readSync();
    const depth = inputs.depth.readSync();
    for (let p = 0; p < labels12.length; p++) {
      expect(silhouette[p]).toBe(labels12[p] > 0 ? 1 : 0);
      expect(depth[p] > 0).toBe(labels12[p] > 0);
    }
    // Under an occluder every map shows background.
    const occ = new Float32Array(N * 8);
    batch.examples.forEach((e, n) => packOccluder(e.occluder, occ, 8 * n));
    const mask = occluderMaskRef(occ, N, S, S);
    let occludedBody = 0;
    for (let p = 0; p < mask.length; p++) if (mask[p] === 1 && labels12[p] !== 0) occludedBody++;
    expect(occludedBody).toBeLessThanOrEqual(2); // float32 vs float64 at the mask's edge only
    // Targets: 2D joints are the projections of the 3D joints; rotations are the absolute ones of θ.
    const j3 = targets.joints3d.readSync();
    const j2 = targets.joints2d.readSync();
    const cam = targets.camera.readSync();
    const pose = targets.pose.readSync();
    const rot = targets.rotations.readSync();
    const flags = targets.flags.readSync();
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < 24; j++) {
        const [X, Y, Z] = [j3[(n * 24 + j) * 3], j3[(n * 24 + j) * 3 + 1], j3[(n * 24 + j) * 3 + 2]];
        expect(j2[(n * 24 + j) * 2]).toBeCloseTo((cam[4 * n] * X) / Z + cam[4 * n + 2], 2);
        expect(j2[(n * 24 + j) * 2 + 1]).toBeCloseTo((cam[4 * n + 1] * Y) / Z + cam[4 * n + 3], 2);
      }
      const root = rodrigues(pose[72 * n], pose[72 * n + 1], pose[72 * n + 2]);
      for (let k = 0; k < 9; k++) expect(rot[216 * n + k]).toBeCloseTo(root[k], 5);
      expect(flags[4 * n]).toBe(1);
      expect(flags[4 * n + 2]).toBe(batch.examples[n].occluder.enabled ? 1 : 0);
    }
    disposeBatch(batch);
    expect(rt.memory().tensors).toBe(before);
  });

  it('is deterministic per seed and independent of how examples are batched', () => {
    const S = 48;
    const read = (b: ReturnType<typeof generator.generateBatch>) => [b.inputs.parts, b.inputs.rgb, b.inputs.labels, b.targets.joints2d, b.targets.pose].map((t) => t.readSync());
    const a = generator.generateBatch(4, { size: S, seed: 77 });
    const b = generator.generateBatch(4, { size: S, seed: 77 });
    const ra = read(a);
    const rb = read(b);
    ra.forEach((x, i) => expect(Buffer.from(rb[i].buffer).equals(Buffer.from(x.buffer))).toBe(true));
    // Examples 2 and 3 drawn as a batch of their own: the same targets exactly; the same pictures but
    // for rare edge pixels (their tiles sit elsewhere in the atlas, and the viewport offset enters the
    // rasteriser's fixed-point snapping of vertices and the float32 interpolation of depth).
    const c = generator.generateBatch(2, { size: S, seed: 77, start: 2 });
    const rc = read(c);
    rc.forEach((x, i) => {
      const per = ra[i].length / 4;
      const want = ra[i].subarray(2 * per, 4 * per);
      if (i >= 3) expect(Array.from(x)).toEqual(Array.from(want));
      else {
        let differing = 0;
        for (let k = 0; k < x.length; k++) if (!(Math.abs(x[k] - want[k]) <= 1e-4)) differing++;
        expect(differing / x.length).toBeLessThanOrEqual(0.005);
      }
    });
    const d = generator.generateBatch(4, { size: S, seed: 78 });
    expect(Array.from(d.inputs.labels.readSync())).not.toEqual(Array.from(ra[2]));
    [a, b, c, d].forEach(disposeBatch);
  });

  it('2D joints lie inside the image for default cameras; people fill a good part of it; backgrounds are textured', () => {
    const S = 64;
    const N = 16;
    const batch = generator.generateBatch(N, { size: S, seed: 5 });
    const j2 = batch.targets.joints2d.readSync();
    for (const v of j2) {
      expect(v).toBeGreaterThan(0);
      expect(v).toBeLessThan(S);
    }
    const labels = batch.inputs.labels.readSync();
    const rgb = batch.inputs.rgb.readSync();
    let textured = 0;
    for (let n = 0; n < N; n++) {
      let top = S;
      let bottom = -1;
      const bg: number[] = [];
      for (let p = 0; p < S * S; p++) {
        const i = n * S * S + p;
        if (labels[i] > 0) {
          top = Math.min(top, Math.floor(p / S));
          bottom = Math.max(bottom, Math.floor(p / S));
        } else bg.push(rgb[3 * i]);
      }
      const extent = bottom - top + 1;
      // Extent of the visible body (occluders and lying poses shrink it; nothing is cut off).
      expect(extent).toBeGreaterThan(0.3 * S);
      expect(extent).toBeLessThanOrEqual(S);
      const mean = bg.reduce((a, b) => a + b, 0) / bg.length;
      const std = Math.sqrt(bg.reduce((a, b) => a + (b - mean) ** 2, 0) / bg.length);
      if (std > 0.02) textured++;
    }
    expect(textured).toBeGreaterThanOrEqual(0.75 * N);
    disposeBatch(batch);
  });

  it('small golden pictures (48×48, seed 3) match within tolerance', () => {
    const S = 48;
    const batch = generator.generateBatch(2, { size: S, seed: 3 });
    const parts = batch.inputs.parts.readSync();
    const rgb = batch.inputs.rgb.readSync();
    disposeBatch(batch);
    const update = process.env.UPDATE_GOLDEN === '1';
    // The pictures depend on the open body model: the goldens record which file they were made with.
    const stamp = 'test/golden/synth_golden.json';
    const modelHash = sha256Hex(modelBytes);
    if (update) {
      mkdirSync('test/golden', { recursive: true });
      writeFileSync(stamp, JSON.stringify({ model: 'weights/nbf-open-body.nbfm', sha256: modelHash, size: S, seed: 3 }, null, 2) + '\n');
    }
    expect(existsSync(stamp), `${stamp} missing: run UPDATE_GOLDEN=1 on this test to write the goldens`).toBe(true);
    const recorded = JSON.parse(readFileSync(stamp, 'utf8')) as { sha256: string };
    expect(recorded.sha256, 'weights/nbf-open-body.nbfm changed since the goldens were made: look at new pictures, then UPDATE_GOLDEN=1').toBe(modelHash);
    for (let n = 0; n < 2; n++) {
      for (const [kind, data, scale] of [['parts', parts, 1], ['rgb', rgb, 255]] as const) {
        const file = `test/golden/synth_seed3_${n}_${kind}.png`;
        const png = new PNG({ width: S, height: S });
        for (let p = 0; p < S * S; p++) {
          for (let k = 0; k < 3; k++) png.data[4 * p + k] = Math.round(data[(n * S * S + p) * 3 + k] * scale);
          png.data[4 * p + 3] = 255;
        }
        if (update) writeFileSync(file, PNG.sync.write(png));
        expect(existsSync(file), `${file} missing: run UPDATE_GOLDEN=1 on this test to write it`).toBe(true);
        const golden = PNG.sync.read(readFileSync(file));
        let differing = 0;
        let total = 0;
        for (let p = 0; p < S * S; p++) {
          let d = 0;
          for (let k = 0; k < 3; k++) d = Math.max(d, Math.abs(golden.data[4 * p + k] - png.data[4 * p + k]));
          total += d;
          if (d > (kind === 'parts' ? 0 : 16)) differing++;
        }
        // Part maps: at most 1% of pixels differ (edge pixels on another rasteriser); RGB: small drift.
        expect(differing / (S * S), file).toBeLessThanOrEqual(kind === 'parts' ? 0.01 : 0.02);
        if (kind === 'rgb') expect(total / (S * S), file).toBeLessThan(3);
      }
    }
  });

  it('a second person: background in every map, drawn in the picture, hiding the main body only where nearer', () => {
    const S = 64;
    const N = 6;
    const identity = { blurSigma: 0, noiseStd: 0, brightness: 0, contrast: 1, saturation: 1, noiseSeed: 0 };
    const look = (e: ReturnType<typeof generator.sample>[number]) => ({ ...e, augmentation: identity, occluder: { ...e.occluder, enabled: false } });
    const withOther = generator.sample(N, { size: S, seed: 21, otherPersonRate: 1 }).map(look);
    const alone = withOther.map(({ other: _, ...e }) => e);
    const a = generator.render(withOther, S);
    const b = generator.render(alone, S);
    const [la, lb] = [a.inputs.labels.readSync(), b.inputs.labels.readSync()];
    const [ra, rb] = [a.inputs.rgb.readSync(), b.inputs.rgb.readSync()];
    const [da, db] = [a.inputs.depth.readSync(), b.inputs.depth.readSync()];
    let hidden = 0;
    let drawn = 0;
    for (let p = 0; p < N * S * S; p++) {
      const changed = [0, 1, 2].some((k) => ra[3 * p + k] !== rb[3 * p + k]);
      if (la[p] !== lb[p]) {
        // Only ever hidden (background), never a label of the other person's.
        expect(la[p]).toBe(0);
        expect(da[p]).toBe(0);
        hidden++;
      } else {
        expect(da[p]).toBe(db[p]);
      }
      if (changed) {
        expect(la[p]).toBe(0); // what the second person changes in the picture is background
        drawn++;
      }
    }
    expect(hidden).toBeGreaterThan(0);
    expect(drawn).toBeGreaterThan(0.02 * N * S * S);
    expect(Array.from(a.targets.flags.readSync()).filter((_, i) => i % 4 === 2)).toEqual(Array(N).fill(1));
    [a, b].forEach(disposeBatch);
  });

  it('rejects bad arguments clearly', () => {
    expect(() => generator.generateBatch(0, { size: 64 })).toThrow(/batch size 0/);
    expect(() => generator.generateBatch(2, { size: 5 })).toThrow(/image size 5/);
    expect(() => generator.generateBatch(2, { size: 64, granularities: [7 as never] })).toThrow(NbfError);
  });
});
