/**
 * `nbf demo`: the project end to end on shipped defaults. No trained network ships yet, so instead of
 * regressing a body from a picture, the demo fits the body model to a synthetic person's ground-truth
 * 2D joints — the target NBF's 2D loss uses — and exercises everything the fitting pipeline runs on:
 *
 *   1. the open body model (or --body-model FILE: .nbfm, .pkl, .npz);
 *   2. one synthetic person rendered on the GPU (part map and RGB picture, src/synth);
 *   3. a fit of β, pose and translation to that person's 2D joints by Adam on the GPU, through the
 *      differentiable SMPL layer and the autodiff tape, from 8 facing directions at once (stage 1:
 *      global orientation and translation; stage 2: everything), keeping the candidate with the lowest loss;
 *   4. errors against the ground truth, the fitted body rendered with the same camera, a part-coloured
 *      mesh and a summary, all written atomically into --out. See docs/demo.md.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ad from '../autodiff/index.js';
import { slice } from '../kernels/slice.js';
import { encodeGlb } from '../io/glb.js';
import { cameraToViewerPositions, partColors } from '../io/mesh.js';
import { adam, cosineSchedule, type Adam } from '../optim/index.js';
import { ParamStore } from '../nn/params.js';
import { partColourMap, partLabelMap } from '../render/maps.js';
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { inverseRodrigues } from '../smpl/cpu-forward.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import type { BodyModel } from '../smpl/types.js';
import { disposeBatch, SynthGenerator } from '../synth/generate.js';
import { globalRotation, JOINT_LIMITS } from '../synth/pose.js';
import type { Skeleton } from '../synth/skeleton.js';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';
import { encodeRgb } from './synth.js';
import { loadFitterWeights } from '../nn/weights-file.js';
import { defaultFitterWeightsPath } from '../nn/default-weights.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { fitPartMap, type BodyFit } from '../pipeline/fit-parts.js';

export const DEMO_USAGE = 'nbf demo [--seed N] [--size PX] [--steps N] [--out DIR] [--body-model FILE] [--weights FILE.nbfw | --no-fitter]';
export const DEMO_SUMMARY = 'render a synthetic person on the GPU, predict its body from the part map (fitting network), refine on its 2D joints';

const JOINTS = 24;
/**
 * Facing directions (yaw about the body's vertical) fitted side by side: a person may face any way,
 * and a fit started facing the wrong way ends in a local minimum. Over seeds 1–8, 8 directions
 * instead of 4 took the mean 3D error from 111 to 80 mm; the batch costs little on the GPU.
 */
const YAW_HYPOTHESES = Array.from({ length: 8 }, (_, i) => (i * Math.PI) / 4);
/** A progress line every this many steps (each reads the loss back, a GPU stall). */
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

interface DemoOptions {
  seed: number;
  size: number;
  steps: number;
  out: string;
  modelPath: string;
  /** The fitting network's weights, or null to fit from the facing directions alone. */
  weightsPath: string | null;
}

/** Parses and checks the flags (throws ArgError); a missing model file is checked when it is read. */
function parseDemoArgs(argv: string[]): DemoOptions {
  const args = parseArgs(argv, ['seed', 'size', 'steps', 'out', 'body-model', 'weights'], ['no-fitter']);
  if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
  const out = stringFlag(args, 'out') ?? join('out', 'demo');
  if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
  const modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
  const weightsFlag = stringFlag(args, 'weights');
  if (weightsFlag && args.flags.has('no-fitter')) throw new ArgError('--weights and --no-fitter exclude each other');
  if (weightsFlag && !existsSync(weightsFlag)) throw new ArgError(`--weights ${weightsFlag}: no such file`);
  const weightsPath = args.flags.has('no-fitter') ? null : weightsFlag ?? defaultFitterWeightsPath();
  return {
    weightsPath,
    seed: intFlag(args, 'seed', 1, 0, 2 ** 32 - 1),
    size: intFlag(args, 'size', 224, 32, 1024),
    steps: intFlag(args, 'steps', 300, 2, 10_000),
    out,
    modelPath,
  };
}

