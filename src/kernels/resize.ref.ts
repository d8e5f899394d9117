/**
 * Float64 CPU references of the resize kernels, written the way TensorFlow states them (scale, source
 * coordinate, floor / round), not with the shaders' integer fractions, so the two check each other.
 * Products are formed before the division so a coordinate that is mathematically an integer (or a
 * half, for rounding) is exactly that in float64.
 */
import { resizeMode, type ResizeOptions } from './resize.js';

interface Result {
  data: Float64Array;
  shape: number[];
}

/** Source coordinate of output index o (before flooring), per TF. */
function sourceCoordinate(o: number, inSize: number, outSize: number, mode: ReturnType<typeof resizeMode>, nearest: boolean): number {
  if (mode === 'alignCorners' && outSize > 1) return (o * (inSize - 1)) / (outSize - 1);
  if (mode === 'halfPixel') return ((o + 0.5) * inSize) / outSize - (nearest ? 0 : 0.5);
  return (o * inSize) / outSize;
}

function nearestIndex(o: number, inSize: number, outSize: number, mode: ReturnType<typeof resizeMode>): number {
  const s = sourceCoordinate(o, inSize, outSize, mode, true);
  // TF: roundf (half away from zero) when aligning corners, floor otherwise; clamped to the image.
  const i = mode === 'alignCorners' ? Math.round(s) : Math.floor(s);
  return Math.max(0, Math.min(i, inSize - 1));
}

export function resizeNearestRef(x: ArrayLike<number>, shape: readonly number[], size: readonly [number, number], options: ResizeOptions = {}): Result {
  const [n, h, w, c] = shape;
  const [oh, ow] = size;
  const mode = resizeMode(options, 'resizeNearestRef');
  const out = new Float64Array(n * oh * ow * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y = nearestIndex(oy, h, oh, mode);
      for (let ox = 0; ox < ow; ox++) {
        const xx = nearestIndex(ox, w, ow, mode);
        for (let ch = 0; ch < c; ch++) out[((b * oh + oy) * ow + ox) * c + ch] = x[((b * h + y) * w + xx) * c + ch];
      }
    }
  }
  return { data: out, shape: [n, oh, ow, c] };
}

export function resizeBilinearRef(x: ArrayLike<number>, shape: readonly number[], size: readonly [number, number], options: ResizeOptions = {}): Result {
  const [n, h, w, c] = shape;
  const [oh, ow] = size;
  const mode = resizeMode(options, 'resizeBilinearRef');
  const span = (o: number, inSize: number, outSize: number) => {
    const s = sourceCoordinate(o, inSize, outSize, mode, false);
    const fl = Math.floor(s);
    return { lower: Math.max(fl, 0), upper: Math.min(Math.ceil(s), inSize - 1), frac: s - fl };
  };
  const out = new Float64Array(n * oh * ow * c);
  const at = (b: number, y: number, xx: number, ch: number) => x[((b * h + y) * w + xx) * c + ch];
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const sy = span(oy, h, oh);
      for (let ox = 0; ox < ow; ox++) {
        const sx = span(ox, w, ow);
        for (let ch = 0; ch < c; ch++) {
          const topLeft = at(b, sy.lower, sx.lower, ch);
          const topRight = at(b, sy.lower, sx.upper, ch);
          const bottomLeft = at(b, sy.upper, sx.lower, ch);
          const bottomRight = at(b, sy.upper, sx.upper, ch);
          const top = topLeft + (topRight - topLeft) * sx.frac;
          const bottom = bottomLeft + (bottomRight - bottomLeft) * sx.frac;
          out[((b * oh + oy) * ow + ox) * c + ch] = top + (bottom - top) * sy.frac;
        }
      }
    }
  }
  return { data: out, shape: [n, oh, ow, c] };
}
