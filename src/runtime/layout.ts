/**
 * Channel-packed texture layout, used for every tensor.
 *
 * A tensor of shape [d0, ..., dn-2, C] is viewed as `rows = d0·…·dn-2` rows of C channels. Each row is
 * stored as C4 = ceil(C/4) RGBA texels (channels 4k..4k+3 in .xyzw); lanes past C are always 0. Texels
 * are numbered row-major, t = row·C4 + c4, and laid into a 2D texture of width W by wrapping:
 * texel t lives at (x, y) = (t mod W, floor(t / W)). Any tensor up to W·H_max texels fits, whatever
 * its shape. A scalar (shape []) is one row of one channel.
 *
 *   shape [2, 3, 6]  → rows = 6, C = 6, C4 = 2, texels = 12
 *   t:  0    1    2    3    4   ...  11
 *      r0c0 r0c1 r1c0 r1c1 r2c0 ... r5c1        (each cell one RGBA texel)
 */
import { ShapeError } from './errors.js';

export interface PackedGeometry {
  /** Product of all dimensions but the last. */
  rows: number;
  /** Size of the last dimension (1 for a scalar). */
  channels: number;
  /** Texels per row: ceil(channels / 4). */
  texelsPerRow: number;
  /** rows · texelsPerRow. */
  texels: number;
  /** Number of elements. */
  size: number;
}

export const MAX_RANK = 6;

export function checkShape(shape: readonly number[], what = 'shape'): void {
  if (!Array.isArray(shape)) throw new ShapeError(`${what} must be an array of dimensions, got ${String(shape)}`);
  if (shape.length > MAX_RANK) throw new ShapeError(`${what} [${shape.join(', ')}] has rank ${shape.length}; at most ${MAX_RANK} is supported`);
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) {
      throw new ShapeError(`${what} [${shape.join(', ')}] has a dimension ${d}; dimensions must be positive integers`);
    }
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function packedGeometry(shape: readonly number[]): PackedGeometry {
  const channels = shape.length === 0 ? 1 : shape[shape.length - 1];
  const size = sizeOf(shape);
  const rows = size / channels;
  const texelsPerRow = Math.ceil(channels / 4);
  return { rows, channels, texelsPerRow, texels: rows * texelsPerRow, size };
}

/** Row-major logical data → RGBA texel data (length texels·4), padding lanes zero. */
export function packChannels(data: ArrayLike<number>, shape: readonly number[], out?: Float32Array): Float32Array {
  const g = packedGeometry(shape);
  if (data.length !== g.size) {
    throw new ShapeError(`data has ${data.length} values but shape [${shape.join(', ')}] needs ${g.size}`);
  }
  const packed = out ?? new Float32Array(g.texels * 4);
  const stride = g.texelsPerRow * 4;
  if (stride === g.channels) {
    packed.set(data as ArrayLike<number>);
    return packed;
  }
  for (let r = 0; r < g.rows; r++) {
    const src = r * g.channels;
    const dst = r * stride;
    for (let c = 0; c < g.channels; c++) packed[dst + c] = data[src + c];
  }
  return packed;
}

/** RGBA texel data → row-major logical data. */
export function unpackChannels(packed: Float32Array, shape: readonly number[]): Float32Array {
  const g = packedGeometry(shape);
  const stride = g.texelsPerRow * 4;
  if (stride === g.channels) return packed.slice(0, g.size);
  const out = new Float32Array(g.size);
  for (let r = 0; r < g.rows; r++) {
    const src = r * stride;
    const dst = r * g.channels;
    for (let c = 0; c < g.channels; c++) out[dst + c] = packed[src + c];
  }
  return out;
}

/**
 * Narrowest texture width of a texture of more than WIDE_FROM_TEXELS texels. llvmpipe (Mesa's CPU rasteriser) shares a draw among its threads by
 * 64×64-pixel tiles, so an output texture 64 texels wide or less is drawn by one thread however long
 * each fragment works. The small outputs of long reductions are exactly that (a filter gradient's
 * [288, 32] matmul over 65 536 pixels: 2 304 texels): at width 128 they span two tiles side by side
 * and run on both cores of the 2-core machine, measured 201 → 105 ms for that product.
 */
export const MIN_TEXTURE_WIDTH = 128;
/** Smaller textures stay square-ish: too little work to share, and small tensors still wrap rows. */
export const WIDE_FROM_TEXELS = 1024;

const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;

/**
 * Physical texture size for a number of texels. Widths are powers of two near the square root (at
 * least MIN_TEXTURE_WIDTH), so large textures stay roughly square (good for the texture cache) and
 * size classes stay few.
 *
 * Heights are never powers of two (one row more where they would be, 3 rows for 1). llvmpipe
 * JIT-compiles a separate variant of a program for every combination of power-of-two and other
 * sizes among the textures it samples (its sampler key carries a "pot" flag per dimension), so with
 * heights of both kinds most programs compiled two to four times: BlazePose lite's first picture,
 * Mesa's shader cache off, took 40.8 s, 18.0 s with every height not a power of two (both on a
 * machine busy with training; docs/performance.md "Cold start"). The extra row costs 1/height of a
 * texture's memory.
 */
export function textureDims(texels: number, maxSize: number): { width: number; height: number } {
  // Kernels address texels with a mask and a shift, so the width must be a power of two.
  const maxWidth = 2 ** Math.floor(Math.log2(maxSize));
  let width = texels > WIDE_FROM_TEXELS ? MIN_TEXTURE_WIDTH : 1;
  while (width * width < texels && width < maxWidth) width *= 2;
  width = Math.min(width, maxWidth);
  let height = Math.max(1, Math.ceil(texels / width));
  if (height > maxSize) {
    throw new ShapeError(`a tensor of ${texels} texels does not fit a ${maxSize}×${maxSize} texture`);
  }
  if (isPowerOfTwo(height) && height + 1 <= maxSize) height += height === 1 ? 2 : 1;
  return { width, height };
}

/**
 * Size class of a texel count: the smallest class ≥ texels. Classes are powers of two below 4096 and
 * steps of 1/8 of a power of two above it, so a pooled texture wastes at most 12.5% beyond 4096 texels.
 */
export function sizeClass(texels: number): number {
  if (texels <= 4096) {
    let c = 1;
    while (c < texels) c *= 2;
    return c;
  }
  const step = 2 ** (Math.floor(Math.log2(texels)) - 3);
  return Math.ceil(texels / step) * step;
}
