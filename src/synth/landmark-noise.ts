/**
 * A landmark detector's view of a synthetic person's true 2D joints: what the fitting network's
 * "landmarks" input (src/nn/fitter-inputs.ts) is trained on, so that at run time it can read what
 * BlazePose gives (src/landmarks/to-body-joints.ts) — 18 of the body model's 24 joints, each with a
 * visibility — although no detector runs during training. Every draw comes from the caller's random
 * stream (one per example), so a batch is reproducible.
 *
 *   missing    the joints no landmark gives (spine, neck, collars) are NaN (an empty heatmap)
 *   anatomy    a landmark is not the body model's joint: BlazePose's hips lie a little apart from the
 *              model's hip joints (both move from their middle by a factor in [hipSpread[0],
 *              hipSpread[1]]), the middle of its ears and its ankles lie higher than the model's head
 *              and ankle joints (each moves up the body — from the pelvis towards the neck — by
 *              a fraction in [0, rise] of the person's extent); the pelvis is the middle of the hips
 *              as detected (jitter included), as to-body-joints.ts makes it from the landmarks.
 *              Measured with BlazePose lite on 40 validation renders (224², seed 900101), against
 *              the true joints, in units of the person's extent, medians: hips' distance ×1.12;
 *              head 0.034, ankles 0.033 and 0.037 higher; every joint 0.04–0.09 away in all
 *   jitter     Gaussian, σ a fraction in [0, jitter] (drawn per example) of the person's extent in the
 *              picture (the larger side of the joints' bounding box)
 *   poor       each joint with probability `poorRate` is seen poorly: visibility in [0, 0.5] and
 *              3 times the jitter (a hidden limb the detector guesses)
 *   sides      with probability `swapRate` per limb pair group (arms, legs) the left and right joints
 *              trade places (a detector's side mistake)
 *   truncation with probability `truncationRate` per example the picture's edge cuts the body across
 *              (a photo from the waist or the knees up): the joints below a cut — a line across the
 *              body's up direction at a height drawn in `truncationCut` (fractions of the extent
 *              from the pelvis, negative below it) — are a detector's guesses: visibility in
 *              `truncatedVisibility` and an extra error of σ `truncatedJitter` of the extent.
 *              Measured with BlazePose lite on 40 hips-up renders (224², seed 900101,
 *              `npm run eval:landmark-fit -- --close-up-rate 1`), on the 157 joints out of the
 *              picture: visibility quartiles 0.07 / 0.25 / 0.61, error 0.16 / 0.32 / 0.53 of the
 *              extent (a Gaussian of σ 0.27 per axis gives 0.20 / 0.32 / 0.45).
 * A joint seen well gets a visibility in [0.7, 1] (BlazePose scores its visible landmarks near 1).
 */
import type { Rng } from '../util/random.js';
import { LANDMARK_BODY_JOINTS } from '../landmarks/to-body-joints.js';

export const BODY_JOINTS = 24;

export interface LandmarkNoiseOptions {
  /** Largest jitter σ as a fraction of the person's extent (default 0.05). */
  jitter?: number;
  /** Probability that a joint is seen poorly (default 0.1). */
  poorRate?: number;
  /** Probability per group (arms, legs) of left and right swapped (default 0.03). */
  swapRate?: number;
  /** Range of the factor the hips move from their middle by (default [0.9, 1.4]). */
  hipSpread?: readonly [number, number];
  /** Largest rise of the head and ankle landmarks as a fraction of the person's extent (default 0.06). */
  rise?: number;
  /** Probability per example that the picture cuts the body across (default 0: whole bodies only). */
  truncationRate?: number;
  /** Range of the cut's height above the pelvis, in fractions of the extent (default [-0.35, 0.05]). */
  truncationCut?: readonly [number, number];
  /** Visibility range of the joints below a cut (default [0, 0.65]). */
  truncatedVisibility?: readonly [number, number];
  /** σ of the extra error of the joints below a cut, a fraction of the extent (default 0.27). */
  truncatedJitter?: number;
}

export const DEFAULT_LANDMARK_NOISE: Required<LandmarkNoiseOptions> = {
  jitter: 0.05, poorRate: 0.1, swapRate: 0.03, hipSpread: [0.9, 1.4], rise: 0.06,
  truncationRate: 0, truncationCut: [-0.35, 0.05], truncatedVisibility: [0, 0.65], truncatedJitter: 0.27,
};

export interface DetectedJoints {
  /** 24 × 2 pixels; NaN for a joint the detector does not give. */
  joints2d: Float32Array;
  /** 24 confidences in [0, 1] (0 for a missing joint). */
  confidence: Float32Array;
}

