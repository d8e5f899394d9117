/**
 * The segmenter's commands (picture → 13-class map: background + NBF's 12 parts), all thin:
 *
 *   nbf train segmenter   trains on synthetic people rendered on the fly (src/train/segmenter-trainer.ts)
 *   nbf eval segmenter    mIoU, foreground IoU, pixel accuracy, per-class IoU and a confusion-matrix PNG
 *                         beside the all-background floor (src/eval/segmenter-eval.ts)
 *   nbf segment           PNG/JPEG pictures or folders → DIR/<name>/parts.png, labels.png, overlay.png
 *                         at the picture's size (src/pipeline/segment.ts)
 *
 * eval and segment use the shipped weights/nbf-segmenter-compact.nbfw unless --weights names others.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createNodeContext } from '../runtime/node-context.js';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { SynthGenerator } from '../synth/generate.js';
import { loadBackgroundBank } from '../synth/backgrounds-node.js';
import { segmenterConfig, checkSegmenterConfig, segmenterConfigWithInput, segmenterReadsLandmarks, SEGMENTER_INPUTS, type SegmenterConfig, type SegmenterInput, type SegmenterNetwork } from '../nn/refinenet.js';
import { resnetStride } from '../nn/resnet.js';
import { loadSegmenterWeights, SEGMENTER_PRIOR_CORRECTION, type SegmenterWeightsMeta } from '../nn/weights-file.js';
import { defaultSegmenterWeightsPath } from '../nn/default-weights.js';
import { trainSegmenter, type TrainSegmenterOptions } from '../train/segmenter-trainer.js';
import { progressPrinter, stopOnSignals } from '../train/training-run.js';
import { evaluateSegmenter, rowNormalise, SEGMENTER_CLASS_NAMES, type SegmenterEvalOptions } from '../eval/segmenter-eval.js';
import { confusionPng } from '../eval/confusion-png.js';
import { labelIndexImage, partsImage, segmentationOverlay, segmentPicture } from '../pipeline/segment.js';
import { readImageFile } from '../io/image-file.js';
import { encodePng, rgbFloatsToImage } from '../io/image.js';
import type { Tensor } from '../runtime/tensor.js';
import { BLAZEPOSE_VARIANTS, createPoseLandmarker, DEFAULT_BLAZEPOSE_VARIANT, type BlazePoseVariant } from '../landmarks/model-files.js';
import { NoPersonError, type PoseLandmarker } from '../landmarks/blazepose.js';
import { bodyJointTargets } from '../landmarks/to-body-joints.js';
import { jointsInSquare, landmarkHeatmaps } from '../nn/landmark-heatmaps.js';
import { HEATMAP_JOINTS } from '../nn/fitter-inputs.js';
import { ArgError, intFlag, parseArgs, stringFlag, type ParsedArgs } from './args.js';
import { writeFilesAtomically, writeFolderAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';
import { expandImageArgs, outputNames } from './landmarks.js';

export const TRAIN_SEGMENTER_USAGE = 'nbf train segmenter [--config compact|paper|FILE.json] [--size S] [--out DIR] [--minutes M] [--steps N] [--resume] [--cosine] [--batch B] [--lr X] [--weight-decay X] [--class-weights auto|none] [--seed S] [--val-seed S] [--val-count N] [--val-every M] [--backgrounds DIR [--photo-fraction F]] [--other-person RATE] [--back-view-rate P] [--close-up-rate R] [--input rgb|rgb+landmarks [--truncation R] [--landmarks-missing P]] [--init FILE.nbfw] [--body-model FILE]';
export const EVAL_SEGMENTER_USAGE = 'nbf eval segmenter [--weights FILE.nbfw] [--count N] [--seed S] [--batch B] [--json FILE] [--confusion PNG] [--backgrounds DIR [--photo-fraction F]] [--other-person RATE] [--back-view-rate P] [--close-up-rate R] [--prior-correction A] [--landmarks simulated|none|lite|full|heavy] [--mirror] [--body-model FILE]';
export const SEGMENT_USAGE = 'nbf segment IMAGE|FOLDER... [--weights FILE.nbfw] [--out DIR] [--size S] [--prior-correction A] [--landmarks lite|full|heavy|none] [--no-mirror]';
export const SEGMENT_SUMMARY = 'pictures (PNG/JPEG) → 13-class part maps with a trained segmenter: parts.png, labels.png, overlay.png';

/** Where a shipped segmenter would be (none is trained yet). */

