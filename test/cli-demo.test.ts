import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { demo } from '../src/cli/demo.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { NBF_PARTS } from '../src/smpl/types.js';
import { FitterNetwork } from '../src/nn/fitter.js';
import { encodeFitterWeights } from '../src/nn/weights-file.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'nbf-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIZE = 64;
const FILES = ['fit.glb', 'fit_parts.png', 'person_parts.png', 'person_rgb.png', 'summary.json'];

/** Runs the command with stdout/stderr captured. */
function run(argv: string[], runtime?: Runtime): Promise<CommandRun> {
  return captureCommand(() => demo(argv, { runtime }));
}

/** Pixels of a part-map PNG that are not background; every pixel must be a palette colour. */
function bodyPixels(path: string): number {
  const png = PNG.sync.read(readFileSync(path));
  expect([png.width, png.height]).toEqual([SIZE, SIZE]);
  const palette = new Set(NBF_PARTS.map((p) => p.rgb.join(',')));
  let body = 0;
  for (let p = 0; p < SIZE * SIZE; p++) {
    const rgb = [png.data[4 * p], png.data[4 * p + 1], png.data[4 * p + 2]].join(',');
    expect(palette.has(rgb)).toBe(true);
    if (rgb !== NBF_PARTS[0].rgb.join(',')) body++;
  }
  return body;
}

function withoutTimings(summary: Record<string, unknown>): Record<string, unknown> {
  const { timingsMs: _, ...rest } = summary;
  return rest;
}