// ---- the synthetic person ------------------------------------------------------------------------

interface Person {
  partsPng: Uint8Array;
  rgbPng: Uint8Array;
  /** 24·2 ground-truth joints, pixels. */
  joints2d: Float32Array;
  /** 24·3 ground-truth joints, camera frame, metres. */
  joints3d: Float32Array;
  /** fx, fy, cx, cy. */
  camera: Float64Array;
  betas: Float64Array;
  pose: Float64Array;
  trans: Float64Array;
  /** 12-part class per pixel (the fitting network's input before colouring). */
  labels: Uint8Array;
}

function synthesisePerson(generator: SynthGenerator, seed: number, size: number): Person {
  const batch = generator.generateBatch(1, { size, seed });
  try {
    const example = batch.examples[0];
    return {
      partsPng: encodeRgb(batch.inputs.parts.readSync(), 0, size, 1),
      rgbPng: encodeRgb(batch.inputs.rgb.readSync(), 0, size, 255),
      joints2d: batch.targets.joints2d.readSync(),
      joints3d: batch.targets.joints3d.readSync(),
      camera: example.camera,
      betas: example.betas,
      pose: example.pose,
      trans: example.trans,
      labels: Uint8Array.from(batch.inputs.labels.readSync()),
    };
  } finally {
    disposeBatch(batch);
  }
}

// ---- the fitting network ----------------------------------------------------------------------------

/**
 * The fitting network's prediction from the person's part map. The synthetic person is framed as the
 * network's training renders are, so the whole picture is its input and the result is in the
 * person's own camera.
 */
function predictBody(generator: SynthGenerator, person: Person, size: number, weightsPath: string): BodyFit {
  let network: FitterNetwork | null = null;
  try {
    network = loadFitterWeights(generator.runtime, new Uint8Array(readFileSync(weightsPath)), weightsPath).network;
    return fitPartMap(network, generator.gpuModel, { width: size, height: size, labels: person.labels }, { framing: 'image' });
  } finally {
    network?.dispose();
  }
}

// ---- fitting ---------------------------------------------------------------------------------------

/** Body parameters of K candidate bodies: orient [K, 3] and body [K, 69] make up the 72 pose numbers. */
type BodyParams = Record<'orient' | 'body' | 'betas' | 'trans', Tensor>;

/** What the fit compares against (2D joints divided by the image size, per candidate) and its bounds. */
interface FitTarget {
  model: GpuBodyModel;
  joints2d: Tensor;
  camera: Tensor;
  size: number;
  limits: { lo: Tensor; hi: Tensor };
}

function poseBody(model: GpuBodyModel, p: BodyParams, camera: Tensor): ad.SmplOutputs {
  return ad.smpl(model, { betas: p.betas, pose: ad.concat([p.orient, p.body], 1), trans: p.trans, camera: { type: 'perspective', params: camera } });
}

/**
 * Mean squared 2D error in image-size units, small β² and body-pose² priors, and a stiff penalty on
 * bends past the joint limits. Every term is a mean over the candidates, so candidates do not
 * interact and one candidate alone gets the same value it has in the batch.
 */
