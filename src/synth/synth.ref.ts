/**
 * Float64 CPU references of the synthetic-image kernels (shade.ts): the same formulas as
 * shaders/synth_occluder.glsl, synth_background.glsl, synth_shade.glsl and synth_augment.glsl, the same
 * integer hashes.
 * Inputs and outputs are row-major (channels last).
 */

/** The shaders' 32-bit integer hash. */
export function hashUint(x: number): number {
  x >>>= 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

export function latticeHash(x: number, y: number, seed: number): number {
  return (hashUint(((x + 1048576) >>> 0) ^ hashUint(((y + 1048576) >>> 0) ^ hashUint(seed >>> 0))) >>> 8) / 16777216;
}

export function valueNoise(px: number, py: number, seed: number): number {
  const ix = Math.floor(px);
  const iy = Math.floor(py);
  const fx = px - ix;
  const fy = py - iy;
  const wx = fx * fx * (3 - 2 * fx);
  const wy = fy * fy * (3 - 2 * fy);
  const a = latticeHash(ix, iy, seed);
  const b = latticeHash(ix + 1, iy, seed);
  const c = latticeHash(ix, iy + 1, seed);
  const d = latticeHash(ix + 1, iy + 1, seed);
  const top = a + (b - a) * wx;
  const bottom = c + (d - c) * wx;
  return top + (bottom - top) * wy;
}

export function fbm(px: number, py: number, seed: number): number {
  return 0.5 * valueNoise(px, py, seed) + 0.3 * valueNoise(2 * px, 2 * py, seed + 1) + 0.2 * valueNoise(4 * px, 4 * py, seed + 2);
}

const fract = (x: number) => x - Math.floor(x);
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
function smoothstep(e0: number, e1: number, x: number): number {
  const t = clamp((x - e0) / (e1 - e0), 0, 1);
  return t * t * (3 - 2 * t);
}

export function patternValue(pattern: number, qx: number, qy: number, angle: number, seed: number): number {
  const dx = Math.cos(angle);
  const dy = Math.sin(angle);
  const rx = qx * dx + qy * dy;
  const ry = -qx * dy + qy * dx;
  switch (pattern) {
    case 1: return fbm(qx, qy, seed);
    case 2: return fract(rx) < 0.5 ? 0 : 1;
    case 3: return (((Math.floor(rx) + Math.floor(ry)) % 2) + 2) % 2;
    case 4: return smoothstep(0.45, 0.55, fbm(qx, qy, seed));
    case 5: return clamp(rx + 0.5, 0, 1);
    default: return 0;
  }
}

/** Occluder masks (N·H·W) from packed params (N·8). */
export function occluderMaskRef(params: ArrayLike<number>, N: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * H * W);
  for (let n = 0; n < N; n++) {
    const [enabled, shape, cx, cy, hx, hy, angle] = Array.from({ length: 7 }, (_, k) => params[8 * n + k]);
    if (enabled < 0.5) continue;
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const rx = (c * dx + s * dy) / hx;
        const ry = (-s * dx + c * dy) / hy;
        const inside = shape < 0.5 ? Math.abs(rx) <= 1 && Math.abs(ry) <= 1 : rx * rx + ry * ry <= 1;
        out[(n * H + y) * W + x] = inside ? 1 : 0;
      }
    }
  }
  return out;
}

/** Region of a skinning part: 0 skin, 1 top, 2 bottom, 3 shoes, 4 head (see synth_shade.glsl). */
export function regionOfPart(part: number, sleeves: number, trousers: boolean): number {
  if (part <= 2) return 2;
  if ([3, 6, 9, 13, 14].includes(part)) return 1;
  if (part === 4 || part === 5) return trousers ? 2 : 0;
  if ([7, 8, 10, 11].includes(part)) return 3;
  if (part === 15) return 4;
  if (part === 16 || part === 17) return sleeves >= 1 ? 1 : 0;
  if (part === 18 || part === 19) return sleeves >= 2 ? 1 : 0;
  return 0;
}

