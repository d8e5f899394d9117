/**
 * `nbf synth --count N --size 224 --out DIR [--seed S] [--batch B] [--body-model FILE]`: renders
 * synthetic training samples on the GPU and writes, per sample i: i_parts.png (NBF 12-part colour
 * map), i_rgb.png, i_labels.png (class index in the red channel) and i.json (betas, pose, trans,
 * focal, center, joints3d, joints2d, ...). Files are written to a temporary name and renamed, so an
 * interrupted run never leaves a half-written file. The same seed gives identical files.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { createNodeContext } from '../runtime/node-context.js';
import { disposeBatch, SynthGenerator, type SynthBatch } from '../synth/generate.js';
import { ArgError, intFlag, parseArgs, stringFlag } from './args.js';
import { writeFilesAtomically } from './atomic-write.js';
import { bodyModelPathOrDefault, readBodyModelFile } from './body-model.js';

export const SYNTH_USAGE = 'nbf synth --count N --size S --out DIR [--seed S] [--batch B] [--body-model FILE]';


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
function writeBatch(batch: SynthBatch, out: string, seed: number, modelName: string): number {
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
      occluded: e.occluder.enabled,
      betas: Array.from(e.betas),
      pose: Array.from(e.pose),
      trans: Array.from(e.trans),
      focal: e.camera[0],
      center: [e.camera[2], e.camera[3]],
      joints3d: rows(joints3d, n, 24, 3),
      joints2d: rows(joints2d, n, 24, 2),
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
  try {
    const args = parseArgs(argv, ['count', 'size', 'out', 'seed', 'batch', 'body-model', 'model']);
    if (args.positional.length) throw new ArgError(`unexpected argument "${args.positional[0]}"`);
    count = intFlag(args, 'count', 0, 1, 10_000_000);
    if (!args.flags.has('count')) throw new ArgError('--count is required');
    size = intFlag(args, 'size', 224, 8, 2048);
    seed = intFlag(args, 'seed', 0, 0, 2 ** 32 - 1);
    batchSize = intFlag(args, 'batch', 16, 1, 256);
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
  try {
    model = readBodyModelFile(modelPath);
  } catch (e) {
    console.error(`nbf synth: ${(e as Error).message}`);
    return 1;
  }
  mkdirSync(out, { recursive: true });
  const rt = createNodeContext();
  const generator = new SynthGenerator(rt, model);
  const progress = new Progress(count, !!process.stderr.isTTY);
  const t0 = performance.now();
  let done = 0;
  try {
    while (done < count) {
      const n = Math.min(batchSize, count - done);
      const batch = generator.generateBatch(n, { size, seed, start: done });
      try {
        done += writeBatch(batch, out, seed, model.name);
      } finally {
        disposeBatch(batch);
      }
      progress.update(done, (performance.now() - t0) / 1000);
    }
  } finally {
    generator.dispose();
    rt.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(`nbf synth: wrote ${count} samples (${size}×${size}, seed ${seed}, model "${model.name}") to ${out} in ${seconds.toFixed(1)} s (${(count / seconds).toFixed(1)} samples/s)`);
  return 0;
}
