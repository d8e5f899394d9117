/**
 * Appearance of a synthetic person (skin, hair, clothing with procedural textures, light,
 * background), its photometric augmentations and its partial occluder: drawn on the CPU per example,
 * packed into small per-example tensors that the GPU kernels read (shaders/synth_shade.glsl,
 * synth_augment.glsl, synth_occluder.glsl). The packed layouts are the APPEARANCE_*, AUGMENT_* and
 * OCCLUDER_* offsets below; the shaders use the same numbers. Tables: docs/synth.md.
 *
 * Garments, skin and hair are placed on the body's rest-pose (template) surface, relative to the
 * template's rest joints: sleeve ends as a fraction of the shoulder→wrist span, hems as a fraction of
 * the hip→ankle span, the waist and neckline as heights above the pelvis and neck joints, textures in
 * metres of the rest pose, so they follow the body whatever its pose and view.
 *
 * Two random streams: the draws that existed before surface textures come from the example's own
 * stream in their old order (so augmentations and occluders, which are drawn after the appearance,
 * are unchanged for every seed); the newer details come from a second stream (`detail`).
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
  /** Garments only: two crossed sets of stripes (tartan-like, three tones). */
  Plaid = 6,
}

export interface Garment {
  colourA: Rgb;
  colourB: Rgb;
  pattern: Pattern;
  /** Cycles per metre (garments, on the rest-pose surface) or per image (background). */
  frequency: number;
  /**
   * Direction of stripes / gradients (radians). Garments: in the limb-aligned rest frame, 0 = bands
   * across the body and limbs (horizontal on the torso, rings round arms and legs), π/2 = along them.
   */
  angle: number;
  /** Garments: fraction of a stripe period in colour B (stripes, plaid). */
  duty: number;
}

export interface Appearance {
  /** Unit vector towards the light, camera frame (z < 0: from the camera's side). */
  light: Rgb;
  ambient: number;
  diffuse: number;
  /** Light colour (multiplies the diffuse term) and the colour of the ambient light. */
  lightTint: Rgb;
  ambientTint: Rgb;
  /** Wrapped diffuse: max(0, (n·l + wrap) / (1 + wrap)); 0 is Lambert. */
  wrap: number;
  /** Hemisphere ambient: ambient · (1 + hemisphere·(n·up)), up = image up; 0 is uniform ambient. */
  hemisphere: number;
  skin: Rgb;
  hair: Rgb;
  /**
   * Hairline: metres above the head joint (rest pose) at the front (`hairline`, inside the face
   * opening of half-angle `faceAngle` round the head from the face), at the sides (`hairSide`, at 90°)
   * and at the back (`hairBack`); head pixels above it are hair. Long hair has low sides and back
   * (down to the bottom of the head label; never beyond it: the labels do not change).
   */
  hairline: number;
  hairSide: number;
  hairBack: number;
  faceAngle: number;
  /** Amplitude (metres) of the hairline's waviness round the head. */
  hairWave: number;
  /** Contrast of the hair's strand texture. */
  hairStrands: number;
  /** Strength of the face marks (eyes, brows, nose shadow, mouth; 0: none). */
  face: number;
  /** Sleeve end as a fraction of the rest shoulder→wrist span (≤ 0: sleeveless; arm skin beyond it). */
  sleeve: number;
  /** Hem of the trousers / shorts as a fraction of the rest hip→ankle span (leg skin below it). */
  hem: number;
  /** Waist: metres above the pelvis joint (rest); the top above, the bottom garment below. */
  waist: number;
  /** Neckline: metres relative to the neck joint (rest) at the back and sides; skin above it. */
  neckline: number;
  /** How much deeper the neckline dips at the front centre (metres; round to V-neck). */
  neckDip: number;
  /** Cloth wrinkles: relative brightness variation of garments (bands across the limbs). */
  wrinkle: number;
  /** Relative brightness variation of the skin (blotches of a few cm). */
  skinNoise: number;
  /** Seams: garment edges (neckline, sleeve ends, waist, hems) darkened by this fraction … */
  seamDark: number;
  /** … over this width (metres of the rest-pose surface). */
  seamWidth: number;
  top: Garment;
  bottom: Garment;
  shoes: Rgb;
  background: Garment;
  /** Integer seed of the noise textures. */
  noiseSeed: number;
  /**
   * Texture of the box / ellipse occluder, like a backdrop's (colourA is its main colour; pattern plain:
   * flat colour); frequency in cycles per image.
   */
  occluder: Garment;
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
export const APPEARANCE_SIZE = 80;
export const APPEARANCE = {
  light: 0, ambient: 3, diffuse: 4, skin: 5, hair: 8, hairline: 11, sleeve: 12, hem: 13,
  topA: 14, topB: 17, topPattern: 20, topFrequency: 21, topAngle: 22,
  bottomA: 23, bottomB: 26, bottomPattern: 29, bottomFrequency: 30, bottomAngle: 31,
  shoes: 32, backgroundA: 35, backgroundB: 38, backgroundPattern: 41, backgroundFrequency: 42, backgroundAngle: 43,
  noiseSeed: 44, occluder: 45,
  waist: 48, neckline: 49, neckDip: 50, topDuty: 51, bottomDuty: 52, wrinkle: 53, skinNoise: 54,
  hairSide: 55, hairBack: 56, faceAngle: 57, hairWave: 58, hairStrands: 59, seamDark: 60, seamWidth: 61,
  wrap: 62, hemisphere: 63, lightTint: 64, ambientTint: 67, face: 70,
  occluderB: 72, occluderPattern: 75, occluderFrequency: 76, occluderAngle: 77,
} as const;
export const AUGMENT_SIZE = 8;
export const OCCLUDER_SIZE = 8;

/** Skin tones from light to dark (linear mixes of neighbours are drawn). */
export const SKIN_TONES: readonly Rgb[] = [
  [0.96, 0.8, 0.69], [0.89, 0.67, 0.53], [0.76, 0.53, 0.39], [0.55, 0.36, 0.24], [0.36, 0.22, 0.14],
];
/**
 * Hair styles (the detail stream picks one): probability, hairline heights above the head joint at the
 * sides and back (metres; the front comes from `hairline`), half-angle of the face opening (radians).
 */
export const HAIR_STYLES = [
  { name: 'short', p: 0.45, side: [0.06, 0.1], back: [-0.01, 0.04], faceAngle: [1.1, 1.4] },
  { name: 'medium', p: 0.25, side: [0, 0.05], back: [-0.06, 0], faceAngle: [0.9, 1.2] },
  { name: 'long', p: 0.25, side: [-0.06, -0.02], back: [-0.07, -0.06], faceAngle: [0.75, 1] },
  { name: 'shaved', p: 0.05, side: [0.17, 0.21], back: [0.17, 0.21], faceAngle: [1.1, 1.4] },
] as const;

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
    duty: 0.5,
  };
}

