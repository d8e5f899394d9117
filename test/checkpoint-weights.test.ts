/**
 * scripts/checkpoint-weights.ts: a run's checkpoint → the weights file of the network it holds (what
 * the run's last.nbfw holds when the checkpoint is the last one), and a clear line for a folder that is
 * not a run.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { trainFitter, LAST_FILE } from '../src/train/fitter-trainer.js';
import { loadFitterWeights } from '../src/nn/weights-file.js';

const rt = testRuntime();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-ckpt-weights-'));
afterAll(() => {
  generator.dispose();
  rmSync(root, { recursive: true, force: true });
});

const script = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/checkpoint-weights.ts', ...args], { encoding: 'utf8', env: { ...process.env, NBF_NO_XVFB: '1' } });

describe('scripts/checkpoint-weights.ts', () => {
  it('writes the checkpoint\'s network: the same tensors as the run\'s last.nbfw', async () => {
    const out = join(root, 'run');
    await trainFitter(rt, generator, { config: TINY_FITTER, out, batch: 4, lr: 1e-3, warmupSteps: 2, valCount: 4, meanCount: 16, valEverySteps: 1000, validateAtStart: false, steps: 3, log: () => {}, progress: () => {} });
    const file = join(root, 'from-checkpoint.nbfw');
    const r = script(out, file);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the fitter of .* at step 3/);
    const a = loadFitterWeights(rt, new Uint8Array(readFileSync(file)), 'converted').network;
    const b = loadFitterWeights(rt, new Uint8Array(readFileSync(join(out, LAST_FILE))), 'last').network;
    try {
      const [pa, pb] = [a.params.readAll(), b.params.readAll()];
      expect(pa.map((e) => e.name)).toEqual(pb.map((e) => e.name));
      pa.forEach((e, i) => expect(Array.from(e.data), e.name).toEqual(Array.from(pb[i].data)));
      const [ba, bb] = [a.buffers.readAll(), b.buffers.readAll()];
      ba.forEach((e, i) => expect(Array.from(e.data), e.name).toEqual(Array.from(bb[i].data)));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('names what is missing when the folder is not a run', () => {
    const r = script(root, join(root, 'x.nbfw'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/config\.json: no such file \(not a run folder of nbf train\)/);
  });
});
