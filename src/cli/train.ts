/**
 * `nbf train fitter`: trains the fitting network on synthetic people rendered on the fly
 * (src/train/fitter-trainer.ts). Thin: parses flags, builds the generator, calls the trainer, prints
 * progress (a bar on a TTY, a line every 30 s otherwise).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createNodeContext } from '../runtime/node-context.js';
import { NbfError } from '../runtime/errors.js';
import { SynthGenerator } from '../synth/generate.js';
import { fitterConfig, fitterConfigWithInput, type FitterConfig } from '../nn/fitter.js';
import { checkFitterInputType, corruptibleInput, fitterInputInfo } from '../nn/fitter-inputs.js';
import { DEFAULT_FITTER_LOSS, checkLossWeights, type FitterLossWeights } from '../nn/fitter-loss.js';
import { trainFitter } from '../train/fitter-trainer.js';
import { progressPrinter, stopOnSignals } from '../train/training-run.js';
import { mixedLabelSource, partNoiseCorruptor, segmenterLabelSource } from '../train/fitter-data.js';
import { loadSegmenterWeights } from '../nn/weights-file.js';
import { decodeDetections, type DetectionCache } from '../train/detection-cache.js';
import { DEFAULT_LANDMARK_NOISE } from '../synth/landmark-noise.js';
import type { SegmenterNetwork } from '../nn/refinenet.js';
import { ArgError, intFlag, parseArgs, stringFlag, type ParsedArgs } from './args.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';

export const TRAIN_USAGE = 'nbf train fitter [--config compact|paper|FILE.json] [--input TYPE] [--out DIR] [--minutes M] [--steps N] [--resume] [--cosine] [--batch B] [--lr X] [--weight-decay X] [--loss params=1,joints3d=1,joints2d=1] [--corrupt S] [--segmenter FILE.nbfw [--segmenter-share F]] [--init FILE.nbfw] [--truncation R] [--swap-rate R] [--detections FILE [--detections-share F]] [--val-detections FILE] [--has3d F] [--seed S] [--val-seed S] [--val-count N] [--val-every M] [--body-model FILE]';
export const TRAIN_SUMMARY = 'train the fitting network (part map → body) on synthetic people; checkpoints, validation, curves';

export function numberFlag(args: ParsedArgs, key: string, fallback: number, min: number, max: number): number {
  const raw = args.flags.get(key);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ArgError(`--${key} must be a number in [${min}, ${max}], got ${String(raw)}`);
  return n;
}

/** A detections file named by --`flag` (scripts/detect-renders.ts), or an ArgError naming it. */
export function readDetectionsFlag(path: string, flag: string): DetectionCache {
  if (!existsSync(path)) throw new ArgError(`--${flag} ${path}: no such file`);
  try {
    return decodeDetections(new Uint8Array(readFileSync(path)), path);
  } catch (e) {
    throw new ArgError(`--${flag} ${(e as Error).message}`);
  }
}

/** "params=1,joints3d=0.5,joints2d=1" → loss weights (unnamed terms 0). */
export function parseLossWeights(text: string): FitterLossWeights {
  const w: FitterLossWeights = { params: 0, joints3d: 0, joints2d: 0, joints3dKind: 'euclidean' };
  for (const part of text.split(',')) {
    const [k, v] = part.split('=').map((s) => s.trim());
    if (k === 'joints3dKind') {
      if (v !== 'euclidean' && v !== 'l2') throw new ArgError(`--loss: joints3dKind must be euclidean or l2, got "${v}"`);
      w.joints3dKind = v;
      continue;
    }
    if (!(k in w)) throw new ArgError(`--loss: unknown term "${k}" (params, joints3d, joints2d, joints3dKind)`);
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n) || n < 0) throw new ArgError(`--loss: "${part}" needs a weight ≥ 0, as ${k}=1`);
    (w as unknown as Record<string, number>)[k] = n;
  }
  try {
    checkLossWeights(w);
  } catch (e) {
    throw new ArgError(`--loss: ${(e as Error).message}`);
  }
  return w;
}

export function resolveFitterConfig(spec: string): FitterConfig {
  if (spec.endsWith('.json')) {
    if (!existsSync(spec)) throw new ArgError(`--config ${spec}: no such file`);
    try {
      return JSON.parse(readFileSync(spec, 'utf8')) as FitterConfig;
    } catch (e) {
      throw new ArgError(`--config ${spec}: not valid JSON (${(e as Error).message})`);
    }
  }
  try {
    return fitterConfig(spec);
  } catch (e) {
    throw new ArgError((e as Error).message);
  }
}

