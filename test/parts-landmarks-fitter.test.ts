/**
 * The fitting network that reads the 12-part map and a detector's joints (input parts12+landmarks):
 * its batches (the map, then the simulated detector's heatmaps, none for a share of the examples),
 * starting it from a 12-part fitter (the new channels' filters at zero: the same answers), and
 * fitPartMap feeding it the joints in the map's crop.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { fitterConfigWithInput, FitterNetwork } from '../src/nn/fitter.js';
import { inputExtends } from '../src/nn/fitter-inputs.js';
import { disposeFitterBatch, fitterBatch, PARTS_LANDMARKS_MISSING, simulatedDetectorHeatmaps } from '../src/train/fitter-data.js';
import { assignFitterWeights, encodeFitterWeights, loadFitterWeights } from '../src/nn/weights-file.js';
import { fitPartMap } from '../src/pipeline/fit-parts.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { Rng } from '../src/util/random.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const shipped = 'weights/nbf-fitter-compact.nbfw';
const partsFitter = loadFitterWeights(rt, new Uint8Array(readFileSync(shipped)), shipped).network;
const model = new GpuBodyModel(rt, loadOpenBodyModel());
afterAll(() => {
  partsFitter.dispose();
  model.dispose();
  generator.dispose();
});

/** partsFitter's weights in a network reading parts12+landmarks (its stem widened with zeros). */
function widenedFitter(): FitterNetwork {
  const net = new FitterNetwork(rt, fitterConfigWithInput(partsFitter.config, 'parts12+landmarks'), { seed: 3 });
  const loaded = assignFitterWeights(net, encodeFitterWeights(partsFitter, { dtype: 'float32' }), shipped, { acrossInputs: true });
  expect(loaded.widened).toEqual(['encoder/stem/conv/weights']);
  expect(loaded.reinitialised).toEqual([]);
  return net;
}

/** A map of one person: a few part rectangles in the middle of a 96×80 picture. */
function personMap(): { width: number; height: number; labels: Uint8Array } {
  const [width, height] = [96, 80];
  const labels = new Uint8Array(width * height);
  const rng = new Rng(4);
  for (let r = 0; r < 10; r++) {
    const [x0, y0] = [30 + Math.floor(rng.uniform(0, 25)), 10 + Math.floor(rng.uniform(0, 45))];
    const k = 1 + Math.floor(rng.uniform(0, 12));
    for (let y = y0; y < y0 + 12; y++) for (let x = x0; x < x0 + 8; x++) labels[y * width + x] = k;
  }
  return { width, height, labels };
}

