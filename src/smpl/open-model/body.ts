/**
 * Skeleton and implicit-surface primitives of the procedural body, both functions of BodyParams.
 *
 * The surface is the zero set of F(x) = −k·log Σᵢ exp(−fᵢ(x)/k): a smooth minimum (soft union) of
 * primitive distance functions fᵢ. Every primitive is a "round cone" (two spheres and their tangent cone)
 * evaluated in a frame whose axes are scaled, which covers capsules, tapered limbs with elliptic
 * sections and ellipsoids (a = b). Each primitive belongs to one bone (a joint index, SMPL order) which
 * drives the part labels and skinning.
 */
import { BodyModelError } from '../errors.js';
import type { BodyParams } from './params.js';

export type Vec3 = [number, number, number];

/** Blend radius of the soft union, as a fraction of stature (≈ 1.2 cm at 1.72 m). */
export const BLEND_FRACTION = 0.007;

/** Floats per packed primitive (see packPrimitive). */
export const PRIM_STRIDE = 22;

export interface Primitive {
  name: string;
  /** Joint whose bone this primitive belongs to (SMPL joint index). */
  bone: number;
  a: Vec3;
  b: Vec3;
  /** Radii at a and b, in the scaled frame. */
  ra: number;
  rb: number;
  /** Unit axis a→b (or the given axis for an ellipsoid), and two unit normals. */
  u: Vec3;
  v: Vec3;
  w: Vec3;
  /** Scale factors of the frame axes: the section is an ellipse of radii r·sv, r·sw. */
  su: number;
  sv: number;
  sw: number;
}

export interface BodyGeometry {
  params: BodyParams;
  /** 24 rest joints, metres, SMPL order. */
  joints: Vec3[];
  primitives: Primitive[];
  /** Packed primitives for the field evaluator, PRIM_STRIDE floats each. */
  packed: Float64Array;
  /** Blend radius k of the soft union, metres. */
  blend: number;
}

const sub = (a: Vec3, b: Vec3): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: Vec3, b: Vec3): Vec3 => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scale = (a: Vec3, s: number): Vec3 => [a[0] * s, a[1] * s, a[2] * s];
const dot = (a: Vec3, b: Vec3): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const cross = (a: Vec3, b: Vec3): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const normalize = (a: Vec3): Vec3 => scale(a, 1 / Math.hypot(a[0], a[1], a[2]));

/** Orthonormal frame with u along `axis` and w as close as possible to `ref`. */
function frame(axis: Vec3, ref: Vec3): { u: Vec3; v: Vec3; w: Vec3 } {
  const u = normalize(axis);
  const w = normalize(sub(ref, scale(u, dot(ref, u))));
  return { u, v: cross(w, u), w };
}

const Y: Vec3 = [0, 1, 0];
const Z: Vec3 = [0, 0, 1];

interface ConeOptions {
  /** Direction the section's w axis should face (default +Z, the front). */
  ref?: Vec3;
  sv?: number;
  sw?: number;
}

function roundCone(name: string, bone: number, a: Vec3, b: Vec3, ra: number, rb: number, o: ConeOptions = {}): Primitive {
  const { u, v, w } = frame(sub(b, a), o.ref ?? Z);
  return { name, bone, a, b, ra, rb, u, v, w, su: 1, sv: o.sv ?? 1, sw: o.sw ?? 1 };
}

/** Ellipsoid of radii (ru, rv, rw) along (axis, ·, ref). */
function ellipsoid(name: string, bone: number, c: Vec3, radii: Vec3, axis: Vec3 = Y, ref: Vec3 = Z): Primitive {
  const { u, v, w } = frame(axis, ref);
  return { name, bone, a: c, b: c, ra: 1, rb: 1, u, v, w, su: radii[0], sv: radii[1], sw: radii[2] };
}

/** Joint indices (SMPL order) used below. */
const J = {
  pelvis: 0, lHip: 1, rHip: 2, spine1: 3, lKnee: 4, rKnee: 5, spine2: 6, lAnkle: 7, rAnkle: 8, spine3: 9,
  lFoot: 10, rFoot: 11, neck: 12, lCollar: 13, rCollar: 14, head: 15, lShoulder: 16, rShoulder: 17,
  lElbow: 18, rElbow: 19, lWrist: 20, rWrist: 21, lHand: 22, rHand: 23,
} as const;

/**
 * Builds the rest skeleton and the primitives. All design lengths are in stature units and scaled so
 * that sole-to-crown equals p.stature exactly.
 */