/**
 * Garment details from the detail stream: stripes mostly across the body (½) or along it (¼), else
 * at the first stream's angle; half of the checks become plaid; the stripe duty.
 */
function garmentDetails(detail: Rng, g: Garment): void {
  const orientation = detail.next();
  const tilt = detail.uniform(-0.08, 0.08);
  if (orientation < 0.5) g.angle = tilt;
  else if (orientation < 0.75) g.angle = Math.PI / 2 + tilt;
  if (detail.next() < 0.5 && g.pattern === Pattern.Checks) g.pattern = Pattern.Plaid;
  g.duty = detail.uniform(0.25, 0.6);
}

const GREY: Rgb = [0.5, 0.5, 0.5];

/** Patterns of procedural backdrops (and of occluders, textured like them): noise and blobs twice. */
const BACKDROP_PATTERNS = [Pattern.Plain, Pattern.Noise, Pattern.Stripes, Pattern.Checks, Pattern.Blobs, Pattern.Gradient, Pattern.Noise, Pattern.Blobs];

/**
 * One person's look. `random` false: everything mid-grey, light from the camera, plain backdrop.
 * `detail`: the stream of the newer details (default: `rng` itself, after the older draws).
 */
export function sampleAppearance(rng: Rng, random = true, detail: Rng = rng): Appearance {
  if (!random) {
    const plain: Garment = { colourA: GREY, colourB: GREY, pattern: Pattern.Plain, frequency: 1, angle: 0, duty: 0.5 };
    return {
      light: [0, 0, -1], ambient: 0.4, diffuse: 0.6, lightTint: [1, 1, 1], ambientTint: [1, 1, 1], wrap: 0, hemisphere: 0,
      skin: GREY, hair: GREY, hairline: 1, hairSide: 1, hairBack: 1, faceAngle: 1, hairWave: 0, hairStrands: 0, face: 0,
      sleeve: 1, hem: 1, waist: 0, neckline: 0, neckDip: 0, wrinkle: 0, skinNoise: 0, seamDark: 0, seamWidth: 0,
      top: plain, bottom: plain, shoes: GREY, background: { ...plain, colourA: [0, 0, 0], colourB: [0, 0, 0] }, noiseSeed: 0, occluder: { ...plain },
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
  // The first stream, in the order it has always been drawn in.
  const ambient = rng.uniform(0.25, 0.6);
  const diffuse = rng.uniform(0.4, 0.9);
  const hairlineDraw = rng.uniform(-0.02, 0.06);
  const sleeves = rng.int(0, 2); // sleeveless, short, long
  const trousers = rng.next() < 0.7; // long trousers, else shorts
  const top = garment(rng, garmentPatterns, [4, 16]);
  const bottom = garment(rng, garmentPatterns, [4, 14]);
  const shoes = hsv(rng.next(), rng.uniform(0, 0.5), rng.uniform(0.05, 0.6));
  const background = garment(rng, BACKDROP_PATTERNS, [2, 14]);
  const noiseSeed = rng.int(0, 1 << 20);
  const occluderColour = randomColour(rng);
  // The detail stream.
  garmentDetails(detail, top);
  garmentDetails(detail, bottom);
  const sleeve = [detail.uniform(-0.15, 0), detail.uniform(0.12, 0.45), detail.uniform(0.85, 0.97)][sleeves];
  const hem = trousers ? detail.uniform(0.92, 1.02) : detail.uniform(0.15, 0.55);
  let pick = detail.next();
  const style = HAIR_STYLES.find((h) => (pick -= h.p) < 0) ?? HAIR_STYLES[0];
  const warmth = detail.uniform(-0.08, 0.12); // warm (> 0) or cool light, the ambient the other way
  return {
    light,
    ambient,
    diffuse,
    lightTint: [1 + warmth, 1, 1 - warmth],
    ambientTint: [1 - 0.5 * warmth, 1, 1 + 0.5 * warmth],
    wrap: detail.uniform(0, 0.6),
    hemisphere: detail.uniform(0.1, 0.5),
    skin,
    hair,
    hairline: 0.11 + hairlineDraw,
    hairSide: detail.uniform(style.side[0], style.side[1]),
    hairBack: detail.uniform(style.back[0], style.back[1]),
    faceAngle: detail.uniform(style.faceAngle[0], style.faceAngle[1]),
    hairWave: detail.uniform(0, 0.015),
    hairStrands: detail.uniform(0.1, 0.35),
    face: detail.uniform(0.6, 1),
    seamDark: detail.uniform(0.2, 0.5),
    seamWidth: detail.uniform(0.006, 0.014),
    sleeve,
    hem,
    waist: detail.uniform(-0.04, 0.1),
    neckline: detail.uniform(-0.07, -0.025),
    neckDip: detail.next() < 0.5 ? detail.uniform(0, 0.02) : detail.uniform(0.02, 0.11),
    wrinkle: detail.uniform(0, 0.15),
    skinNoise: detail.uniform(0, 0.06),
    top,
    bottom,
    shoes,
    background,
    noiseSeed,
    occluder: { ...garment(detail, BACKDROP_PATTERNS, [6, 30]), colourA: occluderColour },
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
  out[at(o.sleeve)] = a.sleeve;
  out[at(o.hem)] = a.hem;
  out[at(o.waist)] = a.waist;
  out[at(o.neckline)] = a.neckline;
  out[at(o.neckDip)] = a.neckDip;
  out[at(o.topDuty)] = a.top.duty;
  out[at(o.bottomDuty)] = a.bottom.duty;
  out[at(o.wrinkle)] = a.wrinkle;
  out[at(o.skinNoise)] = a.skinNoise;
  out[at(o.hairSide)] = a.hairSide;
  out[at(o.hairBack)] = a.hairBack;
  out[at(o.faceAngle)] = a.faceAngle;
  out[at(o.hairWave)] = a.hairWave;
  out[at(o.hairStrands)] = a.hairStrands;
  out[at(o.seamDark)] = a.seamDark;
  out[at(o.seamWidth)] = a.seamWidth;
  out[at(o.wrap)] = a.wrap;
  out[at(o.hemisphere)] = a.hemisphere;
  put(out, at(o.lightTint), a.lightTint);
  put(out, at(o.ambientTint), a.ambientTint);
  out[at(o.face)] = a.face;
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
  put(out, at(o.occluder), a.occluder.colourA);
  put(out, at(o.occluderB), a.occluder.colourB);
  out[at(o.occluderPattern)] = a.occluder.pattern;
  out[at(o.occluderFrequency)] = a.occluder.frequency;
  out[at(o.occluderAngle)] = a.occluder.angle;
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
