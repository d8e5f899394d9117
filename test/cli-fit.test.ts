/**
 * `nbf fit --from parts`, `nbf eval fitter` and `nbf train fitter` through the CLI entry point: the
 * happy paths with a small network, and bad inputs that must exit non-zero with one clear line and
 * write nothing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { main } from '../src/cli/main.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { encodeFitterWeights, loadFitterWeights } from '../src/nn/weights-file.js';
import { writeTinySegmenterWeights } from './helpers/tiny-networks.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { Rng } from '../src/util/random.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'nbf-fit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const TINY: FitterConfig = {
  name: 'tiny', inputSize: 32, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
};
const weights = join(root, 'tiny.nbfw');
const partsPng = join(root, 'person_parts.png');
const W = 120;
const H = 90;

function writePng(path: string, width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): void {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = 4 * (y * width + x);
      png.data.set([...pixel(x, y), 255], i);
    }
  }
  writeFileSync(path, PNG.sync.write(png));
}

beforeAll(() => {
  const rt = createNodeContext();
  const model = loadOpenBodyModel();
  const net = new FitterNetwork(rt, TINY, { seed: 1, meanLatent: meanish() });
  writeFileSync(weights, encodeFitterWeights(net));
  net.dispose();
  // A synthetic person's part map, pasted off-centre into a wider, non-square picture.
  const generator = new SynthGenerator(rt, model);
  const batch = generator.generateBatch(1, { size: 64, seed: 2 });
  const parts = batch.inputs.parts.readSync();
  disposeBatch(batch);
  generator.dispose();
  rt.destroy();
  writePng(partsPng, W, H, (x, y) => {
    const u = x - 40;
    const v = y - 20;
    if (u < 0 || v < 0 || u >= 64 || v >= 64) return [0, 0, 0];
    const i = 3 * (v * 64 + u);
    return [parts[i], parts[i + 1], parts[i + 2]];
  });
});

/** Identity rotations and a person 20 m away: a sane mean for an untrained head. */
function meanish(): Float32Array {
  const L = 10 + 216 + 3;
  const m = new Float32Array(L);
  for (let j = 0; j < 24; j++) m.set([1, 0, 0, 0, 1, 0, 0, 0, 1], 10 + 9 * j);
  m.set([Math.log(20), 0, 0], L - 3);
  return m;
}

/** Runs the command with stdout/stderr captured. */
function run(argv: string[]): Promise<CommandRun> {
  return captureCommand(() => main(argv));
}