/** The --weights path, or the shipped file when there is one; otherwise one line saying what to do. */
export function segmenterWeightsPath(flag: string | undefined): string {
  const path = flag ?? defaultSegmenterWeightsPath();
  if (!path) throw new ArgError('no segmenter weights: weights/nbf-segmenter-compact.nbfw is not here; train one with nbf train segmenter or pass --weights FILE.nbfw');
  if (!existsSync(path)) throw new ArgError(`--weights ${path}: no such file`);
  return path;
}

function loadNetwork(rt: Runtime, path: string, priorCorrection?: number): { network: SegmenterNetwork; meta: SegmenterWeightsMeta; logitOffsets: number[] | null } {
  return loadSegmenterWeights(rt, new Uint8Array(readFileSync(path)), path, { priorCorrection });
}

function numberFlag(args: ParsedArgs, key: string, fallback: number, min: number, max: number): number {
  const raw = args.flags.get(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ArgError(`--${key} must be a number in [${min}, ${max}], got ${String(raw)}`);
  return n;
}

/** A named configuration or a JSON file, optionally at another input size; errors as ArgError. */
export function resolveSegmenterConfig(spec: string, size?: number): SegmenterConfig {
  let config: SegmenterConfig;
  if (spec.endsWith('.json')) {
    if (!existsSync(spec)) throw new ArgError(`--config ${spec}: no such file`);
    try {
      config = JSON.parse(readFileSync(spec, 'utf8')) as SegmenterConfig;
    } catch (e) {
      throw new ArgError(`--config ${spec}: not valid JSON (${(e as Error).message})`);
    }
  } else {
    try {
      config = segmenterConfig(spec);
    } catch (e) {
      throw new ArgError((e as Error).message);
    }
  }
  if (size !== undefined) config = { ...config, inputSize: size };
  try {
    checkSegmenterConfig(config, `segmenter "${config?.name ?? spec}"`);
  } catch (e) {
    let stride = '';
    try {
      if (size !== undefined) stride = ` (--size ${size}; the encoder's stride is ${resnetStride(config.encoder)})`;
    } catch {
      // A broken encoder configuration: its own message says so.
    }
    throw new ArgError(`${(e as Error).message}${stride}`);
  }
  return config;
}

// ─── nbf train segmenter ───────────────────────────────────────────────────────────────────────

/**
 * How the synthetic pictures are drawn, from the flags train and eval share: a second person in
 * --other-person RATE of them (labelled background), --back-view-rate P of the people seen from behind
 * (absent: the uniform full turn), and --close-up-rate R of them framed from the hips up (`closeUp`,
 * apart: training lays it over the training pictures only). Flags left out stay out of the options.
 */
function pictureFlags(args: ParsedArgs): { otherPersonRate?: number; backViewRate?: number; closeUp?: { closeUpRate: number } } {
  const otherPersonRate = numberFlag(args, 'other-person', 0, 0, 1);
  const backViewRate = args.flags.has('back-view-rate') ? numberFlag(args, 'back-view-rate', 0.5, 0, 1) : undefined;
  const closeUpRate = numberFlag(args, 'close-up-rate', 0, 0, 1);
  return {
    ...(otherPersonRate > 0 ? { otherPersonRate } : {}),
    ...(backViewRate !== undefined ? { backViewRate } : {}),
    ...(closeUpRate > 0 ? { closeUp: { closeUpRate } } : {}),
  };
}

export async function trainSegmenterCommand(argv: string[]): Promise<number> {
  let options: Omit<TrainSegmenterOptions, 'shouldStop' | 'progress' | 'log'>;
  let modelPath: string;
  let backgroundsDir: string | undefined;
  let photoFraction = 0.6;
  try {
    const args = parseArgs(argv, ['config', 'size', 'out', 'minutes', 'steps', 'batch', 'lr', 'weight-decay', 'class-weights', 'seed', 'val-seed', 'val-count', 'val-every', 'checkpoint-every', 'body-model', 'backgrounds', 'photo-fraction', 'other-person', 'back-view-rate', 'close-up-rate', 'input', 'init', 'truncation', 'landmarks-missing'], ['resume', 'cosine']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    const out = stringFlag(args, 'out') ?? 'runs/segmenter';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    const minutes = args.flags.has('minutes') ? numberFlag(args, 'minutes', 0, 0.01, 1e6) : undefined;
    const steps = args.flags.has('steps') ? intFlag(args, 'steps', 0, 1) : undefined;
    if (minutes === undefined && steps === undefined) throw new ArgError('give --minutes M or --steps N (or both: whichever comes first)');
    const classWeights = stringFlag(args, 'class-weights') ?? 'auto';
    if (classWeights !== 'auto' && classWeights !== 'none') throw new ArgError(`--class-weights must be auto or none, got "${classWeights}"`);
    const size = args.flags.has('size') ? intFlag(args, 'size', 0, 8, 2048) : undefined;
    const seed = intFlag(args, 'seed', 1, 0, 2 ** 32 - 1);
    const valSeed = intFlag(args, 'val-seed', 900001, 0, 2 ** 32 - 1);
    if (seed === valSeed) throw new ArgError(`--seed and --val-seed are both ${seed}; validation must use pictures training never draws`);
    const input = stringFlag(args, 'input');
    if (input !== undefined && !(SEGMENTER_INPUTS as readonly string[]).includes(input)) throw new ArgError(`--input must be one of ${SEGMENTER_INPUTS.join(', ')}, got "${input}"`);
    let config = resolveSegmenterConfig(stringFlag(args, 'config') ?? 'compact', size);
    if (input !== undefined) config = segmenterConfigWithInput(config, input as SegmenterInput);
    const readsLandmarks = segmenterReadsLandmarks(config);
    for (const flag of ['truncation', 'landmarks-missing']) {
      if (args.flags.has(flag) && !readsLandmarks) throw new ArgError(`--${flag} draws the landmark heatmaps of a segmenter that reads them (--input rgb+landmarks)`);
    }
    options = {
      config,
      out,
      minutes,
      steps,
      resume: args.flags.has('resume'),
      cosine: args.flags.has('cosine'),
      batch: intFlag(args, 'batch', 8, 2, 512),
      lr: numberFlag(args, 'lr', 1e-3, 1e-7, 1),
      weightDecay: numberFlag(args, 'weight-decay', 1e-4, 0, 1),
      classWeights: classWeights as 'auto' | 'none',
      seed,
      valSeed,
      valCount: intFlag(args, 'val-count', 256, 1, 1_000_000),
      valEveryMinutes: numberFlag(args, 'val-every', 10, 0.01, 1e6),
      checkpointEveryMinutes: numberFlag(args, 'checkpoint-every', 5, 0.01, 1e6),
    };
    if (readsLandmarks) {
      const truncation = numberFlag(args, 'truncation', 0, 0, 1);
      options.landmarks = { missing: numberFlag(args, 'landmarks-missing', 0.1, 0, 1), ...(truncation > 0 ? { noise: { truncationRate: truncation } } : {}) };
    }
    const initPath = stringFlag(args, 'init');
    if (initPath !== undefined) {
      if (options.resume) throw new ArgError('--init starts a new run from trained weights; --resume continues a run: give one of them');
      if (!existsSync(initPath)) throw new ArgError(`--init ${initPath}: no such file`);
      options.init = { path: initPath, bytes: new Uint8Array(readFileSync(initPath)) };
    }
    // Close-ups go to the training pictures only (validation is drawn without them).
    const { closeUp, ...sampler } = pictureFlags(args);
    if (Object.keys(sampler).length > 0 || closeUp) options.data = { sampler, ...(closeUp ? { trainingSampler: closeUp } : {}) };
    if (options.cosine && steps === undefined) throw new ArgError('--cosine anneals towards a step target: give --steps N');
    modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
    backgroundsDir = stringFlag(args, 'backgrounds');
    if (backgroundsDir !== undefined && !existsSync(backgroundsDir)) throw new ArgError(`--backgrounds ${backgroundsDir}: no such folder (bash scripts/fetch-backgrounds.sh ${backgroundsDir})`);
    photoFraction = numberFlag(args, 'photo-fraction', 0.6, 0, 1);
    if (args.flags.has('photo-fraction') && backgroundsDir === undefined) throw new ArgError('--photo-fraction needs --backgrounds DIR');
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf train: ${e.message}\nusage: ${TRAIN_SEGMENTER_USAGE}`);
      return 2;
    }
    throw e;
  }
  const model = readBodyModelFile(modelPath);
  const rt = createNodeContext();
  // Photo backgrounds (scripts/fetch-backgrounds.sh) for a share of the pictures, training and
  // validation alike; a resumed run must be given the same folder to draw the same pictures.
  const backgrounds = backgroundsDir ? await loadBackgroundBank(rt, backgroundsDir) : null;
  if (backgrounds) process.stderr.write(`train segmenter: ${backgrounds.count} background photos from ${backgroundsDir}, ${Math.round(photoFraction * 100)} % of the pictures\n`);
  const generator = new SynthGenerator(rt, model, { backgrounds, photoFraction });
  const tty = !!process.stderr.isTTY;
  // Ctrl-C or a kill: finish the step, validate, checkpoint, then exit (a second signal aborts).
  const signals = stopOnSignals('train segmenter');
  try {
    const result = await trainSegmenter(rt, generator, { ...options, shouldStop: signals.stopRequested, progress: progressPrinter('train segmenter', tty), log: (l) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${l}\n`) });
    console.log(`nbf train segmenter: ${result.step} steps in all; best mIoU ${result.best ? (result.best.mIoU * 100).toFixed(1) + ' % at step ' + result.best.step : '—'}; run in ${options.out}`);
  } finally {
    signals.dispose();
    generator.dispose();
    backgrounds?.dispose();
    rt.destroy();
  }
  return 0;
}

