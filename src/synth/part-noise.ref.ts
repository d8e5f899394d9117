/**
 * CPU reference of corruptPartLabels (part-noise.ts): shaders/synth_part_noise.glsl step by step,
 * the same integer hashes. Every quantity is an integer or a hash compared with a packed float, so
 * the GPU result must match exactly. Labels [N, H, W] row-major, params [N, 16] (PART_NOISE_SIZE).
 */
import { hashUint } from './synth.ref.js';
import { LIMBS, PART_NOISE_SIZE, SWAP_PAIRS } from './part-noise.js';

function pnHash(x: number, y: number, seed: number, stream: number): number {
  return hashUint(((x + 1048576) >>> 0) ^ hashUint(((y + 1048576) >>> 0) ^ hashUint((seed * 16 + stream) >>> 0)));
}

const pnUniform = (x: number, y: number, seed: number, stream: number) => (pnHash(x, y, seed, stream) >>> 8) / 16777216;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function corruptPartLabelsRef(labels: ArrayLike<number>, params: ArrayLike<number>, N: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * H * W);
  for (let n = 0; n < N; n++) {
    const P = (k: number) => Math.fround(params[n * PART_NOISE_SIZE + k]);
    const I = (k: number) => Math.trunc(P(k));
    const at = (x: number, y: number) => Math.trunc(labels[(n * H + y) * W + x] + 0.5);
    const [seed, r, c] = [I(0), I(1), Math.max(I(2), 1)];
    const [limb, dropPart, dropTo, swapMask, count] = [I(8), I(9), I(10), I(7), I(11)];
    const rMin = clamp(I(12), 1, 180);
    const rMax = clamp(I(13), rMin, 180);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const s = at(x, y);
        let a = s;
        if (r > 0) { // (a) boundary
          const [cx, cy] = [Math.trunc(x / c), Math.trunc(y / c)];
          const qx = clamp(x + (pnHash(cx, cy, seed, 0) % (2 * r + 1)) - r, 0, W - 1);
          const qy = clamp(y + (pnHash(cx, cy, seed, 1) % (2 * r + 1)) - r, 0, H - 1);
          const q = at(qx, qy);
          const threshold = s === 0 ? P(4) : q === 0 ? P(5) : P(3);
          if (q !== s && pnUniform(cx, cy, seed, 2) < threshold) a = q;
        }
        if (limb >= 1 && limb <= 4 && LIMBS[limb - 1].includes(a)) a = 0; // (e)
        if (dropPart >= 1 && a === dropPart) a = dropTo; // (c)
        SWAP_PAIRS.forEach(([p, q], k) => { // (b)
          if (((swapMask >> k) & 1) === 0) return;
          if (a === p) a = q;
          else if (a === q) a = p;
        });
        for (let k = 0; k < Math.min(count, 3); k++) { // (d) blobs
          const dx = x - (pnHash(k, 0, seed, 5) % W);
          const dy = y - (pnHash(k, 1, seed, 5) % H);
          const rx = rMin + (pnHash(k, 2, seed, 5) % (rMax - rMin + 1));
          const ry = rMin + (pnHash(k, 3, seed, 5) % (rMax - rMin + 1));
          if (Math.abs(dx) > rx || Math.abs(dy) > ry) continue;
          if ((dx * ry) ** 2 + (dy * rx) ** 2 <= (rx * ry) ** 2) a = pnHash(k, 4, seed, 5) % 13;
        }
        const edge = (x > 0 && at(x - 1, y) !== s) || (x < W - 1 && at(x + 1, y) !== s) || (y > 0 && at(x, y - 1) !== s) || (y < H - 1 && at(x, y + 1) !== s);
        if (edge && pnUniform(x, y, seed, 3) < P(6)) a = pnHash(x, y, seed, 4) % 13; // (f)
        out[(n * H + y) * W + x] = a;
      }
    }
  }
  return out;
}
