/**
 * Photo backgrounds (src/synth/backgrounds.ts, shaders/synth_background.glsl): the photo/art selection
 * rule of scripts/select-backgrounds.ts on pictures made here, the bank's tiles and per-example draws,
 * the kernel against its float64 CPU reference, shading with photos, and generateBatch with a bank of
 * generated pictures — and without a bank, exactly the pictures of before. No Debian files needed.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectMostlyClose, expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { ShapeError } from '../src/runtime/errors.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { encodePng, type RgbaImage } from '../src/io/image.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { APPEARANCE_SIZE, packAppearance, sampleAppearance, Pattern } from '../src/synth/appearance.js';
import {
  BackgroundBank, NO_PHOTO, packPhotoBackground, photoSeed, photoTile, PHOTO_SIZE, resizeArea, samplePhotoBackground, spreadIndices,
} from '../src/synth/backgrounds.js';
import { photoBackgrounds, shadePeople } from '../src/synth/shade.js';
import { photoBackgroundsRef, shadePeopleRef } from '../src/synth/synth.ref.js';
import { disposeBatch, SynthGenerator } from '../src/synth/generate.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { candidates, isPhotograph, licenceOf, measureImage, parseCopyright, PHOTO_RULE } from '../scripts/select-backgrounds.js';

// One runtime for the whole file (its afterAll, registered here, runs after every suite's).
const rt = testRuntime();
const rng = new Rng(4242);
mkdirSync('out', { recursive: true });
const tmp = mkdtempSync(join(process.cwd(), 'out', 'backgrounds-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An RGBA picture from a per-pixel colour function (0–255 values, rounded and clamped). */
function picture(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colour(x, y);
      for (let k = 0; k < 3; k++) data[4 * (y * width + x) + k] = Math.max(0, Math.min(255, Math.round(c[k])));
      data[4 * (y * width + x) + 3] = 255;
    }
  }
  return { width, height, data };
}

/** "Vector art": a flat field, a smooth vertical gradient and a flat disc. */
function vectorArt(width: number, height: number): RgbaImage {
  return picture(width, height, (x, y) => {
    if ((x - 0.7 * width) ** 2 + (y - 0.5 * height) ** 2 < (0.2 * height) ** 2) return [250, 210, 40];
    if (x < width / 2) return [200, 60, 60];
    const t = y / height;
    return [20 + 100 * t, 40 + 160 * t, 200 + 55 * t];
  });
}

/** "Photograph": a soft scene with grain and texture at every scale. */
function texturedPhoto(width: number, height: number, r = new Rng(7)): RgbaImage {
  return picture(width, height, (x, y) => {
    const base = 90 + 60 * Math.sin(x / 37) * Math.cos(y / 23) + 30 * Math.sin((x + 2 * y) / 5);
    return [base + r.uniform(-25, 25), base * 0.8 + r.uniform(-25, 25), base * 0.6 + 40 + r.uniform(-25, 25)];
  });
}