// ─── nbf eval segmenter ────────────────────────────────────────────────────────────────────────

const pct = (x: number) => (Number.isNaN(x) ? '—' : (x * 100).toFixed(1));
const finiteOrNull = (x: number) => (Number.isFinite(x) ? Number(x.toFixed(6)) : null);

export async function evalSegmenterCommand(argv: string[]): Promise<number> {
  let o;
  try {
    const args = parseArgs(argv, ['weights', 'count', 'seed', 'batch', 'json', 'confusion', 'body-model', 'backgrounds', 'photo-fraction', 'other-person', 'back-view-rate', 'close-up-rate', 'prior-correction', 'landmarks'], ['mirror']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    const backgroundsDir = stringFlag(args, 'backgrounds');
    if (backgroundsDir !== undefined && !existsSync(backgroundsDir)) throw new ArgError(`--backgrounds ${backgroundsDir}: no such folder (bash scripts/fetch-backgrounds.sh ${backgroundsDir})`);
    if (args.flags.has('photo-fraction') && backgroundsDir === undefined) throw new ArgError('--photo-fraction needs --backgrounds DIR');
    // The same picture distribution as a training run's validation: give it the run's flags.
    const { closeUp, ...sampler } = pictureFlags(args);
    o = {
      backgroundsDir,
      photoFraction: numberFlag(args, 'photo-fraction', 0.6, 0, 1),
      sampler: { ...sampler, ...closeUp },
      weights: segmenterWeightsPath(stringFlag(args, 'weights')),
      priorCorrection: numberFlag(args, 'prior-correction', SEGMENTER_PRIOR_CORRECTION, 0, 10),
      count: intFlag(args, 'count', 256, 1, 1_000_000),
      seed: intFlag(args, 'seed', 900001, 0, 2 ** 32 - 1),
      batch: intFlag(args, 'batch', 16, 1, 512),
      json: stringFlag(args, 'json') ?? 'out/eval-segmenter.json',
      confusion: stringFlag(args, 'confusion') ?? 'out/eval-segmenter-confusion.png',
      modelPath: bodyModelPathOrDefault(stringFlag(args, 'body-model')),
      landmarks: landmarkSourceFlag(stringFlag(args, 'landmarks')),
      mirror: args.flags.has('mirror'),
    };
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf eval: ${e.message}\nusage: ${EVAL_SEGMENTER_USAGE}`);
      return 2;
    }
    throw e;
  }
  const model = readBodyModelFile(o.modelPath);
  const rt = createNodeContext();
  let generator: SynthGenerator | null = null;
  let network: SegmenterNetwork | null = null;
  let backgrounds: Awaited<ReturnType<typeof loadBackgroundBank>> | null = null;
  let landmarker: PoseLandmarker | null = null;
  try {
    const loaded = loadNetwork(rt, o.weights, o.priorCorrection);
    network = loaded.network;
    if (!network.readsLandmarks && o.landmarks !== 'simulated') throw new ArgError(`--landmarks: ${o.weights} reads the picture alone (input "rgb")`);
    let landmarks: SegmenterEvalOptions['landmarks'];
    if (o.landmarks === 'none') landmarks = { missing: 1 };
    else if (o.landmarks !== 'simulated') {
      landmarker = createPoseLandmarker(rt, { variant: o.landmarks });
      landmarks = detectedLandmarkHeatmaps(network, landmarker);
    }
    backgrounds = o.backgroundsDir ? await loadBackgroundBank(rt, o.backgroundsDir) : null;
    generator = new SynthGenerator(rt, model, { backgrounds, photoFraction: o.photoFraction });
    const t0 = performance.now();
    const tty = !!process.stderr.isTTY;
    // The loss as the run trained it: with its recorded class weights, if any.
    const recorded = (loaded.meta.info as { training?: { classWeights?: unknown } }).training?.classWeights;
    const classWeights = Array.isArray(recorded) && recorded.length === network.config.classes ? (recorded as number[]) : undefined;
    const v = evaluateSegmenter(rt, network, generator, {
      seed: o.seed, count: o.count, batch: o.batch, classWeights, sampler: o.sampler, landmarks, mirror: o.mirror,
      progress: (done, total) => { if (tty) process.stderr.write(`\reval segmenter: ${done}/${total}\x1b[K${done === total ? '\n' : ''}`); },
    });
    const seconds = (performance.now() - t0) / 1000;
    const { config } = loaded.meta;
    const names = SEGMENTER_CLASS_NAMES;
    const pictures = [
      backgrounds ? `${Math.round(o.photoFraction * 100)} % on ${backgrounds.count} background photos` : 'procedural backgrounds',
      o.sampler.otherPersonRate ? `a second person in ${Math.round(o.sampler.otherPersonRate * 100)} %` : '',
      `${Math.round((o.sampler.backViewRate ?? 0.5) * 100)} % seen from behind`,
      o.sampler.closeUpRate ? `${Math.round(o.sampler.closeUpRate * 100)} % close-ups` : '',
    ].filter(Boolean).join(', ');
    const correction = (loaded.logitOffsets ? `, prior correction ${o.priorCorrection}` : '') +
      (network.readsLandmarks ? `, landmarks: ${o.landmarks === 'simulated' ? 'the true joints through the simulated detector' : o.landmarks === 'none' ? 'none' : `BlazePose ${o.landmarks} on each picture`}` : '') +
      (o.mirror ? ', each picture also read mirrored' : '');
    console.log(`nbf eval segmenter: ${o.weights} ("${config.name}", ${config.inputSize}²${correction}) on ${o.count} synthetic pictures (${pictures}), seed ${o.seed} — ${seconds.toFixed(1)} s`);
    console.log(`${'metric'.padEnd(26)} ${'segmenter'.padStart(9)} ${'all background'.padStart(15)}`);
    const rows: [string, string, string][] = [
      ['mIoU, 12 parts (%)', pct(v.summary.mIoU), pct(v.baseline.mIoU)],
      ['foreground IoU (%)', pct(v.summary.foregroundIoU), pct(v.baseline.foregroundIoU)],
      ['pixel accuracy (%)', pct(v.summary.pixelAccuracy), pct(v.baseline.pixelAccuracy)],
      [`loss${classWeights ? ' (class-weighted)' : ''}`, v.summary.loss.toFixed(4), ''],
    ];
    for (const [name, a, b] of rows) console.log(`${name.padEnd(26)} ${a.padStart(9)} ${b.padStart(15)}`);
    console.log(`${'class'.padEnd(26)} ${'IoU (%)'.padStart(9)} ${'pixels (%)'.padStart(15)}`);
    for (let k = 0; k < v.classes; k++) console.log(`${`${k} ${names[k] ?? ''}`.padEnd(26)} ${pct(v.metrics.perClassIoU[k]).padStart(9)} ${pct(v.metrics.frequency[k]).padStart(15)}`);
    const K = v.classes;
    const matrix = (m: ArrayLike<number>, digits?: number) => Array.from({ length: K }, (_, t) => Array.from({ length: K }, (_, p) => (digits === undefined ? m[t * K + p] : Number(m[t * K + p].toFixed(digits)))));
    const json = {
      weights: o.weights, config, priorCorrection: loaded.logitOffsets ? o.priorCorrection : 0, ...(network.readsLandmarks ? { landmarks: o.landmarks } : {}), mirror: o.mirror, seed: o.seed, count: o.count, seconds: Number(seconds.toFixed(1)),
      pictures: { backgrounds: backgrounds ? { folder: o.backgroundsDir, photos: backgrounds.count, photoFraction: o.photoFraction } : null, otherPersonRate: o.sampler.otherPersonRate ?? 0, backViewRate: o.sampler.backViewRate ?? 0.5, closeUpRate: o.sampler.closeUpRate ?? 0 },
      summary: v.summary, baseline: v.baseline,
      classes: names.slice(0, K),
      perClassIoU: v.metrics.perClassIoU.map(finiteOrNull),
      frequency: v.metrics.frequency.map(finiteOrNull),
      confusion: { rows: 'truth', columns: 'prediction', counts: matrix(v.confusion), rowNormalised: matrix(rowNormalise(v.confusion, K), 6) },
    };
    mkdirSync(dirname(o.json), { recursive: true });
    mkdirSync(dirname(o.confusion), { recursive: true });
    writeFilesAtomically([
      { path: o.json, data: JSON.stringify(json, null, 1) + '\n' },
      { path: o.confusion, data: confusionPng(v.confusion, { names, title: `confusion (%), ${config.name} at ${config.inputSize}, ${o.count} pictures` }) },
    ]);
    console.log(`wrote ${o.json} and ${o.confusion}`);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf eval: ${e.message}`);
      return 2;
    }
    throw e;
  } finally {
    landmarker?.dispose();
    network?.dispose();
    generator?.dispose();
    backgrounds?.dispose();
    rt.destroy();
  }
  return 0;
}

