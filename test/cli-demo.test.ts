import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { demo } from '../src/cli/demo.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { NBF_PARTS } from '../src/smpl/types.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';
import { writeTinySegmenterWeights } from './helpers/tiny-networks.js';

const root = mkdtempSync(join(tmpdir(), 'nbf-demo-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SIZE = 64;
const FILES = ['fit.glb', 'fit_parts.png', 'parts.png', 'person_parts.png', 'person_rgb.png', 'summary.json'];

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
  it('fits the body to a synthetic person\'s part map, writes valid files, frees its tensors and repeats exactly', async () => {
    const a = join(root, 'a');
    const argv = ['--size', String(SIZE), '--steps', '30', '--seed', '3', '--parts', 'truth'];
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
    expect(first.err).toMatch(/refinement stage 2\/2 .* step 21\/21/);
    expect(first.out).toMatch(/fitting network \(.*\) from the part map: 3D joint error [\d.]+ mm \(PA [\d.]+ mm\), 2D [\d.]+ px/);
    expect(first.out).toMatch(/refined on the part map in 30 Adam steps/);
    expect(first.out).toContain(join(a, 'summary.json'));
    expect(readdirSync(a).sort()).toEqual(FILES); // no temporaries left behind

    expect(bodyPixels(join(a, 'person_parts.png'))).toBeGreaterThan(100);
    expect(bodyPixels(join(a, 'parts.png'))).toBe(bodyPixels(join(a, 'person_parts.png'))); // --parts truth: the map the fit read
    expect(bodyPixels(join(a, 'fit_parts.png'))).toBeGreaterThan(100);
    const rgb = PNG.sync.read(readFileSync(join(a, 'person_rgb.png')));
    expect([rgb.width, rgb.height]).toEqual([SIZE, SIZE]);
    const glb = readFileSync(join(a, 'fit.glb'));
    expect(glb.subarray(0, 4).toString('latin1')).toBe('glTF');
    expect(glb.readUInt32LE(4)).toBe(2);
    expect(glb.readUInt32LE(8)).toBe(glb.length);

    const summary = JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8'));
    expect(summary).toMatchObject({ seed: 3, size: SIZE, steps: 30, parts: 'truth' });
    expect(summary.errors.segmentation).toBeNull();
    const { network, refined } = summary.errors;
    // The refinement lowers its loss; at 64² both answers are within a few pixels (test/part-refine
    // checks that the refinement moves a body towards the truth).
    expect(summary.refinement.lossAfter).toBeLessThan(summary.refinement.lossBefore);
    expect(network.joints2dPx).toBeLessThan(4);
    expect(refined.joints2dPx).toBeLessThan(4);
    for (const e of [network, refined]) {
      expect(e.mpjpeMm).toBeGreaterThan(0);
      expect(e.mpjpeMm).toBeLessThan(250);
      expect(e.paMpjpeMm).toBeGreaterThan(0);
      expect(e.paMpjpeMm).toBeLessThanOrEqual(e.mpjpeMm + 1e-6);
    }
    expect(summary.fitted.betas).toHaveLength(10);
    expect(summary.fitted.pose).toHaveLength(72);
    expect(summary.fitted.trans).toHaveLength(3);
    for (const k of ['context', 'synth', 'segment', 'network', 'refine', 'output', 'total']) expect(summary.timingsMs[k]).toBeGreaterThanOrEqual(0);

    // Again with its own context (created and destroyed by the demo): the same numbers.
    const b = join(root, 'b');
    const second = await run([...argv, '--out', b]);
    expect(second.code, second.err).toBe(0);
    expect(withoutTimings(JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8')))).toEqual(withoutTimings(summary));
  });

  it('runs the segmenter on the RGB picture when given one, and skips the refinement with --no-refine', async () => {
    // A small segmenter with fixed random weights: what matters here is the wiring, not its accuracy.
    const weights = join(root, 'tiny-segmenter.nbfw');
    writeTinySegmenterWeights(weights);
    const out = join(root, 'seg');
    const r = await run(['--size', String(SIZE), '--seed', '4', '--segmenter', weights, '--no-refine', '--out', out]);
    // Seed 5's random network labels enough pixels as parts to find a "person".
    expect(r.code, r.err).toBe(0);
    {
      const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      expect(s.parts).toBe('segmenter');
      expect(s.weights.segmenter).toBe(weights);
      expect(s.errors.segmentation.mIoU).toBeGreaterThanOrEqual(0);
      expect(s.errors.segmentation.mIoU).toBeLessThanOrEqual(1);
      expect(s.errors.refined).toBeNull();
      expect(s.refinement).toBeNull();
      expect(s.steps).toBe(0);
      expect(r.out).toMatch(/segmenter \(.*tiny-segmenter\.nbfw\) on the RGB picture: mIoU [\d.]+ %/);
    }
    // --parts both: BlazePose joins (its person mask and sides in the map, its joints in the refinement).
    const outBoth = join(root, 'seg-both');
    const rb = await run(['--size', String(SIZE), '--seed', '4', '--segmenter', weights, '--parts', 'both', '--steps', '4', '--out', outBoth]);
    expect(rb.code, rb.err).toBe(0);
    {
      const s = JSON.parse(readFileSync(join(outBoth, 'summary.json'), 'utf8'));
      expect(s.parts).toBe('both');
      expect(s.timingsMs.landmarks).toBeGreaterThan(0);
      expect(s.errors.segmentation.foregroundIoU).toBeGreaterThanOrEqual(0);
      expect(s.errors.refined).not.toBeNull();
      expect(rb.out).toMatch(/with BlazePose's person mask and sides on the RGB picture/);
    }
    for (const [argv, message] of [
      [['--parts', 'maybe'], /--parts must be both, segmenter or truth/],
      [['--parts', 'truth', '--segmenter', weights], /exclude each other/],
      [['--segmenter', join(root, 'none.nbfw')], /none\.nbfw: no such file/],
      [['--weights', join(root, 'none.nbfw')], /none\.nbfw: no such file/],
    ] as const) {
      const bad = await run([...argv, '--out', join(root, 'nothing')]);
      expect(bad.code, argv.join(' ')).toBe(2);
      expect(bad.err).toMatch(message);
    }
    const corrupt = join(root, 'corrupt.nbfw');
    writeFileSync(corrupt, 'not weights');
    const bad = await run(['--segmenter', corrupt, '--out', join(root, 'nothing')]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(corrupt);
    expect(existsSync(join(root, 'nothing'))).toBe(false);
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
