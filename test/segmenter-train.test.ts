/**
 * The segmenter's machinery on a tiny network at 32²: the training loop (src/train/segmenter-trainer.ts
 * on the shared training-run.ts) lowers the validation loss, and a run stopped and resumed ends
 * bit-exactly where an uninterrupted one does; the metrics (src/eval/segmenter-eval.ts) against a hand
 * computation; the weights file refuses the other network; `nbf segment`, `nbf eval segmenter` and
 * `nbf train segmenter` through the CLI entry point, bad inputs included.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { testRuntime } from './helpers/gl.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { trainSegmenter, type TrainSegmenterOptions } from '../src/train/segmenter-trainer.js';
import { BEST_FILE, CHECKPOINT_FILE, CURVES_FILE, LOG_FILE } from '../src/train/training-run.js';
import { classPixelCounts, inverseSqrtClassWeights } from '../src/train/segmenter-data.js';
import { accumulateConfusion, allBackgroundConfusion, confusionMetrics, evaluateSegmenter, rowNormalise } from '../src/eval/segmenter-eval.js';
import { confusionPng } from '../src/eval/confusion-png.js';
import { labelsToPicture, segmentPicture } from '../src/pipeline/segment.js';
import { readImageFile } from '../src/io/image-file.js';
import { decodeParamFile } from '../src/nn/param-format.js';
import { encodeFitterWeights, encodeSegmenterWeights, loadFitterWeights, loadSegmenterWeights, readAnyWeightsMeta, readWeightsMeta } from '../src/nn/weights-file.js';
import { SegmenterNetwork, type SegmenterConfig } from '../src/nn/refinenet.js';
import { FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { NBF_PARTS } from '../src/smpl/types.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-segmenter-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

/** Stride 4 (stride-1 stem, 2×2 pool, two stages): runs at 32². */
const TINY: SegmenterConfig = {
  name: 'tiny', inputSize: 32, classes: 13,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2, batchNorm: { momentum: 0.7 } },
  decoder: { kind: 'light', widths: [8, 8], crpStages: 2 },
};
const FITTER_TINY: FitterConfig = {
  name: 'tiny', inputSize: 32, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
};

