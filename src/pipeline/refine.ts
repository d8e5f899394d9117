/**
 * Model-based refinement: β, pose and translation fitted by Adam on the GPU, through the
 * differentiable body layer (ad.smpl) and the autodiff tape, so that the body's projected joints
 * land on 2D targets (ground truth in the demo, a photo-trained network's landmarks for photos) and,
 * when given, its pelvis-aligned 3D joints agree with metric 3D targets (BlazePose's world points).
 *
 * Several starts are fitted side by side in one batch: upright bodies facing each of 8 directions
 * (2D joints alone do not tell which way a body faces, and a wrong start ends in a local minimum),
 * plus any starts the caller brings (the fitting network's prediction). Stage 1 turns and moves the
 * rigid mean-shape body; stage 2 refines everything; the start with the lowest final loss is kept.
 *
 * Loss (every term a mean over the starts, so starts do not interact):
 *   Σ_j w_j |proj_j / S − t_j / S|² / (2J)                         weighted 2D term (S: picture size)
 * + λ3d Σ_j w3_j |(J_j − J_0) − (T_j − T_0)|² / (3J)                 optional pelvis-aligned 3D term
 * + small β² and body-pose² priors + a stiff penalty on bends past the joint limits.
 */
import * as ad from '../autodiff/index.js';
import { slice } from '../kernels/slice.js';
import { adam, cosineSchedule, type Adam } from '../optim/index.js';
import { ParamStore } from '../nn/params.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { inverseRodrigues } from '../smpl/cpu-forward.js';
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
  /** 24 × 2 joint positions, picture pixels (any value where the weight is 0). */
  joints2d: Float32Array;
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
  /** Weighted mean 2D distance (px) of the first facing start before fitting. */
  startError: number;
  /** Index of the start kept: < YAW_HYPOTHESES.length a facing direction, else options.starts[i − 8]. */
  chosen: number;
  /** The kept start's final loss, and every start's. */
  loss: number;
  losses: number[];
}

interface FitTensors {
  model: GpuBodyModel;
  target2d: Tensor;
  sqrtW2d: Tensor;
  target3d: Tensor | null;
  sqrtW3d: Tensor | null;
  weight3d: number;
  camera: Tensor;
  size: number;
  limits: { lo: Tensor; hi: Tensor };
}

export function poseBody(model: GpuBodyModel, p: BodyParams, camera: Tensor): ad.SmplOutputs {
  return ad.smpl(model, { betas: p.betas, pose: ad.concat([p.orient, p.body], 1), trans: p.trans, camera: { type: 'perspective', params: camera } });
}

