/**
 * Model-based refinement: β, pose and translation fitted by Adam on the GPU, through the
 * differentiable body layer (ad.smpl) and the autodiff tape, so that the body agrees with what the
 * picture shows: its projected joints land on 2D targets (a photo-trained network's landmarks), its
 * pelvis-aligned 3D joints agree with metric 3D targets (BlazePose's world points), and its projected
 * vertices fall on the pixels of their part in a 12-part map (the segmenter's) — each term optional.
 *
 * Several starts are fitted side by side in one batch: upright bodies facing each of 8 directions
 * (2D joints alone do not tell which way a body faces, and a wrong start ends in a local minimum),
 * plus any starts the caller brings (the fitting network's prediction). A part map tells front from
 * back by itself (left and right parts), so with parts and no joints only the caller's starts run. Stage 1 turns and moves the
 * rigid mean-shape body; stage 2 refines everything; the start with the lowest final loss is kept.
 *
 * Loss (every term a mean over the starts, so starts do not interact):
 *   Σ_j w_j |proj_j / S − t_j / S|² / (2J)                         weighted 2D term (S: picture size;
 *                                                                   with robust2d = σ each coordinate's
 *                                                                   squared miss d² becomes σ²d²/(d² + σ²))
 * + λ3d Σ_j w3_j |(J_j − J_0) − (T_j − T_0)|² / (3J)                 optional pelvis-aligned 3D term
 * + λd Σ_v a_v ρ(D_{p(v)}(π(v)) / G) / Σ_v a_v                       part terms, with a part map
 *   + λc mean_s min_{v ∈ p(s)} |π(v) − q_s|² / G²                     (part-evidence.ts):
 *   D_p is the distance to part p's pixels, π(v) vertex v projected onto the evidence grid (G cells
 *   across the picture), a_v = 1 where v's part is seen, ρ(e) = e²/(e² + σ²) (Geman–McClure: a vertex
 *   hidden behind another part cannot reach its part's pixels and should stop pulling), q_s sampled
 *   pixels of each part — vertices into their part, and every part's pixels covered
 * + small β² and body-pose² priors + a stiff penalty on bends past the joint limits
 * + λs |θ − θ_start|² / 72, with a part map or when asked (startPrior): stay near each start's pose
 *   (the network's answer) where the picture leaves the pose open (depth, hidden limbs).
 */
import * as ad from './refine-ops.js';
import { slice } from '../kernels/slice.js';
import { adam, type Adam } from '../optim/optimizers.js';
import { cosineSchedule } from '../optim/schedules.js';
import { TensorStore } from '../nn/tensor-store.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { inverseRodrigues } from '../smpl/cpu-forward.js';
import { disposePointGroups, pointGroups, type PointGroups } from '../kernels/nearest-point.js';
import { evidenceLabel, PART_COUNT, type PartEvidence } from './part-evidence.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import { globalRotation, JOINT_LIMITS } from '../synth/pose.js';
import type { Skeleton } from '../synth/skeleton.js';

export const JOINTS = 24;
/**
 * Facing directions (yaw about the body's vertical) fitted side by side. Over demo seeds 1–8, 8
 * directions instead of 4 took the mean 3D error from 111 to 80 mm; the batch costs little on the GPU.
 */
export const YAW_HYPOTHESES = Array.from({ length: 8 }, (_, i) => (i * Math.PI) / 4);
/** A progress report every this many steps (each reads the loss back, a GPU stall). */
const PROGRESS_EVERY = 25;
/** Share of the steps spent on stage 1 (orientation and translation only). */
const STAGE1_SHARE = 0.3;
/** β² and pose² weights: small next to the 2D term, so they only settle what the 2D joints leave open. */
const BETA_PRIOR = 1e-6;
const POSE_PRIOR = 1e-6;
/** Weight of bends past the joint limits (radians², mean over the pose) and how far past they start. */
const LIMIT_PRIOR = 1e-2;
const LIMIT_MARGIN = 0.1;
/** Weights of the part terms (distance field, coverage), the robust scale σ and the stay-near-start prior. */
export const PART_DISTANCE_WEIGHT = 0.02;
export const PART_COVER_WEIGHT = 10;
const PART_SIGMA = 0.03;
export const START_PRIOR = 0.1;
/** Adam learning rates per parameter group (radians, shape units, metres per step). */
const STAGE1_RATES = { orient: 0.05, trans: 0.05 };
const STAGE2_RATES = { orient: 0.02, body: 0.05, betas: 0.05, trans: 0.02 };
/**
 * Bones whose image length fixes the starting depth: (parent joint, child joint). The least
 * foreshortened one gives the closest estimate (torso, thighs, shins, upper arms, forearms).
 */