const quiet = { log: () => {}, progress: () => {} };
const base = (out: string): TrainSegmenterOptions => ({ config: TINY, out, batch: 8, lr: 3e-3, warmupSteps: 5, valCount: 16, valBatch: 8, classWeightBatches: 2, valEverySteps: 1000, ...quiet });
const readLogFile = (dir: string) => readFileSync(join(dir, LOG_FILE), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('nbf train segmenter (library)', () => {
  it('lowers the validation loss and raises mIoU in a short run; writes checkpoint, best weights (a segmenter file), log and curves', async () => {
    const out = join(root, 'short');
    const vals: { loss: number; mIoU: number; fg: number }[] = [];
    const t0 = performance.now();
    const result = await trainSegmenter(rt, generator, { ...base(out), steps: 40, valEverySteps: 20, onValidation: (v) => vals.push({ loss: v.summary.loss, mIoU: v.summary.mIoU, fg: v.summary.foregroundIoU }) });
    console.log(`segmenter smoke run (tiny, 32², 40 steps of 8) in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${vals.map((v) => `loss ${v.loss.toFixed(3)} mIoU ${(v.mIoU * 100).toFixed(1)} % fg IoU ${(v.fg * 100).toFixed(1)} %`).join(' → ')}`);
    expect(result.step).toBe(40);
    expect(vals.length).toBe(3); // steps 0, 20, 40
    expect(vals[2].loss < vals[0].loss * 0.9 || vals[2].mIoU > vals[0].mIoU).toBe(true);
    expect(vals[2].loss).toBeLessThan(vals[0].loss);
    for (const f of [CHECKPOINT_FILE, BEST_FILE, LOG_FILE, CURVES_FILE, 'config.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const bytes = readFileSync(join(out, BEST_FILE));
    const meta = readWeightsMeta(bytes, 'best.nbfw', 'segmenter').meta;
    expect(meta.network).toBe('segmenter');
    expect(meta.config).toEqual(TINY);
    const info = meta.info as { step: number; validation: { mIoU: number }; training: { classWeights: number[]; classWeightsMode: string } };
    expect(info.step).toBe(result.best!.step);
    expect(info.validation.mIoU).toBe(result.best!.mIoU);
    expect(info.training.classWeightsMode).toBe('auto');
    expect(info.training.classWeights).toHaveLength(13);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.training.classWeights).toEqual(info.training.classWeights);
    const log = readLogFile(out);
    expect(log.filter((r) => r.type === 'val').map((r) => r.step)).toEqual([0, 20, 40]);
    expect(log.filter((r) => r.type === 'train').length).toBe(4);
    for (const r of log.filter((r) => r.type === 'val')) for (const k of ['loss', 'mIoU', 'foregroundIoU', 'pixelAccuracy']) expect(Number.isFinite(r[k]), k).toBe(true);
    expect(PNG.sync.read(readFileSync(join(out, CURVES_FILE))).width).toBeGreaterThan(100);
  });

  it('resumes exactly: 3 + 3 steps give the parameters, optimizer state and buffers of 6 uninterrupted steps', async () => {
    const whole = join(root, 'whole');
    const split = join(root, 'split');
    const opts = { ...base(whole), validateAtStart: false };
    await trainSegmenter(rt, generator, { ...opts, steps: 6 });
    await trainSegmenter(rt, generator, { ...opts, out: split, steps: 3 });
    await expect(trainSegmenter(rt, generator, { ...opts, out: split, steps: 6 })).rejects.toThrow(/exists; pass --resume/);
    const resumed = await trainSegmenter(rt, generator, { ...opts, out: split, steps: 6, resume: true });
    expect(resumed.step).toBe(6);
    const a = decodeParamFile(readFileSync(join(whole, CHECKPOINT_FILE)));
    const b = decodeParamFile(readFileSync(join(split, CHECKPOINT_FILE)));
    expect(b.entries.map((e) => e.name)).toEqual(a.entries.map((e) => e.name));
    a.entries.forEach((e, i) => expect(Array.from(b.entries[i].data), e.name).toEqual(Array.from(e.data)));
    const extra = (m: unknown) => (m as { extra: { buffers: unknown; options: unknown } }).extra;
    expect(extra(b.meta).buffers).toEqual(extra(a.meta).buffers);
    expect(extra(b.meta).options).toEqual(extra(a.meta).options);
  });

  it('refuses a validation seed that training draws, a resume with another network, and wrong class weights', async () => {
    await expect(trainSegmenter(rt, generator, { ...base(join(root, 'x')), seed: 5, valSeed: 5, steps: 1 })).rejects.toThrow(/validation must use examples training never draws/);
    await expect(trainSegmenter(rt, generator, { ...base(join(root, 'y')), classWeights: [1, 2], steps: 1 })).rejects.toThrow(/2 class weights for 13 classes/);
    const out = join(root, 'other');
    await trainSegmenter(rt, generator, { ...base(out), classWeights: 'none', steps: 1, validateAtStart: false });
    await expect(trainSegmenter(rt, generator, { ...base(out), config: { ...TINY, decoder: { ...TINY.decoder, widths: [8, 12] } }, steps: 2, resume: true })).rejects.toThrow(/another network configuration/);
  });

  it('auto class weights: inverse square root of the measured frequencies, mean pixel weight 1', () => {
    // f = 0.75, 0.25, 0 → 1/√f = 1.1547, 2, (unseen: the largest, 2); Σ f·w = √0.75 + 0.5.
    const norm = Math.sqrt(0.75) + 0.5;
    const w3 = inverseSqrtClassWeights([75, 25, 0]);
    [1 / Math.sqrt(0.75) / norm, 2 / norm, 2 / norm].forEach((x, k) => expect(w3[k]).toBeCloseTo(x, 12));
    const counts = classPixelCounts(rt, generator, { size: 32, seed: 1, count: 8, batch: 4 });
    expect(counts.reduce((a, c) => a + c, 0)).toBe(8 * 32 * 32);
    const w = inverseSqrtClassWeights(counts);
    const total = 8 * 32 * 32;
    expect(w.reduce((a, x, k) => a + (x * counts[k]) / total, 0)).toBeCloseTo(1, 9);
    expect(w[0]).toBeLessThan(1); // background: most pixels, smallest weight
  });
});

describe('segmentation metrics', () => {
  // Rows: truth, columns: prediction; class 0 the background.
  const C = [50, 5, 5, 2, 10, 3, 1, 4, 20];

  it('IoU, mIoU over the parts, foreground IoU and pixel accuracy equal a hand computation', () => {
    const m = confusionMetrics(C, 3);
    // Row sums 60, 15, 25; column sums 53, 19, 28; 100 pixels.
    expect(m.perClassIoU[0]).toBeCloseTo(50 / (60 + 53 - 50), 12);
    expect(m.perClassIoU[1]).toBeCloseTo(10 / (15 + 19 - 10), 12);
    expect(m.perClassIoU[2]).toBeCloseTo(20 / (25 + 28 - 20), 12);
    expect(m.mIoU).toBeCloseTo((10 / 24 + 20 / 33) / 2, 12);
    // Person: truth 40 pixels, predicted 47, both 10 + 3 + 4 + 20 = 37 → 37 / (40 + 47 − 37).
    expect(m.foregroundIoU).toBeCloseTo(37 / 50, 12);
    expect(m.pixelAccuracy).toBeCloseTo(0.8, 12);
    expect(m.frequency).toEqual([0.6, 0.15, 0.25]);
    // The floor: every pixel background.
    const floor = confusionMetrics(allBackgroundConfusion(C, 3), 3);
    expect(floor).toMatchObject({ mIoU: 0, foregroundIoU: 0, pixelAccuracy: 0.6 });
    expect(floor.perClassIoU[0]).toBeCloseTo(0.6, 12);
    // A class in neither truth nor prediction is left out of the mean.
    const K4 = [50, 5, 5, 0, 2, 10, 3, 0, 1, 4, 20, 0, 0, 0, 0, 0];
    const m4 = confusionMetrics(K4, 4);
    expect(Number.isNaN(m4.perClassIoU[3])).toBe(true);
    expect(m4.mIoU).toBeCloseTo(m.mIoU, 12);
    // Predicted but never true: IoU 0, counted.
    const K4b = K4.slice();
    K4b[3] = 7;
    expect(confusionMetrics(K4b, 4).perClassIoU[3]).toBe(0);
    const rows = rowNormalise(C, 3);
    expect(rows[3 + 1]).toBeCloseTo(10 / 15, 12);
  });

  it('accumulates label pairs (ignoring labels outside the classes) and draws a labelled PNG', () => {
    const truth = [0, 0, 1, 2, 2, 7, -1];
    const pred = [0, 1, 1, 2, 0, 0, 0];
    const c = new Float64Array(9);
    accumulateConfusion(c, truth, pred, 3);
    expect(Array.from(c)).toEqual([1, 1, 0, 0, 1, 0, 1, 0, 1]);
    const png = PNG.sync.read(Buffer.from(confusionPng(Array.from({ length: 169 }, (_, i) => (i % 14 === 0 ? 90 : 1)), { names: NBF_PARTS.map((p) => p.name), title: 'test' })));
    expect(png.width).toBeGreaterThan(13 * 30);
    expect(png.height).toBeGreaterThan(13 * 30);
  });

  it('evaluateSegmenter counts every pixel once and reports the all-background floor', () => {
    const net = new SegmenterNetwork(rt, TINY, { seed: 3 });
    try {
      const v = evaluateSegmenter(rt, net, generator, { seed: 5, count: 6, batch: 4 });
      expect(v.confusion.reduce((a, x) => a + x, 0)).toBe(6 * 32 * 32);
      expect(v.metrics.pixels).toBe(6 * 32 * 32);
      expect(v.baseline.pixelAccuracy).toBeCloseTo(v.metrics.frequency[0], 12);
      expect(v.baseline.mIoU).toBe(0);
      expect(Number.isFinite(v.summary.loss)).toBe(true);
    } finally {
      net.dispose();
    }
  });

  it('maps labels back to the picture through the letterbox (a bilinear vote, background outside)', () => {
    // A 4×4 map seen through the square around a 8×4 picture (side 8, centred): the map's rows 1..2
    // cover the picture; outside rows fall off the picture.
    const S = 4;
    const map = [0, 0, 0, 0, 1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 0, 0];
    const out = labelsToPicture(map, S, { cx: 4, cy: 2, size: 8, angle: 0 }, 8, 4, 13);
    expect(Array.from(out.subarray(0, 8))).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect(Array.from(out.subarray(24, 32))).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
  });
});

describe('weights file', () => {
  it('round-trips a segmenter and refuses the other network, naming both', () => {
    const seg = new SegmenterNetwork(rt, TINY, { seed: 1 });
    const fit = new FitterNetwork(rt, FITTER_TINY, { seed: 1 });
    try {
      const segBytes = encodeSegmenterWeights(seg, { dtype: 'float32', info: { note: 'x' } });
      const fitBytes = encodeFitterWeights(fit);
      const before = rt.memory().tensors;
      expect(() => loadFitterWeights(rt, segBytes, 'seg.nbfw')).toThrow(/seg\.nbfw holds a segmenter .*, not a fitter/);
      expect(() => loadSegmenterWeights(rt, fitBytes, 'fit.nbfw')).toThrow(/fit\.nbfw holds a fitter .*, not a segmenter/);
      expect(() => readWeightsMeta(segBytes)).toThrow(/not a fitter/);
      expect(rt.memory().tensors).toBe(before);
      expect(readAnyWeightsMeta(segBytes).meta.network).toBe('segmenter');
      const { network, meta } = loadSegmenterWeights(rt, segBytes, 'seg.nbfw');
      try {
        expect(meta.config).toEqual(TINY);
        expect(meta.info).toEqual({ note: 'x' });
        const x = rt.tensor(Float32Array.from({ length: 2 * 32 * 32 * 3 }, (_, i) => (i * 0.37) % 1), [2, 32, 32, 3]);
        const a = seg.predict(x);
        const b = network.predict(x);
        expect(Array.from(b.readSync())).toEqual(Array.from(a.readSync()));
        for (const t of [x, a, b]) t.dispose();
      } finally {
        network.dispose();
      }
    } finally {
      seg.dispose();
      fit.dispose();
    }
  });
  it('moves the logits back by the prior correction −α·log w_k of the recorded class weights', () => {
    const seg = new SegmenterNetwork(rt, TINY, { seed: 3 });
    const K = TINY.classes;
    const classWeights = Array.from({ length: K }, (_, k) => 0.5 + 0.7 * k);
    const x = rt.tensor(Float32Array.from({ length: 32 * 32 * 3 }, (_, i) => (i * 0.29) % 1), [1, 32, 32, 3]);
    const nets: SegmenterNetwork[] = [];
    try {
      const bytes = encodeSegmenterWeights(seg, { dtype: 'float32', info: { training: { classWeights } } });
      const raw = loadSegmenterWeights(rt, bytes, 'seg.nbfw', { priorCorrection: 0 });
      const corrected = loadSegmenterWeights(rt, bytes, 'seg.nbfw', { priorCorrection: 0.75 });
      nets.push(raw.network, corrected.network);
      expect(raw.logitOffsets).toBeNull();
      expect(corrected.logitOffsets).toEqual(classWeights.map((w) => -0.75 * Math.log(w)));
      // Logits at inference (folded batch norm), before the argmax.
      const a = raw.network.forward(raw.network.params.toRecord(), x, false);
      const b = corrected.network.forward(corrected.network.params.toRecord(), x, false);
      const la = a.readSync();
      const lb = b.readSync();
      a.dispose();
      b.dispose();
      expect(la.length).toBe(32 * 32 * K);
      let worst = 0;
      for (let i = 0; i < la.length; i++) worst = Math.max(worst, Math.abs(lb[i] - la[i] + 0.75 * Math.log(classWeights[i % K])));
      expect(worst).toBeLessThan(1e-4);
      // A file without recorded class weights loads as trained, whatever α.
      const plain = loadSegmenterWeights(rt, encodeSegmenterWeights(seg, { dtype: 'float32' }), 'plain.nbfw', { priorCorrection: 1 });
      nets.push(plain.network);
      expect(plain.logitOffsets).toBeNull();
      const before = rt.memory().tensors;
      expect(() => loadSegmenterWeights(rt, bytes, 'seg.nbfw', { priorCorrection: -1 })).toThrow(/seg\.nbfw: the prior correction must be a number ≥ 0/);
      const bad = encodeSegmenterWeights(seg, { dtype: 'float32', info: { training: { classWeights: [1, 2] } } });
      expect(() => loadSegmenterWeights(rt, bad, 'bad.nbfw')).toThrow(/bad\.nbfw: info\.training\.classWeights must be 13 positive numbers/);
      expect(rt.memory().tensors).toBe(before);
    } finally {
      x.dispose();
      for (const n of nets) n.dispose();
      seg.dispose();
    }
  });
});

// ─── CLI ───────────────────────────────────────────────────────────────────────────────────────

const run = (argv: string[]): Promise<CommandRun> => captureCommand(() => main(argv));
const segWeights = join(root, 'tiny-seg.nbfw');
const fitWeights = join(root, 'tiny-fit.nbfw');
const pictures = join(root, 'pictures');

function picture(width: number, height: number): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([(x * 7) % 256, (y * 11) % 256, ((x + y) * 5) % 256, 255], 4 * (y * width + x));
  }
  return { width, height, data };
}

