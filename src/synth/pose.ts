/**
 * Pose sampler: pose families (standing, walking, running, sitting, crouching, arms raised, reaching,
 * bending, lying) mixed with random perturbations, clamped to per-joint anatomical limits, with a
 * cheap self-penetration check (capsules around the limbs and torso) that rejects and redraws.
 * Tables: docs/synth.md.
 *
 * Angles are Euler triples (x, y, z) per joint in the body's rest frame (Y up, facing +Z, the
 * subject's left at +X), composed as R = Rx(x)·Ry(y)·Rz(z) (z applied first), then turned into
 * SMPL's parent-relative axis-angle. Sign conventions, for the left side (the right is the mirror:
 * y and z negated): hip x < 0 flexes the thigh forward, knee x > 0 bends it; shoulder z < 0 lowers
 * the arm from the T-pose, y < 0 swings it forward; elbow y < 0 bends it; spine x > 0 bends forward.
 */
import { inverseRodrigues, rodrigues } from '../smpl/cpu-forward.js';
import type { Rng } from '../util/random.js';

export type Euler = readonly [number, number, number];
export type JointRange = readonly [Euler, Euler];

export const JOINT_NAMES = [
  'pelvis', 'left_hip', 'right_hip', 'spine1', 'left_knee', 'right_knee', 'spine2', 'left_ankle',
  'right_ankle', 'spine3', 'left_foot', 'right_foot', 'neck', 'left_collar', 'right_collar', 'head',
  'left_shoulder', 'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist',
  'left_hand', 'right_hand',
] as const;
export type JointName = (typeof JOINT_NAMES)[number];
const J = 24;
const jointIndex = (name: string): number => JOINT_NAMES.indexOf(name as JointName);

/** Left-side limits as [min (x, y, z), max (x, y, z)] in radians; the right side mirrors them. */
const LEFT_LIMITS: Record<string, JointRange> = {
  hip: [[-2.2, -0.7, -0.35], [0.6, 0.7, 1.0]],
  knee: [[0, -0.15, -0.1], [2.5, 0.15, 0.1]],
  ankle: [[-0.6, -0.35, -0.35], [0.8, 0.35, 0.35]],
  foot: [[-0.4, -0.1, -0.1], [0.4, 0.1, 0.1]],
  collar: [[-0.25, -0.3, -0.2], [0.25, 0.3, 0.45]],
  shoulder: [[-1.6, -1.5, -1.45], [1.2, 0.9, 1.6]],
  elbow: [[-0.9, -2.6, -0.15], [0.9, 0.05, 0.15]],
  wrist: [[-0.9, -0.6, -0.9], [0.9, 0.6, 0.9]],
  hand: [[-0.3, -0.3, -0.3], [0.3, 0.3, 0.3]],
};
const CENTRE_LIMITS: Record<string, JointRange> = {
  pelvis: [[-Math.PI, -Math.PI, -Math.PI], [Math.PI, Math.PI, Math.PI]],
  spine1: [[-0.4, -0.5, -0.35], [0.8, 0.5, 0.35]],
  spine2: [[-0.3, -0.4, -0.3], [0.5, 0.4, 0.3]],
  spine3: [[-0.3, -0.4, -0.25], [0.4, 0.4, 0.25]],
  neck: [[-0.5, -0.7, -0.4], [0.6, 0.7, 0.4]],
  head: [[-0.5, -0.7, -0.4], [0.5, 0.7, 0.4]],
};

function mirrorRange([lo, hi]: JointRange): JointRange {
  return [[lo[0], -hi[1], -hi[2]], [hi[0], -lo[1], -lo[2]]];
}

/** Anatomical limits per joint (index order of JOINT_NAMES): [min, max] Euler angles. */
export const JOINT_LIMITS: readonly JointRange[] = JOINT_NAMES.map((name) => {
  if (CENTRE_LIMITS[name]) return CENTRE_LIMITS[name];
  const [side, part] = name.split('_');
  const range = LEFT_LIMITS[part];
  return side === 'left' ? range : mirrorRange(range);
});

/** A family: mean Euler angles for some joints (left/right as named; mirrored at random). */
export interface PoseFamily {
  name: string;
  /** Relative frequency. */
  weight: number;
  /** Standard deviation (radians) of the perturbation added to every joint angle. */
  noise: number;
  /** Global pitch about the body's X axis before the random turn (lying: ±π/2). */
  pitch?: number;
  mean: Partial<Record<JointName, Euler>>;
}