const DEPTH_BONES: readonly [number, number][] = [[0, 12], [1, 4], [2, 5], [4, 7], [5, 8], [16, 18], [17, 19], [18, 20], [19, 21]];

/** Body parameters of K candidate bodies: orient [K, 3] and body [K, 69] make up the 72 pose numbers. */
export type BodyParams = Record<'orient' | 'body' | 'betas' | 'trans', Tensor>;

/** What the refinement fits to. */
export interface RefineTarget {
  /** 24 × 2 joint positions, picture pixels (any value where the weight is 0); none: no 2D joint term. */
  joints2d?: Float32Array;
  /** 24 per-joint weights of the 2D term (default all 1): a landmark's confidence, 0 for none. */
  weights2d?: Float32Array;
  /** 24 × 3 metric joints (any origin: compared pelvis-aligned), or none. */
  joints3d?: Float32Array;
  /** 24 weights of the 3D term (default: weights2d). */
  weights3d?: Float32Array;
  /** Weight λ3d of the 3D term (default 0.05: a 5 cm miss costs about what a 1 % 2D miss does). */
  weight3d?: number;
  /** fx, fy, cx, cy in pixels. */
  camera: ArrayLike<number>;
  /** The picture's size S in pixels (the 2D term is in units of S). */
  size: number;
  /** A 12-part map's evidence (part-evidence.ts) for the part terms, or none. */
  parts?: PartEvidence;
  /** Weights of the two part terms and of the stay-near-start prior (default PART_DISTANCE_WEIGHT, PART_COVER_WEIGHT, START_PRIOR). */
  partWeights?: { distance?: number; cover?: number; start?: number; coverSigma?: number };
  /**
   * Weight of the stay-near-start prior whatever the terms (e.g. a fitting network's answer from
   * landmarks); default partWeights.start with a part map, none without.
   */
  startPrior?: number;
  /**
   * Robust scale σ of the 2D term (fraction of the picture size), or 0 (default) for the plain
   * squared distance: with σ each coordinate's miss d costs σ²d²/(d² + σ²), d² near the body and at
   * most σ² far from it, so a detector's joint far from where the body is stops pulling.
   */
  robust2d?: number;
}

/** A start the caller brings (e.g. the fitting network's prediction). */
export interface RefineStart {
  pose: ArrayLike<number>;
  betas: ArrayLike<number>;
  trans: ArrayLike<number>;
}

export interface RefineOptions {
  /** Adam steps in all (default 300; 30 % on stage 1). */
  steps?: number;
  starts?: readonly RefineStart[];
  /**
   * Also start from upright bodies facing 8 directions (default: when there are 2D joints; with a part
   * map alone they start at the first caller start's translation).
   */
  facing?: boolean;
  /** Progress: stage 1 or 2, step, steps of that stage, the batch's loss. */
  progress?: (stage: number, step: number, steps: number, loss: number) => void;
}

export interface BodyState {
  vertices: Float32Array;
  /** 24 × 3, camera frame, metres. */
  joints3d: Float32Array;
  /** 24 × 2, pixels. */
  joints2d: Float32Array;
}

export interface RefineResult {
  betas: Float32Array;
  /** 72 parent-relative axis-angle numbers. */
  pose: Float32Array;
  trans: Float32Array;
  body: BodyState;
  /** Weighted mean 2D distance (px) of the first start before fitting (NaN without 2D joints). */
  startError: number;
  /** Index of the start kept: the facing directions first (when they ran), then options.starts. */
  chosen: number;
  /** How many facing starts ran (YAW_HYPOTHESES.length or 0): chosen < facingStarts is one of them. */
  facingStarts: number;
  /** The kept start's loss before fitting. */
  lossBefore: number;
  /** The kept start's final loss, and every start's. */
  loss: number;
  losses: number[];
  /**
   * True when no start ended below the best loss any start had before fitting (a few steps of Adam
   * against a strong prior can overshoot): the result is then that start, unfitted, never worse than
   * where the refinement began by its own loss.
   */
  keptStart: boolean;
}