type LandmarkSource = 'simulated' | 'none' | BlazePoseVariant;

/** --landmarks: where a landmark-reading segmenter's joints come from in the evaluation. */
function landmarkSourceFlag(flag: string | undefined): LandmarkSource {
  const known = ['simulated', 'none', ...BLAZEPOSE_VARIANTS];
  if (flag === undefined) return 'simulated';
  if (!known.includes(flag)) throw new ArgError(`--landmarks must be one of ${known.join(', ')}, got "${flag}"`);
  return flag as LandmarkSource;
}

/**
 * Heatmaps of BlazePose's joints on each picture of a batch (its whole square), zeros where it finds
 * no one: what the pipeline gives the segmenter, on pictures whose parts we know.
 */
function detectedLandmarkHeatmaps(net: SegmenterNetwork, landmarker: PoseLandmarker): (images: Tensor) => Tensor {
  return (images) => {
    const [n, S] = images.shape;
    const rgb = images.readSync();
    const J = HEATMAP_JOINTS;
    const joints = new Float32Array(n * J * 2);
    const confidence = new Float32Array(n * J);
    for (let i = 0; i < n; i++) {
      let seen;
      try {
        seen = jointsInSquare(bodyJointTargets(landmarker.detect(rgbFloatsToImage(rgb, S, S, i * S * S))), 0, 0, 1);
      } catch (e) {
        if (e instanceof NoPersonError) continue;
        throw e;
      }
      joints.set(seen.joints2d, i * J * 2);
      confidence.set(seen.confidence, i * J);
    }
    return landmarkHeatmaps(net.runtime, joints, confidence, n, S);
  };
}

