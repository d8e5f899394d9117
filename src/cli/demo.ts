/**
 * `nbf demo`: the project end to end on shipped defaults, on a synthetic person whose body we know:
 *
 *   1. the open body model (or --body-model FILE: .nbfm, .pkl, .npz);
 *   2. one synthetic person rendered on the GPU (part map and RGB picture, src/synth);
 *   3. the fitting network (weights/nbf-fitter-compact.nbfw) predicts the body from the part map;
 *   4. the refinement (src/pipeline/refine.ts) fits β, pose and translation to the person's 2D joints
 *      by Adam on the GPU through the differentiable body layer, from 8 facing directions and the
 *      network's prediction at once, keeping the start with the lowest loss;
 *   5. errors against the ground truth, the fitted body rendered with the same camera, a part-coloured
 *      mesh and a summary, all written atomically into --out. See docs/demo.md.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeGlb } from '../io/glb.js';
import { fittedBodyMesh } from '../io/mesh.js';
import { partColourMap, partLabelMap } from '../render/maps.js';
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import type { BodyModel } from '../smpl/types.js';
import { disposeBatch, SynthGenerator } from '../synth/generate.js';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';
import { encodeRgb } from './synth.js';
import { loadFitterWeights } from '../nn/weights-file.js';
import { defaultFitterWeightsPath } from '../nn/default-weights.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { fitPartMap, type BodyFit } from '../pipeline/fit-parts.js';
import { joint2dError, JOINTS, refineBody, YAW_HYPOTHESES, type BodyState, type RefineResult } from '../pipeline/refine.js';

export const DEMO_USAGE = 'nbf demo [--seed N] [--size PX] [--steps N] [--out DIR] [--body-model FILE] [--weights FILE.nbfw | --no-fitter]';
export const DEMO_SUMMARY = 'render a synthetic person on the GPU, predict its body from the part map (fitting network), refine on its 2D joints';

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

/**
 * Refines β, pose and translation on the person's ground-truth 2D joints from every facing direction
 * (and the network's prediction), keeping the best (src/pipeline/refine.ts).
 */
function fitBody(generator: SynthGenerator, person: Person, size: number, steps: number, progress: Progress, predicted: BodyFit | null): RefineResult {
  return refineBody(generator.gpuModel, generator.skeleton, { joints2d: person.joints2d, camera: person.camera, size }, {
    steps,
    starts: predicted ? [{ pose: predicted.pose, betas: predicted.betas, trans: predicted.trans }] : [],
    progress,
  });
}

type Progress = (stage: number, step: number, steps: number, loss: number) => void;

/** Mean per-joint 3D distance in millimetres after moving both skeletons' pelvis to the origin. */
function rootAlignedError(predicted: Float32Array, target: Float32Array): number {
  let total = 0;
  for (let j = 0; j < JOINTS; j++) {
    const d = [0, 1, 2].map((a) => predicted[3 * j + a] - predicted[a] - (target[3 * j + a] - target[a]));
    total += Math.hypot(d[0], d[1], d[2]);
  }
  return (1000 * total) / JOINTS;
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
  return encodeGlb(fittedBodyMesh(model, body), { name: 'nbf demo fit', extras: { bodyModel: model.name, licence: model.licence } });
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

function summaryJson(o: DemoOptions, model: BodyModel, person: Person, fit: RefineResult, errors: FitErrors, timings: Timings): string {
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