/** The part terms' constants on the GPU (for K candidates). */
interface PartTensors {
  field: Tensor;
  /** [V, 1] channel (part − 1) of each vertex. */
  channel: Tensor;
  /** [K, V, 1] a_v · V / Σ a (so that a mean is the weighted mean). */
  weights: Tensor;
  groups: PointGroups;
  /** Grid coordinate = scale·X/Z + offset, per axis (x, y). */
  scale: [number, number];
  offset: [number, number];
  side: number;
  distanceWeight: number;
  coverWeight: number;
  /** Robust scale of the coverage term (fraction of the grid side), or 0 for the plain squared distance. */
  coverSigma: number;
}

interface FitTensors {
  model: GpuBodyModel;
  parts: PartTensors | null;
  /** [K, 3] and [K, 69]: each start's orientation and body pose, for the stay-near-start prior (null: no prior). */
  startOrient: Tensor | null;
  startBody: Tensor | null;
  startPrior: number;
  /** Robust scale of the 2D term (0: plain squared distance). */
  robust2d: number;
  /** [K, J, 2] (t_j / S)·√w_j, and [K, J, 1] √w_j / S: a projected joint times it is in the target's units. */
  target2d: Tensor;
  scale2d: Tensor;
  /** [K, J, 3] pelvis-aligned 3D targets and [K, J, 1] weights, both times √w3_j·√λ3d (null: no 3D term). */
  target3d: Tensor | null;
  sqrtW3d: Tensor | null;
  camera: Tensor;
  limits: { lo: Tensor; hi: Tensor };
}

export function poseBody(model: GpuBodyModel, p: BodyParams, camera: Tensor): ad.SmplOutputs {
  return ad.smpl(model, { betas: p.betas, pose: ad.concat([p.orient, p.body], 1), trans: p.trans, camera: { type: 'perspective', params: camera } });
}

function fitLoss(p: BodyParams, t: FitTensors): Tensor {
  const K = p.betas.shape[0];
  const out = poseBody(t.model, p, t.camera);
  // The constant factors (1/S, the weights, λ3d) sit in the constants, not in ops of their own: each
  // op is a draw forward and one backward, every step.
  const projected = ad.mul(out.joints2d as Tensor, t.scale2d);
  let loss: Tensor;
  if (t.robust2d > 0) {
    const s2 = t.robust2d * t.robust2d;
    const e2 = ad.square(ad.sub(projected, t.target2d));
    loss = ad.mean(ad.mulScalar(ad.div(e2, ad.addScalar(e2, s2)), s2));
  } else {
    loss = ad.l2Loss(projected, t.target2d);
  }
  if (t.target3d && t.sqrtW3d) {
    const joints = out.joints;
    const pelvis = ad.slice(joints, [0, 0, 0], [K, 1, 3]);
    loss = ad.add(loss, ad.l2Loss(ad.mul(ad.sub(joints, pelvis), t.sqrtW3d), t.target3d));
  }
  if (t.parts) loss = ad.add(loss, partLoss(out.vertices, t.parts));
  // The priors, each parameter's in one fused op (two draws a step): ½λ·Σ x² on β and the body pose,
  // the stay-near-start prior — the mean over all 72 pose numbers of the squared change from the
  // start — and the mean squared bend past the joint limits.
  const bodyCount = K * 3 * (JOINTS - 1);
  const start = !!(t.startBody && t.startOrient);
  loss = ad.add(loss, ad.quadraticPenalty(p.betas, { weight: (0.5 * BETA_PRIOR) / K }));
  loss = ad.add(loss, ad.quadraticPenalty(p.body, {
    weight: (0.5 * POSE_PRIOR) / K,
    ...(start ? { start: t.startBody!, startWeight: ((69 / 72) * t.startPrior) / bodyCount } : {}),
    lo: t.limits.lo, hi: t.limits.hi, boundsWeight: LIMIT_PRIOR / bodyCount,
  }));
  if (start) loss = ad.add(loss, ad.quadraticPenalty(p.orient, { start: t.startOrient!, startWeight: ((3 / 72) * t.startPrior) / (K * 3) }));
  return loss;
}

