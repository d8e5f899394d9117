/**
 * Recorded detections (src/train/detection-cache.ts): the file format and its errors, recording with a
 * stand-in detector, and fitter batches that read what the detector found on the same bodies drawn
 * at another size (fitter-data.ts `detections`), plus `nbf train fitter --detections`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { captureCommand } from './helpers/cli.js';
import { main } from '../src/cli/main.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { NoPersonError } from '../src/landmarks/blazepose.js';
import { bodyJointTargets, LANDMARK_BODY_JOINTS, poseLandmarksOfJoints } from '../src/landmarks/to-body-joints.js';
import { landmarkHeatmaps } from '../src/nn/landmark-heatmaps.js';
import { decodeDetections, encodeDetections, mergeDetections, recordedJoints, RECORD_FLOATS, type DetectionCache } from '../src/train/detection-cache.js';
import { recordDetections } from '../src/train/record-detections.js';
import { disposeFitterBatch, fitterBatch, meanLatent, recordedWindow } from '../src/train/fitter-data.js';
import { fitterConfigWithInput, FitterNetwork } from '../src/nn/fitter.js';
import { encodeFitterWeights } from '../src/nn/weights-file.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-detections-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const PICTURE = 96;

/**
 * A cache of examples 5 … 5 + count − 1 of seed 21 "detected" by a stand-in that returns each
 * picture's true joints (read from the same render) and finds no one in every third picture.
 */
function recordedCache(count: number): DetectionCache {
  const truth = generator.generateBatch(count, { size: PICTURE, seed: 21, start: 5 });
  const joints = truth.targets.joints2d.readSync();
  disposeBatch(truth);
  let call = 0;
  const detector = {
    detect: () => {
      const i = call++;
      if (i % 3 === 2) throw new NoPersonError('no one');
      return poseLandmarksOfJoints(joints.subarray(i * 48, (i + 1) * 48), PICTURE, PICTURE);
    },
  };
  const cache: DetectionCache = { format: 'nbf-detections', seed: 21, start: 5, size: PICTURE, detector: 'stand-in', pictures: {}, count, records: new Float32Array(count * RECORD_FLOATS) };
  const found = recordDetections(generator, detector, cache, 0, count, 4);
  expect(found).toBe(count - Math.floor(count / 3));
  return cache;
}

describe('recorded detections (detection-cache.ts)', () => {
  it('records what the detector found, nothing where it found no one, and survives a round trip through the file', () => {
    const cache = recordedCache(7);
    expect(recordedJoints(cache, 2)).toBeNull();
    const one = recordedJoints(cache, 1)!;
    const truth = generator.generateBatch(1, { size: PICTURE, seed: 21, start: 6 });
    const expected = bodyJointTargets(poseLandmarksOfJoints(truth.targets.joints2d.readSync(), PICTURE, PICTURE));
    disposeBatch(truth);
    expect(Array.from(one.joints2d)).toEqual(Array.from(expected.joints2d));
    expect(Array.from(one.visibility)).toEqual(Array.from(expected.visibility));
    const back = decodeDetections(encodeDetections(cache), 'x.bin');
    expect(back.count).toBe(7);
    expect(back.detector).toBe('stand-in');
    expect(Array.from(back.records)).toEqual(Array.from(cache.records));
  });

  it('merges files of adjoining ranges into one, and refuses a gap or another seed', () => {
    const whole = recordedCache(6);
    const part = (from: number, to: number, seed = whole.seed): DetectionCache => ({ ...whole, seed, start: whole.start + from, count: to - from, records: whole.records.slice(from * RECORD_FLOATS, to * RECORD_FLOATS) });
    const merged = mergeDetections([part(4, 6), part(0, 4)]);
    expect(merged.start).toBe(whole.start);
    expect(merged.count).toBe(6);
    expect(Array.from(merged.records)).toEqual(Array.from(whole.records));
    expect(() => mergeDetections([part(0, 2), part(3, 6)])).toThrow(/leave examples 7…7 out/);
    expect(() => mergeDetections([part(0, 2), part(2, 6, 99)])).toThrow(/cannot merge files of seed 21 and 99/);
  });

  it('names the file and the problem when it is not a detections file or is cut short', () => {
    const bytes = encodeDetections(recordedCache(3));
    expect(() => decodeDetections(bytes.subarray(0, bytes.length - 8), 'cut.bin')).toThrow(/cut\.bin: .* bytes of records for 3 records .*cut short/);
    expect(() => decodeDetections(new TextEncoder().encode('hello, world'), 'hello.bin')).toThrow(/hello\.bin: not a detections file \(wrong magic\)/);
    expect(() => recordedJoints(recordedCache(3), 3)).toThrow(/record 3 of 3/);
  });
});

