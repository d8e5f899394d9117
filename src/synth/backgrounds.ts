/**
 * Photo backgrounds for synthetic people: a bank of photographs on the GPU and, per example, which
 * photo and which crop of it stands behind the person (drawn from the example's seed, so example i of
 * seed s always gets the same background). The kernel that resamples the crops is
 * shaders/synth_background.glsl (shade.ts photoBackgrounds); synth_shade.glsl composites them where the
 * G-buffer is empty. docs/synth.md, "Photo backgrounds".
 *
 * The photos come from Debian wallpaper packages, fetched at training time by
 * scripts/fetch-backgrounds.sh into a directory (default ~/.cache/nbf-gl/backgrounds, never committed)
 * with a manifest.json; loadBackgroundBank (backgrounds-node.ts, Node) reads that directory.
 *
 * Atlas: M photos as M square tiles of T×T pixels (default T = 256, M ≤ 64), one tensor
 * [M, T, T, 3] in [0, 1] — 64 tiles of 256² take 64 MiB of float32 RGBA texels. Each tile is the
 * centred square of its photo (the shorter side), area-averaged down to T. A crop of a tile is then
 * chosen per example: zoom 1–2× (the crop's side is T/zoom tile pixels), centre uniform over the
 * positions that keep the crop inside the tile, a horizontal flip half of the time, brightness
 * ×0.75–1.25; the kernel resamples it bilinearly onto the image.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import type { RgbaImage } from '../io/image.js';
import { Rng } from '../util/random.js';
import { exampleSeed } from './sampler.js';

/** Packed per-example photo parameters: floats per example (the shaders' offsets). */
export const PHOTO_SIZE = 8;
export const PHOTO = { enabled: 0, photo: 1, centreX: 2, centreY: 3, half: 4, flip: 5, brightness: 6 } as const;

/** Default tile side (pixels) and most photos in a bank. */
export const DEFAULT_TILE_SIZE = 256;
export const DEFAULT_MAX_PHOTOS = 64;
/** Default fraction of examples drawn with a photo background when a bank is given. */
export const DEFAULT_PHOTO_FRACTION = 0.6;
/** Zoom range of a crop (1: the whole tile) and brightness range. */
export const PHOTO_ZOOM: readonly [number, number] = [1, 2];
export const PHOTO_BRIGHTNESS: readonly [number, number] = [0.75, 1.25];

/** One example's photo background. */
export interface PhotoBackground {
  /** False: the procedural backdrop of appearance.ts. */
  enabled: boolean;
  /** Tile index in the bank. */
  photo: number;
  /** Crop centre in tile pixels (0..T, origin top-left). */
  centre: [number, number];
  /** Zoom 1–2: the crop's side is T / zoom tile pixels (along the image's longer side). */
  zoom: number;
  flip: boolean;
  /** Multiplier of the photo's colours. */
  brightness: number;
}

export const NO_PHOTO: PhotoBackground = { enabled: false, photo: 0, centre: [0, 0], zoom: 1, flip: false, brightness: 1 };

/** Seed of example `index`'s photo draws: its own stream, apart from the sampler's (which it leaves as it was). */
export function photoSeed(seed: number, index: number): number {
  return exampleSeed(exampleSeed(seed, index), 0x70686f74); // 'phot'
}

/**
 * Photo background of one example, for a bank of `count` tiles of `tileSize` pixels: a photo with
 * probability `fraction`. Every value is drawn whether or not it is used, so the stream never depends on
 * the fraction.
 */
export function samplePhotoBackground(rng: Rng, count: number, tileSize: number, fraction: number): PhotoBackground {
  const use = rng.next();
  const photo = rng.int(0, count - 1);
  const zoom = rng.uniform(PHOTO_ZOOM[0], PHOTO_ZOOM[1]);
  const half = tileSize / (2 * zoom);
  const centre: [number, number] = [rng.uniform(half, tileSize - half), rng.uniform(half, tileSize - half)];
  const flip = rng.next() < 0.5;
  const brightness = rng.uniform(PHOTO_BRIGHTNESS[0], PHOTO_BRIGHTNESS[1]);
  return { enabled: count > 0 && use < fraction, photo, centre, zoom, flip, brightness };
}

/** Packs (enabled, photo, cx, cy, half side in tile pixels, flip ±1, brightness, 0). */
export function packPhotoBackground(p: PhotoBackground, tileSize: number, out = new Float32Array(PHOTO_SIZE), offset = 0): Float32Array {
  const values = [p.enabled ? 1 : 0, p.photo, p.centre[0], p.centre[1], tileSize / (2 * p.zoom), p.flip ? -1 : 1, p.brightness, 0];
  for (let k = 0; k < PHOTO_SIZE; k++) out[offset + k] = values[k];
  return out;
}

/**
 * Area-averaging resize of the rectangle (x0, y0, w, h) of an RGBA picture (source pixels, fractions
 * allowed) to width×height: each output pixel is the mean of the source area it covers, weighted by
 * overlap. Returns RGB floats in [0, 1], row-major. Used to downscale photos (no aliasing).
 */
