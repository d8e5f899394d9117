/**
 * Joints-only forward kinematics on the CPU (float64), for what the sampler decides before the GPU
 * runs: the self-penetration check and the camera framing. The GPU SMPL layer computes the targets.
 * Rest joints are J_regressor·(v_template + shapedirs·β), folded to per-joint tables once.
 */
import { ShapeError } from '../runtime/errors.js';
import { rodrigues } from '../smpl/cpu-forward.js';
import type { BodyModel } from '../smpl/types.js';

export class Skeleton {
  readonly jointCount: number;
  readonly shapeCount: number;
  readonly parents: Int32Array;
  /** J·3 rest joints of the mean shape. */
  private readonly jointTemplate: Float64Array;
  /** (J·3)·B: how each rest-joint coordinate moves per shape coefficient. */
  private readonly jointShapedirs: Float64Array;

  constructor(model: Pick<BodyModel, 'name' | 'jointCount' | 'shapeCount' | 'vertexCount' | 'vTemplate' | 'shapedirs' | 'jRegressor' | 'parents'>) {
    const J = (this.jointCount = model.jointCount);
    const B = (this.shapeCount = model.shapeCount);
    if (J !== 24) throw new ShapeError(`Skeleton: body model "${model.name}" has ${J} joints; the synthetic-data samplers need SMPL's 24`);
    this.parents = Int32Array.from(model.parents);
    this.jointTemplate = new Float64Array(J * 3);
    this.jointShapedirs = new Float64Array(J * 3 * B);
    const reg = model.jRegressor;
    for (let j = 0; j < J; j++) {
      for (let k = reg.rowStart[j]; k < reg.rowStart[j + 1]; k++) {
        const v = reg.colIndex[k];
        const w = reg.values[k];
        for (let a = 0; a < 3; a++) {
          this.jointTemplate[3 * j + a] += w * model.vTemplate[3 * v + a];
          for (let b = 0; b < B; b++) this.jointShapedirs[(3 * j + a) * B + b] += w * model.shapedirs[(3 * v + a) * B + b];
        }
      }
    }
  }

  /** Rest joints (J·3) of a shape. */
  restJoints(betas: ArrayLike<number>): Float64Array {
    const B = this.shapeCount;
    const out = Float64Array.from(this.jointTemplate);
    for (let i = 0; i < out.length; i++) for (let b = 0; b < B; b++) out[i] += this.jointShapedirs[i * B + b] * betas[b];
    return out;
  }

  /**
   * Posed joints (J·3) for parent-relative rotation matrices (J·9) on rest joints; the root stays at
   * its rest position (add the translation yourself), as in SMPL.
   */
  posedJoints(rest: Float64Array, rotations: ArrayLike<number>): Float64Array {
    const J = this.jointCount;
    const global = new Float64Array(J * 12);
    const out = new Float64Array(J * 3);
    for (let j = 0; j < J; j++) {
      const p = this.parents[j];
      const offset = p < 0 ? [rest[0], rest[1], rest[2]] : [rest[3 * j] - rest[3 * p], rest[3 * j + 1] - rest[3 * p + 1], rest[3 * j + 2] - rest[3 * p + 2]];
      for (let r = 0; r < 3; r++) {
        for (let c = 0; c < 3; c++) {
          global[12 * j + 4 * r + c] = p < 0
            ? rotations[9 * j + 3 * r + c]
            : global[12 * p + 4 * r] * rotations[9 * j + c] + global[12 * p + 4 * r + 1] * rotations[9 * j + 3 + c] + global[12 * p + 4 * r + 2] * rotations[9 * j + 6 + c];
        }
        global[12 * j + 4 * r + 3] = p < 0
          ? offset[r]
          : global[12 * p + 4 * r] * offset[0] + global[12 * p + 4 * r + 1] * offset[1] + global[12 * p + 4 * r + 2] * offset[2] + global[12 * p + 4 * r + 3];
      }
      for (let r = 0; r < 3; r++) out[3 * j + r] = global[12 * j + 4 * r + 3];
    }
    return out;
  }

  /** Posed joints for parent-relative axis-angle θ (J·3). */
  posedJointsFromAxisAngle(rest: Float64Array, pose: ArrayLike<number>): Float64Array {
    const J = this.jointCount;
    const rotations = new Float64Array(J * 9);
    for (let j = 0; j < J; j++) rodrigues(pose[3 * j], pose[3 * j + 1], pose[3 * j + 2], rotations, 9 * j);
    return this.posedJoints(rest, rotations);
  }
}

/** A capsule between two joints (an extension past the second joint for heads, hands and feet). */
interface Capsule {
  name: string;
  from: number;
  to: number;
  radius: number;
  /** Extend the segment past `to` by this fraction of its length. */
  extend?: number;
}

/**
 * Capsules of the cheap self-penetration check (radii in metres, a little under the open body's
 * limb thicknesses so touching is not penetrating).
 */
