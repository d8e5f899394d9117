/**
 * The fitter's input types (src/nn/fitter-inputs.ts): the batches each one renders, a smoke run per
 * type (2 training steps, an evaluation, a resumed third step), and the weights file's record of the
 * input type with the loader refusing a type its caller cannot feed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { checkFitterConfig, fitterConfigWithInput, FitterNetwork } from '../src/nn/fitter.js';
import { FITTER_INPUT_TYPES, fitterInputChannels, heatmapSigma, type FitterInputType } from '../src/nn/fitter-inputs.js';
import { disposeFitterBatch, fitterBatch, partNoiseCorruptor } from '../src/train/fitter-data.js';
import { trainFitter, BEST_FILE, CHECKPOINT_FILE } from '../src/train/fitter-trainer.js';
import { evaluateFitter } from '../src/eval/fitter-eval.js';
import { encodeFitterWeights, loadFitterWeights, readWeightsMeta } from '../src/nn/weights-file.js';
import { decodeParamFile } from '../src/nn/param-format.js';
import { jointHeatmapsRef } from '../src/kernels/joint-heatmaps.ref.js';
import { partPalette } from '../src/render/parts.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-inputs-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const TINY = TINY_FITTER;
const quiet = { log: () => {}, progress: () => {} };

function batchOf(input: FitterInputType, n = 3, start = 4) {
  return fitterBatch(rt, generator, n, 1, start, { size: 32, shapeCount: 10, input });
}

describe('fitter input batches', () => {
  it('has the channel count of each input type and values in its range', () => {
    for (const input of FITTER_INPUT_TYPES) {
      const b = batchOf(input);
      try {
        expect([...b.inputs.shape], input).toEqual([3, 32, 32, fitterInputChannels(input)]);
        const v = b.inputs.readSync();
        const lo = Math.min(...v);
        const hi = Math.max(...v);
        expect(lo, input).toBeGreaterThanOrEqual(input === 'joints' ? 0 : -1 - 1e-6);
        expect(hi, input).toBeLessThanOrEqual(1 + 1e-6);
        expect(hi - lo, `${input} is not constant`).toBeGreaterThan(0.5);
      } finally {
        disposeFitterBatch(b);
      }
    }
  });

  it('renders the granularity it names: the silhouette has two colours, finer maps more', () => {
    const colours = (input: FitterInputType) => {
      const b = batchOf(input, 2, 0);
      try {
        const v = b.inputs.readSync();
        const set = new Set<string>();
        for (let i = 0; i < v.length; i += 3) set.add(`${v[i].toFixed(3)},${v[i + 1].toFixed(3)},${v[i + 2].toFixed(3)}`);
        return set;
      } finally {
        disposeFitterBatch(b);
      }
    };
    const one = colours('parts1');
    expect([...one].sort()).toEqual(['-1.000,-1.000,-1.000', '1.000,1.000,1.000']);
    const scaled = (g: 3 | 6 | 24) => new Set(partPalette(g).map((c) => c.map((x) => (x * 2 / 255 - 1).toFixed(3)).join(',')));
    for (const g of [3, 6, 24] as const) {
      const seen = colours(`parts${g}` as FitterInputType);
      for (const c of seen) expect(scaled(g).has(c), `parts${g}: ${c} is in its palette`).toBe(true);
      expect(seen.size).toBeGreaterThan(g === 3 ? 3 : 5);
    }
  });

  it('draws a joint heatmap per projected joint, and parts12+joints is the 12-part map then the heatmaps', () => {
    const j = batchOf('joints');
    const p = batchOf('parts12');
    const both = batchOf('parts12+joints');
    try {
      const joints2d = j.targets.joints2d.readSync();
      const want = jointHeatmapsRef(joints2d, 3, 24, 32, 32, heatmapSigma(32));
      const got = j.inputs.readSync();
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(1e-5);
      const parts = p.inputs.readSync();
      const joined = both.inputs.readSync();
      for (let px = 0; px < 3 * 32 * 32; px++) {
        for (let c = 0; c < 3; c++) expect(joined[px * 27 + c]).toBe(parts[px * 3 + c]);
        for (let c = 0; c < 24; c += 7) expect(joined[px * 27 + 3 + c]).toBe(got[px * 24 + c]);
      }
    } finally {
      for (const b of [j, p, both]) disposeFitterBatch(b);
    }
  });

  it('refuses part-map corruption for inputs without the 12-part map', () => {
    for (const input of ['rgb', 'parts6', 'joints'] as const) {
      expect(() => fitterBatch(rt, generator, 2, 1, 0, { size: 32, shapeCount: 10, input, corrupt: partNoiseCorruptor() })).toThrow(new RegExp(`corruption .* does not apply to input "${input}"`));
    }
    const b = fitterBatch(rt, generator, 2, 1, 0, { size: 32, shapeCount: 10, input: 'parts12+joints', corrupt: partNoiseCorruptor({ strength: 4 }) });
    disposeFitterBatch(b);
  });
});

describe('fitter configuration by input type', () => {
  it('sets the encoder\'s input channels from the input, and names a mismatch', () => {
    for (const input of FITTER_INPUT_TYPES) {
      const c = fitterConfigWithInput(TINY, input);
      expect(c.input).toBe(input);
      expect(c.encoder.inputChannels).toBe(fitterInputChannels(input));
      expect(() => checkFitterConfig(c)).not.toThrow();
    }
    expect(() => checkFitterConfig({ ...TINY, input: 'joints' })).toThrow(/input "joints" \(2D joint heatmaps\) has 24 channels, but the encoder's inputChannels is 3/);
    expect(() => checkFitterConfig({ ...TINY, input: 'depth' as FitterInputType })).toThrow(/unknown input type "depth"/);
    expect(() => checkFitterConfig({ ...TINY, encoder: { ...TINY.encoder, inputChannels: 24 } })).toThrow(/input "parts12" .* has 3 channels/);
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'joints'));
    try {
      expect(() => rt.scope(() => net.forward(net.params.toRecord(), rt.fill([2, 32, 32, 3], 0), false))).toThrow(/reads 2D joint heatmaps \(input "joints"\): inputs must be \[N, 32, 32, 24\], got \[2, 32, 32, 3\]/);
    } finally {
      net.dispose();
    }
  });

  it('records the input type in the weights file; the default loader feeds 12-part maps only', () => {
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY, 'parts12+joints'), { seed: 3 });
    try {
      const bytes = encodeFitterWeights(net);
      expect(readWeightsMeta(bytes).meta.config.input).toBe('parts12+joints');
      expect(() => loadFitterWeights(rt, bytes, 'pj.nbfw')).toThrow(/pj\.nbfw holds a fitter that reads 12-part map \+ 2D joint heatmaps \(input "parts12\+joints"\); this caller feeds only "parts12"/);
      expect(() => loadFitterWeights(rt, bytes, 'pj.nbfw', { inputs: ['rgb', 'joints'] })).toThrow(/feeds only "rgb", "joints"/);
      const loaded = loadFitterWeights(rt, bytes, 'pj.nbfw', { inputs: 'any' });
      expect(loaded.network.input).toBe('parts12+joints');
      loaded.network.dispose();
      // A file without an input type (every file before them) is a 12-part fitter.
      const plain = new FitterNetwork(rt, TINY);
      const old = loadFitterWeights(rt, encodeFitterWeights(plain), 'old.nbfw');
      expect(old.network.input).toBe('parts12');
      old.network.dispose();
      plain.dispose();
    } finally {
      net.dispose();
    }
  });
});

describe('smoke runs per input type: 2 steps, evaluation, a resumed third step', () => {
  for (const input of FITTER_INPUT_TYPES) {
    it(input, async () => {
      const out = join(root, input.replace('+', '-'));
      const config = fitterConfigWithInput(TINY, input);
      const o = { config, out, batch: 4, lr: 1e-3, warmupSteps: 2, valCount: 4, meanCount: 16, valEverySteps: 1000, validateAtStart: false, ...quiet };
      const first = await trainFitter(rt, generator, { ...o, steps: 2 });
      expect(first.step).toBe(2);
      expect(existsSync(join(out, BEST_FILE))).toBe(true);
      const { network, meta } = loadFitterWeights(rt, new Uint8Array(readFileSync(join(out, BEST_FILE))), 'best', { inputs: [input] });
      try {
        expect(meta.config.input).toBe(input);
        const v = evaluateFitter(rt, network, generator, { seed: 77, count: 3, batch: 2 });
        for (const k of ['mpjpe', 'paMpjpe', 'pve', 'joint2dPx', 'angleDeg'] as const) expect(Number.isFinite(v.summary[k]), k).toBe(true);
        expect(v.summary.mpjpe).toBeGreaterThan(0);
      } finally {
        network.dispose();
      }
      const resumed = await trainFitter(rt, generator, { ...o, steps: 3, resume: true });
      expect(resumed.step).toBe(3);
      expect((decodeParamFile(readFileSync(join(out, CHECKPOINT_FILE))).meta as { step: number }).step).toBe(3);
    });
  }
});