export function resizeArea(image: RgbaImage, width: number, height: number, rect?: { x0: number; y0: number; w: number; h: number }): Float32Array {
  const { x0, y0, w, h } = rect ?? { x0: 0, y0: 0, w: image.width, h: image.height };
  if (!(width >= 1 && height >= 1 && w > 0 && h > 0 && x0 >= 0 && y0 >= 0 && x0 + w <= image.width + 1e-9 && y0 + h <= image.height + 1e-9)) {
    throw new NbfError(`resizeArea: bad rectangle (${x0}, ${y0}, ${w}×${h}) of a ${image.width}×${image.height} picture → ${width}×${height}`);
  }
  // Per output coordinate: the source pixels it covers and their weights (overlap / area).
  const taps = (start: number, extent: number, n: number, limit: number) =>
    Array.from({ length: n }, (_, o) => {
      const a = start + (o * extent) / n;
      const b = start + ((o + 1) * extent) / n;
      const list: [number, number][] = [];
      for (let i = Math.floor(a); i < Math.min(limit, Math.ceil(b)); i++) {
        const overlap = Math.min(b, i + 1) - Math.max(a, i);
        if (overlap > 0) list.push([i, overlap / (b - a)]);
      }
      return list;
    });
  const tx = taps(x0, w, width, image.width);
  const ty = taps(y0, h, height, image.height);
  const rows = new Map<number, Float64Array>();
  const row = (y: number) => {
    let r = rows.get(y);
    if (!r) {
      r = new Float64Array(width * 3);
      for (let x = 0; x < width; x++) {
        for (const [i, wt] of tx[x]) {
          const p = (y * image.width + i) * 4;
          for (let c = 0; c < 3; c++) r[3 * x + c] += (wt * image.data[p + c]) / 255;
        }
      }
      rows.set(y, r);
    }
    return r;
  };
  const out = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const acc = new Float64Array(width * 3);
    for (const [i, wt] of ty[y]) {
      const r = row(i);
      for (let k = 0; k < acc.length; k++) acc[k] += wt * r[k];
    }
    out.set(acc, y * width * 3);
    // Source rows above this output row's span are no longer needed.
    for (const key of rows.keys()) if (key < (ty[y][0]?.[0] ?? 0)) rows.delete(key);
  }
  return out;
}

/** The T×T tile of a photo: its centred square, area-averaged to T (RGB in [0, 1]). */
export function photoTile(image: RgbaImage, tileSize: number): Float32Array {
  const side = Math.min(image.width, image.height);
  return resizeArea(image, tileSize, tileSize, { x0: (image.width - side) / 2, y0: (image.height - side) / 2, w: side, h: side });
}

/** `count` indices spread evenly over 0..total−1 (all of them when count ≥ total). */
export function spreadIndices(total: number, count: number): number[] {
  if (count >= total) return Array.from({ length: total }, (_, i) => i);
  return Array.from({ length: count }, (_, i) => Math.floor((i * total) / count));
}

export interface BackgroundBankOptions {
  /** Tile side in pixels (default 256). */
  tileSize?: number;
  /** Most photos kept (default 64); more are thinned evenly. */
  maxPhotos?: number;
}

/** A named photo to put in a bank. */
export interface BankPhoto {
  name: string;
  image: RgbaImage;
}

/** Photos on the GPU as one atlas tensor [M, T, T, 3] (see the header). Dispose when done; the generator does not. */
export class BackgroundBank {
  private disposed = false;

  private constructor(
    /** [M, T, T, 3] tiles in [0, 1]. */
    readonly atlas: Tensor,
    /** Tile data as uploaded (M·T·T·3), for CPU references and tests. */
    readonly tiles: Float32Array,
    readonly tileSize: number,
    /** Names of the photos, tile order. */
    readonly names: readonly string[],
  ) {}

  /** Tiles of already decoded photos (up to maxPhotos, spread evenly over the list). */
  static fromImages(rt: Runtime, photos: readonly BankPhoto[], options: BackgroundBankOptions = {}): BackgroundBank {
    const T = options.tileSize ?? DEFAULT_TILE_SIZE;
    const maxPhotos = options.maxPhotos ?? DEFAULT_MAX_PHOTOS;
    if (!Number.isInteger(T) || T < 2 || T > 2048) throw new NbfError(`BackgroundBank: tile size ${T} must be an integer in 2..2048`);
    if (!Number.isInteger(maxPhotos) || maxPhotos < 1) throw new NbfError(`BackgroundBank: maxPhotos ${maxPhotos} must be a positive integer`);
    if (photos.length === 0) throw new NbfError('BackgroundBank: no photos');
    const chosen = spreadIndices(photos.length, maxPhotos).map((i) => photos[i]);
    const tiles = new Float32Array(chosen.length * T * T * 3);
    chosen.forEach((p, m) => tiles.set(photoTile(p.image, T), m * T * T * 3));
    const atlas = rt.keep(rt.tensor(tiles, [chosen.length, T, T, 3]));
    return new BackgroundBank(atlas, tiles, T, chosen.map((p) => p.name));
  }

  get count(): number {
    return this.names.length;
  }

  /** Photo background of example `index` of `seed` (a photo with probability `fraction`). */
  sample(seed: number, index: number, fraction = DEFAULT_PHOTO_FRACTION): PhotoBackground {
    return samplePhotoBackground(new Rng(photoSeed(seed, index)), this.count, this.tileSize, fraction);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.atlas.dispose();
  }
}