export const CAPSULES: readonly Capsule[] = [
  { name: 'torso', from: 0, to: 12, radius: 0.1 },
  { name: 'head', from: 12, to: 15, radius: 0.08, extend: 0.9 },
  { name: 'left upper arm', from: 16, to: 18, radius: 0.04 },
  { name: 'right upper arm', from: 17, to: 19, radius: 0.04 },
  { name: 'left forearm', from: 18, to: 20, radius: 0.035 },
  { name: 'right forearm', from: 19, to: 21, radius: 0.035 },
  { name: 'left hand', from: 20, to: 22, radius: 0.035, extend: 0.6 },
  { name: 'right hand', from: 21, to: 23, radius: 0.035, extend: 0.6 },
  { name: 'left thigh', from: 1, to: 4, radius: 0.065 },
  { name: 'right thigh', from: 2, to: 5, radius: 0.065 },
  { name: 'left shin', from: 4, to: 7, radius: 0.045 },
  { name: 'right shin', from: 5, to: 8, radius: 0.045 },
  { name: 'left foot', from: 7, to: 10, radius: 0.035, extend: 0.5 },
  { name: 'right foot', from: 8, to: 11, radius: 0.035, extend: 0.5 },
];

/** Capsule pairs checked: limbs against the torso, head, the other limbs; never neighbours. */
const CHECKED_PAIRS: readonly [string, string][] = (() => {
  const pairs: [string, string][] = [];
  const distal = ['forearm', 'hand'];
  for (const side of ['left', 'right']) {
    for (const d of distal) {
      for (const other of ['torso', 'head', 'left thigh', 'right thigh', 'left shin', 'right shin', 'left foot', 'right foot']) pairs.push([`${side} ${d}`, other]);
    }
  }
  for (const a of ['left forearm', 'left hand', 'left upper arm']) for (const b of ['right forearm', 'right hand', 'right upper arm']) pairs.push([a, b]);
  for (const a of ['left thigh', 'left shin', 'left foot']) for (const b of ['right thigh', 'right shin', 'right foot']) pairs.push([a, b]);
  pairs.push(['left foot', 'torso'], ['right foot', 'torso'], ['left shin', 'torso'], ['right shin', 'torso']);
  return pairs;
})();

/** Capsule pairs that already intersect in the rest pose of a shape (rest joints J·3). */
export function restPoseContacts(restJoints: ArrayLike<number>): Set<string> {
  const exempt = new Set<string>();
  for (;;) {
    const hit = firstPenetration(restJoints, exempt);
    if (!hit) return exempt;
    exempt.add(hit.join('|'));
  }
}

/** Shortest distance between segments p0p1 and q0q1 (clamped closest points). */
export function segmentDistance(p0: number[], p1: number[], q0: number[], q1: number[]): number {
  const d1 = p1.map((v, i) => v - p0[i]);
  const d2 = q1.map((v, i) => v - q0[i]);
  const r = p0.map((v, i) => v - q0[i]);
  const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const a = dot(d1, d1);
  const e = dot(d2, d2);
  const f = dot(d2, r);
  let s: number;
  let t: number;
  if (a <= 1e-12 && e <= 1e-12) return Math.sqrt(dot(r, r));
  if (a <= 1e-12) {
    s = 0;
    t = Math.min(1, Math.max(0, f / e));
  } else {
    const c = dot(d1, r);
    if (e <= 1e-12) {
      t = 0;
      s = Math.min(1, Math.max(0, -c / a));
    } else {
      const b = dot(d1, d2);
      const denom = a * e - b * b;
      s = denom > 1e-12 ? Math.min(1, Math.max(0, (b * f - c * e) / denom)) : 0;
      t = (b * s + f) / e;
      if (t < 0) {
        t = 0;
        s = Math.min(1, Math.max(0, -c / a));
      } else if (t > 1) {
        t = 1;
        s = Math.min(1, Math.max(0, (b - c) / a));
      }
    }
  }
  const diff = [0, 1, 2].map((i) => p0[i] + d1[i] * s - (q0[i] + d2[i] * t));
  return Math.sqrt(dot(diff, diff));
}

/**
 * The first pair of capsules that intersect for posed joints (J·3), or null. Pairs listed in
 * `exempt` ("a|b") are skipped: those a body shape's rest pose already brings together (e.g. the
 * thighs of a shape with narrow hips), which no pose can be blamed for.
 */
export function firstPenetration(joints: ArrayLike<number>, exempt?: ReadonlySet<string>): [string, string] | null {
  const ends = new Map<string, [number[], number[], number]>();
  for (const c of CAPSULES) {
    const a = [joints[3 * c.from], joints[3 * c.from + 1], joints[3 * c.from + 2]];
    const b0 = [joints[3 * c.to], joints[3 * c.to + 1], joints[3 * c.to + 2]];
    const k = c.extend ?? 0;
    const b = b0.map((v, i) => v + (v - a[i]) * k);
    ends.set(c.name, [a, b, c.radius]);
  }
  for (const [x, y] of CHECKED_PAIRS) {
    if (exempt?.has(`${x}|${y}`)) continue;
    const [p0, p1, rp] = ends.get(x)!;
    const [q0, q1, rq] = ends.get(y)!;
    if (segmentDistance(p0, p1, q0, q1) < rp + rq) return [x, y];
  }
  return null;
}
