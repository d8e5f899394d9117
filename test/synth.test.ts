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
import { augmentImages, occluderMask, shadePeople } from '../src/synth/shade.js';
import { augmentImagesRef, occluderMaskRef, shadePeopleRef } from '../src/synth/synth.ref.js';
import { sha256Hex } from '../src/util/sha256.js';
import { disposeBatch, FLAG_COLUMNS, generateBatch, SynthGenerator } from '../src/synth/generate.js';

const modelBytes = new Uint8Array(readFileSync('weights/nbf-open-body.nbfm'));
const model = decodeBodyModel(modelBytes, 'weights/nbf-open-body.nbfm');
const rng = new Rng(2024);


/** A rendered G-buffer of N random bodies at H×W (odd sizes) plus what the shader needs. */
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
    return { gbuffer: renderer.render(body.vertices, camera, { width: W, height: H }), joints: body.joints, camera };
  });
  renderer.dispose();
  gpu.dispose();
  return { ...out, cameraData };
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

  it('shading: skin, hair, garments with every pattern, shoes, backgrounds, occluders (batch 3, 31×27)', () => {
    const rt = testRuntime();
    const N = 3;
    const [H, W] = [31, 27];
    const { gbuffer, joints, camera, cameraData } = renderedBodies(N, H, W);
    const appearance = new Float32Array(N * APPEARANCE_SIZE);
    const patterns = [Pattern.Noise, Pattern.Stripes, Pattern.Checks];
    for (let n = 0; n < N; n++) {
      const a = sampleAppearance(rng);
      a.top.pattern = patterns[n];
      a.bottom.pattern = patterns[(n + 1) % 3];
      a.background.pattern = [Pattern.Gradient, Pattern.Blobs, Pattern.Stripes][n];
      a.sleeves = n;
      a.trousers = n % 2;
      packAppearance(a, appearance, n * APPEARANCE_SIZE);
    }
    const occluders = new Float32Array(N * 8);
    for (let n = 0; n < N; n++) packOccluder(sampleOccluder(rng, 27, n === 1 ? 1 : 0), occluders, 8 * n);
    rt.scope(() => {
      const mask = occluderMask(rt.tensor(occluders, [N, 8]), H, W);
      const rgb = shadePeople(gbuffer, mask, rt.tensor(appearance, [N, APPEARANCE_SIZE]), joints, camera);
      const want = shadePeopleRef(gbuffer.readSync(), mask.readSync(), appearance, joints.readSync(), cameraData, N, H, W);
      expectMostlyClose(rgb, want, [N, H, W, 3], 1e-5, 0.001);
    });
    [gbuffer, joints, camera].forEach((t) => t.dispose());
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
      expect(() => shadePeople(g, rt.zeros([2, 8, 8, 1]), rt.zeros([2, 40]), rt.zeros([2, 24, 3]), rt.zeros([2, 4]))).toThrow(ShapeError);
      expect(() => shadePeople(g, rt.zeros([2, 8, 7, 1]), rt.zeros([2, 48]), rt.zeros([2, 24, 3]), rt.zeros([2, 4]))).toThrow(/occluder mask should be \[2, 8, 8, 1\]/);
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

  it('rejects bad arguments clearly', () => {
    expect(() => generator.generateBatch(0, { size: 64 })).toThrow(/batch size 0/);
    expect(() => generator.generateBatch(2, { size: 5 })).toThrow(/image size 5/);
    expect(() => generator.generateBatch(2, { size: 64, granularities: [7 as never] })).toThrow(NbfError);
  });
});
