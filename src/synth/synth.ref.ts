/**
 * Float64 CPU references of the synthetic-image kernels (shade.ts): the same formulas as
 * shaders/synth_occluder.glsl, synth_background.glsl, synth_shade.glsl and synth_augment.glsl, the same
 * integer hashes.
 * Inputs and outputs are row-major (channels last).
 */
import { APPEARANCE_SIZE } from './appearance.js';

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

export function latticeHash3(x: number, y: number, z: number, seed: number): number {
  const h = (Math.imul((x + 1048576) >>> 0, 0x8da6b343) ^ Math.imul((y + 1048576) >>> 0, 0xd8163841) ^ Math.imul((z + 1048576) >>> 0, 0xcb1ab31f)) >>> 0;
  return (hashUint((h ^ hashUint(seed >>> 0)) >>> 0) >>> 8) / 16777216;
}

const mix = (a: number, b: number, t: number) => a + (b - a) * t;

/** 3D value noise in [0, 1): trilinear blend of the 8 lattice corners with smoothstep weights. */
export function valueNoise3(px: number, py: number, pz: number, seed: number): number {
  const [ix, iy, iz] = [Math.floor(px), Math.floor(py), Math.floor(pz)];
  const w = [px - ix, py - iy, pz - iz].map((f) => f * f * (3 - 2 * f));
  const h = (dx: number, dy: number, dz: number) => latticeHash3(ix + dx, iy + dy, iz + dz, seed);
  const near = mix(mix(h(0, 0, 0), h(1, 0, 0), w[0]), mix(h(0, 1, 0), h(1, 1, 0), w[0]), w[1]);
  const far = mix(mix(h(0, 0, 1), h(1, 0, 1), w[0]), mix(h(0, 1, 1), h(1, 1, 1), w[0]), w[1]);
  return near + (far - near) * w[2];
}