describe('photo selection rule (scripts/select-backgrounds.ts)', () => {
  it('keeps a textured photograph, rejects flat/gradient art and pictures too small', () => {
    const art = measureImage(vectorArt(768, 512));
    const photo = measureImage(texturedPhoto(768, 512));
    expect(art.flatFraction).toBeGreaterThan(0.9);
    expect(photo.flatFraction).toBeLessThan(0.05);
    expect(isPhotograph(art).photo).toBe(false);
    expect(isPhotograph(photo).photo).toBe(true);
    expect(photo.colours).toBeGreaterThan(art.colours);
    expect(photo.texture).toBeGreaterThan(art.texture);
    const small = isPhotograph(measureImage(texturedPhoto(400, 300)));
    expect(small.photo).toBe(false);
    expect(small.reason).toMatch(/shorter side 300 px < 512/);
    // The threshold is the documented one.
    expect(PHOTO_RULE.maxFlatFraction).toBe(0.35);
    expect(isPhotograph({ ...photo, flatFraction: 0.349 }).photo).toBe(true);
    expect(isPhotograph({ ...photo, flatFraction: 0.35 }).photo).toBe(false);
  });

  it('candidates: one file per KDE wallpaper (the largest of images/), no symlinks, screenshots or docs', () => {
    const root = join(tmp, 'pkg');
    const put = (rel: string, bytes: number) => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), Buffer.alloc(bytes, 1));
    };
    put('usr/share/wallpapers/Lake/contents/images/1920x1080.jpg', 300);
    put('usr/share/wallpapers/Lake/contents/images/5120x2880.jpg', 900);
    put('usr/share/wallpapers/Lake/contents/images_dark/5120x2880.jpg', 2000);
    put('usr/share/wallpapers/Lake/contents/screenshot.jpg', 50);
    symlinkSync('5120x2880.jpg', join(root, 'usr/share/wallpapers/Lake/contents/images/800x600.jpg'));
    put('usr/share/backgrounds/a.png', 10);
    put('usr/share/backgrounds/empty.png', 0);
    put('usr/share/backgrounds/notes.txt', 10);
    put('usr/share/doc/pkg/logo.png', 10);
    expect(candidates(root)).toEqual(['usr/share/backgrounds/a.png', 'usr/share/wallpapers/Lake/contents/images/5120x2880.jpg']);
  });

  it('licences: the copyright stanza that names the file, else Files: *', () => {
    const stanzas = parseCopyright([
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      '',
      'Files: *',
      'Copyright: 2018 Someone',
      'License: CC-BY-SA-3.0',
      '',
      'Files: 16.04/lake_by_A.jpg',
      'Copyright: A, 2018',
      'License: CC0-1.0',
      '',
      'Files: debian/*',
      'Copyright: 2020 Packager',
      'License: Expat',
    ].join('\n'));
    expect(licenceOf(stanzas, 'usr/share/backgrounds/lake_by_A.jpg')).toMatchObject({ license: 'CC0-1.0', copyright: 'A, 2018' });
    expect(licenceOf(stanzas, 'usr/share/backgrounds/other.jpg')).toMatchObject({ license: 'CC-BY-SA-3.0' });
  });
});

describe('BackgroundBank: tiles and per-example parameters', () => {

  it('area resize averages exactly; a tile is the centred square of its photo', () => {
    const img = picture(4, 4, (x, y) => [x * 10 + y, 100, 255 * ((x + y) % 2)]);
    const half = resizeArea(img, 2, 2);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        const want = [0, 1].flatMap((dy) => [0, 1].map((dx) => (2 * x + dx) * 10 + 2 * y + dy)).reduce((a, b) => a + b) / 4;
        expect(half[3 * (y * 2 + x)] * 255).toBeCloseTo(want, 4);
        expect(half[3 * (y * 2 + x) + 2] * 255).toBeCloseTo(127.5, 4);
      }
    }
    // Landscape: red quarters left and right, green centre square → an all-green tile.
    const wide = picture(80, 40, (x) => (x < 20 || x >= 60 ? [255, 0, 0] : [0, 255, 0]));
    const tile = photoTile(wide, 8);
    for (let p = 0; p < 64; p++) expect([tile[3 * p], tile[3 * p + 1], tile[3 * p + 2]]).toEqual([0, 1, 0]);
    expect(spreadIndices(5, 2)).toEqual([0, 2]);
    expect(spreadIndices(3, 8)).toEqual([0, 1, 2]);
  });

  it('packs up to maxPhotos tiles into one [M, T, T, 3] atlas; load() reads a directory and its manifest', async () => {
    const photos = [40, 30, 20, 50, 36].map((w, i) => ({ name: `p${i}`, image: texturedPhoto(w, 24 + i, new Rng(i)) }));
    const bank = BackgroundBank.fromImages(rt, photos, { tileSize: 12, maxPhotos: 3 });
    expect(bank.names).toEqual(['p0', 'p1', 'p3']);
    expect([...bank.atlas.shape]).toEqual([3, 12, 12, 3]);
    expect(Array.from(bank.atlas.readSync())).toEqual(Array.from(bank.tiles));
    expect(Array.from(bank.tiles.subarray(2 * 432, 3 * 432))).toEqual(Array.from(photoTile(photos[3].image, 12)));
    bank.dispose();

    const dir = join(tmp, 'bank');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'a.png'), encodePng(texturedPhoto(30, 20)));
    writeFileSync(join(dir, 'b.png'), encodePng(vectorArt(30, 20)));
    const all = await loadBackgroundBank(rt, dir, { tileSize: 8 });
    expect(all.names).toEqual(['a.png', 'b.png']);
    all.dispose();
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ images: [{ file: 'b.png', photo: false }, { file: 'a.png', photo: true }] }));
    const kept = await loadBackgroundBank(rt, dir, { tileSize: 8 });
    expect(kept.names).toEqual(['a.png']);
    kept.dispose();
    await expect(loadBackgroundBank(rt, join(tmp, 'missing'))).rejects.toThrow(/fetch-backgrounds/);
  });

  it('parameters: the same (seed, index) gives the same draw; ranges; the fraction of photos', () => {
    const bank = BackgroundBank.fromImages(rt, [0, 1, 2].map((i) => ({ name: `${i}`, image: texturedPhoto(20, 20, new Rng(i)) })), { tileSize: 16 });
    expect(bank.sample(3, 10)).toEqual(bank.sample(3, 10));
    expect(bank.sample(3, 10)).toEqual(samplePhotoBackground(new Rng(photoSeed(3, 10)), 3, 16, 0.6));
    expect(bank.sample(3, 10)).not.toEqual(bank.sample(3, 11));
    expect(bank.sample(3, 10)).not.toEqual(bank.sample(4, 10));
    let enabled = 0;
    const used = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const p = bank.sample(1, i);
      // The draw is the same whatever the fraction; only `enabled` depends on it.
      expect({ ...bank.sample(1, i, 1), enabled: p.enabled }).toEqual(p);
      if (p.enabled) enabled++;
      used.add(p.photo);
      expect(p.zoom).toBeGreaterThanOrEqual(1);
      expect(p.zoom).toBeLessThanOrEqual(2);
      const half = 16 / (2 * p.zoom);
      for (const c of p.centre) {
        expect(c).toBeGreaterThanOrEqual(half - 1e-9);
        expect(c).toBeLessThanOrEqual(16 - half + 1e-9);
      }
      expect(p.brightness).toBeGreaterThanOrEqual(0.75);
      expect(p.brightness).toBeLessThanOrEqual(1.25);
    }
    expect(enabled / 2000).toBeGreaterThan(0.55);
    expect(enabled / 2000).toBeLessThan(0.65);
    expect([...used].sort()).toEqual([0, 1, 2]);
    expect(bank.sample(1, 5, 0).enabled).toBe(false);
    expect(bank.sample(1, 5, 1).enabled).toBe(true);
    const packed = packPhotoBackground({ enabled: true, photo: 2, centre: [5, 6], zoom: 2, flip: true, brightness: 1.1 }, 16);
    expect(Array.from(packed)).toEqual(Array.from(Float32Array.from([1, 2, 5, 6, 4, -1, 1.1, 0])));
    bank.dispose();
  });
});