export function buildBody(p: BodyParams): BodyGeometry {
  checkParams(p);
  const t = p.torsoLength;
  const leg = p.legLength;
  const hs = p.headSize;
  // Vertical chain sole→crown in stature units; normalised so it sums to 1.
  const ankleHeight = 0.039;
  const shank = 0.235 * leg;
  const thigh = 0.23 * leg;
  const hipDrop = 0.03;
  const torso = 0.29 * t;
  const neckLen = 0.06 * p.neckLength;
  const crown = 0.116 * hs;
  const total = ankleHeight + shank + thigh + hipDrop + torso + neckLen + crown;
  const U = p.stature / total; // metres per design unit
  const P = (x: number, y: number, z: number): Vec3 => [x * U, y * U, z * U];
  const G = p.girth;

  // A broad, heavy chest pushes the shoulder joints apart (and keeps upper arms clear of the ribs).
  const chestBulk = p.chest * Math.pow(p.girth, 0.7);
  // Likewise heavy thighs and hips set the hip joints (and the legs) further apart.
  const legBulk = p.legGirth * Math.pow(p.girth, 0.3);
  const hipBulk = p.hips * Math.pow(p.girth, 0.7);
  const hipX = 0.05 * p.hipWidth + 0.03 * (legBulk - 1) + 0.012 * (hipBulk - 1);
  const shoulderX = 0.105 * p.shoulderWidth + 0.025 * (chestBulk - 1);
  const arm = p.armLength;
  const joints: Vec3[] = new Array(24);
  joints[J.pelvis] = P(0, 0, 0);
  joints[J.spine1] = P(0, 0.065 * t, -0.012);
  joints[J.spine2] = P(0, 0.145 * t, -0.008);
  joints[J.spine3] = P(0, 0.175 * t, -0.004);
  joints[J.neck] = P(0, torso, -0.012);
  joints[J.head] = P(0, torso + neckLen, 0.004);
  for (const s of [1, -1]) {
    const L = s > 0;
    const hipY = -hipDrop;
    const kneeY = hipY - thigh;
    const ankleY = kneeY - shank;
    joints[L ? J.lHip : J.rHip] = P(s * hipX, hipY, 0);
    joints[L ? J.lKnee : J.rKnee] = P(s * (hipX + 0.012), kneeY, 0.004);
    joints[L ? J.lAnkle : J.rAnkle] = P(s * (hipX + 0.02), ankleY, -0.012);
    joints[L ? J.lFoot : J.rFoot] = P(s * (hipX + 0.027), ankleY - 0.028, 0.072);
    joints[L ? J.lCollar : J.rCollar] = P(s * 0.41 * shoulderX, 0.262 * t, -0.008);
    const sh = P(s * shoulderX, 0.27 * t, -0.012);
    joints[L ? J.lShoulder : J.rShoulder] = sh;
    const el = add(sh, P(s * 0.16 * arm, -0.004, -0.01));
    joints[L ? J.lElbow : J.rElbow] = el;
    const wr = add(el, P(s * 0.145 * arm, 0, 0.002));
    joints[L ? J.lWrist : J.rWrist] = wr;
    joints[L ? J.lHand : J.rHand] = add(wr, P(s * 0.05 * arm, -0.002, 0));
  }

  const prims: Primitive[] = [];
  const R = (r: number): number => r * U;
  // --- torso -------------------------------------------------------------------------------------
  const hipsG = p.hips * Math.pow(G, 0.7);
  prims.push(ellipsoid('pelvis', J.pelvis, P(0, -0.018, -0.004), [R(0.066), R(0.094 * p.hipWidth * hipsG), R(0.064 * hipsG)]));
  for (const s of [1, -1]) {
    prims.push(ellipsoid(s > 0 ? 'l_buttock' : 'r_buttock', J.pelvis, P(s * 0.04 * p.hipWidth, -0.04, -0.03 * hipsG),
      [R(0.048), R(0.046 * hipsG), R(0.042 * hipsG)]));
  }
  const waistR = 0.073 * p.waist * G;
  prims.push(roundCone('abdomen', J.spine1, P(0, 0.0, -0.006), P(0, 0.14 * t, -0.008), R(waistR * 1.03), R(waistR), { ref: Z, sv: 1.12, sw: 0.8 }));
  prims.push(ellipsoid('belly', J.spine1, P(0, 0.06 * t, 0.018), [R(0.06), R(0.072 * G), R(0.036 + p.belly)]));
  const chestG = p.chest * Math.pow(G, 0.7);
  prims.push(ellipsoid('ribcage', J.spine2, P(0, 0.17 * t, -0.004), [R(0.095 * t), R(0.092 * chestG * Math.sqrt(p.shoulderWidth)), R(0.064 * chestG)]));
  prims.push(ellipsoid('upper_chest', J.spine3, P(0, 0.235 * t, -0.01), [R(0.045), R(0.088 * p.shoulderWidth * Math.pow(G, 0.4)), R(0.055 * chestG)]));
  for (const s of [1, -1]) {
    const L = s > 0;
    prims.push(ellipsoid(L ? 'l_breast' : 'r_breast', J.spine3, P(s * 0.046 * p.chest, 0.205 * t, 0.044 * chestG),
      [R(p.breast * 0.85), R(p.breast), R(p.breast * 0.8)]));
    prims.push(roundCone(L ? 'l_trapezius' : 'r_trapezius', L ? J.lCollar : J.rCollar, P(s * 0.02, 0.27 * t, -0.016),
      P(s * (shoulderX - 0.012), 0.272 * t, -0.012), R(0.032 * Math.sqrt(G)), R(0.03 * Math.sqrt(G)), { sv: 1, sw: 0.95 }));
  }
  // --- neck and head -----------------------------------------------------------------------------
  prims.push(roundCone('neck', J.neck, P(0, torso - 0.02, -0.012), P(0, torso + neckLen + 0.012, 0.0), R(0.039 * Math.sqrt(G)), R(0.034), { sv: 1, sw: 1.05 }));
  const hj = joints[J.head];
  const H = (x: number, y: number, z: number): Vec3 => add(hj, P(x * hs, y * hs, z * hs));
  prims.push(ellipsoid('cranium', J.head, H(0, 0.05, 0.006), [R(0.066 * hs), R(0.047 * hs), R(0.057 * hs)]));
  prims.push(ellipsoid('face', J.head, H(0, 0.012, 0.024), [R(0.043 * hs), R(0.036 * hs), R(0.04 * hs)]));
  prims.push(ellipsoid('nose', J.head, H(0, 0.03, 0.063), [R(0.017 * hs), R(0.0095 * hs), R(0.012 * hs)]));
  for (const s of [1, -1]) {
    prims.push(ellipsoid(s > 0 ? 'l_ear' : 'r_ear', J.head, H(s * 0.045, 0.037, -0.002), [R(0.019 * hs), R(0.008 * hs), R(0.012 * hs)]));
  }
  // --- arms --------------------------------------------------------------------------------------
  const ag = p.armGirth;
  for (const s of [1, -1]) {
    const L = s > 0;
    const sh = joints[L ? J.lShoulder : J.rShoulder];
    const el = joints[L ? J.lElbow : J.rElbow];
    const wr = joints[L ? J.lWrist : J.rWrist];
    const hd = joints[L ? J.lHand : J.rHand];
    const side = L ? 'l_' : 'r_';
    const outward: Vec3 = [s, 0, 0];
    prims.push(ellipsoid(side + 'deltoid', L ? J.lShoulder : J.rShoulder, add(sh, P(s * 0.012, 0.004, 0)),
      [R(0.05), R(0.042 * Math.pow(ag, 0.7)), R(0.043 * Math.pow(ag, 0.7))], outward, Z));
    prims.push(roundCone(side + 'upper_arm', L ? J.lShoulder : J.rShoulder, sh, el, R(0.035 * Math.pow(ag, 0.6)), R(0.027 * ag)));
    prims.push(roundCone(side + 'forearm', L ? J.lElbow : J.rElbow, el, wr, R(0.027 * ag), R(0.018 * Math.sqrt(ag)), { sv: 0.88, sw: 1.12 }));
    prims.push(roundCone(side + 'palm', L ? J.lWrist : J.rWrist, wr, hd, R(0.018), R(0.018), { sv: 0.55, sw: 1.3 }));
    prims.push(roundCone(side + 'fingers', L ? J.lHand : J.rHand, hd, add(hd, P(s * 0.05 * arm, -0.004, 0)), R(0.016), R(0.011), { sv: 0.5, sw: 1.3 }));
    prims.push(roundCone(side + 'thumb', L ? J.lWrist : J.rWrist, add(wr, P(s * 0.018, -0.004, 0.018)),
      add(wr, P(s * 0.052 * arm, -0.008, 0.038)), R(0.0095), R(0.0075)));
  }
  // --- legs --------------------------------------------------------------------------------------
  const lg = p.legGirth * Math.pow(G, 0.3);
  for (const s of [1, -1]) {
    const L = s > 0;
    const hip = joints[L ? J.lHip : J.rHip];
    const kn = joints[L ? J.lKnee : J.rKnee];
    const an = joints[L ? J.lAnkle : J.rAnkle];
    const ft = joints[L ? J.lFoot : J.rFoot];
    const side = L ? 'l_' : 'r_';
    prims.push(roundCone(side + 'thigh', L ? J.lHip : J.rHip, add(hip, P(s * 0.006, 0.01, -0.004)), kn, R(0.05 * lg), R(0.034 * Math.sqrt(lg)), { sv: 0.92, sw: 1.05 }));
    prims.push(roundCone(side + 'shank', L ? J.lKnee : J.rKnee, kn, an, R(0.033 * Math.sqrt(lg)), R(0.019)));
    prims.push(ellipsoid(side + 'calf', L ? J.lKnee : J.rKnee, add(kn, P(s * 0.002, -0.075, -0.012)), [R(0.07), R(0.029 * lg), R(0.032 * lg)]));
    const heel = add(an, P(0, -0.024, -0.02));
    prims.push(roundCone(side + 'foot', L ? J.lAnkle : J.rAnkle, heel, ft, R(0.02), R(0.019), { ref: Y, sv: 1.05, sw: 0.72 }));
    prims.push(roundCone(side + 'toes', L ? J.lFoot : J.rFoot, ft, add(ft, P(s * 0.004, -0.004, 0.03)), R(0.018), R(0.012), { ref: Y, sv: 1.25, sw: 0.6 }));
  }

  const packed = new Float64Array(prims.length * PRIM_STRIDE);
  prims.forEach((q, i) => packPrimitive(q, packed, i * PRIM_STRIDE));
  return { params: p, joints, primitives: prims, packed, blend: BLEND_FRACTION * p.stature };
}

