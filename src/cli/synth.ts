/**
 * `nbf synth --count N --size 224 --out DIR [--seed S] [--batch B] [--plain] [--body-model FILE]`:
 * renders synthetic training samples on the GPU and writes, per sample i: i_parts.png (NBF 12-part
 * colour map), i_rgb.png, i_labels.png (class index in the red channel) and i.json (betas, pose,
 * trans, focal, center, joints3d, joints2d, ...). Files are written to a temporary name and renamed,
 * so an interrupted run never leaves a half-written file. The same seed gives identical files.
 *
 * `nbf synth --params FILE ...` renders the bodies a JSON array gives (betas, pose, trans, focal?,
 * center? per entry) instead of sampled ones; entry i gets the look example i of --seed would get
 * (or the plain grey look with --plain). The file is checked in full before anything is written.
 *
 * `--backgrounds DIR` puts a crop of a real photograph behind 60 % of the people (the photos that
 * scripts/fetch-backgrounds.sh writes into DIR; src/synth/backgrounds.ts). Not with --plain, whose
 * backdrop stays plain.
 *
 * `--other-person RATE` lets a second person enter the frame in that fraction of the samples, drawn as
 * an occluder (background in the part and label maps; src/synth/sampler.ts). Not with --plain.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { createNodeContext } from '../runtime/node-context.js';
import { sampleAppearance, sampleAugmentation } from '../synth/appearance.js';
import { BackgroundBank } from '../synth/backgrounds.js';
import { loadBackgroundBank } from '../synth/backgrounds-node.js';
import { disposeBatch, SynthGenerator, type SynthBatch } from '../synth/generate.js';
import { nbfFocalLength, sampleExample, type ExampleParams } from '../synth/sampler.js';
import type { Skeleton } from '../synth/skeleton.js';
import { Rng } from '../util/random.js';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';

export const SYNTH_USAGE = 'nbf synth (--count N | --params FILE) --size S --out DIR [--seed S] [--batch B] [--plain] [--backgrounds DIR] [--other-person RATE] [--body-model FILE]';

// ---- --params: given bodies ---------------------------------------------------------------------------

/** One body of a --params file, checked. */
export interface SynthParamsEntry {
  /** Shape coefficients, zero-padded to the body model's count. */
  betas: number[];
  /** 72 parent-relative axis-angle numbers (SMPL joint order; joint 0 in the camera frame). */
  pose: number[];
  /** Translation in metres, camera frame (x right, y down, z forward); z > 0. */
  trans: number[];
  /** Focal length in pixels (default NBF's, 5000·S/512). */
  focal?: number;
  /** Principal point [cx, cy] in pixels (default the image centre). */
  center?: number[];
}

/** A --params file that cannot be used: exit code 1, one line naming the file, the entry and the key. */
export class ParamsFileError extends Error {
  override name = 'ParamsFileError';
}

const PARAMS_KEYS = ['betas', 'pose', 'trans', 'focal', 'center'];
/** Most shape coefficients an entry may give. */
const MAX_BETAS = 10;

/**
 * Parses and checks a --params file (a JSON array of {betas?, pose, trans, focal?, center?}) for a body
 * model with `shapeCount` shape coefficients. Throws ParamsFileError naming `source`, the entry and the key.
 */