/** Joints spread over the person's box, half of them visible. */
function someJoints() {
  const rng = new Rng(9);
  const joints2d = Float32Array.from({ length: 48 }, (_, i) => (i % 2 === 0 ? rng.uniform(32, 62) : rng.uniform(12, 66)));
  const visibility = Float32Array.from({ length: 24 }, (_, j) => (j % 2 === 0 ? 0.9 : 0));
  return { joints2d, joints3d: new Float32Array(72), weights: visibility, visibility };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('input parts12+landmarks', () => {
  it('extends parts12 (and parts12+joints does), not the other way round', () => {
    expect(inputExtends('parts12+landmarks', 'parts12')).toBe(true);
    expect(inputExtends('parts12+joints', 'parts12')).toBe(true);
    expect(inputExtends('parts12', 'parts12+landmarks')).toBe(false);
    expect(inputExtends('landmarks', 'parts12')).toBe(false);
  });

  it('batches: the 12-part map, then the simulated detector\'s heatmaps (none for a share of the examples)', () => {
    const n = 24;
    const both = fitterBatch(rt, generator, n, 1, 0, { size: 32, shapeCount: 10, input: 'parts12+landmarks' });
    const parts = fitterBatch(rt, generator, n, 1, 0, { size: 32, shapeCount: 10, input: 'parts12' });
    try {
      expect([...both.inputs.shape]).toEqual([n, 32, 32, 27]);
      const joined = both.inputs.readSync();
      const map = parts.inputs.readSync();
      const heat = simulatedDetectorHeatmaps(rt, both.targets.joints2d.readSync(), both.examples, 32, { seed: (1 ^ 0x1a4d3a) >>> 0, missing: PARTS_LANDMARKS_MISSING });
      const want = heat.readSync();
      heat.dispose();
      let [mapDiff, heatDiff, empty] = [0, 0, 0];
      for (let i = 0; i < n; i++) {
        let peak = 0;
        for (let px = i * 1024; px < (i + 1) * 1024; px++) {
          for (let c = 0; c < 3; c++) mapDiff = Math.max(mapDiff, Math.abs(joined[px * 27 + c] - map[px * 3 + c]));
          for (let c = 0; c < 24; c++) {
            heatDiff = Math.max(heatDiff, Math.abs(joined[px * 27 + 3 + c] - want[px * 24 + c]));
            peak = Math.max(peak, joined[px * 27 + 3 + c]);
          }
        }
        if (peak === 0) empty++;
        else expect(peak).toBeGreaterThan(0.2);
      }
      expect(mapDiff).toBe(0);
      expect(heatDiff).toBeLessThan(1e-6);
      // A tenth missing: of 24 examples some but not most (binomial: 0–7 covers > 99 %).
      expect(empty).toBeLessThan(8);
    } finally {
      disposeFitterBatch(both);
      disposeFitterBatch(parts);
    }
  });

  it('starts from a 12-part fitter: the new channels\' filters are zero, so the answers are the same whatever the joints', () => {
    const net = widenedFitter();
    try {
      const map = personMap();
      const want = fitPartMap(partsFitter, model, map);
      const withJoints = fitPartMap(net, model, map, { joints: someJoints() });
      const without = fitPartMap(net, model, map, { joints: null });
      expect(maxDiff(withJoints.joints3d, want.joints3d)).toBeLessThan(1e-4);
      expect(maxDiff(without.joints3d, want.joints3d)).toBeLessThan(1e-4);
      expect(maxDiff(withJoints.betas, want.betas)).toBeLessThan(1e-4);
    } finally {
      net.dispose();
    }
  });

  it('fitPartMap draws the joints into the map\'s crop: they change the answer of a network that reads them; null = no joints', () => {
    const net = widenedFitter();
    try {
      // Give the heatmap channels weight: the widened stem's filters for them become random.
      const stem = net.params.get('encoder/stem/conv/weights');
      const w = stem.readSync();
      const [kh, kw, cin, cout] = stem.shape;
      const rng = new Rng(11);
      for (let p = 0; p < kh * kw; p++) for (let c = 3; c < cin; c++) for (let o = 0; o < cout; o++) w[(p * cin + c) * cout + o] = rng.normal(0, 0.3);
      net.params.assign(net.params.readAll().map((e) => (e.name === 'encoder/stem/conv/weights' ? { ...e, data: w } : e)));
      const map = personMap();
      const joints = someJoints();
      const a = fitPartMap(net, model, map, { joints });
      const none = fitPartMap(net, model, map, { joints: null });
      const unseen = fitPartMap(net, model, map, { joints: { ...joints, visibility: new Float32Array(24) } });
      expect(maxDiff(a.joints3d, none.joints3d)).toBeGreaterThan(1e-3);
      expect(maxDiff(unseen.joints3d, none.joints3d)).toBeLessThan(1e-6);
      // Joints moved with the picture (the map shifted 5 px right) give the same answer: they are
      // drawn in the map's own crop.
      const shifted = { width: map.width, height: map.height, labels: new Uint8Array(map.labels.length) };
      for (let y = 0; y < map.height; y++) for (let x = 0; x + 5 < map.width; x++) shifted.labels[y * map.width + x + 5] = map.labels[y * map.width + x];
      const moved = { ...joints, joints2d: joints.joints2d.map((v, i) => (i % 2 === 0 ? v + 5 : v)) };
      const b = fitPartMap(net, model, shifted, { joints: moved });
      expect(maxDiff(b.joints3d, a.joints3d)).toBeLessThan(1e-4);
      const mirrored = fitPartMap(net, model, map, { joints, mirror: true });
      expect(maxDiff(mirrored.joints3d, a.joints3d)).toBeGreaterThan(1e-4);
    } finally {
      net.dispose();
    }
  });

  it('refuses a network that reads no 12-part map, naming its input', () => {
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY_FITTER, 'landmarks'));
    try {
      expect(() => fitPartMap(net, model, personMap())).toThrow(/reads "landmarks".*not a 12-part map/);
    } finally {
      net.dispose();
    }
  });
});