export function fbm3(px: number, py: number, pz: number, seed: number): number {
  return 0.5 * valueNoise3(px, py, pz, seed) + 0.3 * valueNoise3(2 * px, 2 * py, 2 * pz, seed + 1) + 0.2 * valueNoise3(4 * px, 4 * py, 4 * pz, seed + 2);
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

/** Garment pattern value in [0, 1] at limb-aligned rest coordinates q (metres); see synth_shade.glsl. */
export function garmentPattern(pattern: number, q: readonly number[], frequency: number, angle: number, duty: number, seed: number): number {
  const c = q.map((v) => v * frequency);
  const dx = Math.sin(angle);
  const dy = Math.cos(angle);
  const s = c[0] * dx + c[1] * dy;
  const t = c[0] * dy - c[1] * dx;
  switch (pattern) {
    case 1: return fbm3(c[0], c[1], c[2], seed);
    case 2: return fract(s) < duty ? 1 : 0;
    case 3: return (((Math.floor(s) + Math.floor(t) + Math.floor(c[2])) % 2) + 2) % 2;
    case 6: return 0.5 * ((fract(s) < duty ? 1 : 0) + (fract(t + 0.25) < duty ? 1 : 0));
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

/**
 * Mask (N·H·W) of a second person drawn as an occluder: G-buffers `main` and `other` (N·H·W·4), box
 * occluder mask (N·H·W); see synth_person_occluder.glsl.
 */
export function personOccluderMaskRef(main: ArrayLike<number>, other: ArrayLike<number>, occluder: ArrayLike<number>): Float64Array {
  const out = new Float64Array(occluder.length);
  for (let p = 0; p < out.length; p++) {
    const shows = other[4 * p] > 0.5 && occluder[p] < 0.5 && (main[4 * p] < 0.5 || other[4 * p + 1] < main[4 * p + 1]);
    out[p] = shows ? 1 : 0;
  }
  return out;
}

/**
 * Region of a body pixel — 0 skin, 1 top, 2 bottom, 3 shoes, 4 head — from its skinning part, its
 * rest-pose position r, the template's rest joints J and the packed appearance `a` (accessor by
 * offset), with `edge`, the distance (metres of the rest surface) to the garment's edge (1 where there
 * is none); see synth_shade.glsl.
 */
export function bodyRegion(part: number, r: readonly number[], J: (j: number) => number[], a: (k: number) => number): { region: number; edge: number } {
  const left = r[0] > 0;
  if (part === 15) return { region: 4, edge: 1 };
  if ([7, 8, 10, 11].includes(part)) return { region: 3, edge: 1 };
  if (part >= 16 && part <= 21) {
    const shoulder = J(left ? 16 : 17);
    const wrist = J(left ? 20 : 21);
    const beyond = Math.abs(r[0]) - Math.abs(shoulder[0]) - a(12) * (Math.abs(wrist[0]) - Math.abs(shoulder[0]));
    return { region: beyond < 0 ? 1 : 0, edge: -beyond };
  }
  if (part === 12 || part >= 22) return { region: 0, edge: 1 };
  const waist = r[1] - J(0)[1] - a(48);
  if (waist > 0) {
    const neck = J(12);
    const dip = r[2] > neck[2] ? a(50) * Math.max(0, 1 - Math.abs(r[0]) / 0.08) : 0;
    const open = r[1] - (neck[1] + a(49) + 4 * r[0] * r[0] - dip);
    return { region: open > 0 ? 0 : 1, edge: Math.min(waist, -open) };
  }
  const hip = J(left ? 1 : 2)[1];
  const ankle = J(left ? 7 : 8)[1];
  const hem = r[1] - hip - a(13) * (ankle - hip);
  return { region: hem > 0 ? 2 : 0, edge: Math.min(-waist, hem) };
}

/** Limb-aligned rest coordinates of a garment pixel (textures): see synth_shade.glsl. */
export function limbCoordinates(part: number, r: readonly number[], J: (j: number) => number[]): number[] {
  if (part >= 16 && part <= 21) {
    const left = r[0] > 0;
    const shoulder = J(left ? 16 : 17);
    return [(left ? 1 : -1) * (r[1] - shoulder[1]), Math.abs(shoulder[0]) - Math.abs(r[0]), r[2] - shoulder[2]];
  }
  const pelvis = J(0);
  return r.map((v, i) => v - pelvis[i]);
}

/** Height of the hairline above the head joint at head-relative rest position d (synth_shade.glsl). */
export function hairlineHeight(d: readonly number[], a: (k: number) => number, seed: number): number {
  const around = Math.hypot(d[0], d[2]);
  const angle = around > 1e-6 ? Math.abs(Math.atan2(d[0], d[2])) : 0;
  const opening = a(57);
  let line = mix(a(11), a(55), smoothstep(0.6 * opening, opening, angle));
  line = mix(line, a(56), smoothstep(Math.PI / 2, Math.PI, angle));
  const ring = around > 1e-6 ? [d[0] / around, d[2] / around] : [0, 1];
  return line + a(58) * (2 * valueNoise(3 * ring[0] + 7, 3 * ring[1] + 7, seed + 11) - 1);
}

function inEllipse(px: number, py: number, cx: number, cy: number, hx: number, hy: number): boolean {
  const u = (px - cx) / hx;
  const v = (py - cy) / hy;
  return u * u + v * v < 1;
}

/** Face skin with its marks at head-relative rest position d (synth_shade.glsl). */
export function faceMarks(skin: readonly number[], hair: readonly number[], d: readonly number[], strength: number): number[] {
  if (strength <= 0 || d[2] <= 0.05) return [...skin];
  const px = Math.abs(d[0]);
  const py = d[1];
  const sx = (px - 0.032) / 0.02;
  const sy = (py - 0.063) / 0.014;
  const k = 1 - 0.18 * strength * Math.exp(-(sx * sx + sy * sy));
  const c = skin.map((v) => v * k);
  const blend = (target: readonly number[]) => c.map((v, i) => mix(v, target[i], strength));
  if (inEllipse(px, py, 0.032, 0.065, 0.012, 0.0055)) return blend([0.1, 0.08, 0.07]);
  if (inEllipse(px, py, 0.034, 0.085, 0.02, 0.0045)) return blend(hair.map((v) => 0.8 * v));
  if (inEllipse(px, py, 0, 0.015, 0.011, 0.005)) return blend(skin.map((v) => 0.7 * v));
  if (inEllipse(px, py, 0, -0.01, 0.022, 0.0045)) return blend([0.75 * skin[0], 0.5 * skin[1], 0.5 * skin[2]]);
  return c;
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
 * RGB (N·H·W·3) of G-buffers (N·H·W·4), surface buffers (N·H·W·4: rest x, y, z, 1), occluder masks
 * (N·H·W), appearance (N·80) and the template's rest joints (24·3). With `photo` (backgrounds N·H·W·3
 * and params N·8), background pixels of the examples whose photo row is enabled are the photo background.
 * With `other` (a second person's G-buffers and surface buffers N·H·W·4 and its mask N·H·W), pixels
 * under the mask are shaded from those with appearance row N + n (`appearance` then holds 2N rows).
 */
export function shadePeopleRef(
  gbuffer: ArrayLike<number>, surface: ArrayLike<number>, mask: ArrayLike<number>, appearance: ArrayLike<number>,
  restJoints: ArrayLike<number>, N: number, H: number, W: number,
  photo?: { background: ArrayLike<number>; params: ArrayLike<number> } | null,
  other?: { gbuffer: ArrayLike<number>; surface: ArrayLike<number>; mask: ArrayLike<number> },
): Float64Array {
  const out = new Float64Array(N * H * W * 3);
  const J = (j: number) => [restJoints[3 * j], restJoints[3 * j + 1], restJoints[3 * j + 2]];
  for (let image = 0; image < N; image++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const p = (image * H + y) * W + x;
        const showsOther = !!other && other.mask[p] > 0.5;
        const n = showsOther ? N + image : image;
        const [g, sf] = showsOther ? [other!.gbuffer, other!.surface] : [gbuffer, surface];
        const a = (k: number) => appearance[APPEARANCE_SIZE * n + k];
        const a3 = (k: number) => [a(k), a(k + 1), a(k + 2)];
        const seed = Math.trunc(a(44));
        const u = (x + 0.5) / W;
        const v = (y + 0.5) / H;
        const code = g[4 * p];
        let rgb: number[];
        if (mask[p] > 0.5) {
          const t = patternValue(Math.trunc(a(75)), u * a(76), v * a(76), a(77), seed + 13);
          const k = 0.8 + 0.4 * valueNoise(u * 23, v * 23, seed + 9);
          const B = a3(72);
          rgb = a3(45).map((c, i) => (c * (1 - t) + B[i] * t) * k);
        } else if (code < 0.5 && photo && photo.params[8 * image] > 0.5) {
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
          const r = [sf[4 * p], sf[4 * p + 1], sf[4 * p + 2]];
          const { region, edge } = bodyRegion(part, r, J, a);
          const kSkin = 1 + a(54) * (2 * valueNoise3(35 * r[0], 35 * r[1], 35 * r[2], seed + 8) - 1);
          const skin = a3(5).map((c) => c * kSkin);
          let base: number[];
          if (region === 1 || region === 2) {
            const q = limbCoordinates(part, r, J);
            const k = region === 1 ? 14 : 23;
            const t = garmentPattern(Math.trunc(a(k + 6)), q, a(k + 7), a(k + 8), a(region === 1 ? 51 : 52), seed + 10 * region);
            const A = a3(k);
            const B = a3(k + 3);
            const wrinkle = 1 + a(53) * (2 * valueNoise3(9 * q[0], 24 * q[1], 9 * q[2], seed + 7) - 1);
            const seam = 1 - a(60) * (1 - smoothstep(0.5 * a(61), a(61), edge));
            base = A.map((c, i) => (c * (1 - t) + B[i] * t) * wrinkle * seam);
          } else if (region === 3) {
            base = a3(32);
          } else if (region === 4) {
            const head = J(15);
            const d = r.map((v, i) => v - head[i]);
            if (d[1] > hairlineHeight(d, a, seed)) {
              const k = 1 + a(59) * (2 * valueNoise3(150 * d[0], 18 * d[1], 150 * d[2], seed + 12) - 1);
              base = a3(8).map((c) => c * k);
            } else {
              base = faceMarks(skin, a3(8), d, a(70));
            }
          } else {
            base = skin;
          }
          const nx = g[4 * p + 2];
          const ny = g[4 * p + 3];
          const nz = -Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
          const l = a3(0);
          const wrap = a(62);
          const diffuse = Math.max(0, (nx * l[0] + ny * l[1] + nz * l[2] + wrap) / (1 + wrap));
          const ambient = 1 - a(63) * ny;
          const tintA = a3(67);
          const tintL = a3(64);
          rgb = base.map((c, i) => c * (tintA[i] * a(3) * ambient + tintL[i] * a(4) * diffuse));
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