// The table below holds only literals: a spread or a `Math.PI` would look like a side effect to the
// bundler, which would then keep the table in code that never samples a pose (the browser bundle's
// refinement imports this file for the joint limits). Nothing writes a family's mean, so one object is
// shared, and the lying pitch, −π/2, is written out (it is -Math.PI / 2 exactly).
const LYING_PITCH = -1.5707963267948966;
const armsDown = { left_shoulder: [0, 0, -1.25], right_shoulder: [0, 0, 1.25], left_elbow: [0, -0.15, 0], right_elbow: [0, 0.15, 0] } as const;

export const POSE_FAMILIES: readonly PoseFamily[] = [
  { name: 'standing', weight: 3, noise: 0.1, mean: armsDown },
  {
    name: 'walking', weight: 3, noise: 0.1,
    mean: {
      left_hip: [-0.35, 0, 0.05], right_hip: [0.25, 0, -0.05], left_knee: [0.1, 0, 0], right_knee: [0.45, 0, 0],
      left_shoulder: [0.3, 0, -1.3], right_shoulder: [-0.35, 0, 1.3], left_elbow: [0, -0.3, 0], right_elbow: [0, 0.5, 0],
    },
  },
  {
    name: 'running', weight: 2, noise: 0.12,
    mean: {
      spine1: [0.15, 0, 0], left_hip: [-0.9, 0, 0.05], right_hip: [0.4, 0, -0.05], left_knee: [0.7, 0, 0], right_knee: [1.6, 0, 0],
      left_shoulder: [0.7, 0, -1.3], right_shoulder: [-0.8, 0, 1.3], left_elbow: [0, -1.4, 0], right_elbow: [0, 1.4, 0],
    },
  },
  {
    name: 'sitting', weight: 2, noise: 0.1,
    mean: {
      spine1: [0.1, 0, 0], left_hip: [-1.5, 0, 0.1], right_hip: [-1.5, 0, -0.1], left_knee: [1.5, 0, 0], right_knee: [1.5, 0, 0],
      left_shoulder: [-0.4, 0, -1.25], right_shoulder: [-0.4, 0, 1.25], left_elbow: [0, -0.8, 0], right_elbow: [0, 0.8, 0],
    },
  },
  {
    name: 'crouching', weight: 1.5, noise: 0.1,
    mean: {
      spine1: [0.4, 0, 0], spine2: [0.1, 0, 0], left_hip: [-1.9, 0, 0.25], right_hip: [-1.9, 0, -0.25], left_knee: [2.3, 0, 0], right_knee: [2.3, 0, 0],
      left_ankle: [0.4, 0, 0], right_ankle: [0.4, 0, 0],
      left_shoulder: [-0.8, 0, -1.2], right_shoulder: [-0.8, 0, 1.2], left_elbow: [0, -0.6, 0], right_elbow: [0, 0.6, 0],
    },
  },
  {
    name: 'arms raised', weight: 1.5, noise: 0.12,
    mean: { left_shoulder: [0, 0, 1.2], right_shoulder: [0, 0, -1.2], left_elbow: [0, -0.2, 0], right_elbow: [0, 0.2, 0] },
  },
  {
    name: 'reaching', weight: 1.5, noise: 0.12,
    mean: {
      spine1: [0.1, 0.2, 0], spine2: [0.05, 0.15, 0], right_shoulder: [-1.3, 0, 1.1], right_elbow: [0, 0.15, 0],
      left_shoulder: [0, 0, -1.2], left_elbow: [0, -0.3, 0],
    },
  },
  {
    name: 'bending', weight: 1.5, noise: 0.1,
    mean: {
      spine1: [0.6, 0, 0], spine2: [0.3, 0, 0], spine3: [0.2, 0, 0], left_hip: [-0.6, 0, 0.05], right_hip: [-0.6, 0, -0.05],
      left_shoulder: [-0.6, 0, -1.2], right_shoulder: [-0.6, 0, 1.2], left_elbow: [0, -0.2, 0], right_elbow: [0, 0.2, 0],
    },
  },
  { name: 'lying', weight: 0.5, noise: 0.1, pitch: LYING_PITCH, mean: armsDown },
];

/** Rotation matrix (row-major 3×3) of Euler angles: Rx(x)·Ry(y)·Rz(z). */
export function eulerToMatrix([x, y, z]: Euler): Float64Array {
  const rx = rodrigues(x, 0, 0);
  const ry = rodrigues(0, y, 0);
  const rz = rodrigues(0, 0, z);
  return matMul(matMul(rx, ry), rz);
}