const PELVIS = 0;
const NECK = 12;
const HIPS: readonly [number, number] = [1, 2];
/** Landmarks that sit higher on the body than the model's joints: the ankles and the head. */
const RISING: readonly number[] = [7, 8, 15];
/** Left/right twins (SMPL numbering) of the arms, then of the legs. */
const ARM_PAIRS: readonly [number, number][] = [[16, 17], [18, 19], [20, 21], [22, 23]];
const LEG_PAIRS: readonly [number, number][] = [[1, 2], [4, 5], [7, 8], [10, 11]];

/**
 * The person's extent in the picture, the unit of every distance above: the larger side of the box of
 * the 24 joints (24 × 2 pixels from `offset`), at least 1 px.
 */
export function personExtent(joints2d: ArrayLike<number>, offset = 0): number {
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (let j = 0; j < BODY_JOINTS; j++) {
    x0 = Math.min(x0, joints2d[offset + 2 * j]);
    x1 = Math.max(x1, joints2d[offset + 2 * j]);
    y0 = Math.min(y0, joints2d[offset + 2 * j + 1]);
    y1 = Math.max(y1, joints2d[offset + 2 * j + 1]);
  }
  return Math.max(x1 - x0, y1 - y0, 1);
}

/** The detector's view of one example's true joints (24 × 2 pixels, in `truth` from `offset`). */
export function detectLandmarkJoints(truth: ArrayLike<number>, rng: Rng, options: LandmarkNoiseOptions = {}, offset = 0): DetectedJoints {
  const o = { ...DEFAULT_LANDMARK_NOISE, ...options };
  const p = Float64Array.from({ length: 2 * BODY_JOINTS }, (_, i) => truth[offset + i]);
  const extent = personExtent(p);

  // Hips spread from their middle.
  const spread = rng.uniform(o.hipSpread[0], o.hipSpread[1]);
  const [l, r] = HIPS;
  for (let a = 0; a < 2; a++) {
    const mid = (p[2 * l + a] + p[2 * r + a]) / 2;
    p[2 * l + a] = mid + (p[2 * l + a] - mid) * spread;
    p[2 * r + a] = mid + (p[2 * r + a] - mid) * spread;
  }
  // Head and ankles rise up the body (pelvis → neck; straight up the picture if those coincide).
  let [ux, uy] = [p[2 * NECK] - p[2 * PELVIS], p[2 * NECK + 1] - p[2 * PELVIS + 1]];
  const length = Math.hypot(ux, uy);
  [ux, uy] = length > 1e-6 ? [ux / length, uy / length] : [0, -1];
  for (const j of RISING) {
    const rise = rng.uniform(0, o.rise) * extent;
    p[2 * j] += ux * rise;
    p[2 * j + 1] += uy * rise;
  }

  // Side mistakes, per group.
  for (const group of [ARM_PAIRS, LEG_PAIRS]) {
    if (rng.next() >= o.swapRate) continue;
    for (const [a, b] of group) {
      for (let k = 0; k < 2; k++) [p[2 * a + k], p[2 * b + k]] = [p[2 * b + k], p[2 * a + k]];
    }
  }

  const sigma = rng.uniform(0, o.jitter) * extent;
  const joints2d = new Float32Array(2 * BODY_JOINTS).fill(NaN);
  const confidence = new Float32Array(BODY_JOINTS);
  for (const j of LANDMARK_BODY_JOINTS) {
    if (j === PELVIS) continue;
    const poor = rng.next() < o.poorRate;
    const s = poor ? 3 * sigma : sigma;
    joints2d[2 * j] = p[2 * j] + rng.normal(0, s);
    joints2d[2 * j + 1] = p[2 * j + 1] + rng.normal(0, s);
    confidence[j] = poor ? rng.uniform(0, 0.5) : rng.uniform(0.7, 1);
  }
  // The picture's edge cuts the body (drawn last, so that without truncation every other draw stays
  // as it was): the joints below the cut are guesses.
  if (o.truncationRate > 0 && rng.next() < o.truncationRate) {
    const pelvisAlongUp = p[2 * PELVIS] * ux + p[2 * PELVIS + 1] * uy;
    const cut = rng.uniform(o.truncationCut[0], o.truncationCut[1]) * extent;
    for (const j of LANDMARK_BODY_JOINTS) {
      if (j === PELVIS || p[2 * j] * ux + p[2 * j + 1] * uy - pelvisAlongUp >= cut) continue;
      joints2d[2 * j] += rng.normal(0, o.truncatedJitter * extent);
      joints2d[2 * j + 1] += rng.normal(0, o.truncatedJitter * extent);
      confidence[j] = Math.min(confidence[j], rng.uniform(o.truncatedVisibility[0], o.truncatedVisibility[1]));
    }
  }
  // The pelvis is the middle of the hips as detected, its visibility theirs (to-body-joints.ts).
  for (let a = 0; a < 2; a++) joints2d[2 * PELVIS + a] = (joints2d[2 * l + a] + joints2d[2 * r + a]) / 2;
  confidence[PELVIS] = (confidence[l] + confidence[r]) / 2;
  return { joints2d, confidence };
}
