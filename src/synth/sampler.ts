/**
 * Per-example parameters of a synthetic sample, drawn on the CPU from a seed (cheap: a few hundred
 * numbers), then uploaded once; everything per pixel happens on the GPU. Example i of seed s always
 * gets the same parameters, whatever the batch it is drawn in (its own Rng, seeded from (s, i)).
 * Tables: docs/synth.md.
 */
import { inverseRodrigues, nbfCamera } from '../smpl/cpu-forward.js';
import { Rng } from '../util/random.js';
import { eulerToMatrix, globalRotation, POSE_FAMILIES, sampleBodyPose } from './pose.js';
import { firstPenetration, restPoseContacts, type Skeleton } from './skeleton.js';
import { sampleAppearance, sampleAugmentation, sampleOccluder, type Appearance, type Augmentation, type Occluder } from './appearance.js';

export interface SamplerOptions {
  /** Image side in pixels (square crops, as NBF's). */
  size: number;
  /** Fraction of the image height the person fills (NBF: about 0.8; default 0.8). */
  fill?: number;
  /** Relative jitter of the fill (scale augmentation; default 0.12 → ×[0.88, 1.12]). */
  scaleJitter?: number;
  /** Jitter of the person's centre as a fraction of the image side (crop jitter; default 0.05). */
  centreJitter?: number;
  /** Largest in-plane rotation in radians (rotation augmentation; default 0.35). */
  maxSpin?: number;
  /** Largest tilt of the body from upright in radians (default 0.25). */
  maxTilt?: number;
  /** Probability of a partial occluder (default 0.3). */
  occluderRate?: number;
  /** Draw appearance and augmentations (default true); false gives a plain mid-grey look, no augmentations. */
  appearance?: boolean;
  /**
   * Probability of a second person entering the frame from the left or right, in front of or behind
   * the main one (default 0). It is drawn as an occluder: its pixels are background in every map,
   * only the main person is the target. Not with the plain look.
   */
  otherPersonRate?: number;
  /**
   * Share of the people turned away from the camera (|yaw| > 90°). Default 0.5: the yaw is uniform
   * over the full turn. Photographs of people mostly show them from the front, and left and right
   * swap with the facing, so a segmenter trained for photos sees fewer back views (e.g. 0.25).
   */
  backViewRate?: number;
  /**
   * Probability of an upper-body framing, as in portraits and half-body photographs (default 0): the
   * box of the joints from the hips up (pelvis, spine, neck, head, collars, shoulders, elbows; with
   * their margins) fills U(0.7, 1) of the frame, so the legs leave the picture (and sometimes a
   * hand). Drawn from its own stream (closeUpSeed), so every other draw of an example is the same
   * whatever the rate. Not with the plain look.
   */
  closeUpRate?: number;
}

/** A second person in the picture (drawn as an occluder; see SamplerOptions.otherPersonRate). */
export interface OtherPerson {
  betas: Float64Array;
  /** 72 parent-relative axis-angle numbers, index 0 the global orientation into the camera frame. */
  pose: Float64Array;
  /** Translation (metres, camera frame); the same camera as the main person. */
  trans: Float64Array;
  family: string;
  appearance: Appearance;
}

export interface ExampleParams {
  index: number;
  /** B shape coefficients, N(0, 1) truncated at ±3. */
  betas: Float64Array;
  /** 72 parent-relative axis-angle numbers (index 0: the global orientation into the camera frame). */
  pose: Float64Array;
  /** Global translation (metres, camera frame). */
  trans: Float64Array;
  /** Camera (fx, fy, cx, cy) in pixels. */
  camera: Float64Array;
  family: string;
  familyIndex: number;
  /** Pose draws the self-penetration check rejected. */
  rejected: number;
  appearance: Appearance;
  augmentation: Augmentation;
  occluder: Occluder;
  /** A second person entering the frame (absent: none). */
  other?: OtherPerson;
  /** Set when the example is framed as a close-up (SamplerOptions.closeUpRate). */
  closeUp?: true;
}