/** The vertices [K, V, 3] projected onto the evidence grid: [K, V, 2]. */
function gridPoints(vertices: Tensor, t: PartTensors): Tensor {
  return ad.projectPoints(vertices, [t.scale[0], t.scale[1], t.offset[0], t.offset[1]]);
}

/** The two part terms (see the header). */
function partLoss(vertices: Tensor, t: PartTensors): Tensor {
  const points = gridPoints(vertices, t);
  const e2 = ad.square(ad.mulScalar(ad.sampleField(t.field, points, t.channel), 1 / t.side));
  const robust = ad.div(e2, ad.addScalar(e2, PART_SIGMA * PART_SIGMA));
  const distance = ad.mean(ad.mul(robust, t.weights));
  const near2 = ad.mulScalar(ad.nearestPointDistance(points, t.groups), 1 / (t.side * t.side));
  // Robust: d²σ²/(d² + σ²) is d² near the body but flattens at σ², so that pixels the map labels
  // wrongly far from any body part stop pulling (the same shape as the distance term's).
  const s2 = t.coverSigma * t.coverSigma;
  const cover = ad.mean(s2 > 0 ? ad.mulScalar(ad.div(near2, ad.addScalar(near2, s2)), s2) : near2);
  return ad.add(ad.mulScalar(distance, t.distanceWeight), ad.mulScalar(cover, t.coverWeight));
}

/**
 * The synthetic poses' anatomical limits (docs/synth.md) as bounds on the body pose's axis-angle
 * components — close to the Euler angles they are given in for moderate bends — widened by
 * LIMIT_MARGIN so that only clearly impossible bends (a knee bent forwards) are penalised.
 */
function poseLimits(): { lo: Float32Array; hi: Float32Array } {
  const lo = new Float32Array(3 * (JOINTS - 1));
  const hi = new Float32Array(3 * (JOINTS - 1));
  for (let j = 1; j < JOINTS; j++) {
    for (let a = 0; a < 3; a++) {
      lo[3 * (j - 1) + a] = JOINT_LIMITS[j][0][a] - LIMIT_MARGIN;
      hi[3 * (j - 1) + a] = JOINT_LIMITS[j][1][a] + LIMIT_MARGIN;
    }
  }
  return { lo, hi };
}

/**
 * Runs Adam on the parameters named in `rates` (one optimizer each, for its own learning rate, with a
 * cosine decay); the store's other parameters stay fixed. Only the progress reports read back.
 */
function runStage(store: TensorStore, rates: Readonly<Record<string, number>>, steps: number, target: FitTensors, report: (step: number, loss: number) => void): void {
  const rt = store.runtime;
  const optimizers = new Map<string, Adam>(Object.entries(rates).map(([name, lr]) => [name, adam({ lr: cosineSchedule({ lr, totalSteps: steps, minLr: lr / 10 }) })]));
  const step = ad.valueAndGrad((p: Record<string, Tensor>) => fitLoss({ ...(store.toRecord() as BodyParams), ...p }, target));
  try {
    for (let i = 0; i < steps; i++) {
      rt.scope(() => {
        const trained = Object.fromEntries([...optimizers.keys()].map((name) => [name, store.get(name)]));
        const { value, grads } = step(trained);
        for (const [name, optimizer] of optimizers) optimizer.step(store, { [name]: grads[name] });
        if ((i + 1) % PROGRESS_EVERY === 0 || i + 1 === steps) report(i + 1, value.readSync()[0]);
      });
    }
  } finally {
    for (const optimizer of optimizers.values()) optimizer.dispose();
  }
}

/**
 * Starting translation: the depth at which the least foreshortened bone (both ends weighted ≥ 0.5)
 * of the mean shape has its image length, and the pelvis (or the middle of the weighted joints) on
 * its image position. SMPL rotates about the pelvis, so the pose does not move it.
 */