export function parseSynthParams(text: string, source: string, shapeCount: number): SynthParamsEntry[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ParamsFileError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const shape = '{"betas"?, "pose", "trans", "focal"?, "center"?}';
  if (!Array.isArray(raw)) throw new ParamsFileError(`${source}: expected a JSON array of ${shape} entries, got ${raw === null ? 'null' : typeof raw}`);
  if (raw.length === 0) throw new ParamsFileError(`${source}: the array is empty, no bodies to render`);
  const maxBetas = Math.min(MAX_BETAS, shapeCount);
  return raw.map((item: unknown, k) => {
    const where = `${source}: entry ${k}`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw new ParamsFileError(`${where}: expected an object ${shape}`);
    const obj = item as Record<string, unknown>;
    const unknown = Object.keys(obj).filter((key) => !PARAMS_KEYS.includes(key));
    if (unknown.length) throw new ParamsFileError(`${where}: unknown key(s) ${unknown.map((key) => `"${key}"`).join(', ')} (expected ${PARAMS_KEYS.map((key) => `"${key}"`).join(', ')})`);
    const finite = (key: string, x: unknown, at: string): number => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new ParamsFileError(`${where}: "${key}"${at} is ${typeof x === 'number' || x === undefined ? String(x) : JSON.stringify(x)}, not a finite number`);
      return x;
    };
    const numbers = (key: string, required: boolean, lengthProblem: (n: number) => string | null): number[] | undefined => {
      const v = obj[key];
      if (v === undefined) {
        if (required) throw new ParamsFileError(`${where}: "${key}" is missing`);
        return undefined;
      }
      if (!Array.isArray(v)) throw new ParamsFileError(`${where}: "${key}" must be a list of numbers`);
      const problem = lengthProblem(v.length);
      if (problem) throw new ParamsFileError(`${where}: "${key}" has ${v.length} numbers, ${problem}`);
      return v.map((x, i) => finite(key, x, `[${i}]`));
    };
    const betas = numbers('betas', false, (n) => (n > maxBetas ? `at most ${maxBetas} (${shapeCount < MAX_BETAS ? `the body model has ${shapeCount} shape coefficients` : `${MAX_BETAS} shape coefficients are supported`})` : null)) ?? [];
    const pose = numbers('pose', true, (n) => (n !== 72 ? 'expected 72 (axis-angle for 24 joints)' : null)) as number[];
    const trans = numbers('trans', true, (n) => (n !== 3 ? 'expected 3 (x, y, z in metres)' : null)) as number[];
    if (trans[2] <= 0) throw new ParamsFileError(`${where}: "trans"[2] (z) is ${trans[2]}: the body must be in front of the camera (z > 0, metres)`);
    const entry: SynthParamsEntry = { betas: [...betas, ...new Array<number>(shapeCount - betas.length).fill(0)], pose, trans };
    if (obj.focal !== undefined) {
      const focal = finite('focal', obj.focal, '');
      if (focal <= 0) throw new ParamsFileError(`${where}: "focal" is ${focal}, must be > 0 (pixels)`);
      entry.focal = focal;
    }
    const center = numbers('center', false, (n) => (n !== 2 ? 'expected 2 ([cx, cy] in pixels)' : null));
    if (center) entry.center = center;
    return entry;
  });
}

/**
 * The example a --params entry renders as: its body and camera; the look (appearance, augmentation,
 * occluder) of example `index` of `seed` as the sampler draws it at this size, or the plain grey look
 * with no augmentation and no occluder when `plain`.
 */
export function paramsExample(skeleton: Skeleton, entry: SynthParamsEntry, index: number, options: { size: number; seed: number; plain: boolean; otherPersonRate?: number }): ExampleParams {
  const { size, seed, plain } = options;
  let look: Pick<ExampleParams, 'appearance' | 'augmentation' | 'occluder' | 'other'>;
  if (plain) {
    look = {
      appearance: sampleAppearance(new Rng(0), false),
      augmentation: sampleAugmentation(new Rng(0), false),
      occluder: { enabled: false, shape: 0, centre: [0, 0], half: [0, 0], angle: 0 },
    };
  } else {
    const drawn = sampleExample(skeleton, seed, index, { size, otherPersonRate: options.otherPersonRate });
    look = { appearance: drawn.appearance, augmentation: drawn.augmentation, occluder: drawn.occluder, ...(drawn.other ? { other: drawn.other } : {}) };
  }
  const focal = entry.focal ?? nbfFocalLength(size);
  const [cx, cy] = entry.center ?? [size / 2, size / 2];
  return {
    index,
    betas: Float64Array.from(entry.betas),
    pose: Float64Array.from(entry.pose),
    trans: Float64Array.from(entry.trans),
    camera: Float64Array.from([focal, focal, cx, cy]),
    family: 'params',
    familyIndex: -1,
    rejected: 0,
    ...look,
  };
}

/** Reads and checks a --params file (ParamsFileError on failure). */
function readParamsFile(path: string, shapeCount: number): SynthParamsEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new ParamsFileError(`cannot read params "${path}": ${reason}`);
  }
  return parseSynthParams(text, path, shapeCount);
}