function fitLoss(p: BodyParams, t: FitTarget): Tensor {
  const K = p.betas.shape[0];
  const joints2d = poseBody(t.model, p, t.camera).joints2d as Tensor;
  const data = ad.l2Loss(ad.mulScalar(joints2d, 1 / t.size), t.joints2d);
  const priors = ad.add(ad.l2Regularization([p.betas], BETA_PRIOR / K), ad.l2Regularization([p.body], POSE_PRIOR / K));
  const outside = ad.add(ad.relu(ad.sub(p.body, t.limits.hi)), ad.relu(ad.sub(t.limits.lo, p.body)));
  return ad.add(ad.add(data, priors), ad.mulScalar(ad.mean(ad.square(outside)), LIMIT_PRIOR));
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

type Progress = (stage: number, step: number, steps: number, loss: number) => void;

/**
 * Runs Adam on the parameters named in `rates` (one optimizer each, for its own learning rate, with a
 * cosine decay); the store's other parameters stay fixed. Only the progress reports read back.
 */
function runStage(store: ParamStore, rates: Readonly<Record<string, number>>, steps: number, target: FitTarget, report: (step: number, loss: number) => void): void {
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
 * Starting translation: the depth at which the least foreshortened bone of the mean shape has its
 * image length, and the pelvis on its image position (SMPL rotates about the pelvis, so the pose
 * does not move it).
 */
function initialTranslation(skeleton: Skeleton, joints2d: Float32Array, camera: Float64Array): Float64Array {
  const rest = skeleton.restJoints(new Float64Array(skeleton.shapeCount));
  const [f, , cx, cy] = camera;
  let depth = Infinity;
  for (const [a, b] of DEPTH_BONES) {
    const length3d = Math.hypot(rest[3 * b] - rest[3 * a], rest[3 * b + 1] - rest[3 * a + 1], rest[3 * b + 2] - rest[3 * a + 2]);
    const length2d = Math.hypot(joints2d[2 * b] - joints2d[2 * a], joints2d[2 * b + 1] - joints2d[2 * a + 1]);
    if (length2d > 1) depth = Math.min(depth, (f * length3d) / length2d);
  }
  if (!Number.isFinite(depth)) throw new Error("the synthetic person's joints are too close together to estimate a depth");
  return Float64Array.from([((joints2d[0] - cx) * depth) / f - rest[0], ((joints2d[1] - cy) * depth) / f - rest[1], depth - rest[2]]);
}

/** Axis-angle global orientations: upright, facing the camera, turned by each yaw of YAW_HYPOTHESES. */
function facingOrientations(): Float32Array {
  const out = new Float64Array(YAW_HYPOTHESES.length * 3);
  YAW_HYPOTHESES.forEach((yaw, k) => inverseRodrigues(globalRotation(yaw, 0, 0, 0), 0, out, 3 * k));
  return Float32Array.from(out);
}

/** Repeats a row k times (the same target, camera or start for every candidate). */
function tile(row: ArrayLike<number>, k: number): Float32Array {
  const out = new Float32Array(row.length * k);
  for (let i = 0; i < k; i++) out.set(row, i * row.length);
  return out;
}

/**
 * Starting parameters of every candidate: mean shape, zero body pose, its facing direction; and, when
 * the fitting network ran, one more candidate starting from its prediction.
 */
function initialParams(rt: Runtime, skeleton: Skeleton, person: Person, predicted: BodyFit | null): ParamStore {
  const Y = YAW_HYPOTHESES.length;
  const K = Y + (predicted ? 1 : 0);
  const B = skeleton.shapeCount;
  const orient = new Float32Array(K * 3);
  const body = new Float32Array(K * 3 * (JOINTS - 1));
  const betas = new Float32Array(K * B);
  const trans = new Float32Array(K * 3);
  orient.set(facingOrientations());
  trans.set(tile(initialTranslation(skeleton, person.joints2d, person.camera), Y));
  if (predicted) {
    orient.set(predicted.pose.slice(0, 3), Y * 3);
    body.set(predicted.pose.slice(3), Y * 3 * (JOINTS - 1));
    betas.set(predicted.betas.slice(0, B), Y * B);
    trans.set(predicted.trans, Y * 3);
  }
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

interface BodyState {
  vertices: Float32Array;
  joints3d: Float32Array;
  joints2d: Float32Array;
}

/** Poses bodies (no tape) and reads their vertices and joints back. */
function evaluate(model: GpuBodyModel, p: BodyParams, camera: Tensor): BodyState {
  return model.runtime.scope(() => {
    const out = poseBody(model, p, camera);
    return { vertices: out.vertices.readSync(), joints3d: out.joints.readSync(), joints2d: (out.joints2d as Tensor).readSync() };
  });
}

/** Mean 2D joint distance in pixels. */
function joint2dError(predicted: Float32Array, target: Float32Array): number {
  let total = 0;
  for (let j = 0; j < JOINTS; j++) total += Math.hypot(predicted[2 * j] - target[2 * j], predicted[2 * j + 1] - target[2 * j + 1]);
  return total / JOINTS;
}

/** Mean per-joint 3D distance in millimetres after moving both skeletons' pelvis to the origin. */
function rootAlignedError(predicted: Float32Array, target: Float32Array): number {
  let total = 0;
  for (let j = 0; j < JOINTS; j++) {
    const d = [0, 1, 2].map((a) => predicted[3 * j + a] - predicted[a] - (target[3 * j + a] - target[a]));
    total += Math.hypot(d[0], d[1], d[2]);
  }
  return (1000 * total) / JOINTS;
}

interface FitResult {
  betas: Float32Array;
  pose: Float32Array;
  trans: Float32Array;
  body: BodyState;
  /** 2D error of the start (upright, facing the camera, mean shape, zero body pose) in pixels. */
  startError: number;
  /** Index into YAW_HYPOTHESES of the candidate kept, or YAW_HYPOTHESES.length: the network's start. */
  chosen: number;
}

/** Uploads the fit's constants: the target and camera for K candidates and for one, the pose bounds. */
function fitConstants(rt: Runtime, person: Person, size: number, K: number) {
  const target = person.joints2d.map((v) => v / size);
  const limits = poseLimits();
  return {
    targetK: rt.keep(rt.tensor(tile(target, K), [K, JOINTS, 2])),
    cameraK: rt.keep(rt.tensor(tile(person.camera, K), [K, 4])),
    target1: rt.keep(rt.tensor(target, [1, JOINTS, 2])),
    camera1: rt.keep(rt.tensor(Float32Array.from(person.camera), [1, 4])),
    lo: rt.keep(rt.tensor(limits.lo, [1, limits.lo.length])),
    hi: rt.keep(rt.tensor(limits.hi, [1, limits.hi.length])),
  };
}

/**
 * Fits β, pose and translation to the person's 2D joints, from every facing direction of
 * YAW_HYPOTHESES at once (one batch): stage 1 turns and moves the rigid mean-shape body, stage 2
 * refines everything. The candidate with the lowest final loss is kept: 2D joints alone do not tell
 * which way a body faces, and a wrong start ends in a worse fit or a bend past the joint limits.
 */
function fitBody(generator: SynthGenerator, person: Person, size: number, steps: number, progress: Progress, predicted: BodyFit | null): FitResult {
  const rt = generator.runtime;
  const model = generator.gpuModel;
  const K = YAW_HYPOTHESES.length + (predicted ? 1 : 0);
  const stage1Steps = Math.max(1, Math.round(steps * STAGE1_SHARE));
  const c = fitConstants(rt, person, size, K);
  const params = initialParams(rt, generator.skeleton, person, predicted);
  try {
    const batch: FitTarget = { model, joints2d: c.targetK, camera: c.cameraK, size, limits: c };
    const single: FitTarget = { model, joints2d: c.target1, camera: c.camera1, size, limits: c };
    const current = () => params.toRecord() as BodyParams;
    const startError = rt.scope(() => joint2dError(evaluate(model, candidate(current(), 0), c.camera1).joints2d, person.joints2d));

    runStage(params, STAGE1_RATES, stage1Steps, batch, (s, l) => progress(1, s, stage1Steps, l));
    runStage(params, STAGE2_RATES, steps - stage1Steps, batch, (s, l) => progress(2, s, steps - stage1Steps, l));

    const losses = Array.from({ length: K }, (_, k) => rt.scope(() => fitLoss(candidate(current(), k), single).readSync()[0]));
    const chosen = losses.indexOf(Math.min(...losses));
    return rt.scope(() => {
      const best = candidate(current(), chosen);
      const pose = new Float32Array(3 * JOINTS);
      pose.set(best.orient.readSync());
      pose.set(best.body.readSync(), 3);
      return { betas: best.betas.readSync(), pose, trans: best.trans.readSync(), body: evaluate(model, best, c.camera1), startError, chosen };
    });
  } finally {
    params.dispose();
    for (const t of Object.values(c)) t.dispose();
  }
}

// ---- outputs ---------------------------------------------------------------------------------------

/** The fitted body rendered with the person's camera as an NBF 12-part colour map PNG. */
function renderFit(generator: SynthGenerator, vertices: Float32Array, camera: Float64Array, size: number): Uint8Array {
  const rt = generator.runtime;
  const colours = rt.scope(() => {
    const v = rt.tensor(vertices, [1, vertices.length / 3, 3]);
    const gbuffer = generator.renderer.render(v, rt.tensor(Float32Array.from(camera), [1, 4]), { width: size, height: size });
    return partColourMap(partLabelMap(gbuffer, 12), 12).readSync();
  });
  return encodeRgb(colours, 0, size, 1);
}

/**
 * The fitted mesh as glTF: centred on the pelvis and turned from the camera frame (y down, z forward)
 * to glTF's (y up, z towards the viewer) by a half turn about x, so a viewer sees what the camera saw.
 */
function fitGlb(model: BodyModel, body: BodyState): Uint8Array {
  const positions = cameraToViewerPositions(body.vertices, body.joints3d);
  return encodeGlb({ positions, faces: model.faces, colors: partColors(model.parts12) }, { name: 'nbf demo fit', extras: { bodyModel: model.name, licence: model.licence } });
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const numbers = (xs: ArrayLike<number>) => Array.from(xs, (x) => round(x, 6));

/** 2D error of the start and of the fit (pixels), 3D error of the fit (mm, pelvis aligned). */
interface FitErrors {
  before: number;
  after: number;
  mpjpe: number;
  /** The fitting network's own prediction, before the 2D fit (null without one). */
  network: { joints2d: number; mpjpe: number } | null;
}

interface Timings {
  contextMs: number;
  synthMs: number;
  networkMs: number;
  fitMs: number;
  outputMs: number;
  totalMs: number;
}

function summaryJson(o: DemoOptions, model: BodyModel, person: Person, fit: FitResult, errors: FitErrors, timings: Timings): string {
  const ms = (x: number) => round(x, 1);
  return JSON.stringify({
    seed: o.seed,
    size: o.size,
    steps: o.steps,
    bodyModel: model.name,
    weights: o.weightsPath,
    start: fit.chosen === YAW_HYPOTHESES.length ? 'network' : 'facing',
    startYawDeg: fit.chosen === YAW_HYPOTHESES.length ? null : round((YAW_HYPOTHESES[fit.chosen] * 180) / Math.PI, 1),
    errors: {
      joints2dBeforePx: round(errors.before, 4), joints2dAfterPx: round(errors.after, 4), mpjpeRootAlignedMm: round(errors.mpjpe, 3),
      network: errors.network ? { joints2dPx: round(errors.network.joints2d, 4), mpjpeRootAlignedMm: round(errors.network.mpjpe, 3) } : null,
    },
    timingsMs: { context: ms(timings.contextMs), synth: ms(timings.synthMs), network: ms(timings.networkMs), fit: ms(timings.fitMs), perStep: ms(timings.fitMs / o.steps), output: ms(timings.outputMs), total: ms(timings.totalMs) },
    fitted: { betas: numbers(fit.betas), pose: numbers(fit.pose), trans: numbers(fit.trans) },
    groundTruth: { betas: numbers(person.betas), pose: numbers(person.pose), trans: numbers(person.trans), camera: numbers(person.camera) },
  }, null, 2) + '\n';
}

function progressLine(stage: number, step: number, steps: number, loss: number): void {
  const what = stage === 1 ? `orientation + translation, ${YAW_HYPOTHESES.length} facing directions and the network's start` : 'β, pose, translation';
  process.stderr.write(`demo: fit stage ${stage}/2 (${what}) step ${step}/${steps}, loss ${loss.toExponential(3)}\n`);
}

/**
 * Runs the demo. `options.runtime` lends a GL context (tests check that it ends with the tensors it
 * started with); without one the demo creates its own and always destroys it.
 */
export async function demo(argv: string[], options: { runtime?: Runtime } = {}): Promise<number> {
  let o: DemoOptions;
  try {
    o = parseDemoArgs(argv);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf demo: ${e.message}\nusage: ${DEMO_USAGE}`);
      return 2;
    }
    throw e;
  }
  let model: BodyModel;
  try {
    model = readBodyModelFile(o.modelPath);
  } catch (e) {
    console.error(`nbf demo: ${(e as Error).message}`);
    return 1;
  }

  const t0 = performance.now();
  const rt = options.runtime ?? createNodeContext();
  const tContext = performance.now();
  let generator: SynthGenerator | undefined;
  try {
    generator = new SynthGenerator(rt, model);
    const person = synthesisePerson(generator, o.seed, o.size);
    const tSynth = performance.now();
    const predicted = o.weightsPath ? predictBody(generator, person, o.size, o.weightsPath) : null;
    const tNetwork = performance.now();
    const fit = fitBody(generator, person, o.size, o.steps, progressLine, predicted);
    const tFit = performance.now();
    const errors: FitErrors = {
      before: fit.startError,
      after: joint2dError(fit.body.joints2d, person.joints2d),
      mpjpe: rootAlignedError(fit.body.joints3d, person.joints3d),
      network: predicted ? { joints2d: joint2dError(predicted.joints2d, person.joints2d), mpjpe: rootAlignedError(predicted.joints3d, person.joints3d) } : null,
    };
    const files = [
      { path: join(o.out, 'person_parts.png'), data: person.partsPng },
      { path: join(o.out, 'person_rgb.png'), data: person.rgbPng },
      { path: join(o.out, 'fit_parts.png'), data: renderFit(generator, fit.body.vertices, person.camera, o.size) },
      { path: join(o.out, 'fit.glb'), data: fitGlb(model, fit.body) },
    ];
    const tEnd = performance.now();
    const timings = { contextMs: tContext - t0, synthMs: tSynth - tContext, networkMs: tNetwork - tSynth, fitMs: tFit - tNetwork, outputMs: tEnd - tFit, totalMs: tEnd - t0 };
    files.push({ path: join(o.out, 'summary.json'), data: new TextEncoder().encode(summaryJson(o, model, person, fit, errors, timings)) });
    mkdirSync(o.out, { recursive: true });
    writeFilesAtomically(files);
    printReport(o, model, errors, timings, files.map((f) => f.path), fit.chosen === YAW_HYPOTHESES.length);
    return 0;
  } finally {
    generator?.dispose();
    if (!options.runtime) rt.destroy();
  }
}

function printReport(o: DemoOptions, model: BodyModel, errors: FitErrors, t: Timings, paths: string[], fromNetwork: boolean): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`nbf demo: a synthetic person (seed ${o.seed}, ${o.size}×${o.size}), body model "${model.name}"`);
  if (errors.network) {
    console.log(`  fitting network (${o.weightsPath}) from the part map: 3D joint error ${errors.network.mpjpe.toFixed(1)} mm, 2D ${errors.network.joints2d.toFixed(2)} px`);
  }
  console.log(`  refined on the 2D joints in ${o.steps} Adam steps on the GPU, kept the start ${fromNetwork ? 'the network predicted' : 'of a facing direction'}:`);
  console.log(`  2D joint error: ${errors.before.toFixed(2)} px at the start → ${errors.after.toFixed(2)} px after the fit (mean over ${JOINTS} joints; the start facing the camera)`);
  console.log(`  3D joint error: ${errors.mpjpe.toFixed(1)} mm (mean per joint, pelvis aligned) against the ground-truth pose`);
  console.log(`  time: context ${s(t.contextMs)} · synth ${s(t.synthMs)} · network ${s(t.networkMs)} · fit ${s(t.fitMs)} (${(t.fitMs / o.steps).toFixed(0)} ms/step) · output ${s(t.outputMs)} · total ${s(t.totalMs)}`);
  console.log(`  wrote ${paths.join(', ')}`);
}