export async function train(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== 'fitter') {
    console.error(`nbf train: say what to train: "fitter" (got ${what ? `"${what}"` : 'nothing'})\nusage: ${TRAIN_USAGE}`);
    return 2;
  }
  let options: Parameters<typeof trainFitter>[2];
  let modelPath: string;
  let segmenterPath: string | undefined;
  let segmenterShare = 1;
  try {
    const args = parseArgs(rest, ['config', 'input', 'out', 'minutes', 'steps', 'batch', 'lr', 'weight-decay', 'loss', 'corrupt', 'has3d', 'seed', 'val-seed', 'val-count', 'val-every', 'checkpoint-every', 'body-model', 'mean-count', 'segmenter', 'segmenter-share', 'init', 'truncation', 'detections', 'detections-share', 'val-detections', 'swap-rate'], ['resume', 'cosine']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    const out = stringFlag(args, 'out') ?? 'runs/fitter';
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
    const minutes = args.flags.has('minutes') ? numberFlag(args, 'minutes', 0, 0.01, 1e6) : undefined;
    const steps = args.flags.has('steps') ? intFlag(args, 'steps', 0, 1) : undefined;
    if (minutes === undefined && steps === undefined) throw new ArgError('give --minutes M or --steps N (or both: whichever comes first)');
    let config = resolveFitterConfig(stringFlag(args, 'config') ?? 'compact');
    const inputFlag = stringFlag(args, 'input');
    if (inputFlag !== undefined) {
      try {
        config = fitterConfigWithInput(config, checkFitterInputType(inputFlag, '--input'));
      } catch (e) {
        throw new ArgError((e as Error).message);
      }
    }
    const input = config.input ?? 'parts12';
    // Segmenter-like corruption is of 12-part maps: on by default for inputs that contain one.
    const corrupt = numberFlag(args, 'corrupt', corruptibleInput(input) ? 0.5 : 0, 0, 4);
    if (corrupt > 0 && !corruptibleInput(input)) throw new ArgError(`--corrupt applies to 12-part maps; input "${input}" (${fitterInputInfo(input).description}) has none`);
    // The modelled detector's flags mean nothing to an input without a detector's joints.
    const detectorOnly = (flag: string) => {
      if (!fitterInputInfo(input).detected) throw new ArgError(`--${flag} applies to a landmark detector's joints (input "landmarks" or "parts12+landmarks"), not to input "${input}"`);
    };
    // Pictures that cut the body across (a photo from the waist up): the detector guesses the rest.
    const truncation = numberFlag(args, 'truncation', 0, 0, 1);
    if (truncation > 0) detectorOnly('truncation');
    // How often the modelled detector swaps left and right (per arm pair, per leg pair): BlazePose
    // full swaps 8 % of arms and 10 % of legs on our renders (docs/fitter.md), the model's default 3 %.
    const swapRate = args.flags.has('swap-rate') ? numberFlag(args, 'swap-rate', DEFAULT_LANDMARK_NOISE.swapRate, 0, 0.5) : undefined;
    if (swapRate !== undefined) detectorOnly('swap-rate');
    const landmarkNoise = { ...(truncation > 0 ? { truncationRate: truncation } : {}), ...(swapRate !== undefined ? { swapRate } : {}) };
    options = {
      config,
      out,
      minutes,
      steps,
      resume: args.flags.has('resume'),
      cosine: args.flags.has('cosine'),
      batch: intFlag(args, 'batch', 16, 2, 512),
      lr: numberFlag(args, 'lr', 1e-3, 1e-7, 1),
      weightDecay: numberFlag(args, 'weight-decay', 1e-4, 0, 1),
      loss: args.flags.has('loss') ? parseLossWeights(String(args.flags.get('loss'))) : DEFAULT_FITTER_LOSS,
      seed: intFlag(args, 'seed', 1, 0, 2 ** 32 - 1),
      valSeed: intFlag(args, 'val-seed', 900001, 0, 2 ** 32 - 1),
      valCount: intFlag(args, 'val-count', 512, 1, 1_000_000),
      valEveryMinutes: numberFlag(args, 'val-every', 10, 0.01, 1e6),
      checkpointEveryMinutes: numberFlag(args, 'checkpoint-every', 5, 0.01, 1e6),
      meanCount: intFlag(args, 'mean-count', 4096, 1, 1_000_000),
      record: { corrupt, ...(truncation > 0 ? { truncation } : {}), ...(swapRate !== undefined ? { swapRate } : {}) },
      data: {
        has3dFraction: numberFlag(args, 'has3d', 1, 0, 1),
        corrupt: corrupt > 0 ? partNoiseCorruptor({ strength: corrupt }) : undefined,
        ...(Object.keys(landmarkNoise).length > 0 ? { landmarkNoise } : {}),
      },
    };
    // NBF's way: the fitting network reads its frozen segmenter's predictions (fitter-data.ts
    // segmenterLabelSource), in training and validation alike; the other batches get --corrupt.
    segmenterPath = stringFlag(args, 'segmenter');
    if (segmenterPath !== undefined) {
      if (!corruptibleInput(input)) throw new ArgError(`--segmenter gives 12-part maps; input "${input}" (${fitterInputInfo(input).description}) has none`);
      if (!existsSync(segmenterPath)) throw new ArgError(`--segmenter ${segmenterPath}: no such file`);
    } else if (args.flags.has('segmenter-share')) {
      throw new ArgError('--segmenter-share needs --segmenter FILE.nbfw');
    }
    segmenterShare = numberFlag(args, 'segmenter-share', 1, 0, 1);
    const initPath = stringFlag(args, 'init');
    if (initPath !== undefined) {
      if (options.resume) throw new ArgError('--init starts a new run from trained weights; --resume continues a run: give one of them');
      if (!existsSync(initPath)) throw new ArgError(`--init ${initPath}: no such file`);
      options.init = { path: initPath, bytes: new Uint8Array(readFileSync(initPath)) };
      options.record = { ...options.record, init: initPath };
    }
    // A real detector's joints on renders (scripts/detect-renders.ts) for a share of the batches.
    const detectionsPath = stringFlag(args, 'detections');
    if (detectionsPath !== undefined) {
      if (input !== 'landmarks') throw new ArgError(`--detections feeds input "landmarks", not "${input}"`);
      const share = numberFlag(args, 'detections-share', 0.5, 0, 1);
      const cache = readDetectionsFlag(detectionsPath, 'detections');
      if (cache.seed === options.valSeed) throw new ArgError(`--detections ${detectionsPath}: its pictures are of seed ${cache.seed}, this run's validation seed (--val-seed); train on another`);
      if (cache.seed >= 900001) throw new ArgError(`--detections ${detectionsPath}: its pictures are of seed ${cache.seed}, a validation seed (≥ 900001); train on another`);
      options.data = { ...options.data, detections: { cache, share } };
      options.record = { ...options.record, detections: detectionsPath, detectionsCount: cache.count, detectionsDetector: cache.detector, detectionsShare: share };
    } else if (args.flags.has('detections-share')) {
      throw new ArgError('--detections-share needs --detections FILE');
    }
    const valDetectionsPath = stringFlag(args, 'val-detections');
    if (valDetectionsPath !== undefined) {
      if (input !== 'landmarks') throw new ArgError(`--val-detections feeds input "landmarks", not "${input}"`);
      const cache = readDetectionsFlag(valDetectionsPath, 'val-detections');
      if (cache.seed < 900001) throw new ArgError(`--val-detections ${valDetectionsPath}: its pictures are of seed ${cache.seed}, which training may draw; record a validation seed (≥ 900001)`);
      options.validationDetections = cache;
      options.record = { ...options.record, validationDetections: valDetectionsPath, validationDetectionsSeed: cache.seed };
    }
    modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model'));
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf train: ${e.message}\nusage: ${TRAIN_USAGE}`);
      return 2;
    }
    throw e;
  }
  const model = readBodyModelFile(modelPath);
  if (model.shapeCount < options.config.shapeCount) {
    throw new NbfError(`the body model "${model.name}" has ${model.shapeCount} shape coefficients; the fitter config "${options.config.name}" predicts ${options.config.shapeCount}`);
  }
  const rt = createNodeContext();
  const generator = new SynthGenerator(rt, model);
  let segmenter: SegmenterNetwork | null = null;
  if (segmenterPath !== undefined) {
    try {
      const loaded = loadSegmenterWeights(rt, new Uint8Array(readFileSync(segmenterPath)), segmenterPath);
      segmenter = loaded.network;
    } catch (e) {
      generator.dispose();
      rt.destroy();
      if (!(e instanceof NbfError)) throw e;
      console.error(`nbf train: ${e.message}`);
      return 1;
    }
    const fromSegmenter = segmenterLabelSource(generator, segmenter);
    const noise = options.data?.corrupt;
    options.data = { ...options.data, corrupt: segmenterShare < 1 ? mixedLabelSource(fromSegmenter, noise ?? ((labels) => labels), segmenterShare) : fromSegmenter };
    options.validationLabels = fromSegmenter;
    options.record = { ...options.record, segmenter: segmenterPath, segmenterShare };
    process.stderr.write(`train fitter: the 12-part maps of ${Math.round(segmenterShare * 100)} % of the batches and of validation are ${segmenterPath}'s labels of the rendered pictures\n`);
  }
  const tty = !!process.stderr.isTTY;
  // Ctrl-C or a kill: finish the step, validate, checkpoint, then exit (a second signal aborts).
  const signals = stopOnSignals('train fitter');
  try {
    const result = await trainFitter(rt, generator, { ...options, shouldStop: signals.stopRequested, progress: progressPrinter('train fitter', tty), log: (l) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}${l}\n`) });
    console.log(`nbf train fitter: ${result.step} steps in all; best PA-MPJPE ${result.best ? (result.best.paMpjpe * 1000).toFixed(1) + ' mm at step ' + result.best.step : '—'}; run in ${options.out}`);
  } finally {
    signals.dispose();
    segmenter?.dispose();
    generator.dispose();
    rt.destroy();
  }
  return 0;
}