/** PNG of one image of an [N, S, S, 3] batch read back as floats; values · scale, rounded, clamped. */
export function encodeRgb(data: Float32Array, n: number, size: number, scale: number): Uint8Array {
  const png = new PNG({ width: size, height: size });
  const base = n * size * size * 3;
  for (let p = 0; p < size * size; p++) {
    for (let k = 0; k < 3; k++) png.data[4 * p + k] = Math.max(0, Math.min(255, Math.round(data[base + 3 * p + k] * scale)));
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png);
}

/** Label PNG: the class index in the red channel, green and blue 0, opaque. */
function encodeLabels(data: Float32Array, n: number, size: number): Uint8Array {
  const png = new PNG({ width: size, height: size });
  const base = n * size * size;
  for (let p = 0; p < size * size; p++) {
    png.data[4 * p] = Math.round(data[base + p]);
    png.data[4 * p + 1] = 0;
    png.data[4 * p + 2] = 0;
    png.data[4 * p + 3] = 255;
  }
  return PNG.sync.write(png);
}

const rows = (data: Float32Array, n: number, count: number, width: number): number[][] =>
  Array.from({ length: count }, (_, j) => Array.from(data.subarray((n * count + j) * width, (n * count + j + 1) * width)));

/** Reads a batch back and writes its files; returns the number written. */
function writeBatch(batch: SynthBatch, out: string, seed: number, modelName: string, bank?: BackgroundBank): number {
  const S = batch.size;
  const parts = batch.inputs.parts.readSync();
  const rgb = batch.inputs.rgb.readSync();
  const labels = batch.inputs.labels.readSync();
  const joints3d = batch.targets.joints3d.readSync();
  const joints2d = batch.targets.joints2d.readSync();
  batch.examples.forEach((e, n) => {
    const i = e.index;
    const meta = {
      index: i,
      seed,
      size: S,
      model: modelName,
      family: e.family,
      occluded: e.occluder.enabled || !!e.other,
      ...(e.other ? { other: { family: e.other.family, betas: Array.from(e.other.betas), pose: Array.from(e.other.pose), trans: Array.from(e.other.trans) } } : {}),
      betas: Array.from(e.betas),
      pose: Array.from(e.pose),
      trans: Array.from(e.trans),
      focal: e.camera[0],
      center: [e.camera[2], e.camera[3]],
      joints3d: rows(joints3d, n, 24, 3),
      joints2d: rows(joints2d, n, 24, 2),
      // Only with --backgrounds and for the examples in front of a photo: which one.
      ...(bank && batch.photos[n].enabled ? { background: bank.names[batch.photos[n].photo] } : {}),
    };
    // A sample's four files go to temporary names and are renamed together: never half a sample.
    writeFilesAtomically([
      { path: join(out, `${i}_parts.png`), data: encodeRgb(parts, n, S, 1) },
      { path: join(out, `${i}_rgb.png`), data: encodeRgb(rgb, n, S, 255) },
      { path: join(out, `${i}_labels.png`), data: encodeLabels(labels, n, S) },
      { path: join(out, `${i}.json`), data: JSON.stringify(meta) + '\n' },
    ]);
  });
  return batch.examples.length;
}