export function initialTranslation(skeleton: Skeleton, joints2d: ArrayLike<number>, camera: ArrayLike<number>, weights?: ArrayLike<number>): Float64Array {
  const rest = skeleton.restJoints(new Float64Array(skeleton.shapeCount));
  const f = camera[0];
  const cx = camera[2];
  const cy = camera[3];
  const w = (j: number) => (weights ? weights[j] : 1);
  let depth = Infinity;
  for (const [a, b] of DEPTH_BONES) {
    if (w(a) < 0.5 || w(b) < 0.5) continue;
    const length3d = Math.hypot(rest[3 * b] - rest[3 * a], rest[3 * b + 1] - rest[3 * a + 1], rest[3 * b + 2] - rest[3 * a + 2]);
    const length2d = Math.hypot(joints2d[2 * b] - joints2d[2 * a], joints2d[2 * b + 1] - joints2d[2 * a + 1]);
    if (length2d > 1) depth = Math.min(depth, (f * length3d) / length2d);
  }
  if (!Number.isFinite(depth)) throw new NbfError('the 2D joints are too few or too close together to estimate a starting depth');
  let px = joints2d[0];
  let py = joints2d[1];
  if (w(0) < 0.5) {
    // No pelvis target: the middle of the hips, else of all weighted joints.
    const use = w(1) >= 0.5 && w(2) >= 0.5 ? [1, 2] : Array.from({ length: JOINTS }, (_, j) => j).filter((j) => w(j) >= 0.5);
    px = use.reduce((s, j) => s + joints2d[2 * j], 0) / use.length;
    py = use.reduce((s, j) => s + joints2d[2 * j + 1], 0) / use.length;
  }
  return Float64Array.from([((px - cx) * depth) / f - rest[0], ((py - cy) * depth) / f - rest[1], depth - rest[2]]);
}

/** Axis-angle global orientations: upright, facing the camera, turned by each yaw of YAW_HYPOTHESES. */
function facingOrientations(): Float32Array {
  const out = new Float64Array(YAW_HYPOTHESES.length * 3);
  YAW_HYPOTHESES.forEach((yaw, k) => inverseRodrigues(globalRotation(yaw, 0, 0, 0), 0, out, 3 * k));
  return Float32Array.from(out);
}

/** Repeats a row k times (the same target, camera or start for every candidate). */
export function tile(row: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(row.length * k);
  for (let i = 0; i < k; i++) out.set(row, i * row.length);
  return out;
}

function initialParams(rt: Runtime, skeleton: Skeleton, target: RefineTarget, starts: readonly RefineStart[], facing: boolean): TensorStore {
  const Y = facing ? YAW_HYPOTHESES.length : 0;
  const K = Y + starts.length;
  const B = skeleton.shapeCount;
  const orient = new Float32Array(K * 3);
  const body = new Float32Array(K * 3 * (JOINTS - 1));
  const betas = new Float32Array(K * B);
  const trans = new Float32Array(K * 3);
  if (facing) {
    orient.set(facingOrientations());
    const start = target.joints2d ? initialTranslation(skeleton, target.joints2d, target.camera, target.weights2d) : Array.from(starts[0].trans).slice(0, 3);
    trans.set(tile(start, Y));
  }
  starts.forEach((s, i) => {
    const k = Y + i;
    orient.set(Array.from(s.pose).slice(0, 3), k * 3);
    body.set(Array.from(s.pose).slice(3, 3 * JOINTS), k * 3 * (JOINTS - 1));
    betas.set(Array.from(s.betas).slice(0, B), k * B);
    trans.set(Array.from(s.trans).slice(0, 3), k * 3);
  });
  const store = new TensorStore(rt);
  for (const [name, values, width] of [['orient', orient, 3], ['body', body, 3 * (JOINTS - 1)], ['betas', betas, B], ['trans', trans, 3]] as const) {
    store.add(name, rt.tensor(values, [K, width]));
  }
  return store;
}

/** Candidate k's parameters (slices of the batch). */
function candidate(p: BodyParams, k: number): BodyParams {
  const row = (t: Tensor) => slice(t, [k, 0], [1, t.shape[1]]);
  return { orient: row(p.orient), body: row(p.body), betas: row(p.betas), trans: row(p.trans) };
}

/** Poses bodies (no tape) and reads their vertices and joints back. */
export function evaluateBody(model: GpuBodyModel, p: BodyParams, camera: Tensor): BodyState {
  return model.runtime.scope(() => {
    const out = poseBody(model, p, camera);
    return { vertices: out.vertices.readSync(), joints3d: out.joints.readSync(), joints2d: (out.joints2d as Tensor).readSync() };
  });
}