/**
 * Photo backgrounds (N·H·W·3) of an atlas of M tiles (M·T·T·3) and packed photo params (N·8): bilinear
 * resampling of a crop per example, 0 for disabled rows (synth_background.glsl).
 */
export function photoBackgroundsRef(atlas: ArrayLike<number>, T: number, params: ArrayLike<number>, N: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * H * W * 3);
  for (let n = 0; n < N; n++) {
    const [enabled, photoValue, cx, cy, half, flip, brightness] = Array.from({ length: 7 }, (_, k) => params[8 * n + k]);
    if (enabled < 0.5) continue;
    const photo = Math.floor(photoValue + 0.5);
    const texel = (x: number, y: number, c: number) => atlas[((photo * T + clamp(y, 0, T - 1)) * T + clamp(x, 0, T - 1)) * 3 + c];
    const k = (2 * half) / Math.max(W, H);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const fx = cx + flip * (x + 0.5 - 0.5 * W) * k - 0.5;
        const fy = cy + (y + 0.5 - 0.5 * H) * k - 0.5;
        const ix = Math.floor(fx);
        const iy = Math.floor(fy);
        const wx = fx - ix;
        const wy = fy - iy;
        for (let c = 0; c < 3; c++) {
          const top = texel(ix, iy, c) * (1 - wx) + texel(ix + 1, iy, c) * wx;
          const bottom = texel(ix, iy + 1, c) * (1 - wx) + texel(ix + 1, iy + 1, c) * wx;
          out[((n * H + y) * W + x) * 3 + c] = clamp(brightness * (top * (1 - wy) + bottom * wy), 0, 1);
        }
      }
    }
  }
  return out;
}

/**
 * RGB (N·H·W·3) of G-buffers (N·H·W·4), occluder masks (N·H·W), appearance (N·48), joints (N·24·3)
 * and cameras (N·4). With `photo` (backgrounds N·H·W·3 and params N·8), background pixels of the
 * examples whose photo row is enabled are the photo background.
 */
