/**
 * Anthropometric parameters of the procedural open body, and their sampling distribution.
 *
 * Proportions follow classic segment-length-to-stature ratios (upper arm ≈ 0.16 H, forearm ≈ 0.145 H,
 * thigh ≈ 0.23 H, shank ≈ 0.235 H, ...). Every multiplier below is 1 for the template (the mean body);
 * the sampler draws correlated variations around it: sex-linked proportions, mass/girth, limb and torso
 * length ratios. Nothing here is derived from SMPL data.
 */
import { Rng } from '../../util/random.js';

export interface BodyParams {
  /** Standing height, sole to crown, metres. */
  stature: number;
  /** 0 = male-like proportions, 1 = female-like (hips, shoulders, chest, waist). */
  femininity: number;
  /** Overall girth multiplier of torso soft tissue (mass). */
  girth: number;
  /** Extra forward protrusion of the abdomen, fraction of stature (0 for a flat belly). */
  belly: number;
  /** Multipliers on shoulder (biacromial) width, hip width, chest, waist and hip girths. */
  shoulderWidth: number;
  hipWidth: number;
  chest: number;
  waist: number;
  hips: number;
  /** Multipliers on limb girths (muscle + fat). */
  armGirth: number;
  legGirth: number;
  /** Length multipliers (renormalised so the stature stays exact). */
  legLength: number;
  armLength: number;
  torsoLength: number;
  neckLength: number;
  headSize: number;
  /** Breast volume, fraction of stature used as radius. */
  breast: number;
}

/** The template: a gender-neutral adult of 1.72 m. */
export function meanParams(): BodyParams {
  return {
    stature: 1.72,
    femininity: 0.5,
    girth: 1,
    belly: 0.006,
    shoulderWidth: 1,
    hipWidth: 1,
    chest: 1,
    waist: 1,
    hips: 1,
    armGirth: 1,
    legGirth: 1,
    legLength: 1,
    armLength: 1,
    torsoLength: 1,
    neckLength: 1,
    headSize: 1,
    breast: 0.017,
  };
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * One random body: sex drawn 50/50, a femininity score near 0.15 or 0.85, stature from sex-specific
 * normal distributions clipped to 1.45–2.0 m, a mass factor that drives girths and belly together, and
 * independent jitter on widths and length ratios.
 */
export function sampleParams(rng: Rng): BodyParams {
  const female = rng.next() < 0.5;
  const femininity = clamp(rng.normal(female ? 0.85 : 0.15, 0.12), 0, 1);
  const stature = clamp(rng.normal(1.765 - 0.135 * femininity, 0.075), 1.45, 2.0);
  const mass = clamp(rng.normal(0, 1), -2.2, 2.2);
  const girth = Math.exp(0.11 * mass);
  const fem = femininity - 0.5;
  return {
    stature,
    femininity,
    girth,
    belly: clamp(0.006 + 0.012 * mass + rng.normal(0, 0.004), 0, 0.05),
    shoulderWidth: clamp((1 - 0.09 * fem) * Math.exp(rng.normal(0, 0.035)), 0.85, 1.15),
    hipWidth: clamp((1 + 0.08 * fem) * Math.exp(rng.normal(0, 0.035) + 0.03 * mass), 0.85, 1.2),
    chest: clamp((1 - 0.06 * fem) * Math.exp(rng.normal(0, 0.04) + 0.05 * mass), 0.8, 1.25),
    waist: clamp((1 - 0.12 * fem) * Math.exp(rng.normal(0, 0.05) + 0.09 * mass), 0.75, 1.35),
    hips: clamp((1 + 0.09 * fem) * Math.exp(rng.normal(0, 0.04) + 0.06 * mass), 0.8, 1.3),
    armGirth: clamp((1 - 0.08 * fem) * Math.exp(rng.normal(0, 0.06) + 0.07 * mass), 0.75, 1.35),
    legGirth: clamp((1 + 0.03 * fem) * Math.exp(rng.normal(0, 0.05) + 0.06 * mass), 0.8, 1.3),
    legLength: clamp(Math.exp(rng.normal(0, 0.035)), 0.9, 1.1),
    armLength: clamp((1 - 0.025 * fem) * Math.exp(rng.normal(0, 0.03)), 0.9, 1.1),
    torsoLength: clamp(Math.exp(rng.normal(0, 0.035)), 0.9, 1.1),
    neckLength: clamp((1 + 0.06 * fem) * Math.exp(rng.normal(0, 0.07)), 0.8, 1.2),
    headSize: clamp(Math.exp(rng.normal(0, 0.035)), 0.9, 1.1),
    breast: clamp((0.005 + 0.025 * femininity) * Math.exp(rng.normal(0, 0.15) + 0.12 * mass), 0.004, 0.055),
  };
}