describe('nbf fit --from parts', () => {
  it('writes params.json, body.glb, body.obj and overlay.png, with 2D joints that are the 3D joints projected', async () => {
    const out = join(root, 'fit');
    const r = await run(['fit', '--from', 'parts', partsPng, '--weights', weights, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['body.glb', 'body.obj', 'overlay.png', 'params.json']);
    const p = JSON.parse(readFileSync(join(out, 'params.json'), 'utf8'));
    expect(p.betas).toHaveLength(10);
    expect(p.pose).toHaveLength(72);
    expect(p.trans).toHaveLength(3);
    expect(p.joints3d).toHaveLength(24);
    expect(p.joints2d).toHaveLength(24);
    // The camera is the crop's, in input-image pixels: projecting joints3d with it gives joints2d.
    const { fx, fy, cx, cy } = p.camera;
    for (let j = 0; j < 24; j++) {
      const [X, Y, Z] = p.joints3d[j];
      expect(fx * (X / Z) + cx).toBeCloseTo(p.joints2d[j][0], 1);
      expect(fy * (Y / Z) + cy).toBeCloseTo(p.joints2d[j][1], 1);
    }
    // The crop frames the pasted person (its box is inside x 40..104, y 20..84 of the picture).
    expect(p.crop.x0 + p.crop.side / 2).toBeGreaterThan(50);
    expect(p.crop.x0 + p.crop.side / 2).toBeLessThan(94);
    const overlay = PNG.sync.read(readFileSync(join(out, 'overlay.png')));
    expect([overlay.width, overlay.height]).toEqual([W, H]);
    expect(readFileSync(join(out, 'body.glb')).subarray(0, 4).toString('latin1')).toBe('glTF');
    expect(readFileSync(join(out, 'body.obj'), 'utf8').split('\n').filter((l) => l.startsWith('v ')).length).toBe(loadOpenBodyModel().vertexCount);
  });

  const bad: [string, () => string[], RegExp][] = [
    ['a file that is not a PNG', () => { const f = join(root, 'not.png'); writeFileSync(f, 'hello'); return [f]; }, /not a PNG/],
    ['a photo-like picture (not palette colours)', () => { const f = join(root, 'noise.png'); const rng = new Rng(1); writePng(f, 40, 40, () => [rng.int(0, 255), rng.int(0, 255), rng.int(0, 255)]); return [f]; }, /not colours of NBF's 12-part palette/],
    ['an empty map', () => { const f = join(root, 'empty.png'); writePng(f, 40, 40, () => [0, 0, 0]); return [f]; }, /no body part/],
    ['truncated weights', () => { const f = join(root, 'cut.nbfw'); writeFileSync(f, readFileSync(weights).subarray(0, 500)); return [partsPng, '--weights', f]; }, /cut\.nbfw/],
    ['missing weights', () => [partsPng, '--weights', join(root, 'nope.nbfw')], /nope\.nbfw: no such file/],
    ['a missing part map', () => [join(root, 'nope.png')], /nope\.png: no such file/],
  ];
  for (const [what, args, message] of bad) {
    it(`rejects ${what} with one line, exit ≠ 0, nothing written`, async () => {
      const out = join(root, `bad-${what.replace(/\W+/g, '-')}`);
      const extra = args();
      const withWeights = extra.includes('--weights') ? extra : [...extra, '--weights', weights];
      const r = await run(['fit', '--from', 'parts', ...withWeights, '--out', out]);
      expect(r.code).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')[0]).toMatch(message);
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    });
  }

  it('says that photos need the segmenter', async () => {
    const r = await run(['fit', '--from', 'photo', partsPng, '--weights', weights]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--from must be "parts"/);
  });
});

describe('nbf eval fitter', () => {
  it('prints the table beside the mean-pose baseline and writes JSON', async () => {
    const json = join(root, 'eval', 'e.json');
    const r = await run(['eval', 'fitter', '--weights', weights, '--count', '6', '--batch', '4', '--seed', '77', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/PA-MPJPE \(mm, Procrustes\)\s+\d+\.\d\s+\d+\.\d/);
    const e = JSON.parse(readFileSync(json, 'utf8'));
    expect(e.count).toBe(6);
    for (const k of ['mpjpe', 'paMpjpe', 'pve', 'joint2dPx', 'angleDeg']) {
      expect(Number.isFinite(e.summary[k])).toBe(true);
      expect(Number.isFinite(e.baseline[k])).toBe(true);
    }
    expect(e.summary.paMpjpe).toBeLessThanOrEqual(e.summary.mpjpe + 1e-9);
  });
});

describe('nbf train fitter (a signal)', () => {
  it('stops on SIGTERM after the step in progress, with a final validation and checkpoint, exit 0', async () => {
    const out = join(root, 'signalled');
    const config = join(root, 'tiny.json');
    writeFileSync(config, JSON.stringify(TINY));
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/nbf.mjs', 'train', 'fitter', '--config', config, '--steps', '1000000', '--out', out, '--val-count', '4', '--mean-count', '16', '--batch', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Wait until it is training (a logged step), then signal it.
    const logFile = join(out, 'log.jsonl');
    for (let i = 0; i < 600 && !(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"type":"train"')); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    expect(stderr).toMatch(/SIGTERM: stopping after this step/);
    const log = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const last = log[log.length - 1];
    expect(last.type).toBe('val');
    expect(last.step).toBeGreaterThanOrEqual(10);
    expect(last.step).toBeLessThan(1000000);
    expect(existsSync(join(out, 'checkpoint.nbfp'))).toBe(true);
  });
});

describe('nbf train fitter --segmenter / --init', () => {
  it('starts from trained weights and reads a segmenter\'s labels in training and validation', async () => {
    const segPath = join(root, 'tiny-segmenter.nbfw');
    writeTinySegmenterWeights(segPath);
    const config = join(root, 'tiny-init.json');
    writeFileSync(config, JSON.stringify(TINY));
    const out = join(root, 'from-segmenter');
    const r = await run(['train', 'fitter', '--config', config, '--steps', '2', '--batch', '2', '--val-count', '4', '--out', out, '--init', weights, '--segmenter', segPath, '--segmenter-share', '0.5']);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/the 12-part maps of 50 % of the batches and of validation are .*tiny-segmenter\.nbfw's labels/);
    const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training;
    expect(recorded.init).toBe(weights);
    expect(recorded.segmenter).toBe(segPath);
    expect(recorded.segmenterShare).toBe(0.5);
    // The run began at the given weights: its mean latent is theirs (meanish), not one computed from samples.
    const rt = createNodeContext();
    try {
      const start = loadFitterWeights(rt, new Uint8Array(readFileSync(weights)), 'start').network;
      const best = loadFitterWeights(rt, new Uint8Array(readFileSync(join(out, 'best.nbfw'))), 'best').network;
      expect(Array.from(best.buffers.get('mean/latent').readSync())).toEqual(Array.from(start.buffers.get('mean/latent').readSync()));
      start.dispose();
      best.dispose();
    } finally {
      rt.destroy();
    }
    for (const [argv, message] of [
      [['--init', weights, '--resume'], /--init starts a new run from trained weights; --resume continues a run/],
      [['--init', join(root, 'none.nbfw')], /--init .*none\.nbfw: no such file/],
      [['--segmenter', join(root, 'none.nbfw')], /--segmenter .*none\.nbfw: no such file/],
      [['--segmenter-share', '0.5'], /--segmenter-share needs --segmenter FILE\.nbfw/],
    ] as const) {
      const bad = await run(['train', 'fitter', '--config', config, '--steps', '2', '--out', join(root, 'never2'), ...argv]);
      expect(bad.code, argv.join(' ')).toBe(2);
      expect(bad.err).toMatch(message);
    }
    // Weights of another configuration are refused by name.
    const other = await run(['train', 'fitter', '--steps', '2', '--out', join(root, 'other'), '--init', weights]);
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/holds the fitter configuration "tiny".*not this run's "compact"/);
    expect(existsSync(join(root, 'other')), 'no run folder for refused weights').toBe(false);
    expect(existsSync(join(root, 'never2'))).toBe(false);
  });
});

describe('nbf train fitter (flags)', () => {
  it('needs a budget, checks loss weights and configs', async () => {
    const out = join(root, 'never');
    mkdirSync(root, { recursive: true });
    for (const [argv, message] of [
      [['train', 'fitter', '--out', out], /--minutes M or --steps N/],
      [['train', 'fitter', '--out', out, '--steps', '5', '--loss', 'params=1,jointz=2'], /unknown term "jointz"/],
      [['train', 'fitter', '--out', out, '--steps', '5', '--loss', 'params=0'], /every weight is 0/],
      [['train', 'fitter', '--out', out, '--steps', '5', '--config', 'huge'], /unknown fitter configuration "huge"/],
      [['train', 'bogus'], /say what to train: "fitter" or "segmenter"/],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
    }
    expect(existsSync(out)).toBe(false);
  });
});