function fitLoss(p: BodyParams, t: FitTensors): Tensor {
  const K = p.betas.shape[0];
  const out = poseBody(t.model, p, t.camera);
  const projected = ad.mul(ad.mulScalar(out.joints2d as Tensor, 1 / t.size), t.sqrtW2d);
  let loss = ad.l2Loss(projected, t.target2d);
  if (t.target3d && t.sqrtW3d && t.weight3d > 0) {
    const joints = out.joints;
    const pelvis = ad.slice(joints, [0, 0, 0], [K, 1, 3]);
    const aligned = ad.mul(ad.sub(joints, pelvis), t.sqrtW3d);
    loss = ad.add(loss, ad.mulScalar(ad.l2Loss(aligned, t.target3d), t.weight3d));
  }
  const priors = ad.add(ad.l2Regularization([p.betas], BETA_PRIOR / K), ad.l2Regularization([p.body], POSE_PRIOR / K));
  const outside = ad.add(ad.relu(ad.sub(p.body, t.limits.hi)), ad.relu(ad.sub(t.limits.lo, p.body)));
  return ad.add(ad.add(loss, priors), ad.mulScalar(ad.mean(ad.square(outside)), LIMIT_PRIOR));
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
function runStage(store: ParamStore, rates: Readonly<Record<string, number>>, steps: number, target: FitTensors, report: (step: number, loss: number) => void): void {
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

function initialParams(rt: Runtime, skeleton: Skeleton, target: RefineTarget, starts: readonly RefineStart[]): ParamStore {
  const Y = YAW_HYPOTHESES.length;
  const K = Y + starts.length;
  const B = skeleton.shapeCount;
  const orient = new Float32Array(K * 3);
  const body = new Float32Array(K * 3 * (JOINTS - 1));
  const betas = new Float32Array(K * B);
  const trans = new Float32Array(K * 3);
  orient.set(facingOrientations());
  trans.set(tile(initialTranslation(skeleton, target.joints2d, target.camera, target.weights2d), Y));
  starts.forEach((s, i) => {
    const k = Y + i;
    orient.set(Array.from(s.pose).slice(0, 3), k * 3);
    body.set(Array.from(s.pose).slice(3, 3 * JOINTS), k * 3 * (JOINTS - 1));
    betas.set(Array.from(s.betas).slice(0, B), k * B);
    trans.set(Array.from(s.trans).slice(0, 3), k * 3);
  });
  const store = new ParamStore(rt);
  for (const [name, values, width] of [['orient', orient, 3], ['body', body, 3 * (JOINTS - 1)], ['betas', betas, B], ['trans', trans, 3]] as const) {
    store.create(name, [K, width], 'zeros');
    store.set(name, rt.tensor(values, [K, width]));
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
  const w2 = target.weights2d ?? new Float32Array(JOINTS).fill(1);
  const sqrt2 = Float32Array.from(w2, (w) => Math.sqrt(Math.max(0, w)));
  const t2 = new Float32Array(2 * JOINTS);
  for (let j = 0; j < JOINTS; j++) for (let a = 0; a < 2; a++) t2[2 * j + a] = (target.joints2d[2 * j + a] / target.size) * sqrt2[j];
  let t3: Float32Array | null = null;
  let sqrt3: Float32Array | null = null;
  if (target.joints3d) {
    const w3 = target.weights3d ?? w2;
    sqrt3 = Float32Array.from(w3, (w) => Math.sqrt(Math.max(0, w)));
    t3 = new Float32Array(3 * JOINTS);
    for (let j = 0; j < JOINTS; j++) for (let a = 0; a < 3; a++) t3[3 * j + a] = (target.joints3d[3 * j + a] - target.joints3d[a]) * sqrt3[j];
  }
  const limits = poseLimits();
  const keep = (data: Float32Array, shape: number[]) => rt.keep(rt.tensor(data, shape));
  const camera = Float32Array.from(target.camera);
  return {
    targetK: keep(tile(t2, K), [K, JOINTS, 2]),
    sqrtW2dK: keep(tile(sqrt2, K), [K, JOINTS, 1]),
    target3dK: t3 ? keep(tile(t3, K), [K, JOINTS, 3]) : null,
    sqrtW3dK: sqrt3 ? keep(tile(sqrt3, K), [K, JOINTS, 1]) : null,
    cameraK: keep(tile(camera, K), [K, 4]),
    target1: keep(t2, [1, JOINTS, 2]),
    sqrtW2d1: keep(sqrt2, [1, JOINTS, 1]),
    target3d1: t3 ? keep(t3, [1, JOINTS, 3]) : null,
    sqrtW3d1: sqrt3 ? keep(sqrt3, [1, JOINTS, 1]) : null,
    camera1: keep(camera, [1, 4]),
    lo: keep(limits.lo, [1, limits.lo.length]),
    hi: keep(limits.hi, [1, limits.hi.length]),
  };
}

/** Fits the body to the target from every start at once and keeps the best (see the header). */
export function refineBody(model: GpuBodyModel, skeleton: Skeleton, target: RefineTarget, options: RefineOptions = {}): RefineResult {
  const rt = model.runtime;
  const steps = options.steps ?? 300;
  if (!Number.isInteger(steps) || steps < 2) throw new NbfError(`refine: steps must be an integer ≥ 2, got ${steps}`);
  if (target.joints2d.length !== 2 * JOINTS) throw new NbfError(`refine: joints2d must hold ${2 * JOINTS} numbers, got ${target.joints2d.length}`);
  if (target.joints3d && target.joints3d.length !== 3 * JOINTS) throw new NbfError(`refine: joints3d must hold ${3 * JOINTS} numbers, got ${target.joints3d.length}`);
  const starts = options.starts ?? [];
  const progress = options.progress ?? (() => {});
  const K = YAW_HYPOTHESES.length + starts.length;
  const stage1Steps = Math.max(1, Math.round(steps * STAGE1_SHARE));
  const c = fitConstants(rt, target, K);
  const params = initialParams(rt, skeleton, target, starts);
  try {
    const common = { model, weight3d: target.weight3d ?? 0.05, size: target.size, limits: c };
    const batch: FitTensors = { ...common, target2d: c.targetK, sqrtW2d: c.sqrtW2dK, target3d: c.target3dK, sqrtW3d: c.sqrtW3dK, camera: c.cameraK };
    const single: FitTensors = { ...common, target2d: c.target1, sqrtW2d: c.sqrtW2d1, target3d: c.target3d1, sqrtW3d: c.sqrtW3d1, camera: c.camera1 };
    const current = () => params.toRecord() as BodyParams;
    const startError = rt.scope(() => joint2dError(evaluateBody(model, candidate(current(), 0), c.camera1).joints2d, target.joints2d, target.weights2d));

    runStage(params, STAGE1_RATES, stage1Steps, batch, (s, l) => progress(1, s, stage1Steps, l));
    runStage(params, STAGE2_RATES, steps - stage1Steps, batch, (s, l) => progress(2, s, steps - stage1Steps, l));

    const losses = Array.from({ length: K }, (_, k) => rt.scope(() => fitLoss(candidate(current(), k), single).readSync()[0]));
    const chosen = losses.indexOf(Math.min(...losses));
    return rt.scope(() => {
      const best = candidate(current(), chosen);
      const pose = new Float32Array(3 * JOINTS);
      pose.set(best.orient.readSync());
      pose.set(best.body.readSync(), 3);
      return { betas: best.betas.readSync(), pose, trans: best.trans.readSync(), body: evaluateBody(model, best, c.camera1), startError, chosen, loss: losses[chosen], losses };
    });
  } finally {
    params.dispose();
    for (const t of Object.values(c)) t?.dispose();
  }
}