/** Mean 2D joint distance in pixels, weighted (joints of weight 0 do not count). */
export function joint2dError(predicted: ArrayLike<number>, target: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let total = 0;
  let count = 0;
  for (let j = 0; j < JOINTS; j++) {
    const w = weights ? weights[j] : 1;
    total += w * Math.hypot(predicted[2 * j] - target[2 * j], predicted[2 * j + 1] - target[2 * j + 1]);
    count += w;
  }
  return count > 0 ? total / count : 0;
}

/** Uploads the fit's constants for K candidates and for one. */
function fitConstants(rt: Runtime, target: RefineTarget, K: number) {
  const w2 = target.joints2d ? target.weights2d ?? new Float32Array(JOINTS).fill(1) : new Float32Array(JOINTS);
  const sqrt2 = Float32Array.from(w2, (w) => Math.sqrt(Math.max(0, w)));
  const t2 = new Float32Array(2 * JOINTS);
  if (target.joints2d) for (let j = 0; j < JOINTS; j++) for (let a = 0; a < 2; a++) t2[2 * j + a] = (target.joints2d[2 * j + a] / target.size) * sqrt2[j];
  const scale2 = Float32Array.from(sqrt2, (w) => w / target.size);
  let t3: Float32Array | null = null;
  let sqrt3: Float32Array | null = null;
  const weight3d = target.weight3d ?? 0.05;
  if (target.joints3d && weight3d > 0) {
    const w3 = target.weights3d ?? w2;
    sqrt3 = Float32Array.from(w3, (w) => Math.sqrt(Math.max(0, w) * weight3d));
    t3 = new Float32Array(3 * JOINTS);
    for (let j = 0; j < JOINTS; j++) for (let a = 0; a < 3; a++) t3[3 * j + a] = (target.joints3d[3 * j + a] - target.joints3d[a]) * sqrt3[j];
  }
  const limits = poseLimits();
  const keep = (data: Float32Array, shape: number[]) => rt.keep(rt.tensor(data, shape));
  const camera = Float32Array.from(target.camera);
  return {
    targetK: keep(tile(t2, K), [K, JOINTS, 2]),
    scale2dK: keep(tile(scale2, K), [K, JOINTS, 1]),
    target3dK: t3 ? keep(tile(t3, K), [K, JOINTS, 3]) : null,
    sqrtW3dK: sqrt3 ? keep(tile(sqrt3, K), [K, JOINTS, 1]) : null,
    cameraK: keep(tile(camera, K), [K, 4]),
    target1: keep(t2, [1, JOINTS, 2]),
    scale2d1: keep(scale2, [1, JOINTS, 1]),
    target3d1: t3 ? keep(t3, [1, JOINTS, 3]) : null,
    sqrtW3d1: sqrt3 ? keep(sqrt3, [1, JOINTS, 1]) : null,
    camera1: keep(camera, [1, 4]),
    lo: keep(limits.lo, [1, limits.lo.length]),
    hi: keep(limits.hi, [1, limits.hi.length]),
  };
}