describe('fitter batches that read recorded detections', () => {
  it('draw the recorded bodies at the batch\'s size and read the detector\'s joints, scaled; the modelled detector where it found no one', () => {
    const cache = recordedCache(9);
    const S = 32;
    const detections = { cache, share: 1 };
    const window = recordedWindow(detections, 3, 1, 48)!;
    expect(window).toBeGreaterThanOrEqual(0);
    expect(window).toBeLessThanOrEqual(6);
    expect(recordedWindow({ cache, share: 0 }, 3, 1, 48)).toBeNull();
    const b = fitterBatch(rt, generator, 3, 1, 48, { size: S, shapeCount: 10, input: 'landmarks', detections });
    try {
      // The same bodies as the recorded pictures: their joints at S are the recorded ones scaled.
      expect(b.examples.map((e) => e.index)).toEqual([0, 1, 2].map((i) => 5 + window + i));
      const joints = b.targets.joints2d.readSync();
      const got = b.inputs.readSync();
      for (let i = 0; i < 3; i++) {
        const rec = recordedJoints(cache, window + i);
        if (!rec) {
          // Found no one: the modelled detector's view, which still gives the 18 landmark joints.
          let peak = 0;
          for (let p = 0; p < S * S; p++) peak = Math.max(peak, got[(i * S * S + p) * 24 + LANDMARK_BODY_JOINTS[0]]);
          expect(peak).toBeGreaterThan(0.1);
          continue;
        }
        // The stand-in's joints of the batch's own body (a linear map of its true joints) at S.
        const own = bodyJointTargets(poseLandmarksOfJoints(joints.subarray(i * 48, (i + 1) * 48), S, S));
        for (const j of LANDMARK_BODY_JOINTS) {
          for (let a = 0; a < 2; a++) expect(rec.joints2d[2 * j + a] * (S / PICTURE)).toBeCloseTo(own.joints2d[2 * j + a], 3);
        }
        const scaled = Float32Array.from(rec.joints2d, (v) => v * (S / PICTURE));
        const want = landmarkHeatmaps(rt, scaled, Float32Array.from(rec.visibility), 1, S);
        const w = want.readSync();
        want.dispose();
        let worst = 0;
        for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k] - got[i * S * S * 24 + k]));
        expect(worst).toBeLessThan(1e-6);
      }
      expect(() => fitterBatch(rt, generator, 2, 1, 0, { size: S, shapeCount: 10, input: 'parts12', detections })).toThrow(/recorded detections feed input "landmarks", not "parts12"/);
      expect(() => fitterBatch(rt, generator, 12, 1, 0, { size: S, shapeCount: 10, input: 'landmarks', detections })).toThrow(/holds 9 examples, fewer than a batch of 12/);
    } finally {
      disposeFitterBatch(b);
    }
  });

  it('nbf train fitter --detections: trains on them, records them, and refuses what does not fit', async () => {
    const file = join(root, 'det.bin');
    writeFileSync(file, encodeDetections(recordedCache(6)));
    const config = join(root, 'tiny.json');
    writeFileSync(config, JSON.stringify(fitterConfigWithInput({ ...TINY_FITTER, inputSize: 32 }, 'landmarks')));
    const out = join(root, 'run');
    const ok = await captureCommand(() => main(['train', 'fitter', '--config', config, '--detections', file, '--detections-share', '0.5', '--swap-rate', '0.1', '--steps', '2', '--batch', '2', '--val-count', '2', '--mean-count', '8', '--out', out]));
    expect(ok.code, ok.err).toBe(0);
    const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(JSON.stringify(recorded)).toMatch(/"detectionsCount":6/);
    expect(recorded.training.swapRate).toBe(0.1);
    const swapOnParts = await captureCommand(() => main(['train', 'fitter', '--swap-rate', '0.1', '--steps', '1', '--out', join(root, 'r1')]));
    expect(swapOnParts.code).toBe(2);
    expect(swapOnParts.err).toMatch(/--swap-rate applies to a landmark detector's joints .*not to input "parts12"/);
    const swapRange = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--swap-rate', '0.7', '--steps', '1', '--out', join(root, 'r1')]));
    expect(swapRange.err).toMatch(/--swap-rate must be a number in \[0, 0\.5\], got 0\.7/);
    const parts = await captureCommand(() => main(['train', 'fitter', '--detections', file, '--steps', '1', '--out', join(root, 'r2')]));
    expect(parts.code).toBe(2);
    expect(parts.err).toMatch(/--detections feeds input "landmarks", not "parts12"/);
    const missing = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--detections', join(root, 'nope.bin'), '--steps', '1', '--out', join(root, 'r3')]));
    expect(missing.err).toMatch(/--detections .*nope\.bin: no such file/);
    writeFileSync(join(root, 'bad.bin'), 'not a detections file');
    const bad = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--detections', join(root, 'bad.bin'), '--steps', '1', '--out', join(root, 'r4')]));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/bad\.bin: not a detections file/);
    const share = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--detections-share', '0.5', '--steps', '1', '--out', join(root, 'r5')]));
    expect(share.err).toMatch(/--detections-share needs --detections FILE/);
    const trainingSeed = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--val-detections', file, '--steps', '1', '--out', join(root, 'r6')]));
    expect(trainingSeed.code).toBe(2);
    expect(trainingSeed.err).toMatch(/--val-detections .*det\.bin: its pictures are of seed 21, which training may draw/);
    const sameAsVal = await captureCommand(() => main(['train', 'fitter', '--input', 'landmarks', '--detections', file, '--val-seed', '21', '--steps', '1', '--out', join(root, 'r7')]));
    expect(sameAsVal.code).toBe(2);
    expect(sameAsVal.err).toMatch(/--detections .*det\.bin: its pictures are of seed 21, this run's validation seed \(--val-seed\)/);
  });

  it('nbf eval fitter --detections: scores a landmark network on the recorded bodies and joints', async () => {
    const file = join(root, 'det-eval.bin');
    writeFileSync(file, encodeDetections(recordedCache(5)));
    const config = fitterConfigWithInput({ ...TINY_FITTER, inputSize: 32 }, 'landmarks');
    const net = new FitterNetwork(rt, config, { seed: 1, meanLatent: meanLatent(generator, { size: 32, shapeCount: 10, seed: 3, count: 16 }) });
    const weights = join(root, 'lm.nbfw');
    writeFileSync(weights, encodeFitterWeights(net));
    net.dispose();
    const json = join(root, 'eval.json');
    const ok = await captureCommand(() => main(['eval', 'fitter', '--weights', weights, '--detections', file, '--count', '50', '--json', json]));
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/on 5 synthetic bodies, seed 21, stand-in's joints recorded on renders of seed 21/);
    const written = JSON.parse(readFileSync(json, 'utf8'));
    expect(written.count).toBe(5);
    expect(written.summary.paMpjpe).toBeGreaterThan(0);
    const both = await captureCommand(() => main(['eval', 'fitter', '--weights', weights, '--detections', file, '--truncation', '0.5']));
    expect(both.code).toBe(1);
    expect(both.err).toMatch(/--detections and --truncation/);
  });
});