/** Seed of example `index` of a run with seed `seed` (a 32-bit mix, so neighbours are unrelated). */
export function exampleSeed(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Seed of the second stream of example `index` (appearance details drawn since surface textures), so
 * that the example's own stream — and with it the augmentation and occluder of every seed — stays as
 * it was.
 */
export function detailSeed(seed: number, index: number): number {
  return exampleSeed((seed ^ 0x5bd1e995) >>> 0, index);
}

/** Seed of the third stream of example `index`: the second person (drawn or not, whatever the rate). */
export function otherPersonSeed(seed: number, index: number): number {
  return exampleSeed((seed ^ 0x27d4eb2f) >>> 0, index);
}

/** Seed of the fourth stream of example `index`: the close-up framing (drawn or not, whatever the rate). */
export function closeUpSeed(seed: number, index: number): number {
  return exampleSeed((seed ^ 0x165667b1) >>> 0, index);
}

/** The joints an upper-body framing keeps in the picture: pelvis, hips, spine, neck, collars, head, shoulders, elbows. */
const UPPER_BODY_JOINTS = [0, 1, 2, 3, 6, 9, 12, 13, 14, 15, 16, 17, 18, 19];

/**
 * The box [x0, x1, y0, y1] (metres, camera-aligned body frame) of the given joints, each widened by
 * its margin (JOINT_MARGIN).
 */
function jointBox(joints: ArrayLike<number>, which: readonly number[]): [number, number, number, number] {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const j of which) {
    const m = JOINT_MARGIN[j];
    x0 = Math.min(x0, joints[3 * j] - m);
    x1 = Math.max(x1, joints[3 * j] + m);
    y0 = Math.min(y0, joints[3 * j + 1] - m);
    y1 = Math.max(y1, joints[3 * j + 1] + m);
  }
  return [x0, x1, y0, y1];
}

/**
 * The yaw (radians, 0 facing the camera) of a uniform draw u in [−1, 1): |u| below 1 − backViewRate
 * maps uniformly onto the front half (|yaw| < π/2), the rest onto the back half. One draw whatever
 * the rate, so every other parameter of an example stays the same; rate 0.5 is the uniform full turn.
 */
export function facingYaw(u: number, backViewRate: number): number {
  if (!(backViewRate >= 0 && backViewRate <= 1)) throw new RangeError(`backViewRate must be in [0, 1], got ${backViewRate}`);
  const a = Math.abs(u);
  const front = 1 - backViewRate;
  const half = a < front ? (a / front) * (Math.PI / 2) : Math.PI / 2 + ((a - front) / Math.max(backViewRate, 1e-12)) * (Math.PI / 2);
  return Math.sign(u) * half;
}

/** N(0, 1) truncated to [−limit, limit] by redrawing. */
export function truncatedNormal(rng: Rng, limit = 3): number {
  for (;;) {
    const x = rng.normal();
    if (Math.abs(x) <= limit) return x;
  }
}

/** NBF's focal length: 5000 px for a 512-px crop, scaled with the crop. */
export function nbfFocalLength(size: number): number {
  return nbfCamera(size).focalLength as number;
}

/** How far the body reaches past each joint (metres): the head's top, hands, feet, limb thickness. */
const JOINT_MARGIN = [0.12, 0.09, 0.09, 0.12, 0.07, 0.07, 0.12, 0.07, 0.07, 0.12, 0.06, 0.06, 0.08, 0.1, 0.1, 0.2, 0.07, 0.07, 0.06, 0.06, 0.05, 0.05, 0.08, 0.08];
const ALL_JOINTS = Array.from({ length: 24 }, (_, j) => j);

export function sampleExample(skeleton: Skeleton, seed: number, index: number, options: SamplerOptions): ExampleParams {
  const rng = new Rng(exampleSeed(seed, index));
  const size = options.size;
  const B = skeleton.shapeCount;
  const betas = new Float64Array(B);
  for (let b = 0; b < B; b++) betas[b] = truncatedNormal(rng, 3);
  const rest = skeleton.restJoints(betas);

  // Body pose with the self-penetration check (on the body alone: orientation does not matter).
  const body = checkedBodyPose(skeleton, rng, rest);
  const family = POSE_FAMILIES[body.familyIndex];

  // Global orientation: a full turn about the vertical, a moderate tilt, the in-plane spin.
  const maxTilt = options.maxTilt ?? 0.25;
  // Without a rate, the draw as it always was (so every seed keeps its pictures bit for bit).
  const yaw = options.backViewRate === undefined ? rng.uniform(-Math.PI, Math.PI) : facingYaw(rng.uniform(-1, 1), options.backViewRate);
  const pitch = (family.pitch ?? 0) + rng.uniform(-maxTilt, maxTilt);
  const roll = rng.uniform(-maxTilt, maxTilt) * 0.6;
  const spin = rng.uniform(-1, 1) * (options.maxSpin ?? 0.35);
  const root = globalRotation(yaw, pitch, roll, spin);
  const rotations = new Float64Array(24 * 9);
  rotations.set(root);
  for (let j = 1; j < 24; j++) rotations.set(eulerToMatrix([body.eulers[3 * j], body.eulers[3 * j + 1], body.eulers[3 * j + 2]]), 9 * j);
  const pose = new Float64Array(72);
  for (let j = 0; j < 24; j++) inverseRodrigues(rotations, 9 * j, pose, 3 * j);

  // Camera: NBF's focal length; the person (joints plus margins) fills `fill` of the crop.
  const focal = nbfFocalLength(size);
  const joints = skeleton.posedJoints(rest, rotations);
  const scaleJitter = options.scaleJitter ?? 0.12;
  const wholeBodyFill = (options.fill ?? 0.8) * (1 + rng.uniform(-scaleJitter, scaleJitter));
  // The close-up stream draws the same numbers whatever the rate (and nothing from the main one).
  const closeUp = new Rng(closeUpSeed(seed, index));
  const closeUpDrawn = closeUp.next() < ((options.appearance ?? true) ? (options.closeUpRate ?? 0) : 0);
  const closeUpFill = closeUp.uniform(0.7, 1);
  const fill = closeUpDrawn ? closeUpFill : wholeBodyFill;
  const [x0, x1, y0, y1] = jointBox(joints, closeUpDrawn ? UPPER_BODY_JOINTS : ALL_JOINTS);
  const extent = Math.max(x1 - x0, y1 - y0);
  const depth = (focal * extent) / (fill * size);
  const centreJitter = options.centreJitter ?? 0.05;
  const du = rng.uniform(-centreJitter, centreJitter) * size;
  const dv = rng.uniform(-centreJitter, centreJitter) * size;
  const trans = Float64Array.from([
    -(x0 + x1) / 2 + (du * depth) / focal,
    -(y0 + y1) / 2 + (dv * depth) / focal,
    depth,
  ]);
  const camera = Float64Array.from([focal, focal, size / 2, size / 2]);

  const useAppearance = options.appearance ?? true;
  const appearance = sampleAppearance(rng, useAppearance, new Rng(detailSeed(seed, index)));
  const augmentation = sampleAugmentation(rng, useAppearance);
  const occluder = sampleOccluder(rng, size, useAppearance ? (options.occluderRate ?? 0.3) : 0);
  const example: ExampleParams = { index, betas, pose, trans, camera, family: body.family, familyIndex: body.familyIndex, rejected: body.rejected, appearance, augmentation, occluder };
  if (closeUpDrawn) example.closeUp = true;
  const otherRate = useAppearance ? (options.otherPersonRate ?? 0) : 0;
  if (otherRate > 0) {
    const other = sampleOtherPerson(skeleton, new Rng(otherPersonSeed(seed, index)), otherRate, focal, size, depth);
    if (other) example.other = other;
  }
  return example;
}