export function shadePeopleRef(
  gbuffer: ArrayLike<number>, mask: ArrayLike<number>, appearance: ArrayLike<number>, joints: ArrayLike<number>,
  camera: ArrayLike<number>, N: number, H: number, W: number,
  photo?: { background: ArrayLike<number>; params: ArrayLike<number> },
): Float64Array {
  const out = new Float64Array(N * H * W * 3);
  for (let n = 0; n < N; n++) {
    const a = (k: number) => appearance[48 * n + k];
    const a3 = (k: number) => [a(k), a(k + 1), a(k + 2)];
    const joint = (j: number) => [joints[(n * 24 + j) * 3], joints[(n * 24 + j) * 3 + 1], joints[(n * 24 + j) * 3 + 2]];
    const seed = Math.trunc(a(44));
    const [fx, fy, cx, cy] = [camera[4 * n], camera[4 * n + 1], camera[4 * n + 2], camera[4 * n + 3]];
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = (n * H + y) * W + x;
        const u = (x + 0.5) / W;
        const v = (y + 0.5) / H;
        const code = gbuffer[4 * p];
        let rgb: number[];
        if (mask[p] > 0.5) {
          const k = 0.8 + 0.4 * valueNoise(u * 23, v * 23, seed + 9);
          rgb = a3(45).map((c) => c * k);
        } else if (code < 0.5 && photo && photo.params[8 * n] > 0.5) {
          rgb = [0, 1, 2].map((k) => photo.background[3 * p + k]);
        } else if (code < 0.5) {
          const freq = a(42);
          const t = patternValue(Math.trunc(a(41)), u * freq, v * freq, a(43), seed + 3);
          const k = 0.9 + 0.2 * valueNoise(0.3 * x, 0.3 * y, seed + 5);
          const A = a3(35);
          const B = a3(38);
          rgb = A.map((c, i) => (c * (1 - t) + B[i] * t) * k);
        } else {
          const part = (Math.trunc(code + 0.5) - 1) & 31;
          const z = gbuffer[4 * p + 1];
          const P = [((x + 0.5 - cx) * z) / fx, ((y + 0.5 - cy) * z) / fy, z];
          const pelvis = joint(0);
          const local = P.map((c, i) => c - pelvis[i]);
          const region = regionOfPart(part, Math.trunc(a(12) + 0.5), a(13) > 0.5);
          let base: number[];
          if (region === 1 || region === 2) {
            const k = region === 1 ? 14 : 23;
            const t = patternValue(Math.trunc(a(k + 6)), local[0] * a(k + 7), local[1] * a(k + 7), a(k + 8), seed + 10 * region);
            const A = a3(k);
            const B = a3(k + 3);
            base = A.map((c, i) => c * (1 - t) + B[i] * t);
          } else if (region === 3) {
            base = a3(32);
          } else if (region === 4) {
            const head = joint(15);
            const neck = joint(12);
            const axis = head.map((c, i) => c - neck[i]);
            const len = Math.hypot(axis[0], axis[1], axis[2]);
            const along = ((P[0] - head[0]) * axis[0] + (P[1] - head[1]) * axis[1] + (P[2] - head[2]) * axis[2]) / len;
            base = along > a(11) ? a3(8) : a3(5);
          } else {
            base = a3(5);
          }
          const nx = gbuffer[4 * p + 2];
          const ny = gbuffer[4 * p + 3];
          const nz = -Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
          const l = a3(0);
          const lambert = Math.max(0, nx * l[0] + ny * l[1] + nz * l[2]);
          rgb = base.map((c) => c * (a(3) + a(4) * lambert));
        }
        for (let k = 0; k < 3; k++) out[3 * p + k] = clamp(rgb[k], 0, 1);
      }
    }
  }
  return out;
}

/** Augmented images (N·H·W·3) of images (N·H·W·3) and params (N·8). */
export function augmentImagesRef(images: ArrayLike<number>, params: ArrayLike<number>, N: number, H: number, W: number): Float64Array {
  const out = new Float64Array(N * H * W * 3);
  for (let n = 0; n < N; n++) {
    const [sigma, noiseStd, brightness, contrast, saturation, seedValue] = Array.from({ length: 6 }, (_, k) => params[8 * n + k]);
    const seed = Math.trunc(seedValue);
    const pixel = (x: number, y: number) => {
      const p = ((n * H + y) * W + x) * 3;
      return [images[p], images[p + 1], images[p + 2]];
    };
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        let c: number[];
        if (sigma < 0.05) {
          c = pixel(x, y);
        } else {
          const sum = [0, 0, 0];
          let total = 0;
          for (let dy = -2; dy <= 2; dy++) {
            for (let dx = -2; dx <= 2; dx++) {
              const w = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
              const q = pixel(clamp(x + dx, 0, W - 1), clamp(y + dy, 0, H - 1));
              for (let k = 0; k < 3; k++) sum[k] += w * q[k];
              total += w;
            }
          }
          c = sum.map((s) => s / total);
        }
        c = c.map((v) => (v - 0.5) * contrast + 0.5 + brightness);
        const grey = 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
        c = c.map((v) => grey + (v - grey) * saturation);
        for (let k = 0; k < 3; k++) {
          const h = latticeHash(x, y, seed + 3 * k) + latticeHash(x, y, seed + 3 * k + 1) + latticeHash(x, y, seed + 3 * k + 2);
          c[k] += noiseStd * (h - 1.5) * 2;
        }
        const p = ((n * H + y) * W + x) * 3;
        for (let k = 0; k < 3; k++) out[p + k] = clamp(c[k], 0, 1);
      }
    }
  }
  return out;
}