// ─── nbf segment ───────────────────────────────────────────────────────────────────────────────

export async function segment(argv: string[]): Promise<number> {
  let inputs: string[];
  let out: string;
  let weightsPath: string;
  let size: number | undefined;
  let priorCorrection: number;
  let landmarkFlag: string | undefined;
  let mirror: boolean | undefined;
  try {
    const args = parseArgs(argv, ['out', 'weights', 'size', 'prior-correction', 'landmarks'], ['no-mirror']);
    mirror = args.flags.has('no-mirror') ? false : undefined;
    landmarkFlag = stringFlag(args, 'landmarks');
    const known = ['none', ...BLAZEPOSE_VARIANTS];
    if (landmarkFlag !== undefined && !known.includes(landmarkFlag)) throw new ArgError(`--landmarks must be one of ${known.join(', ')}, got "${landmarkFlag}"`);
    priorCorrection = numberFlag(args, 'prior-correction', SEGMENTER_PRIOR_CORRECTION, 0, 10);
    if (!args.positional.length) throw new ArgError('give at least one picture (PNG or JPEG) or folder');
    weightsPath = segmenterWeightsPath(stringFlag(args, 'weights'));
    size = args.flags.has('size') ? intFlag(args, 'size', 0, 8, 2048) : undefined;
    out = stringFlag(args, 'out') ?? 'out/segment';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    inputs = expandImageArgs(args.positional);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf segment: ${e.message}\nusage: ${SEGMENT_USAGE}`);
      return 2;
    }
    throw e;
  }
  const rt = createNodeContext();
  let failures = 0;
  let network: SegmenterNetwork | null = null;
  let landmarker: PoseLandmarker | null = null;
  try {
    network = loadNetwork(rt, weightsPath, priorCorrection).network;
    if (size !== undefined && size % network.stride !== 0) throw new ArgError(`--size must be a multiple of the segmenter's stride ${network.stride}, got ${size}`);
    // A segmenter that reads landmarks gets BlazePose's joints (full unless --landmarks says otherwise).
    if (landmarkFlag !== undefined && landmarkFlag !== 'none' && !network.readsLandmarks) throw new ArgError(`--landmarks: ${weightsPath} reads the picture alone (input "rgb")`);
    const variant = network.readsLandmarks ? (landmarkFlag ?? DEFAULT_BLAZEPOSE_VARIANT) : 'none';
    if (variant !== 'none') landmarker = createPoseLandmarker(rt, { variant: variant as BlazePoseVariant });
    const names = outputNames(inputs);
    for (const [i, path] of inputs.entries()) {
      const prefix = inputs.length > 1 ? `[${i + 1}/${inputs.length}] ` : '';
      try {
        const image = await readImageFile(path);
        let joints = null;
        let seen = '';
        if (landmarker) {
          try {
            joints = bodyJointTargets(landmarker.detect(image));
            seen = `, BlazePose ${variant}'s joints`;
          } catch (e) {
            if (!(e instanceof NoPersonError)) throw e;
            seen = `, BlazePose ${variant} found no one`;
          }
        }
        const s = segmentPicture(network, image, { size, joints, mirror });
        const dir = join(out, names[i]);
        writeFolderAtomically(dir, [
          { path: join(dir, 'parts.png'), data: encodePng(partsImage(s.labels, s.width, s.height)) },
          { path: join(dir, 'labels.png'), data: encodePng(labelIndexImage(s.labels, s.width, s.height)) },
          { path: join(dir, 'overlay.png'), data: encodePng(segmentationOverlay(image, s.labels)) },
        ]);
        let person = 0;
        const present = new Set<number>();
        for (const l of s.labels) if (l > 0) { person++; present.add(l); }
        console.log(`${prefix}${path} (${s.width}×${s.height}): person ${((100 * person) / s.labels.length).toFixed(1)} % of the picture, ${present.size}/12 parts, network ${s.networkMs.toFixed(0)} ms at ${s.inputSize}²${seen} → ${dir}/`);
      } catch (e) {
        if (!(e instanceof NbfError)) throw e;
        failures++;
        console.error(`${prefix}nbf segment: ${e.name === 'Error' || e.name === 'ImageError' ? '' : e.name + ': '}${e.message}; nothing written for it`);
      }
    }
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf segment: ${e.message}\nusage: ${SEGMENT_USAGE}`);
      return 2;
    }
    throw e;
  } finally {
    landmarker?.dispose();
    network?.dispose();
    rt.destroy();
  }
  if (inputs.length > 1 && failures) console.error(`nbf segment: ${failures} of ${inputs.length} pictures failed`);
  return failures ? 1 : 0;
}

// ─── dispatch ──────────────────────────────────────────────────────────────────────────────────

/**
 * `nbf train|eval fitter|segmenter …`: the fitter's command gets argv as it is (it reads "fitter"
 * itself), the segmenter's the rest after "segmenter"; anything else is one line and exit 2.
 */
export function fitterOrSegmenter(verb: 'train' | 'eval', fitter: (argv: string[]) => Promise<number>, segmenter: (argv: string[]) => Promise<number>, usage: string): (argv: string[]) => Promise<number> {
  return async (argv) => {
    if (argv[0] === 'fitter') return fitter(argv);
    if (argv[0] === 'segmenter') return segmenter(argv.slice(1));
    console.error(`nbf ${verb}: say what to ${verb === 'eval' ? 'evaluate' : 'train'}: "fitter" or "segmenter" (got ${argv[0] ? `"${argv[0]}"` : 'nothing'})\nusage: ${usage}`);
    return 2;
  };
}