class Progress {
  private lastLine = 0;
  constructor(private readonly total: number, private readonly tty: boolean) {}
  update(done: number, elapsed: number): void {
    const rate = done / Math.max(elapsed, 1e-9);
    if (this.tty) {
      const width = 30;
      const filled = Math.round((width * done) / this.total);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${rate.toFixed(1)} samples/s`);
      if (done === this.total) process.stderr.write('\n');
    } else if (done === this.total || performance.now() - this.lastLine > 5000) {
      this.lastLine = performance.now();
      process.stderr.write(`synth: ${done}/${this.total} samples (${rate.toFixed(1)} samples/s)\n`);
    }
  }
}

export async function synth(argv: string[]): Promise<number> {
  let count: number;
  let size: number;
  let seed: number;
  let batchSize: number;
  let out: string;
  let modelPath: string;
  let paramsPath: string | undefined;
  let plain: boolean;
  let backgroundsDir: string | undefined;
  let otherPersonRate = 0;
  try {
    const args = parseArgs(argv, ['count', 'size', 'out', 'seed', 'batch', 'body-model', 'model', 'params', 'backgrounds', 'other-person'], ['plain']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    paramsPath = stringFlag(args, 'params');
    if (paramsPath !== undefined && args.flags.has('count')) throw new ArgError('--count cannot be used with --params (the count is the number of entries in the params file)');
    count = intFlag(args, 'count', 0, 1, 10_000_000);
    if (paramsPath === undefined && !args.flags.has('count')) throw new ArgError('--count is required (or --params FILE)');
    size = intFlag(args, 'size', 224, 8, 2048);
    seed = intFlag(args, 'seed', 0, 0, 2 ** 32 - 1);
    batchSize = intFlag(args, 'batch', 16, 1, 256);
    plain = args.flags.has('plain');
    backgroundsDir = stringFlag(args, 'backgrounds');
    if (backgroundsDir !== undefined && plain) throw new ArgError('--backgrounds cannot be used with --plain (the plain look has a plain backdrop)');
    if (backgroundsDir !== undefined && !(existsSync(backgroundsDir) && statSync(backgroundsDir).isDirectory())) throw new ArgError(`--backgrounds ${backgroundsDir} is not a directory (fill it with scripts/fetch-backgrounds.sh)`);
    const rateFlag = stringFlag(args, 'other-person');
    if (rateFlag !== undefined) {
      otherPersonRate = Number(rateFlag);
      if (!/^\s*[0-9.eE+-]+\s*$/.test(rateFlag) || !(otherPersonRate >= 0 && otherPersonRate <= 1)) throw new ArgError(`--other-person ${rateFlag} must be a number in [0, 1]`);
      if (plain && otherPersonRate > 0) throw new ArgError('--other-person cannot be used with --plain (the plain look has no second person)');
    }
    const outFlag = stringFlag(args, 'out');
    if (!outFlag) throw new ArgError('--out DIR is required');
    out = outFlag;
    // --model is the older spelling of --body-model, kept working.
    modelPath = bodyModelPathOrDefault(stringFlag(args, 'body-model') ?? stringFlag(args, 'model'));
    if (existsSync(out) && !statSync(out).isDirectory()) throw new ArgError(`--out ${out} exists and is not a directory`);
  } catch (e) {
    if (e instanceof ArgError) {
      console.error(`nbf synth: ${e.message}\nusage: ${SYNTH_USAGE}`);
      return 2;
    }
    throw e;
  }

  let model;
  let entries: SynthParamsEntry[] | undefined;
  try {
    model = readBodyModelFile(modelPath);
    // The whole file is checked before the output directory is made or anything rendered.
    if (paramsPath !== undefined) {
      entries = readParamsFile(paramsPath, model.shapeCount);
      count = entries.length;
    }
  } catch (e) {
    console.error(`nbf synth: ${(e as Error).message}`);
    return 1;
  }
  const rt = createNodeContext();
  let bank: BackgroundBank | undefined;
  if (backgroundsDir !== undefined) {
    try {
      bank = await loadBackgroundBank(rt, backgroundsDir);
    } catch (e) {
      rt.destroy();
      console.error(`nbf synth: ${(e as Error).message}`);
      return 1;
    }
  }
  mkdirSync(out, { recursive: true });
  const generator = new SynthGenerator(rt, model, { backgrounds: bank });
  const progress = new Progress(count, !!process.stderr.isTTY);
  const t0 = performance.now();
  let done = 0;
  try {
    while (done < count) {
      const n = Math.min(batchSize, count - done);
      const batch = entries
        ? generator.render(entries.slice(done, done + n).map((entry, k) => paramsExample(generator.skeleton, entry, done + k, { size, seed, plain, otherPersonRate })), size, [], { seed, photos: !plain })
        : generator.generateBatch(n, plain ? { size, seed, start: done, appearance: false } : { size, seed, start: done, otherPersonRate });
      try {
        done += writeBatch(batch, out, seed, model.name, bank);
      } finally {
        disposeBatch(batch);
      }
      progress.update(done, (performance.now() - t0) / 1000);
    }
  } finally {
    generator.dispose();
    bank?.dispose();
    rt.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  const source = paramsPath !== undefined ? `bodies of ${paramsPath}, ` : '';
  const look = (plain ? ', plain look' : bank ? `, ${bank.count} background photos` : '') + (otherPersonRate > 0 ? `, second persons in ${Math.round(100 * otherPersonRate)} %` : '');
  console.log(`nbf synth: wrote ${count} samples (${source}${size}×${size}, seed ${seed}${look}, model "${model.name}") to ${out} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} samples/s)`);
  return 0;
}
