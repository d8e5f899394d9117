/**
 * Evaluation of the body's implicit function: primitive distances, their soft union, its gradient, and
 * Newton projection of points onto the zero set.
 */
import { PRIM_STRIDE } from './body.js';

/** Approximate signed distance of (x, y, z) to packed primitive `i` (negative inside). */
export function primitiveDistance(packed: Float64Array, i: number, x: number, y: number, z: number): number {
  const o = i * PRIM_STRIDE;
  const dx = x - packed[o];
  const dy = y - packed[o + 1];
  const dz = z - packed[o + 2];
  const along = (dx * packed[o + 3] + dy * packed[o + 4] + dz * packed[o + 5]) * packed[o + 12];
  const pv = (dx * packed[o + 6] + dy * packed[o + 7] + dz * packed[o + 8]) * packed[o + 13];
  const pw = (dx * packed[o + 9] + dy * packed[o + 10] + dz * packed[o + 11]) * packed[o + 14];
  const radial = Math.sqrt(pv * pv + pw * pw);
  const ra = packed[o + 16];
  let d: number;
  if (packed[o + 21] === 1) {
    d = Math.sqrt(radial * radial + along * along) - ra;
  } else {
    // Round cone in the (radial, along) half-plane: sphere a, tangent cone side, sphere b.
    const Ls = packed[o + 15];
    const sinA = packed[o + 18];
    const cosA = packed[o + 19];
    const s = -radial * sinA + along * cosA;
    if (s <= 0) d = Math.sqrt(radial * radial + along * along) - ra;
    else if (s >= Ls * cosA) {
      const e = along - Ls;
      d = Math.sqrt(radial * radial + e * e) - packed[o + 17];
    } else d = radial * cosA + along * sinA - ra;
  }
  return d * packed[o + 20];
}

/**
 * Soft union −k·log Σ exp(−fᵢ/k) over the primitives listed in `subset` (all when null). Shifted by the
 * smallest distance so the exponentials never overflow.
 */
export function fieldValue(packed: Float64Array, k: number, x: number, y: number, z: number, subset: ArrayLike<number> | null = null): number {
  const n = subset ? subset.length : packed.length / PRIM_STRIDE;
  let min = Infinity;
  const d = scratch.length >= n ? scratch : (scratch = new Float64Array(n * 2));
  for (let j = 0; j < n; j++) {
    const f = primitiveDistance(packed, subset ? subset[j] : j, x, y, z);
    d[j] = f;
    if (f < min) min = f;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = (d[j] - min) / k;
    if (e < 40) sum += Math.exp(-e);
  }
  return min - k * Math.log(sum);
}
let scratch = new Float64Array(64);

/** Soft-union weights exp(−fᵢ/k)/Σ of every primitive at a point (the union's own blend weights). */
export function blendWeights(packed: Float64Array, k: number, x: number, y: number, z: number, out: Float64Array): Float64Array {
  const n = packed.length / PRIM_STRIDE;
  let min = Infinity;
  for (let j = 0; j < n; j++) {
    out[j] = primitiveDistance(packed, j, x, y, z);
    if (out[j] < min) min = out[j];
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    out[j] = Math.exp(-(out[j] - min) / k);
    sum += out[j];
  }
  for (let j = 0; j < n; j++) out[j] /= sum;
  return out;
}

const GRAD_STEP = 1e-4;

/**
 * Moves point `p` (3 floats at `o`) onto the zero set by Newton steps along the central-difference
 * gradient, each step clipped to `maxStep` metres. Returns the final |F|.
 */
export function projectToSurface(
  packed: Float64Array, k: number, p: Float64Array, o: number, subset: ArrayLike<number> | null = null,
  iterations = 4, maxStep = 0.01,
): number {
  let x = p[o];
  let y = p[o + 1];
  let z = p[o + 2];
  let f = fieldValue(packed, k, x, y, z, subset);
  for (let it = 0; it < iterations && Math.abs(f) > 1e-7; it++) {
    const h = GRAD_STEP;
    const gx = (fieldValue(packed, k, x + h, y, z, subset) - fieldValue(packed, k, x - h, y, z, subset)) / (2 * h);
    const gy = (fieldValue(packed, k, x, y + h, z, subset) - fieldValue(packed, k, x, y - h, z, subset)) / (2 * h);
    const gz = (fieldValue(packed, k, x, y, z + h, subset) - fieldValue(packed, k, x, y, z - h, subset)) / (2 * h);
    const g2 = gx * gx + gy * gy + gz * gz;
    if (!(g2 > 1e-12)) break;
    let sx = (-f * gx) / g2;
    let sy = (-f * gy) / g2;
    let sz = (-f * gz) / g2;
    const len = Math.hypot(sx, sy, sz);
    if (len > maxStep) {
      sx *= maxStep / len;
      sy *= maxStep / len;
      sz *= maxStep / len;
    }
    x += sx;
    y += sy;
    z += sz;
    f = fieldValue(packed, k, x, y, z, subset);
  }
  p[o] = x;
  p[o + 1] = y;
  p[o + 2] = z;
  return Math.abs(f);
}
