/**
 * Appearance of a synthetic person (skin, hair, clothing with procedural textures, light,
 * background), its photometric augmentations and its partial occluder: drawn on the CPU per example,
 * packed into small per-example tensors that the GPU kernels read (shaders/synth_shade.glsl,
 * synth_augment.glsl, synth_occluder.glsl). The packed layouts are the APPEARANCE_*, AUGMENT_* and
 * OCCLUDER_* offsets below; the shaders use the same numbers. Tables: docs/synth.md.
 */
import type { Rng } from '../util/random.js';

export type Rgb = [number, number, number];

/** Texture of a garment or of the background. */
export enum Pattern {
  Plain = 0,
  Noise = 1,
  Stripes = 2,
  Checks = 3,
  /** Background only: thresholded noise blotches. */
  Blobs = 4,
  /** Background only: linear gradient. */
  Gradient = 5,
}

export interface Garment {
  colourA: Rgb;
  colourB: Rgb;
  pattern: Pattern;
  /** Cycles per metre (garments) or per image (background). */
  frequency: number;
  /** Direction of stripes / gradients (radians). */
  angle: number;
}

export interface Appearance {
  /** Unit vector towards the light, camera frame (z < 0: from the camera's side). */
  light: Rgb;
  ambient: number;
  diffuse: number;
  skin: Rgb;
  hair: Rgb;
  /** Hairline: metres along the neck→head axis from the head joint; head pixels above it are hair. */
  hairline: number;
  /** 0 sleeveless, 1 short sleeves (upper arm), 2 long sleeves. */
  sleeves: number;
  /** 0 shorts (thighs), 1 long trousers. */
  trousers: number;
  top: Garment;
  bottom: Garment;
  shoes: Rgb;
  background: Garment;
  /** Integer seed of the noise textures. */
  noiseSeed: number;
  occluderColour: Rgb;
}

export interface Augmentation {
  /** Gaussian blur sigma in pixels (0: none; the kernel's support is 5×5). */
  blurSigma: number;
  /** Standard deviation of additive pixel noise (images in [0, 1]). */
  noiseStd: number;
  brightness: number;
  contrast: number;
  saturation: number;
  noiseSeed: number;
}

export interface Occluder {
  enabled: boolean;
  /** 0 rectangle, 1 ellipse. */
  shape: number;
  /** Centre and half-extents in pixels; rotation in radians. */
  centre: [number, number];
  half: [number, number];
  angle: number;
}

/** Packed appearance: floats per example (the shader's offsets). */
export const APPEARANCE_SIZE = 48;
export const APPEARANCE = {
  light: 0, ambient: 3, diffuse: 4, skin: 5, hair: 8, hairline: 11, sleeves: 12, trousers: 13,
  topA: 14, topB: 17, topPattern: 20, topFrequency: 21, topAngle: 22,
  bottomA: 23, bottomB: 26, bottomPattern: 29, bottomFrequency: 30, bottomAngle: 31,
  shoes: 32, backgroundA: 35, backgroundB: 38, backgroundPattern: 41, backgroundFrequency: 42, backgroundAngle: 43,
  noiseSeed: 44, occluder: 45,
} as const;
export const AUGMENT_SIZE = 8;
export const OCCLUDER_SIZE = 8;

/** Skin tones from light to dark (linear mixes of neighbours are drawn). */
export const SKIN_TONES: readonly Rgb[] = [
  [0.96, 0.8, 0.69], [0.89, 0.67, 0.53], [0.76, 0.53, 0.39], [0.55, 0.36, 0.24], [0.36, 0.22, 0.14],
];
/** Hair colours: black, dark brown, brown, blond, grey, red. */
export const HAIR_COLOURS: readonly Rgb[] = [
  [0.05, 0.04, 0.03], [0.2, 0.12, 0.07], [0.4, 0.26, 0.13], [0.8, 0.67, 0.4], [0.6, 0.6, 0.6], [0.55, 0.2, 0.08],
];

function hsv(h: number, s: number, v: number): Rgb {
  const f = (k: number) => {
    const x = (k + h * 6) % 6;
    return v - v * s * Math.max(0, Math.min(x, 4 - x, 1));
  };
  return [f(5), f(3), f(1)];
}

function randomColour(rng: Rng): Rgb {
  return hsv(rng.next(), rng.uniform(0.1, 0.9), rng.uniform(0.15, 0.95));
}

function jitter(rng: Rng, c: Rgb, amount: number): Rgb {
  return c.map((x) => Math.min(1, Math.max(0, x + rng.uniform(-amount, amount)))) as Rgb;
}

function garment(rng: Rng, patterns: readonly Pattern[], frequency: [number, number]): Garment {
  return {
    colourA: randomColour(rng),
    colourB: randomColour(rng),
    pattern: patterns[rng.int(0, patterns.length - 1)],
    frequency: rng.uniform(frequency[0], frequency[1]),
    angle: rng.uniform(0, Math.PI),
  };
}

const GREY: Rgb = [0.5, 0.5, 0.5];