/** The part terms' constants: the distance field, each vertex's part, the sampled pixels. */
function partConstants(model: GpuBodyModel, target: RefineTarget, K: number): { K: PartTensors; one: PartTensors; dispose: () => void } | null {
  const e = target.parts;
  if (!e) return null;
  const rt = model.runtime;
  const parts12 = model.source.parts12;
  const V = model.vertexCount;
  const channel = new Float32Array(V);
  const pointGroup = new Float32Array(V);
  const seen = new Float32Array(V);
  for (let v = 0; v < V; v++) {
    const p = evidenceLabel(parts12[v], e.mergeSides) - 1;
    const valid = p >= 0 && p < PART_COUNT;
    channel[v] = valid ? p : 0;
    pointGroup[v] = valid ? p : -1;
    seen[v] = valid && e.seen[p] ? 1 : 0;
  }
  const seenCount = seen.reduce((a, x) => a + x, 0);
  const weights = Float32Array.from(seen, (x) => (seenCount > 0 ? (x * V) / seenCount : 0));
  const keep = (data: ArrayLike<number>, shape: number[]) => rt.keep(rt.tensor(data, shape));
  const field = keep(e.field, [e.height, e.width, PART_COUNT]);
  const channelT = keep(channel, [V, 1]);
  const groups = pointGroups(rt, pointGroup, PART_COUNT, e.samples);
  for (const t of [groups.targetData, groups.targetSpans, groups.members, groups.memberSpans, groups.pointGroup]) rt.keep(t);
  const [fx, fy, cx, cy] = Array.from(target.camera);
  const common = {
    field, channel: channelT, groups, side: e.side,
    scale: [fx / e.scale, fy / e.scale] as [number, number],
    offset: [cx / e.scale + e.margin, cy / e.scale + e.margin] as [number, number],
    distanceWeight: target.partWeights?.distance ?? PART_DISTANCE_WEIGHT,
    coverWeight: target.partWeights?.cover ?? PART_COVER_WEIGHT,
    coverSigma: target.partWeights?.coverSigma ?? 0,
  };
  const weightsK = keep(tile(weights, K), [K, V, 1]);
  const weights1 = keep(weights, [1, V, 1]);
  return {
    K: { ...common, weights: weightsK },
    one: { ...common, weights: weights1 },
    dispose: () => {
      for (const t of [field, channelT, weightsK, weights1]) t.dispose();
      disposePointGroups(groups);
    },
  };
}

/** A kept copy of one parameter group (its values now, unaffected by later steps). */
function keptCopy(params: TensorStore, name: string): Tensor {
  const rt = params.get(name).runtime;
  return rt.keep(rt.tensor(params.get(name).readSync(), params.get(name).shape));
}

/** A fit set up on the GPU: its constants, the K candidates' parameters, and the tensors to score them. */
interface PreparedFit {
  /** How many facing starts lead the candidates (0 without `facing`). */
  Y: number;
  c: ReturnType<typeof fitConstants>;
  params: TensorStore;
  /** All K candidates at once (the stages' batch). */
  batch: FitTensors;
  /** Every candidate's loss at the parameters p. */
  lossesOf: (p: BodyParams) => number[];
  dispose: () => void;
}

/** Checks the target and starts, uploads the constants and the candidates (the facing ones first). */
function prepareFit(model: GpuBodyModel, skeleton: Skeleton, target: RefineTarget, starts: readonly RefineStart[], facing: boolean): PreparedFit {
  const rt = model.runtime;
  if (target.joints2d && target.joints2d.length !== 2 * JOINTS) throw new NbfError(`refine: joints2d must hold ${2 * JOINTS} numbers, got ${target.joints2d.length}`);
  if (target.joints3d && target.joints3d.length !== 3 * JOINTS) throw new NbfError(`refine: joints3d must hold ${3 * JOINTS} numbers, got ${target.joints3d.length}`);
  if (!target.joints2d && !target.parts) throw new NbfError('refine: nothing to fit to: give 2D joints, a part map or both');
  if (target.robust2d !== undefined && !(target.robust2d >= 0 && Number.isFinite(target.robust2d))) throw new NbfError(`refine: robust2d must be a number ≥ 0 (a fraction of the picture; 0: plain squares), got ${target.robust2d}`);
  if (!facing && starts.length === 0) throw new NbfError('refine: no start: without 2D joints the refinement needs a start (the fitting network\'s prediction)');
  const Y = facing ? YAW_HYPOTHESES.length : 0;
  const K = Y + starts.length;
  const c = fitConstants(rt, target, K);
  const parts = partConstants(model, target, K);
  const params = initialParams(rt, skeleton, target, starts, facing);
  const startPrior = target.startPrior ?? (parts ? target.partWeights?.start ?? START_PRIOR : 0);
  const startBody = startPrior > 0 ? keptCopy(params, 'body') : null;
  const startOrient = startPrior > 0 ? keptCopy(params, 'orient') : null;
  const common = { model, limits: c, startPrior, robust2d: target.robust2d ?? 0 };
  const batch: FitTensors = { ...common, target2d: c.targetK, scale2d: c.scale2dK, target3d: c.target3dK, sqrtW3d: c.sqrtW3dK, camera: c.cameraK, parts: parts?.K ?? null, startBody, startOrient };
  const single = (k: number): FitTensors => ({
    ...common, target2d: c.target1, scale2d: c.scale2d1, target3d: c.target3d1, sqrtW3d: c.sqrtW3d1, camera: c.camera1, parts: parts?.one ?? null,
    startBody: startBody ? slice(startBody, [k, 0], [1, startBody.shape[1]]) : null,
    startOrient: startOrient ? slice(startOrient, [k, 0], [1, 3]) : null,
  });
  const lossesOf = (p: BodyParams) => Array.from({ length: K }, (_, k) => rt.scope(() => fitLoss(candidate(p, k), single(k)).readSync()[0]));
  return {
    Y, c, params, batch, lossesOf,
    dispose: () => {
      params.dispose();
      startBody?.dispose();
      startOrient?.dispose();
      parts?.dispose();
      for (const t of Object.values(c)) t?.dispose();
    },
  };
}