describe('synth_background against its CPU reference', () => {

  it('bilinear crops, zoom, flips, brightness, edge clamping; disabled rows 0 (batch 5, 13×17, 3 tiles of 11²)', () => {
    const [M, T, N, H, W] = [3, 11, 5, 13, 17];
    const atlas = rng.uniformArray(M * T * T * 3, 0, 1);
    const params = new Float32Array(N * PHOTO_SIZE);
    const draws = [
      samplePhotoBackground(rng, M, T, 1),
      { ...samplePhotoBackground(rng, M, T, 1), flip: true, brightness: 1.25 },
      NO_PHOTO,
      { enabled: true, photo: 2, centre: [1, 10] as [number, number], zoom: 0.6, flip: false, brightness: 0.8 }, // crop past the tile's edges
      { ...samplePhotoBackground(rng, M, T, 1), photo: 1, zoom: 2 },
    ];
    draws.forEach((d, n) => packPhotoBackground(d, T, params, n * PHOTO_SIZE));
    rt.scope(() => {
      const out = photoBackgrounds(rt.tensor(atlas, [M, T, T, 3]), rt.tensor(params, [N, PHOTO_SIZE]), H, W);
      expectTensorClose(out, photoBackgroundsRef(atlas, T, params, N, H, W), [N, H, W, 3], 1e-5);
      const got = out.readSync();
      expect(got.subarray(2 * H * W * 3, 3 * H * W * 3).every((v) => v === 0)).toBe(true);
      expect(() => photoBackgrounds(rt.zeros([M, T, T, 4]), rt.tensor(params, [N, PHOTO_SIZE]), H, W)).toThrow(ShapeError);
      expect(() => photoBackgrounds(rt.tensor(atlas, [M, T, T, 3]), rt.zeros([N, 6]), H, W)).toThrow(/params should be \[N, 8\]/);
    });
  });

  it('synth_shade with photos: photo rows show the background where the G-buffer is empty (batch 3, 15×11)', () => {
    const [N, H, W] = [3, 15, 11];
    // A synthetic G-buffer: about half background, the rest random parts with depth and normals, and
    // random rest-pose positions in the surface buffer.
    const gbuffer = new Float32Array(N * H * W * 4);
    const surface = new Float32Array(N * H * W * 4);
    for (let p = 0; p < N * H * W; p++) {
      const body = rng.next() < 0.5;
      gbuffer.set(body ? [rng.int(1, 24), rng.uniform(3, 5), rng.uniform(-0.5, 0.5), rng.uniform(-0.5, 0.5)] : [0, 0, 0, 0], 4 * p);
      surface.set(body ? [rng.uniform(-0.8, 0.8), rng.uniform(-0.9, 0.8), rng.uniform(-0.1, 0.1), 1] : [0, 0, 0, 0], 4 * p);
    }
    const mask = Float32Array.from({ length: N * H * W }, () => (rng.next() < 0.1 ? 1 : 0));
    const appearance = new Float32Array(N * APPEARANCE_SIZE);
    for (let n = 0; n < N; n++) {
      const a = sampleAppearance(rng);
      a.background.pattern = [Pattern.Noise, Pattern.Stripes, Pattern.Gradient][n];
      packAppearance(a, appearance, n * APPEARANCE_SIZE);
    }
    const joints = Float32Array.from({ length: 72 }, () => rng.uniform(-0.5, 0.5));
    const background = rng.uniformArray(N * H * W * 3, 0, 1);
    const params = new Float32Array(N * PHOTO_SIZE);
    [true, false, true].forEach((enabled, n) => packPhotoBackground({ ...NO_PHOTO, enabled }, 8, params, n * PHOTO_SIZE));
    rt.scope(() => {
      const inputs = [rt.tensor(gbuffer, [N, H, W, 4]), rt.tensor(surface, [N, H, W, 4]), rt.tensor(mask, [N, H, W, 1]), rt.tensor(appearance, [N, APPEARANCE_SIZE]), rt.tensor(joints, [24, 3])] as const;
      const photo = { background: rt.tensor(background, [N, H, W, 3]), params: rt.tensor(params, [N, PHOTO_SIZE]) };
      const rgb = shadePeople(...inputs, photo);
      const want = shadePeopleRef(gbuffer, surface, mask, appearance, joints, N, H, W, { background, params });
      expectMostlyClose(rgb, want, [N, H, W, 3], 1e-5, 0.005);
      // Photo rows: every empty, unoccluded pixel is the background exactly; the procedural row and all
      // body pixels are what shading without photos gives.
      const got = rgb.readSync();
      const plain = shadePeople(...inputs).readSync();
      for (let p = 0; p < N * H * W; p++) {
        const n = Math.floor(p / (H * W));
        const photoPixel = n !== 1 && gbuffer[4 * p] === 0 && mask[p] === 0;
        for (let k = 0; k < 3; k++) {
          if (photoPixel) expect(got[3 * p + k]).toBe(background[3 * p + k]);
          else expect(Math.abs(got[3 * p + k] - plain[3 * p + k])).toBeLessThanOrEqual(1e-6);
        }
      }
      expect(() => shadePeople(...inputs, { background: rt.zeros([N, H, W + 1, 3]), params: photo.params })).toThrow(/photo background should be \[3, 15, 11, 3\]/);
    });
  });
});