/** Plausible ranges of the generator's parameters; anything outside is a caller's mistake. */
const PARAM_RANGES: Record<keyof BodyParams, [number, number]> = {
  stature: [1.2, 2.3], femininity: [0, 1], girth: [0.6, 1.6], belly: [0, 0.08], shoulderWidth: [0.7, 1.3],
  hipWidth: [0.7, 1.3], chest: [0.6, 1.5], waist: [0.6, 1.6], hips: [0.6, 1.5], armGirth: [0.6, 1.5],
  legGirth: [0.6, 1.5], legLength: [0.8, 1.2], armLength: [0.8, 1.2], torsoLength: [0.8, 1.2],
  neckLength: [0.6, 1.4], headSize: [0.8, 1.2], breast: [0, 0.07],
};

function checkParams(p: BodyParams): void {
  for (const [key, [lo, hi]] of Object.entries(PARAM_RANGES) as Array<[keyof BodyParams, [number, number]]>) {
    const value = p[key];
    if (typeof value !== 'number' || !(value >= lo && value <= hi)) {
      throw new BodyModelError(`open body generator: parameter "${key}" is ${String(value)}, expected a number in [${lo}, ${hi}]`);
    }
  }
}

/**
 * Packed layout: a(0..2) u(3..5) v(6..8) w(9..11) 1/su 1/sv 1/sw (12..14), scaled length Ls (15),
 * ra rb (16, 17), sin α, cos α of the tangent cone (18, 19), metric factor min(s) (20), kind (21:
 * 0 round cone, 1 sphere in the scaled frame).
 */
function packPrimitive(q: Primitive, out: Float64Array, o: number): void {
  out.set(q.a, o);
  out.set(q.u, o + 3);
  out.set(q.v, o + 6);
  out.set(q.w, o + 9);
  out[o + 12] = 1 / q.su;
  out[o + 13] = 1 / q.sv;
  out[o + 14] = 1 / q.sw;
  const d = sub(q.b, q.a);
  const Ls = Math.hypot(d[0], d[1], d[2]) / q.su;
  out[o + 15] = Ls;
  const sphere = Ls <= Math.abs(q.ra - q.rb) + 1e-9;
  out[o + 16] = sphere ? Math.max(q.ra, q.rb) : q.ra;
  out[o + 17] = q.rb;
  const sinA = sphere ? 0 : (q.ra - q.rb) / Ls;
  out[o + 18] = sinA;
  out[o + 19] = Math.sqrt(1 - sinA * sinA);
  out[o + 20] = Math.min(q.su, q.sv, q.sw);
  out[o + 21] = sphere ? 1 : 0;
}