/**
 * Each start's loss as it is, before any fitting (the refinement's loss, so a start's lossBefore in
 * refineBody): how well a body agrees with the target without moving it. Cheaper than refining —
 * one loss evaluation per start — so two readings of a picture can be compared before choosing which
 * to refine (fit-picture.ts, the legs' sides).
 */
export function startLosses(model: GpuBodyModel, skeleton: Skeleton, target: RefineTarget, starts: readonly RefineStart[]): number[] {
  const fit = prepareFit(model, skeleton, target, starts, false);
  try {
    return fit.lossesOf(fit.params.toRecord() as BodyParams);
  } finally {
    fit.dispose();
  }
}

/** Fits the body to the target from every start at once and keeps the best (see the header). */
export function refineBody(model: GpuBodyModel, skeleton: Skeleton, target: RefineTarget, options: RefineOptions = {}): RefineResult {
  const rt = model.runtime;
  const steps = options.steps ?? 300;
  if (!Number.isInteger(steps) || steps < 2) throw new NbfError(`refine: steps must be an integer ≥ 2, got ${steps}`);
  const starts = options.starts ?? [];
  const facing = options.facing ?? !!target.joints2d;
  const progress = options.progress ?? (() => {});
  const stage1Steps = Math.max(1, Math.round(steps * STAGE1_SHARE));
  const fit = prepareFit(model, skeleton, target, starts, facing);
  const { Y, c, params, batch, lossesOf } = fit;
  // Every start as it was, in case no start ends below where the best one began.
  const snapshot: Partial<Record<keyof BodyParams, Tensor>> = {};
  try {
    const current = () => params.toRecord() as BodyParams;
    const startError = target.joints2d ? rt.scope(() => joint2dError(evaluateBody(model, candidate(current(), 0), c.camera1).joints2d, target.joints2d!, target.weights2d)) : NaN;
    const startParams = current();
    for (const name of Object.keys(startParams) as (keyof BodyParams)[]) snapshot[name] = keptCopy(params, name);
    const lossesBefore = lossesOf(startParams);

    runStage(params, STAGE1_RATES, stage1Steps, batch, (s, l) => progress(1, s, stage1Steps, l));
    runStage(params, STAGE2_RATES, steps - stage1Steps, batch, (s, l) => progress(2, s, steps - stage1Steps, l));

    const losses = lossesOf(current());
    const bestAfter = Math.min(...losses);
    const bestBefore = Math.min(...lossesBefore);
    const keptStart = bestBefore < bestAfter;
    const chosen = keptStart ? lossesBefore.indexOf(bestBefore) : losses.indexOf(bestAfter);
    return rt.scope(() => {
      const best = candidate(keptStart ? (snapshot as BodyParams) : current(), chosen);
      const pose = new Float32Array(3 * JOINTS);
      pose.set(best.orient.readSync());
      pose.set(best.body.readSync(), 3);
      return {
        betas: best.betas.readSync(), pose, trans: best.trans.readSync(), body: evaluateBody(model, best, c.camera1),
        startError, chosen, facingStarts: Y, loss: keptStart ? bestBefore : losses[chosen], lossBefore: lossesBefore[chosen], losses, keptStart,
      };
    });
  } finally {
    for (const t of Object.values(snapshot)) t?.dispose();
    fit.dispose();
  }
}