beforeAll(() => {
  const seg = new SegmenterNetwork(rt, TINY, { seed: 2 });
  writeFileSync(segWeights, encodeSegmenterWeights(seg));
  seg.dispose();
  const fit = new FitterNetwork(rt, FITTER_TINY, { seed: 2 });
  writeFileSync(fitWeights, encodeFitterWeights(fit));
  fit.dispose();
  mkdirSync(pictures, { recursive: true });
  const png = new PNG({ width: 50, height: 30 });
  png.data.set(picture(50, 30).data);
  writeFileSync(join(pictures, 'wide.png'), PNG.sync.write(png));
  writeFileSync(join(pictures, 'tall.jpg'), jpeg.encode(picture(21, 43), 90).data);
  writeFileSync(join(root, 'not-a-picture.png'), 'hello');
});

describe('nbf segment', () => {
  it('writes parts.png, labels.png and overlay.png at each picture\'s size (a folder: PNG and JPEG)', async () => {
    const out = join(root, 'seg-out');
    const r = await run(['segment', pictures, '--weights', segWeights, '--out', out]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['tall', 'wide']);
    for (const [name, w, h] of [['wide', 50, 30], ['tall', 21, 43]] as const) {
      expect(readdirSync(join(out, name)).sort()).toEqual(['labels.png', 'overlay.png', 'parts.png']);
      const [labels, parts, overlay] = ['labels.png', 'parts.png', 'overlay.png'].map((f) => PNG.sync.read(readFileSync(join(out, name, f))));
      for (const p of [labels, parts, overlay]) expect([p.width, p.height]).toEqual([w, h]);
      for (let i = 0; i < w * h; i++) {
        const k = labels.data[4 * i];
        expect(k).toBeLessThan(13);
        expect(Array.from(parts.data.subarray(4 * i, 4 * i + 3))).toEqual([...NBF_PARTS[k].rgb]);
      }
    }
    expect(r.out).toMatch(/wide\.png \(50×30\): person .* → /);
  });

  it('reads each picture twice (as it is and mirrored) unless --no-mirror: the labels are segmentPicture\'s with and without mirror', async () => {
    const net = loadSegmenterWeights(rt, new Uint8Array(readFileSync(segWeights)), segWeights).network;
    try {
      const image = await readImageFile(join(pictures, 'wide.png'));
      const want = (mirror: boolean) => Array.from(segmentPicture(net, image, { mirror }).labels);
      expect(want(true)).not.toEqual(want(false)); // the second look changes some labels
      for (const [flags, mirror] of [[[], true], [['--no-mirror'], false]] as const) {
        const out = join(root, `seg-mirror-${mirror}`);
        const r = await run(['segment', join(pictures, 'wide.png'), '--weights', segWeights, '--out', out, ...flags]);
        expect(r.code, r.err).toBe(0);
        const labels = PNG.sync.read(readFileSync(join(out, 'wide', 'labels.png')));
        expect(Array.from({ length: 50 * 30 }, (_, i) => labels.data[4 * i])).toEqual(want(mirror));
      }
    } finally {
      net.dispose();
    }
  });

  it('segments with the shipped weights (weights/nbf-segmenter-compact.nbfw) when --weights is not given', async () => {
    const out = join(root, 'shipped');
    const r = await run(['segment', join(pictures, 'wide.png'), '--out', out]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(out, 'wide')).sort()).toEqual(['labels.png', 'overlay.png', 'parts.png']);
  });

  const bad: [string, () => string[], RegExp, number][] = [
    ['a file that is not a picture', () => [join(root, 'not-a-picture.png'), '--weights', segWeights], /not-a-picture\.png: is not a PNG or JPEG picture; nothing written/, 1],
    ['a missing picture', () => [join(root, 'nope.png'), '--weights', segWeights], /nope\.png: cannot read \(no such file\)/, 1],
    ['missing weights', () => [join(pictures, 'wide.png'), '--weights', join(root, 'nope.nbfw')], /nope\.nbfw: no such file/, 2],
    ['fitter weights', () => [join(pictures, 'wide.png'), '--weights', fitWeights], /tiny-fit\.nbfw holds a fitter .*, not a segmenter/, 1],
    ['a --size off the stride', () => [join(pictures, 'wide.png'), '--weights', segWeights, '--size', '30'], /--size must be a multiple of the segmenter's stride 4/, 2],
    ['a negative --prior-correction', () => [join(pictures, 'wide.png'), '--weights', segWeights, '--prior-correction', '-0.5'], /--prior-correction must be a number in \[0, 10\]/, 2],
  ];
  for (const [what, args, message, code] of bad) {
    it(`rejects ${what} with one line, exit ${code}, nothing written`, async () => {
      const out = join(root, `bad-${what.replace(/\W+/g, '-')}`);
      const r = await run(['segment', ...args(), '--out', out]);
      expect(r.code).toBe(code);
      expect(r.err.trim().split('\n')[0]).toMatch(message);
      if (code === 1) expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    });
  }

  it('goes on after a bad picture in a batch', async () => {
    const out = join(root, 'seg-mixed');
    const r = await run(['segment', join(root, 'not-a-picture.png'), join(pictures, 'wide.png'), '--weights', segWeights, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/\[1\/2\] nbf segment: .*not-a-picture\.png: is not a PNG or JPEG picture/);
    expect(readdirSync(out)).toEqual(['wide']);
  });
});

describe('nbf train / eval segmenter (CLI)', () => {
  it('trains a tiny config for 2 steps, then evaluates its best weights: table, JSON, confusion PNG', async () => {
    const config = join(root, 'tiny-seg.json');
    writeFileSync(config, JSON.stringify(TINY));
    const out = join(root, 'cli-run');
    const r = await run(['train', 'segmenter', '--config', config, '--steps', '2', '--batch', '2', '--val-count', '4', '--out', out, '--close-up-rate', '0.5']);
    expect(r.code, r.err).toBe(0);
    // Close-ups are drawn for the training batches only; the run records how it drew its pictures.
    const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).training;
    expect(recorded.sampler).toEqual({});
    expect(recorded.trainingSampler).toEqual({ closeUpRate: 0.5 });
    expect(r.out).toMatch(/nbf train segmenter: 2 steps in all; best mIoU \d+\.\d % at step \d/);
    expect(r.err).toMatch(/class weights \(1\/√frequency over the first 16 training pictures\): background \d/);
    const json = join(root, 'eval', 'seg.json');
    const png = join(root, 'eval', 'confusion.png');
    const e = await run(['eval', 'segmenter', '--weights', join(out, BEST_FILE), '--count', '4', '--batch', '2', '--seed', '77', '--json', json, '--confusion', png, '--back-view-rate', '0.25', '--other-person', '0.5', '--close-up-rate', '0.25']);
    expect(e.code, e.err).toBe(0);
    expect(e.out).toMatch(/on 4 synthetic pictures \(procedural backgrounds, a second person in 50 %, 25 % seen from behind, 25 % close-ups\)/);
    expect(e.out).toMatch(/mIoU, 12 parts \(%\)\s+\d+\.\d\s+0\.0/);
    expect(e.out).toMatch(/pixel accuracy \(%\)\s+\d+\.\d\s+\d+\.\d/);
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(j.count).toBe(4);
    expect(j.pictures).toEqual({ backgrounds: null, otherPersonRate: 0.5, backViewRate: 0.25, closeUpRate: 0.25 });
    expect(j.classes).toHaveLength(13);
    expect(j.perClassIoU).toHaveLength(13);
    expect(j.confusion.counts.flat().reduce((a: number, x: number) => a + x, 0)).toBe(4 * 32 * 32);
    expect(j.baseline.pixelAccuracy).toBeCloseTo(j.frequency[0], 5);
    expect(PNG.sync.read(readFileSync(png)).width).toBeGreaterThan(400);
    // eval refuses a fitter file.
    const f = await run(['eval', 'segmenter', '--weights', fitWeights, '--count', '2', '--json', join(root, 'eval', 'no.json')]);
    expect(f.code).toBe(1);
    expect(f.err).toMatch(/holds a fitter .*, not a segmenter/);
    expect(existsSync(join(root, 'eval', 'no.json'))).toBe(false);
  });

  it('argument errors: one line and the usage, exit 2, nothing created', async () => {
    const out = join(root, 'never');
    for (const [argv, message] of [
      [['train', 'segmenter', '--out', out], /give --minutes M or --steps N/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--class-weights', 'some'], /--class-weights must be auto or none, got "some"/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--config', 'huge'], /unknown segmenter configuration "huge"/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--size', '100'], /inputSize must be a multiple of the encoder's stride 32.*\(--size 100; the encoder's stride is 32\)/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--seed', '3', '--val-seed', '3'], /--seed and --val-seed are both 3/],
      [['train', 'segmenter', '--out', out, '--minutes', '5', '--cosine'], /--cosine anneals towards a step target: give --steps N/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--batch', '1'], /--batch must be an integer in \[2, 512\]/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--other-person', '2'], /--other-person must be/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--back-view-rate', '-0.1'], /--back-view-rate must be/],
      [['train', 'segmenter', '--out', out, '--steps', '5', '--frobnicate'], /unknown option --frobnicate/],
      [['train', 'segmenter', 'extra', '--out', out, '--steps', '5'], /unexpected argument "extra"/],
      [['train', 'bogus'], /say what to train: "fitter" or "segmenter" \(got "bogus"\)/],
      [['eval'], /say what to evaluate: "fitter" or "segmenter" \(got nothing\)/],
      [['eval', 'segmenter', '--count', '0'], /--count must be an integer/],
      [['eval', 'segmenter', '--backgrounds', join(root, 'no-such-folder')], /--backgrounds .*no-such-folder: no such folder/],
      [['eval', 'segmenter', '--photo-fraction', '0.5'], /--photo-fraction needs --backgrounds DIR/],
      [['eval', 'segmenter', '--prior-correction', 'half'], /--prior-correction must be a number in \[0, 10\]/],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err.split('\n')[0], argv.join(' ')).toMatch(message);
      expect(r.err, argv.join(' ')).toMatch(/usage: nbf (train|eval)/);
    }
    expect(existsSync(out)).toBe(false);
  });
});