/** A body pose with the self-penetration check, on its own rest joints. */
function checkedBodyPose(skeleton: Skeleton, rng: Rng, rest: Float64Array) {
  const contacts = restPoseContacts(rest);
  const bodyRotations = new Float64Array(24 * 9);
  bodyRotations.set([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  return sampleBodyPose(rng, (eulers) => {
    for (let j = 1; j < 24; j++) bodyRotations.set(eulerToMatrix([eulers[3 * j], eulers[3 * j + 1], eulers[3 * j + 2]]), 9 * j);
    return firstPenetration(skeleton.posedJoints(rest, bodyRotations), contacts) !== null;
  });
}

/**
 * A second person with probability `rate` (its stream draws the same numbers whether it is kept or
 * not): shape, a pose of any family, turned at random about its vertical, at depth ×U(0.55, 1.4) of
 * the main person's (in front or behind), its pelvis projected at U(−0.2, 0.12)·S from the left or
 * U(0.88, 1.2)·S from the right edge and U(0.3, 0.8)·S down, so part of it enters the frame; its own
 * look.
 */
export function sampleOtherPerson(skeleton: Skeleton, rng: Rng, rate: number, focal: number, size: number, mainDepth: number): OtherPerson | null {
  const enabled = rng.next() < rate;
  const betas = new Float64Array(skeleton.shapeCount);
  for (let b = 0; b < betas.length; b++) betas[b] = truncatedNormal(rng, 3);
  const rest = skeleton.restJoints(betas);
  const body = checkedBodyPose(skeleton, rng, rest);
  const family = POSE_FAMILIES[body.familyIndex];
  const root = globalRotation(rng.uniform(-Math.PI, Math.PI), (family.pitch ?? 0) + rng.uniform(-0.15, 0.15), 0, rng.uniform(-0.2, 0.2));
  const rotations = new Float64Array(24 * 9);
  rotations.set(root);
  for (let j = 1; j < 24; j++) rotations.set(eulerToMatrix([body.eulers[3 * j], body.eulers[3 * j + 1], body.eulers[3 * j + 2]]), 9 * j);
  const pose = new Float64Array(72);
  for (let j = 0; j < 24; j++) inverseRodrigues(rotations, 9 * j, pose, 3 * j);
  const pelvis = skeleton.posedJoints(rest, rotations).subarray(0, 3);
  const z = mainDepth * rng.uniform(0.55, 1.4);
  const u = size * (rng.next() < 0.5 ? rng.uniform(-0.2, 0.12) : rng.uniform(0.88, 1.2));
  const v = size * rng.uniform(0.3, 0.8);
  const trans = Float64Array.from([((u - size / 2) * z) / focal - pelvis[0], ((v - size / 2) * z) / focal - pelvis[1], z - pelvis[2]]);
  const appearance = sampleAppearance(rng, true, rng);
  return enabled ? { betas, pose, trans, family: body.family, appearance } : null;
}