describe('nbf demo', () => {
  it('fits the body model to a synthetic person, writes valid files, frees its tensors and repeats exactly', async () => {
    const a = join(root, 'a');
    const argv = ['--size', String(SIZE), '--steps', '60', '--seed', '3'];
    const rt = createNodeContext();
    let first;
    try {
      const before = rt.memory();
      first = await run([...argv, '--out', a], rt);
      const after = rt.memory();
      expect(after.tensors).toBe(before.tensors);
      expect(after.liveTextures).toBe(before.liveTextures);
    } finally {
      rt.destroy();
    }
    expect(first.code, first.err).toBe(0);
    expect(first.err).toMatch(/fit stage 2\/2 .* step 42\/42/);
    expect(first.out).toMatch(/2D joint error: [\d.]+ px at the start → [\d.]+ px after the fit/);
    expect(first.out).toContain(join(a, 'summary.json'));
    expect(readdirSync(a).sort()).toEqual(FILES); // no temporaries left behind

    expect(bodyPixels(join(a, 'person_parts.png'))).toBeGreaterThan(100);
    expect(bodyPixels(join(a, 'fit_parts.png'))).toBeGreaterThan(100);
    const rgb = PNG.sync.read(readFileSync(join(a, 'person_rgb.png')));
    expect([rgb.width, rgb.height]).toEqual([SIZE, SIZE]);
    const glb = readFileSync(join(a, 'fit.glb'));
    expect(glb.subarray(0, 4).toString('latin1')).toBe('glTF');
    expect(glb.readUInt32LE(4)).toBe(2);
    expect(glb.readUInt32LE(8)).toBe(glb.length);

    const summary = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ seed: 3, size: SIZE, steps: 60 });
    const { joints2dBeforePx, joints2dAfterPx, mpjpeRootAlignedMm } = summary.errors;
    // Measured: 11.3 px → 0.57 px, 99 mm.
    expect(joints2dAfterPx).toBeLessThan(0.3 * joints2dBeforePx);
    expect(joints2dAfterPx).toBeLessThan(1.5);
    expect(mpjpeRootAlignedMm).toBeGreaterThan(0);
    expect(mpjpeRootAlignedMm).toBeLessThan(250);
    expect(summary.fitted.betas).toHaveLength(10);
    expect(summary.fitted.pose).toHaveLength(72);
    expect(summary.fitted.trans).toHaveLength(3);
    for (const k of ['context', 'synth', 'network', 'fit', 'perStep', 'output', 'total']) expect(summary.timingsMs[k]).toBeGreaterThanOrEqual(0);

    // Again with its own context (created and destroyed by the demo): the same numbers.
    const b = join(root, 'b');
    const second = await run([...argv, '--out', b]);
    expect(second.code, second.err).toBe(0);
    expect(withoutTimings(JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8')))).toEqual(withoutTimings(summary));
  });

  it('starts one candidate from the fitting network\'s prediction, or none with --no-fitter', async () => {
    // A small network with fixed random weights: what matters here is the wiring, not its accuracy.
    const weights = join(root, 'tiny.nbfw');
    const rt = createNodeContext();
    const mean = new Float32Array(229);
    for (let j = 0; j < 24; j++) mean.set([1, 0, 0, 0, 1, 0, 0, 0, 1], 10 + 9 * j);
    mean.set([Math.log(20), 0, 0], 226);
    const net = new FitterNetwork(rt, {
      name: 'tiny', inputSize: 32, shapeCount: 10,
      encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
    }, { seed: 2, meanLatent: mean });
    writeFileSync(weights, encodeFitterWeights(net));
    net.dispose();
    rt.destroy();
    const argv = ['--size', String(SIZE), '--steps', '20', '--seed', '4'];
    const withNet = await run([...argv, '--weights', weights, '--out', join(root, 'net')]);
    expect(withNet.code, withNet.err).toBe(0);
    expect(withNet.out).toMatch(/fitting network \(.*tiny\.nbfw\) from the part map: 3D joint error [\d.]+ mm, 2D [\d.]+ px/);
    const s1 = JSON.parse(readFileSync(join(root, 'net', 'summary.json'), 'utf8'));
    expect(s1.errors.network.mpjpeRootAlignedMm).toBeGreaterThan(0);
    expect(['network', 'facing']).toContain(s1.start);
    const without = await run([...argv, '--no-fitter', '--out', join(root, 'plain')]);
    expect(without.code, without.err).toBe(0);
    const s2 = JSON.parse(readFileSync(join(root, 'plain', 'summary.json'), 'utf8'));
    expect(s2.errors.network).toBeNull();
    expect(s2.start).toBe('facing');
    expect(s2.weights).toBeNull();
    const bad = await run([...argv, '--weights', join(root, 'none.nbfw'), '--out', join(root, 'nonet')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/none\.nbfw: no such file/);
    expect(existsSync(join(root, 'nonet'))).toBe(false);
  });

  it('bad arguments exit 2 with the usage, a bad body model exits 1 naming it; nothing is written', async () => {
    const out = join(root, 'bad');
    const notADir = join(root, 'file');
    writeFileSync(notADir, 'x');
    for (const [argv, message] of [
      [['--size', 'big'], /--size must be an integer/],
      [['--steps', '0'], /--steps must be an integer/],
      [['--frobnicate', '1'], /unknown option --frobnicate/],
      [['extra'], /unexpected argument "extra"/],
      [['--out'], /--out needs a value/],
    ] as const) {
      const r = await run([...argv, ...(argv[0] === '--out' ? [] : ['--out', out])]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/usage: nbf demo/);
    }
    const r = await run(['--out', notADir]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/exists and is not a directory/);

    const missing = join(root, 'missing.nbfm');
    const garbage = join(root, 'garbage.pkl');
    writeFileSync(garbage, 'not a body model');
    for (const model of [missing, garbage]) {
      const bad = await run(['--body-model', model, '--out', out]);
      expect(bad.code).toBe(1);
      expect(bad.err).toContain(model);
    }
    expect(existsSync(out)).toBe(false);
    mkdirSync(out);
    expect((await run(['--body-model', missing, '--out', out])).code).toBe(1);
    expect(readdirSync(out)).toEqual([]);
  });
});
