/**
 * Two networks' answers for one body (`--route both`: the fitting network from the part map, the
 * landmark network from BlazePose's joints) → one: β averaged, each joint's global rotation the
 * nearest proper rotation to the mean of the two (R_a + R_b)/2, back to the
 * parent-relative axis-angle θ. The two networks' errors are only partly correlated, so where they
 * agree on which way the body faces their mean is closer than either; where their roots are more than
 * `maxRootAngle` degrees apart one of them has the body facing wrongly and a mean of the two is
 * neither, so there is no blend (null). CPU, float64: 24 small matrices.
 */
import { absoluteRotations, absoluteToRelativeRotations, inverseRodrigues, rodrigues } from '../smpl/cpu-forward.js';
import { geodesicAngles } from '../eval/metrics.js';
import { nearestRotationRef } from '../smpl/gpu/rotations.ref.js';
import { NbfError } from '../runtime/errors.js';

/** Largest angle (degrees) between the two answers' root rotations for which they are blended. */
export const BLEND_MAX_ROOT_ANGLE = 45;

export interface PoseAndShape {
  /** 72 parent-relative axis-angle numbers (joint 0 in the camera frame). */
  pose: ArrayLike<number>;
  betas: ArrayLike<number>;
}

/** Degrees between the root (global) rotations of two poses. */
export function rootAngleDegrees(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return (geodesicAngles(rodrigues(a[0], a[1], a[2]), rodrigues(b[0], b[1], b[2]), 1)[0] * 180) / Math.PI;
}

/**
 * The blend of two answers (see the header), or null when their roots are more than `maxRootAngle`
 * degrees apart. `parents`: the body model's kinematic tree (24 joints).
 */
export function blendBodies(a: PoseAndShape, b: PoseAndShape, parents: ArrayLike<number>, maxRootAngle = BLEND_MAX_ROOT_ANGLE): { pose: number[]; betas: number[] } | null {
  const J = parents.length;
  if (a.pose.length !== 3 * J || b.pose.length !== 3 * J) throw new NbfError(`blendBodies: poses must hold ${3 * J} numbers, got ${a.pose.length} and ${b.pose.length}`);
  if (a.betas.length !== b.betas.length) throw new NbfError(`blendBodies: shapes of ${a.betas.length} and ${b.betas.length} coefficients`);
  if (rootAngleDegrees(a.pose, b.pose) > maxRootAngle) return null;
  const ga = absoluteRotations(a.pose, parents);
  const gb = absoluteRotations(b.pose, parents);
  const mean = new Float64Array(J * 9);
  for (let k = 0; k < J * 9; k++) mean[k] = 0.5 * (ga[k] + gb[k]);
  // The float64 nearest proper rotation the orthogonalise kernel is tested against (SVD-based).
  for (let j = 0; j < J; j++) mean.set(nearestRotationRef(mean, 9 * j), 9 * j);
  const relative = absoluteToRelativeRotations(mean, parents);
  const pose = new Float64Array(3 * J);
  for (let j = 0; j < J; j++) inverseRodrigues(relative, 9 * j, pose, 3 * j);
  return { pose: Array.from(pose), betas: Array.from(a.betas, (v, i) => 0.5 * (v + b.betas[i])) };
}