/** One person's look. `random` false: everything mid-grey, light from the camera, plain backdrop. */
export function sampleAppearance(rng: Rng, random = true): Appearance {
  if (!random) {
    const plain: Garment = { colourA: GREY, colourB: GREY, pattern: Pattern.Plain, frequency: 1, angle: 0 };
    return {
      light: [0, 0, -1], ambient: 0.4, diffuse: 0.6, skin: GREY, hair: GREY, hairline: 1, sleeves: 2, trousers: 1,
      top: plain, bottom: plain, shoes: GREY, background: { ...plain, colourA: [0, 0, 0], colourB: [0, 0, 0] }, noiseSeed: 0, occluderColour: GREY,
    };
  }
  // Light from a random direction on the camera's side of the body.
  const theta = rng.uniform(0, 2 * Math.PI);
  const lateral = rng.uniform(0, 0.9);
  const light: Rgb = [lateral * Math.cos(theta), lateral * Math.sin(theta), -Math.sqrt(1 - lateral * lateral)];
  const tone = rng.uniform(0, SKIN_TONES.length - 1);
  const k = Math.min(SKIN_TONES.length - 2, Math.floor(tone));
  const f = tone - k;
  const skin = jitter(rng, SKIN_TONES[k].map((c, i) => c * (1 - f) + SKIN_TONES[k + 1][i] * f) as Rgb, 0.03);
  const hair = jitter(rng, HAIR_COLOURS[rng.int(0, HAIR_COLOURS.length - 1)], 0.04);
  const garmentPatterns = [Pattern.Plain, Pattern.Plain, Pattern.Noise, Pattern.Stripes, Pattern.Checks];
  return {
    light,
    ambient: rng.uniform(0.25, 0.6),
    diffuse: rng.uniform(0.4, 0.9),
    skin,
    hair,
    hairline: rng.uniform(-0.02, 0.06),
    sleeves: rng.int(0, 2),
    trousers: rng.next() < 0.7 ? 1 : 0,
    top: garment(rng, garmentPatterns, [4, 16]),
    bottom: garment(rng, garmentPatterns, [4, 14]),
    shoes: hsv(rng.next(), rng.uniform(0, 0.5), rng.uniform(0.05, 0.6)),
    background: garment(rng, [Pattern.Plain, Pattern.Noise, Pattern.Stripes, Pattern.Checks, Pattern.Blobs, Pattern.Gradient, Pattern.Noise, Pattern.Blobs], [2, 14]),
    noiseSeed: rng.int(0, 1 << 20),
    occluderColour: randomColour(rng),
  };
}

export function sampleAugmentation(rng: Rng, random = true): Augmentation {
  if (!random) return { blurSigma: 0, noiseStd: 0, brightness: 0, contrast: 1, saturation: 1, noiseSeed: 0 };
  return {
    blurSigma: rng.next() < 0.4 ? rng.uniform(0.3, 1.5) : 0,
    noiseStd: rng.next() < 0.5 ? rng.uniform(0.005, 0.04) : 0,
    brightness: rng.uniform(-0.1, 0.1),
    contrast: rng.uniform(0.8, 1.2),
    saturation: rng.uniform(0.7, 1.3),
    noiseSeed: rng.int(0, 1 << 20),
  };
}

/** A partial occluder with probability `rate`: a box or ellipse of 8–25 % of the side near the person. */
export function sampleOccluder(rng: Rng, size: number, rate: number): Occluder {
  const enabled = rng.next() < rate;
  const shape = rng.int(0, 1);
  const centre: [number, number] = [size * rng.uniform(0.25, 0.75), size * rng.uniform(0.15, 0.85)];
  const half: [number, number] = [size * rng.uniform(0.04, 0.125), size * rng.uniform(0.04, 0.125)];
  return { enabled, shape, centre, half, angle: rng.uniform(0, Math.PI) };
}

function put(out: Float32Array, at: number, values: readonly number[]): void {
  for (let i = 0; i < values.length; i++) out[at + i] = values[i];
}

export function packAppearance(a: Appearance, out = new Float32Array(APPEARANCE_SIZE), offset = 0): Float32Array {
  const o = APPEARANCE;
  const at = (k: number) => offset + k;
  put(out, at(o.light), a.light);
  out[at(o.ambient)] = a.ambient;
  out[at(o.diffuse)] = a.diffuse;
  put(out, at(o.skin), a.skin);
  put(out, at(o.hair), a.hair);
  out[at(o.hairline)] = a.hairline;
  out[at(o.sleeves)] = a.sleeves;
  out[at(o.trousers)] = a.trousers;
  for (const [g, A, B, P, F, ANG] of [
    [a.top, o.topA, o.topB, o.topPattern, o.topFrequency, o.topAngle],
    [a.bottom, o.bottomA, o.bottomB, o.bottomPattern, o.bottomFrequency, o.bottomAngle],
    [a.background, o.backgroundA, o.backgroundB, o.backgroundPattern, o.backgroundFrequency, o.backgroundAngle],
  ] as const) {
    put(out, at(A), g.colourA);
    put(out, at(B), g.colourB);
    out[at(P)] = g.pattern;
    out[at(F)] = g.frequency;
    out[at(ANG)] = g.angle;
  }
  put(out, at(o.shoes), a.shoes);
  out[at(o.noiseSeed)] = a.noiseSeed;
  put(out, at(o.occluder), a.occluderColour);
  return out;
}

export function packAugmentation(a: Augmentation, out = new Float32Array(AUGMENT_SIZE), offset = 0): Float32Array {
  put(out, offset, [a.blurSigma, a.noiseStd, a.brightness, a.contrast, a.saturation, a.noiseSeed, 0, 0]);
  return out;
}

export function packOccluder(o: Occluder, out = new Float32Array(OCCLUDER_SIZE), offset = 0): Float32Array {
  put(out, offset, [o.enabled ? 1 : 0, o.shape, o.centre[0], o.centre[1], o.half[0], o.half[1], o.angle, 0]);
  return out;
}