describe('generateBatch with a bank of generated pictures', () => {
  const model = decodeBodyModel(new Uint8Array(readFileSync('weights/nbf-open-body.nbfm')), 'weights/nbf-open-body.nbfm');
  // Three pictures, one dominant channel each (red, green, blue) with texture.
  const pictures = [0, 1, 2].map((c) => ({
    name: ['red', 'green', 'blue'][c],
    image: picture(48, 36, (x, y) => {
      const v: [number, number, number] = [30, 30, 30];
      v[c] = 160 + 60 * Math.sin(x / 3) * Math.cos(y / 4);
      return v;
    }),
  }));
  const bank = BackgroundBank.fromImages(rt, pictures, { tileSize: 32 });
  const plainGenerator = new SynthGenerator(rt, model);
  const generator = new SynthGenerator(rt, model, { backgrounds: bank });
  afterAll(() => {
    generator.dispose();
    plainGenerator.dispose();
    bank.dispose();
  });
  const S = 40;
  const N = 8;
  const seed = 11;

  it('background pixels of photo examples are the crops of those pictures; the rest is the picture of before', () => {
    // Identity augmentation, no occluder: the RGB output is the shaded picture itself.
    const examples = generator.sample(N, { size: S, seed }).map((e) => ({
      ...e,
      augmentation: { blurSigma: 0, noiseStd: 0, brightness: 0, contrast: 1, saturation: 1, noiseSeed: 0 },
      occluder: { ...e.occluder, enabled: false },
    }));
    const batch = generator.render(examples, S, [], { seed });
    const before = plainGenerator.render(examples, S);
    expect(batch.photos).toEqual(examples.map((e) => bank.sample(seed, e.index)));
    const enabled = batch.photos.map((p) => p.enabled);
    expect(enabled.some((x) => x) && enabled.some((x) => !x)).toBe(true);
    const params = new Float32Array(N * PHOTO_SIZE);
    batch.photos.forEach((p, n) => packPhotoBackground(p, bank.tileSize, params, n * PHOTO_SIZE));
    const want = photoBackgroundsRef(bank.tiles, bank.tileSize, params, N, S, S);
    const rgb = batch.inputs.rgb.readSync();
    const rgbBefore = before.inputs.rgb.readSync();
    const labels = batch.inputs.labels.readSync();
    expect(Array.from(labels)).toEqual(Array.from(before.inputs.labels.readSync()));
    for (let n = 0; n < N; n++) {
      const mean = [0, 0, 0];
      let count = 0;
      for (let q = 0; q < S * S; q++) {
        const p = n * S * S + q;
        for (let k = 0; k < 3; k++) {
          if (enabled[n] && labels[p] === 0) expect(Math.abs(rgb[3 * p + k] - want[3 * p + k])).toBeLessThanOrEqual(1e-4);
          else expect(Math.abs(rgb[3 * p + k] - rgbBefore[3 * p + k])).toBeLessThanOrEqual(1e-5);
          if (labels[p] === 0) mean[k] += rgb[3 * p + k];
        }
        if (labels[p] === 0) count++;
      }
      // The picture is recognisable: its channel dominates the background.
      if (enabled[n]) expect(mean.indexOf(Math.max(...mean))).toBe(batch.photos[n].photo);
      expect(count).toBeGreaterThan(0.2 * S * S);
    }
    disposeBatch(batch);
    disposeBatch(before);
  });

  it('photo draws are reproducible per (seed, index), whatever the batching', () => {
    const a = generator.generateBatch(4, { size: 24, seed });
    const b = generator.generateBatch(2, { size: 24, seed, start: 2 });
    expect(b.photos).toEqual(a.photos.slice(2));
    expect(a.photos).toEqual([0, 1, 2, 3].map((i) => bank.sample(seed, i)));
    [a, b].forEach(disposeBatch);
  });

  it('without a bank, with fraction 0, after setBackgrounds(null) or with the plain look: bit-identical to the generator without photos', () => {
    const read = (g: SynthGenerator, options = {}) => {
      const batch = g.generateBatch(3, { size: 32, seed: 5, ...options });
      const out = [batch.inputs.rgb, batch.inputs.parts, batch.inputs.labels].map((t) => Buffer.from(t.readSync().buffer));
      expect(batch.photos.every((p) => !p.enabled)).toBe(true);
      disposeBatch(batch);
      return out;
    };
    const reference = read(plainGenerator);
    const same = (got: Buffer[]) => got.forEach((x, i) => expect(x.equals(reference[i])).toBe(true));
    generator.setBackgrounds(bank, 0);
    same(read(generator));
    generator.setBackgrounds(null);
    same(read(generator));
    generator.setBackgrounds(bank);
    const withPhotos = generator.generateBatch(3, { size: 32, seed: 5 });
    expect(withPhotos.photos.some((p) => p.enabled)).toBe(true);
    disposeBatch(withPhotos);
    const plainLook = read(plainGenerator, { appearance: false });
    read(generator, { appearance: false }).forEach((x, i) => expect(x.equals(plainLook[i])).toBe(true));
    expect(() => generator.setBackgrounds(bank, 1.5)).toThrow(/photoFraction/);
  });
});

