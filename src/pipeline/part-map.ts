/**
 * A colour-coded 12-part map from outside (a PNG a user drew, a segmenter's output) → the fitter's
 * input: classes per pixel by nearest palette colour, then a square crop around the person resized to
 * the network's input, as the training renders frame people (the person fills about 80 % of the side).
 *
 * The crop is a similarity between image pixels and network pixels, so everything the network
 * predicts maps back: u_image = x0 + u_net·side/S. Its camera in image pixels is NBF's camera of a
 * `side`-pixel crop: focal 5000·side/512, principal point at the crop's centre.
 */
import { NbfError } from '../runtime/errors.js';
import { partPalette } from '../render/parts.js';
import { nbfFocalLength } from '../synth/sampler.js';

/** A part map is unusable: not a PNG, other colours than NBF's palette, no person. */
export class PartMapError extends NbfError {}

export interface ClassMap {
  width: number;
  height: number;
  /** Class per pixel (0 background, 1..12 parts), row-major. */
  labels: Uint8Array;
}

/** Largest RGB distance (Euclidean, 0..255 units) at which a pixel still counts as a palette colour. */
export const COLOUR_TOLERANCE = 40;
/** Largest fraction of pixels allowed to match no palette colour (antialiased edges, JPEG noise). */
export const MAX_UNMATCHED = 0.05;
/** Fraction of the crop side the person's bounding box fills (the training renders': 0.8). */
export const PERSON_FILL = 0.8;

/**
 * Classes of an RGBA image by nearest NBF palette colour. Pixels with alpha < 128 are background.
 * Throws naming `what` when too many pixels match no colour or no part is present.
 */
export function classifyPartColours(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number, what = 'part map'): ClassMap {
  if (rgba.length !== width * height * 4) throw new PartMapError(`${what}: ${rgba.length} bytes for a ${width}×${height} RGBA image`);
  const palette = partPalette(12);
  const labels = new Uint8Array(width * height);
  let unmatched = 0;
  let parts = 0;
  const tol2 = COLOUR_TOLERANCE * COLOUR_TOLERANCE;
  for (let i = 0; i < width * height; i++) {
    if (rgba[4 * i + 3] < 128) continue;
    const r = rgba[4 * i];
    const g = rgba[4 * i + 1];
    const b = rgba[4 * i + 2];
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < palette.length; c++) {
      const [pr, pg, pb] = palette[c];
      const d = (r - pr) ** 2 + (g - pg) ** 2 + (b - pb) ** 2;
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    if (bestD > tol2) {
      unmatched++;
      continue; // left as background
    }
    labels[i] = best;
    if (best > 0) parts++;
  }
  if (unmatched > MAX_UNMATCHED * width * height) {
    throw new PartMapError(`${what}: ${((100 * unmatched) / (width * height)).toFixed(1)} % of the pixels are not colours of NBF's 12-part palette (at most ${MAX_UNMATCHED * 100} % may differ by more than ${COLOUR_TOLERANCE}); is it a part map? (docs/fitter.md lists the colours)`);
  }
  if (parts === 0) throw new PartMapError(`${what}: no body part in the map (every pixel is background)`);
  return { width, height, labels };
}

export interface PersonCrop {
  /** Top-left corner of the square crop in image pixels (may lie outside the image). */
  x0: number;
  y0: number;
  /** Side of the crop in image pixels. */
  side: number;
  /** Network input side. */
  size: number;
  /** Classes [size·size] resampled (nearest) from the crop; outside the image is background. */
  labels: Float32Array;
}

/** A square map taken whole (already framed as the training renders are), resampled to size×size. */
export function wholeImageCrop(map: ClassMap, size: number): PersonCrop {
  if (map.width !== map.height) throw new PartMapError(`a ${map.width}×${map.height} map is not square; crop it around the person instead`);
  return resampleCrop(map, { x0: 0, y0: 0, side: map.width, size });
}

/** The square crop around the person's parts, resampled to size×size by nearest neighbour. */
export function cropPerson(map: ClassMap, size: number): PersonCrop {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let y = 0; y < map.height; y++) {
    for (let x = 0; x < map.width; x++) {
      if (map.labels[y * map.width + x] === 0) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x + 1);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y + 1);
    }
  }
  if (!Number.isFinite(x0)) throw new PartMapError('the part map has no body part');
  const side = Math.max(x1 - x0, y1 - y0) / PERSON_FILL;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return resampleCrop(map, { x0: cx - side / 2, y0: cy - side / 2, side, size });
}

function resampleCrop(map: ClassMap, crop: Omit<PersonCrop, 'labels'>): PersonCrop {
  const { side, size } = crop;
  const labels = new Float32Array(size * size);
  for (let v = 0; v < size; v++) {
    const y = Math.floor(crop.y0 + ((v + 0.5) * side) / size);
    if (y < 0 || y >= map.height) continue;
    for (let u = 0; u < size; u++) {
      const x = Math.floor(crop.x0 + ((u + 0.5) * side) / size);
      if (x < 0 || x >= map.width) continue;
      labels[v * size + u] = map.labels[y * map.width + x];
    }
  }
  return { ...crop, labels };
}

/** The crop's camera in image pixels: (f, f, cx, cy) of NBF's camera for a `side`-pixel crop. */
export function cropCamera(crop: Pick<PersonCrop, 'x0' | 'y0' | 'side'>): [number, number, number, number] {
  const f = nbfFocalLength(crop.side);
  return [f, f, crop.x0 + crop.side / 2, crop.y0 + crop.side / 2];
}

/** Network pixels → image pixels. */
export function cropToImage(crop: Pick<PersonCrop, 'x0' | 'y0' | 'side' | 'size'>, u: number, v: number): [number, number] {
  const s = crop.side / crop.size;
  return [crop.x0 + u * s, crop.y0 + v * s];
}