export function matMul(a: ArrayLike<number>, b: ArrayLike<number>): Float64Array {
  const out = new Float64Array(9);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) out[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
  return out;
}

/** Mirror of a pose in Euler form across the body's sagittal plane: swap sides, negate y and z. */
function mirrorEulers(angles: Float64Array): Float64Array {
  const out = new Float64Array(angles.length);
  for (let j = 0; j < J; j++) {
    const name = JOINT_NAMES[j];
    const other = name.startsWith('left_') ? jointIndex('right_' + name.slice(5)) : name.startsWith('right_') ? jointIndex('left_' + name.slice(6)) : j;
    out[3 * other] = angles[3 * j];
    out[3 * other + 1] = -angles[3 * j + 1];
    out[3 * other + 2] = -angles[3 * j + 2];
  }
  return out;
}

export function familyMean(family: PoseFamily): Float64Array {
  const angles = new Float64Array(J * 3);
  for (const [name, e] of Object.entries(family.mean)) angles.set(e as Euler, 3 * jointIndex(name));
  return angles;
}

/** Clamps every joint's Euler angles (not the root's) to JOINT_LIMITS, in place. */
export function clampToLimits(angles: Float64Array): Float64Array {
  for (let j = 1; j < J; j++) {
    const [lo, hi] = JOINT_LIMITS[j];
    for (let a = 0; a < 3; a++) angles[3 * j + a] = Math.min(hi[a], Math.max(lo[a], angles[3 * j + a]));
  }
  return angles;
}

/** Parent-relative axis-angle (J·3) of body-joint Euler angles; the root's entry is left 0. */
export function eulersToAxisAngle(angles: Float64Array): Float64Array {
  const pose = new Float64Array(J * 3);
  for (let j = 1; j < J; j++) inverseRodrigues(eulerToMatrix([angles[3 * j], angles[3 * j + 1], angles[3 * j + 2]]), 0, pose, 3 * j);
  return pose;
}

export interface SampledBodyPose {
  family: string;
  /** Index into POSE_FAMILIES. */
  familyIndex: number;
  mirrored: boolean;
  /** J·3 Euler angles of the body joints (the root's entry unused), after clamping. */
  eulers: Float64Array;
  /** Draws rejected by the self-penetration check before this one. */
  rejected: number;
}

/**
 * One body pose (no global orientation): a family drawn by weight, mirrored half the time, perturbed
 * with N(0, noise²) per angle, clamped to the limits; redrawn while `penetrates` says so (at most
 * `maxTries` times; then the family's mean, which the tests check is penetration-free).
 */
export function sampleBodyPose(rng: Rng, penetrates: (eulers: Float64Array) => boolean, maxTries = 20): SampledBodyPose {
  const total = POSE_FAMILIES.reduce((s, f) => s + f.weight, 0);
  let pick = rng.next() * total;
  let familyIndex = 0;
  while (familyIndex < POSE_FAMILIES.length - 1 && pick >= POSE_FAMILIES[familyIndex].weight) pick -= POSE_FAMILIES[familyIndex++].weight;
  const family = POSE_FAMILIES[familyIndex];
  const mirrored = rng.next() < 0.5;
  const base = familyMean(family);
  for (let attempt = 0; attempt < maxTries; attempt++) {
    const eulers = new Float64Array(J * 3);
    for (let i = 3; i < J * 3; i++) eulers[i] = base[i] + rng.normal(0, family.noise);
    clampToLimits(eulers);
    const final = mirrored ? mirrorEulers(eulers) : eulers;
    if (!penetrates(final)) return { family: family.name, familyIndex, mirrored, eulers: final, rejected: attempt };
  }
  const fallback = clampToLimits(mirrored ? mirrorEulers(base) : base);
  return { family: family.name, familyIndex, mirrored, eulers: fallback, rejected: maxTries };
}

/**
 * Global orientation as a rotation matrix into the camera frame (x right, y down, z forward): the
 * body's up (+Y) to the image's up, facing the camera (a half turn about X), after a turn `yaw`
 * about the body's vertical axis, a tilt (`pitch` forward/back, `roll` sideways) and an in-plane
 * rotation `spin` about the optical axis (the rotation augmentation).
 */
export function globalRotation(yaw: number, pitch: number, roll: number, spin: number): Float64Array {
  const facing = rodrigues(Math.PI, 0, 0);
  const body = matMul(matMul(rodrigues(pitch, 0, 0), rodrigues(0, 0, roll)), rodrigues(0, yaw, 0));
  return matMul(rodrigues(0, 0, spin), matMul(facing, body));
}
