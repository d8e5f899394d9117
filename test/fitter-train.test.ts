/**
 * The fitter's training loop (src/train/fitter-trainer.ts) on a tiny network: a short run lowers the
 * validation loss; a run stopped and resumed ends exactly where an uninterrupted one does; the run
 * directory holds the checkpoint, best weights, log and curves.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { testRuntime } from './helpers/gl.js';
import { trainFitter, BEST_FILE, CHECKPOINT_FILE, CURVES_FILE, LAST_FILE, LOG_FILE, type TrainFitterOptions } from '../src/train/fitter-trainer.js';
import { fitterBatch, keeps3d, partNoiseCorruptor } from '../src/train/fitter-data.js';
import { decodeParamFile } from '../src/nn/param-format.js';
import { readWeightsMeta } from '../src/nn/weights-file.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import type { FitterConfig } from '../src/nn/fitter.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-train-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY: FitterConfig = {
  name: 'tiny', inputSize: 32, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2, batchNorm: { momentum: 0.7 } },
};
// (A fast-moving batch-norm average: 40 steps are too few for the default 0.99 to settle.)

const quiet = { log: () => {}, progress: () => {} };

function base(out: string): TrainFitterOptions {
  return { config: TINY, out, batch: 8, lr: 3e-3, warmupSteps: 5, valCount: 16, meanCount: 64, valEverySteps: 1000, ...quiet };
}

describe('nbf train fitter (library)', () => {
  it('lowers the validation loss in a short run and writes checkpoint, best weights, log and curves', async () => {
    const out = join(root, 'short');
    const losses: number[] = [];
    const result = await trainFitter(rt, generator, { ...base(out), steps: 60, valEverySteps: 30, onValidation: (v) => losses.push(v.summary.loss) });
    expect(result.step).toBe(60);
    expect(losses.length).toBe(3); // steps 0, 30, 60
    expect(losses[2]).toBeLessThan(losses[0] * 0.95);
    for (const f of [CHECKPOINT_FILE, BEST_FILE, LAST_FILE, LOG_FILE, CURVES_FILE, 'config.json']) expect(existsSync(join(out, f))).toBe(true);
    const meta = readWeightsMeta(readFileSync(join(out, BEST_FILE))).meta;
    expect(meta.config).toEqual(TINY);
    expect((meta.info as { step: number }).step).toBe(result.best!.step);
    // The last weights: the stopping step's, with its validation.
    const last = readWeightsMeta(readFileSync(join(out, LAST_FILE))).meta.info as { step: number; validation: { loss: number } };
    expect(last.step).toBe(60);
    expect(last.validation.loss).toBeCloseTo(losses[2], 6);
    const log = readFileSync(join(out, LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((r) => r.type === 'val').map((r) => r.step)).toEqual([0, 30, 60]);
    expect(log.filter((r) => r.type === 'train').length).toBe(6);
    const png = PNG.sync.read(readFileSync(join(out, CURVES_FILE)));
    expect(png.width).toBeGreaterThan(100);
  });

  it('resumes exactly: 3 + 3 steps give the parameters and optimizer state of 6 uninterrupted steps', async () => {
    const whole = join(root, 'whole');
    const split = join(root, 'split');
    const opts = { ...base(whole), data: { corrupt: partNoiseCorruptor(), has3dFraction: 0.5 }, validateAtStart: false };
    await trainFitter(rt, generator, { ...opts, steps: 6 });
    await trainFitter(rt, generator, { ...opts, out: split, steps: 3 });
    await expect(trainFitter(rt, generator, { ...opts, out: split, steps: 6 })).rejects.toThrow(/exists; pass --resume/);
    const resumed = await trainFitter(rt, generator, { ...opts, out: split, steps: 6, resume: true });
    expect(resumed.step).toBe(6);
    const a = decodeParamFile(readFileSync(join(whole, CHECKPOINT_FILE)));
    const b = decodeParamFile(readFileSync(join(split, CHECKPOINT_FILE)));
    expect(b.entries.map((e) => e.name)).toEqual(a.entries.map((e) => e.name));
    a.entries.forEach((e, i) => expect(Array.from(b.entries[i].data), e.name).toEqual(Array.from(e.data)));
    const extra = (m: unknown) => (m as { extra: { buffers: unknown } }).extra.buffers;
    expect(extra(b.meta)).toEqual(extra(a.meta));
  });

  it('anneals along a half cosine to a step target, and a resume follows the same curve exactly', async () => {
    const whole = join(root, 'cosine-whole');
    const split = join(root, 'cosine-split');
    const opts = { ...base(whole), validateAtStart: false, cosine: true, lr: 2e-3 };
    await expect(trainFitter(rt, generator, { ...opts, out: join(root, 'cosine-none'), minutes: 1 })).rejects.toThrow(/cosine annealing needs a --steps target/);
    await trainFitter(rt, generator, { ...opts, steps: 6 });
    // The split run starts annealing towards step 6 at step 0, stops at 3 and resumes with the same target.
    await trainFitter(rt, generator, { ...opts, out: split, steps: 6, shouldStop: (() => { let n = 0; return () => ++n > 3; })() });
    await trainFitter(rt, generator, { ...opts, out: split, steps: 6, resume: true });
    const a = decodeParamFile(readFileSync(join(whole, CHECKPOINT_FILE)));
    const b = decodeParamFile(readFileSync(join(split, CHECKPOINT_FILE)));
    a.entries.forEach((e, i) => expect(Array.from(b.entries[i].data), e.name).toEqual(Array.from(e.data)));
    const lrs = readFileSync(join(whole, LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'train').map((r) => r.lr);
    // Logged after the last step: the rate of step 6 on the curve from step 0 (2e-3) to step 6 (2e-5).
    expect(lrs[lrs.length - 1]).toBeCloseTo(2e-3 * 0.01, 9);
    const cosine = (decodeParamFile(readFileSync(join(whole, CHECKPOINT_FILE))).meta as { extra: { cosine: unknown } }).extra.cosine;
    expect(cosine).toEqual({ from: 0, to: 6, lr: 2e-3 });
  });

  it('stops when asked (a signal in the CLI) after a final validation and checkpoint', async () => {
    const out = join(root, 'stopped');
    let polls = 0;
    const vals: number[] = [];
    const result = await trainFitter(rt, generator, { ...base(out), steps: 100, validateAtStart: false, shouldStop: () => ++polls > 3, onValidation: (v) => vals.push(v.step) });
    expect(result.step).toBe(3);
    expect(vals).toEqual([3]);
    const meta = decodeParamFile(readFileSync(join(out, CHECKPOINT_FILE))).meta as { step: number };
    expect(meta.step).toBe(3);
  });

  it('refuses a validation seed that training draws, and a resume with another network', async () => {
    await expect(trainFitter(rt, generator, { ...base(join(root, 'x')), seed: 5, valSeed: 5, steps: 1 })).rejects.toThrow(/validation must use examples training never draws/);
    const out = join(root, 'other');
    await trainFitter(rt, generator, { ...base(out), steps: 1, validateAtStart: false });
    await expect(trainFitter(rt, generator, { ...base(out), config: { ...TINY, name: 'wider', encoder: { ...TINY.encoder, widths: [8, 24] } }, steps: 2, resume: true })).rejects.toThrow();
  });
});

describe('fitter batches', () => {
  it('masks 3D labels for the requested fraction, fixed per example', () => {
    const kept = Array.from({ length: 2000 }, (_, i) => keeps3d(1, i, 0.3)).filter(Boolean).length;
    expect(kept).toBeGreaterThan(500);
    expect(kept).toBeLessThan(700);
    const b = fitterBatch(rt, generator, 6, 1, 10, { size: 32, shapeCount: 10, has3dFraction: 0.5 });
    try {
      const has3d = Array.from(b.targets.has3d.readSync());
      expect(has3d).toEqual(b.examples.map((e) => (keeps3d(1, e.index, 0.5) ? 1 : 0)));
      const parts = b.inputs.readSync();
      expect(Math.min(...parts)).toBeGreaterThanOrEqual(-1);
      expect(Math.max(...parts)).toBeLessThanOrEqual(1);
    } finally {
      for (const t of [b.inputs, ...Object.values(b.targets)]) t.dispose();
    }
  });
});
