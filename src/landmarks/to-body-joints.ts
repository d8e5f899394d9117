/**
 * BlazePose's 33 landmarks → the body model's 24 joints (SMPL order, src/synth/pose.ts JOINT_NAMES),
 * as targets for the refinement: 2D positions in picture pixels, metric 3D positions (BlazePose's
 * world points) and a weight per joint.
 *
 * Limb joints map one to one (shoulders, elbows, wrists, knees, ankles). Others are midpoints or
 * stand-ins whose anatomy differs, so they get lower weights: BlazePose's hips sit on the outside of
 * the pelvis while the body model's hip joints are the joint centres inside it; the pelvis is the
 * middle of the hips; the head joint is the middle of the ears; hands and feet are the middles of
 * the finger and the toe landmarks. Spine, neck and collar joints have no landmark (weight 0).
 * Each weight is multiplied by the landmarks' visibility, so a joint BlazePose cannot see counts less.
 */
import type { PoseLandmarks } from './blazepose.js';

/** [body joint, BlazePose landmarks averaged, weight]. */
const MAPPING: readonly [number, readonly number[], number][] = [
  [0, [23, 24], 0.5], // pelvis ← middle of the hips
  [1, [23], 0.7], [2, [24], 0.7], // hips
  [4, [25], 1], [5, [26], 1], // knees
  [7, [27], 1], [8, [28], 1], // ankles
  [10, [31], 0.5], [11, [32], 0.5], // feet ← toe landmarks
  [15, [7, 8], 0.5], // head ← middle of the ears
  [16, [11], 1], [17, [12], 1], // shoulders
  [18, [13], 1], [19, [14], 1], // elbows
  [20, [15], 1], [21, [16], 1], // wrists
  [22, [17, 19], 0.5], [23, [18, 20], 0.5], // hands ← middle of pinky and index
];

/** The body joints a landmark gives (SMPL numbers, ascending): 18 of the 24. */
export const LANDMARK_BODY_JOINTS: readonly number[] = MAPPING.map(([joint]) => joint).sort((a, b) => a - b);

export interface BodyJointTargets {
  /** 24 × 2 picture pixels (0 where the weight is 0). */
  joints2d: Float32Array;
  /** 24 × 3 metres, BlazePose's world frame (hip-centred, camera axes). */
  joints3d: Float32Array;
  /** 24 weights in [0, 1]: the mapping's weight times the visibility. */
  weights: Float32Array;
  /** 24 visibilities in [0, 1] (the landmarks' mean); 0 for joints no landmark gives. */
  visibility: Float32Array;
}

export function bodyJointTargets(pose: PoseLandmarks): BodyJointTargets {
  const joints2d = new Float32Array(48);
  const joints3d = new Float32Array(72);
  const weights = new Float32Array(24);
  const visibilities = new Float32Array(24);
  for (const [joint, marks, weight] of MAPPING) {
    let visibility = 0;
    for (const m of marks) {
      for (let a = 0; a < 2; a++) joints2d[2 * joint + a] += pose.keypoints[m][a] / marks.length;
      for (let a = 0; a < 3; a++) joints3d[3 * joint + a] += pose.world[m][a] / marks.length;
      visibility += pose.keypoints[m][2] / marks.length;
    }
    weights[joint] = weight * visibility;
    visibilities[joint] = visibility;
  }
  return { joints2d, joints3d, weights, visibility: visibilities };
}

/**
 * BlazePose landmarks that bodyJointTargets maps back to these body joints (24 × 2 picture pixels):
 * every landmark of the mapping at its joint, seen (visibility 1), the others unseen at the origin;
 * world points 0. A made-up detection for warming up and testing the stages after BlazePose.
 */
export function poseLandmarksOfJoints(joints2d: ArrayLike<number>, width: number, height: number): PoseLandmarks {
  const keypoints: [number, number, number][] = Array.from({ length: 33 }, () => [0, 0, 0]);
  for (const [joint, marks] of MAPPING) for (const m of marks) keypoints[m] = [joints2d[2 * joint], joints2d[2 * joint + 1], 1];
  const seen = keypoints.filter((k) => k[2] > 0);
  const xs = seen.map((k) => k[0]);
  const ys = seen.map((k) => k[1]);
  const box: [number, number, number, number] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  return {
    keypoints, world: Array.from({ length: 33 }, () => [0, 0, 0]), score: 1, box,
    roi: { cx: width / 2, cy: height / 2, size: Math.max(width, height), angle: 0 }, firstCrop: 'whole picture',
    mask: new Float32Array(0), width, height, timings: { cropMs: 0, networkMs: 0, decodeMs: 0, detectorMs: 0, passes: 0 },
  };
}

