/**
 * A segmenter that reads a landmark detector's joints beside the picture (config.input
 * 'rgb+landmarks', src/nn/refinenet.ts): its configuration and input checks, the simulated
 * detector's heatmaps of the training batches (src/train/segmenter-data.ts), starting it from an
 * RGB segmenter's weights (src/nn/weights-file.ts assignSegmenterWeights: it begins as that network
 * and its new channels change nothing until trained), where segmentPicture draws the joints
 * (src/pipeline/segment.ts), a short training run that lowers the validation loss, and the CLI flags.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { captureCommand } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { checkSegmenterConfig, SegmenterNetwork, segmenterConfig, segmenterReadsLandmarks, type SegmenterConfig } from '../src/nn/refinenet.js';
import { mirrorWidthRef } from '../src/kernels/mirror.ref.js';
import { NBF_MIRRORED_PARTS, NBF_PARTS, SMPL_JOINT_NAMES, SMPL_MIRRORED_JOINTS } from '../src/smpl/types.js';
import { assignSegmenterWeights, encodeSegmenterWeights, readWeightsMeta } from '../src/nn/weights-file.js';
import { disposeSegmenterBatch, segmenterBatch } from '../src/train/segmenter-data.js';
import { trainSegmenter } from '../src/train/segmenter-trainer.js';
import { BEST_FILE } from '../src/train/training-run.js';
import { jointHeatmapsInRoi, segmentPicture } from '../src/pipeline/segment.js';
import { disposeBatch, SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { Rng } from '../src/util/random.js';
import { encodePng, rgbFloatsToImage } from '../src/io/image.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-segmenter-landmarks-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY_RGB: SegmenterConfig = {
  name: 'tiny', inputSize: 32, classes: 13,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2, batchNorm: { momentum: 0.7 } },
  decoder: { kind: 'light', widths: [8, 8], crpStages: 2 },
};
const TINY_LM: SegmenterConfig = { ...TINY_RGB, input: 'rgb+landmarks', encoder: { ...TINY_RGB.encoder, inputChannels: 27 } };

function randomTensor(shape: number[], seed: number, lo = 0, hi = 1) {
  const rng = new Rng(seed);
  return rt.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(lo, hi)), shape);
}

describe('segmenter: the mirrored second look', () => {
  const swapSide = (name: string) => name.replace(/\b(left|right)\b/, (side) => (side === 'left' ? 'right' : 'left'));

  it('the mirror orders swap each left part and joint with its right twin, by name', () => {
    expect(NBF_MIRRORED_PARTS.map((k) => NBF_PARTS[k].name)).toEqual(NBF_PARTS.map((p) => swapSide(p.name)));
    expect(SMPL_MIRRORED_JOINTS.map((j) => SMPL_JOINT_NAMES[j])).toEqual(SMPL_JOINT_NAMES.map((n) => n.replace(/^(left|right)_/, (side) => (side === 'left_' ? 'right_' : 'left_'))));
    expect(NBF_MIRRORED_PARTS.filter((k, i) => k !== i)).toHaveLength(8);
    expect(SMPL_MIRRORED_JOINTS.filter((j, i) => j !== i)).toHaveLength(18);
  });

  it('inferLogits with mirror: the mean of the logits and the mirrored picture\'s, mirrored back with the sides swapped (batch 2)', () => {
    const net = new SegmenterNetwork(rt, TINY_LM, { seed: 11 });
    try {
      rt.scope(() => {
        const shape = [2, 32, 32, 3];
        const images = randomTensor(shape, 21);
        const heat = randomTensor([2, 32, 32, 24], 22);
        const x = images.readSync();
        const h = heat.readSync();
        const record = net.params.toRecord();
        const direct = net.forward(record, images, false, { landmarks: heat }).readSync();
        const mirrored = net.forward(record, rt.tensor(Float32Array.from(mirrorWidthRef(x, shape)), shape), false, {
          landmarks: rt.tensor(Float32Array.from(mirrorWidthRef(h, [2, 32, 32, 24], SMPL_MIRRORED_JOINTS)), [2, 32, 32, 24]),
        }).readSync();
        const back = mirrorWidthRef(mirrored, [2, 32, 32, 13], NBF_MIRRORED_PARTS);
        const want = Float64Array.from(direct, (v, i) => 0.5 * (v + back[i]));
        const got = net.inferLogits(images, heat, { mirror: true });
        expect(got.shape).toEqual([2, 32, 32, 13]);
        const g = got.readSync();
        let worst = 0;
        for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - want[i]));
        expect(worst).toBeLessThan(1e-4);
        // One look is the plain forward pass; the mirrored look changes the answer.
        expect(Array.from(net.inferLogits(images, heat).readSync())).toEqual(Array.from(direct));
        expect(direct.some((v, i) => Math.abs(v - want[i]) > 1e-3)).toBe(true);
        // predict takes the argmax of the same logits.
        const labels = net.predict(images, heat, { mirror: true }).readSync();
        for (let p = 0; p < labels.length; p += 97) {
          const row = g.subarray(13 * p, 13 * p + 13);
          expect(labels[p]).toBe(row.indexOf(Math.max(...row)));
        }
      });
    } finally {
      net.dispose();
    }
  });

  it('mirror refuses a segmenter without NBF\'s 13 classes', () => {
    const net = new SegmenterNetwork(rt, { ...TINY_RGB, classes: 5 }, { seed: 1 });
    try {
      rt.scope(() => expect(() => net.inferLogits(randomTensor([1, 32, 32, 3], 1), undefined, { mirror: true })).toThrow(/mirroring needs NBF's 13 classes/));
    } finally {
      net.dispose();
    }
  });
});

describe('segmenter reading landmarks', () => {
  it('configuration: the encoder reads 27 channels; a mismatch is named', () => {
    const c = segmenterConfig('compact', { input: 'rgb+landmarks' });
    expect(c.encoder.inputChannels).toBe(27);
    expect(segmenterReadsLandmarks(c)).toBe(true);
    expect(segmenterConfig('compact', { input: 'rgb' }).input).toBeUndefined();
    expect(() => checkSegmenterConfig({ ...TINY_LM, encoder: { ...TINY_LM.encoder, inputChannels: 3 } })).toThrow(/input "rgb\+landmarks" needs encoder.inputChannels 27/);
    expect(() => checkSegmenterConfig({ ...TINY_RGB, encoder: { ...TINY_RGB.encoder, inputChannels: 27 } })).toThrow(/input "rgb" needs encoder.inputChannels 3/);
    expect(() => checkSegmenterConfig({ ...TINY_RGB, input: 'depth' as never })).toThrow(/input must be one of rgb, rgb\+landmarks/);
  });

  it('forward: heatmaps change the logits once the new channels have weights; wrong shapes and an RGB network given heatmaps are refused', () => {
    const net = new SegmenterNetwork(rt, TINY_LM, { seed: 3 });
    const rgbNet = new SegmenterNetwork(rt, TINY_RGB, { seed: 3 });
    try {
      rt.scope(() => {
        const images = randomTensor([2, 32, 32, 3], 1);
        const heat = randomTensor([2, 32, 32, 24], 2);
        const withHeat = net.forward(net.params.toRecord(), images, false, { landmarks: heat }).readSync();
        const without = net.forward(net.params.toRecord(), images, false).readSync();
        const zeros = net.forward(net.params.toRecord(), images, false, { landmarks: rt.fill([2, 32, 32, 24], 0) }).readSync();
        expect(Array.from(without)).toEqual(Array.from(zeros)); // none given = none found
        expect(withHeat.some((v, i) => Math.abs(v - without[i]) > 1e-4)).toBe(true);
        expect(() => net.forward(net.params.toRecord(), images, false, { landmarks: randomTensor([2, 32, 32, 18], 3) })).toThrow(/landmark heatmaps must be \[2, 32, 32, 24\]/);
        expect(() => rgbNet.forward(rgbNet.params.toRecord(), images, false, { landmarks: heat })).toThrow(/reads the picture alone/);
      });
    } finally {
      net.dispose();
      rgbNet.dispose();
    }
  });

  it('starts from an RGB segmenter: the same logits whatever the heatmaps; another network is refused', () => {
    const rgbNet = new SegmenterNetwork(rt, TINY_RGB, { seed: 5 });
    const net = new SegmenterNetwork(rt, TINY_LM, { seed: 9 });
    try {
      const bytes = encodeSegmenterWeights(rgbNet, { dtype: 'float32' });
      const loaded = assignSegmenterWeights(net, bytes, 'rgb.nbfw');
      expect(loaded.widened).toEqual(['encoder/stem/conv/weights']);
      const stem = net.params.get('encoder/stem/conv/weights').readSync();
      const old = rgbNet.params.get('encoder/stem/conv/weights').readSync();
      // [3, 3, Cin, 8]: the first 3 input channels are the file's, the other 24 zero.
      for (let p = 0; p < 9; p++) {
        for (let c = 0; c < 27; c++) {
          for (let o = 0; o < 8; o++) expect(stem[(p * 27 + c) * 8 + o]).toBe(c < 3 ? old[(p * 3 + c) * 8 + o] : 0);
        }
      }
      rt.scope(() => {
        const images = randomTensor([2, 32, 32, 3], 11);
        const a = rgbNet.forward(rgbNet.params.toRecord(), images, false).readSync();
        const b = net.forward(net.params.toRecord(), images, false, { landmarks: randomTensor([2, 32, 32, 24], 12) }).readSync();
        a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 4));
      });
      const other = new SegmenterNetwork(rt, { ...TINY_RGB, decoder: { ...TINY_RGB.decoder, widths: [8, 12] } });
      try {
        expect(() => assignSegmenterWeights(net, encodeSegmenterWeights(other), 'other.nbfw')).toThrow(/other.nbfw holds the segmenter configuration "tiny"/);
      } finally {
        other.dispose();
      }
      // The other way round (fewer channels in the network than in the file) is refused too.
      expect(() => assignSegmenterWeights(rgbNet, encodeSegmenterWeights(net), 'lm.nbfw')).toThrow(/or the same reading fewer input channels/);
      // Another input size (a fine-tune at a larger size): every weight is the file's.
      const larger = new SegmenterNetwork(rt, { ...TINY_LM, inputSize: TINY_LM.inputSize + 32 }, { seed: 3 });
      try {
        const fromSmaller = assignSegmenterWeights(larger, encodeSegmenterWeights(net, { dtype: 'float32' }), 'lm.nbfw');
        expect(fromSmaller.widened).toEqual([]);
        for (const name of net.params.names()) expect(larger.params.get(name).readSync(), name).toEqual(net.params.get(name).readSync());
      } finally {
        larger.dispose();
      }
    } finally {
      rgbNet.dispose();
      net.dispose();
    }
  });

  it('training batches: heatmaps [n, S, S, 24] peaking near the true joints, the same for the same seed, none when the detector misses', () => {
    const o = { size: 32, landmarks: { missing: 0, noise: { jitter: 0, poorRate: 0, swapRate: 0, rise: 0, hipSpread: [1, 1] as [number, number] } } };
    const a = segmenterBatch(rt, generator, 3, 7, 0, o);
    const b = segmenterBatch(rt, generator, 3, 7, 0, o);
    const none = segmenterBatch(rt, generator, 3, 7, 0, { ...o, landmarks: { missing: 1 } });
    const plain = segmenterBatch(rt, generator, 3, 7, 0, { size: 32 });
    try {
      expect(a.landmarks!.shape).toEqual([3, 32, 32, 24]);
      expect(plain.landmarks).toBeNull();
      const ha = a.landmarks!.readSync();
      expect(Array.from(b.landmarks!.readSync())).toEqual(Array.from(ha));
      expect(none.landmarks!.readSync().every((v) => v === 0)).toBe(true);
      // No noise: the left knee's (joint 4) heatmap peaks at its projected position when inside the picture.
      const generated = generator.generateBatch(3, { size: 32, seed: 7, start: 0 });
      const j2 = generated.targets.joints2d.readSync();
      disposeBatch(generated);
      let checked = 0;
      for (let i = 0; i < 3; i++) {
        const [x, y] = [j2[i * 48 + 8], j2[i * 48 + 9]];
        if (!(x > 1 && x < 31 && y > 1 && y < 31)) continue;
        let best = -1;
        let at = [0, 0];
        for (let v = 0; v < 32; v++) for (let u = 0; u < 32; u++) {
          const h = ha[((i * 32 + v) * 32 + u) * 24 + 4];
          if (h > best) [best, at] = [h, [u, v]];
        }
        expect(best).toBeGreaterThan(0.5);
        expect(Math.hypot(at[0] + 0.5 - x, at[1] + 0.5 - y)).toBeLessThan(1.5);
        checked++;
      }
      expect(checked).toBeGreaterThan(0);
    } finally {
      for (const x of [a, b, none, plain]) disposeSegmenterBatch(x);
    }
  });

  it('segmentPicture draws picture-pixel joints where the square it reads sees them', () => {
    const net = new SegmenterNetwork(rt, TINY_LM, { seed: 1 });
    try {
      const joints2d = new Float32Array(48).fill(0);
      const visibility = new Float32Array(24);
      joints2d.set([151.25, 91.25], 2 * 4); // joint 4 at picture (151.25, 91.25): the square's (28.5, 12.5), a pixel centre
      visibility[4] = 0.8;
      joints2d.set([NaN, NaN], 2 * 5);
      visibility[5] = 1; // no position: nothing drawn
      const roi = { cx: 120, cy: 100, size: 80, angle: 0 }; // x 80..160, y 60..140 → ×32/80
      const heat = jointHeatmapsInRoi(net, { joints2d, visibility }, roi, 32);
      try {
        const h = heat.readSync();
        let best = -1;
        let at = [0, 0];
        for (let v = 0; v < 32; v++) for (let u = 0; u < 32; u++) if (h[(v * 32 + u) * 24 + 4] > best) [best, at] = [h[(v * 32 + u) * 24 + 4], [u, v]];
        expect(best).toBeCloseTo(0.8, 1);
        expect(at).toEqual([28, 12]);
        for (let p = 0; p < 32 * 32; p++) expect(h[p * 24 + 5]).toBe(0);
        for (let p = 0; p < 32 * 32; p++) expect(h[p * 24 + 0]).toBe(0);
      } finally {
        heat.dispose();
      }
      expect(() => jointHeatmapsInRoi(net, { joints2d: new Float32Array(36), visibility }, roi, 32)).toThrow(/joints must be 24 × 2 pixels and 24 visibilities, got 36 and 24/);
      // Through segmentPicture: the labels differ once the joints say something (random weights).
      const image = { width: 64, height: 48, data: Uint8Array.from({ length: 64 * 48 * 4 }, (_, i) => (i * 37) % 251) };
      const full = new Float32Array(24).fill(1);
      const spread = Float32Array.from({ length: 48 }, (_, i) => (i % 2 ? 5 + (i * 7) % 40 : 3 + (i * 11) % 60));
      const a = segmentPicture(net, image);
      const b = segmentPicture(net, image, { joints: { joints2d: spread, visibility: full } });
      expect(a.labels.length).toBe(64 * 48);
      expect(a.inputLabels.some((v, i) => v !== b.inputLabels[i])).toBe(true);
    } finally {
      net.dispose();
    }
  });

  it('a short run from an RGB segmenter lowers the validation loss; its weights file records the input', async () => {
    const rgbNet = new SegmenterNetwork(rt, TINY_RGB, { seed: 2 });
    const bytes = encodeSegmenterWeights(rgbNet);
    rgbNet.dispose();
    const out = join(root, 'short');
    const losses: number[] = [];
    await trainSegmenter(rt, generator, {
      config: TINY_LM, out, batch: 8, lr: 3e-3, warmupSteps: 5, valCount: 16, valBatch: 8, classWeightBatches: 2, steps: 30, valEverySteps: 30,
      init: { bytes, path: 'rgb.nbfw' }, landmarks: { missing: 0.1 }, log: () => {}, progress: () => {},
      onValidation: (v) => losses.push(v.summary.loss),
    });
    expect(losses.length).toBe(2);
    expect(losses[1]).toBeLessThan(losses[0]);
    const meta = readWeightsMeta(readFileSync(join(out, BEST_FILE)), 'best.nbfw', 'segmenter').meta;
    expect(meta.config.input).toBe('rgb+landmarks');
    const training = (meta.info as { training: { landmarks: unknown; init: unknown } }).training;
    expect(training.landmarks).toEqual({ missing: 0.1 });
    expect(training.init).toBe('rgb.nbfw');
  });

  it('CLI: landmark flags need a segmenter that reads them; --init and --resume exclude each other; unknown sources are named', async () => {
    const train = (args: string[]) => captureCommand(() => main(['train', 'segmenter', '--out', join(root, 'cli'), '--steps', '1', ...args]));
    let r = await train(['--truncation', '0.2']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--truncation draws the landmark heatmaps of a segmenter that reads them \(--input rgb\+landmarks\)/);
    r = await train(['--input', 'depth']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--input must be one of rgb, rgb\+landmarks, got "depth"/);
    r = await train(['--init', join(root, 'missing.nbfw')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--init .*missing.nbfw: no such file/);
    r = await train(['--init', join(root, 'short', BEST_FILE), '--resume']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--init starts a new run from trained weights; --resume continues a run/);
    r = await captureCommand(() => main(['eval', 'segmenter', '--landmarks', 'psychic']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--landmarks must be one of simulated, none, lite, full, heavy, got "psychic"/);
    const rgbWeights = join(root, 'rgb.nbfw');
    const rgbNet = new SegmenterNetwork(rt, TINY_RGB, { seed: 4 });
    writeFileSync(rgbWeights, encodeSegmenterWeights(rgbNet));
    rgbNet.dispose();
    r = await captureCommand(() => main(['eval', 'segmenter', '--weights', rgbWeights, '--landmarks', 'full', '--count', '1']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/reads the picture alone \(input "rgb"\)/);
  });

  it('nbf segment: a segmenter that reads landmarks runs BlazePose on each picture; an RGB one refuses --landmarks', async () => {
    const weights = join(root, 'short', BEST_FILE);
    const picture = join(root, 'person.png');
    const b = generator.generateBatch(1, { size: 96, seed: 900101, start: 0 });
    writeFileSync(picture, encodePng(rgbFloatsToImage(b.inputs.rgb.readSync(), 96, 96)));
    disposeBatch(b);
    const out = join(root, 'segment-out');
    let r = await captureCommand(() => main(['segment', picture, '--weights', weights, '--landmarks', 'lite', '--out', out]));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/BlazePose lite('s joints| found no one)/);
    expect(existsSync(join(out, 'person', 'parts.png'))).toBe(true);
    r = await captureCommand(() => main(['segment', picture, '--weights', join(root, 'rgb.nbfw'), '--landmarks', 'lite', '--out', join(root, 'segment-rgb')]));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--landmarks: .*rgb.nbfw reads the picture alone/);
    expect(existsSync(join(root, 'segment-rgb'))).toBe(false);
    r = await captureCommand(() => main(['segment', picture, '--landmarks', 'medium']));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--landmarks must be one of none, lite, full, heavy, got "medium"/);
  });
});
