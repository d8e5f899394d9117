/**
 * A regression task generated on the fly: one anti-aliased disc per image; predict its centre and
 * radius. Deterministic for a Rng state.
 *
 * Images are [N, S, S, 3]: channel 0 the disc's coverage of each pixel (0..1), channels 1 and 2 the
 * pixel's x and y in [-1, 1] ("CoordConv" inputs). A network that ends in a global average pool cannot
 * tell where something is without them; with them, the centre is a learnable average.
 * Targets are [N, 3]: centre x, centre y and radius, each scaled to [-1, 1] over its range, so
 * predicting the mean scores an L1 loss of about 0.5.
 */
import type { Rng } from '../../src/util/random.js';

export interface DiscBatch {
  images: Float32Array;
  targets: Float32Array;
  imageShape: [number, number, number, number];
  targetShape: [number, number];
}

export function discBatch(rng: Rng, count: number, size = 32): DiscBatch {
  const images = new Float32Array(count * size * size * 3);
  const targets = new Float32Array(count * 3);
  const half = size / 2;
  const margin = size / 4;
  const minRadius = size / 10;
  const maxRadius = size / 4;
  for (let n = 0; n < count; n++) {
    const cx = rng.uniform(margin, size - margin);
    const cy = rng.uniform(margin, size - margin);
    const r = rng.uniform(minRadius, maxRadius);
    targets[n * 3] = (cx - half) / (half - margin);
    targets[n * 3 + 1] = (cy - half) / (half - margin);
    targets[n * 3 + 2] = (2 * (r - minRadius)) / (maxRadius - minRadius) - 1;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const distance = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
        const o = ((n * size + y) * size + x) * 3;
        // Coverage ramps over one pixel across the edge: a smooth function of centre and radius.
        images[o] = Math.min(1, Math.max(0, r - distance + 0.5));
        images[o + 1] = (x + 0.5) / half - 1;
        images[o + 2] = (y + 0.5) / half - 1;
      }
    }
  }
  return { images, targets, imageShape: [count, size, size, 3], targetShape: [count, 3] };
}
