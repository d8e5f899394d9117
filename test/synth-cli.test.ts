import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { synth } from '../src/cli/synth.js';
import { NBF_PARTS } from '../src/smpl/types.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'nbf-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the command with stdout/stderr captured. */
function run(argv: string[]): Promise<CommandRun> {
  return captureCommand(() => synth(argv));
}

describe('nbf synth', () => {
  it('writes parts, rgb, labels and json per sample, reproducibly', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const first = await run(['--count', '5', '--size', '40', '--out', a, '--seed', '9', '--batch', '2']);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/wrote 5 samples \(40×40, seed 9/);
    expect(first.err).toMatch(/synth: 5\/5 samples/); // not a TTY: plain progress lines
    const files = readdirSync(a).sort();
    expect(files).toHaveLength(20);
    expect(files.some((f) => f.includes('.tmp'))).toBe(false);
    for (let i = 0; i < 5; i++) for (const s of ['_parts.png', '_rgb.png', '_labels.png', '.json']) expect(files).toContain(`${i}${s}`);

    const meta = JSON.parse(readFileSync(join(a, '3.json'), 'utf8'));
    expect(meta.betas).toHaveLength(10);
    expect(meta.pose).toHaveLength(72);
    expect(meta.trans).toHaveLength(3);
    expect(meta.focal).toBeCloseTo((5000 * 40) / 512, 6);
    expect(meta.center).toEqual([20, 20]);
    expect(meta.joints3d).toHaveLength(24);
    expect(meta.joints3d[0]).toHaveLength(3);
    expect(meta.joints2d).toHaveLength(24);
    // joints2d are the pinhole projections of joints3d (pixels, origin top-left).
    for (let j = 0; j < 24; j++) {
      const [X, Y, Z] = meta.joints3d[j];
      expect(meta.joints2d[j][0]).toBeCloseTo((meta.focal * X) / Z + 20, 2);
      expect(meta.joints2d[j][1]).toBeCloseTo((meta.focal * Y) / Z + 20, 2);
    }
    // Label PNG: the class in red; the parts PNG is the palette of those classes.
    const labels = PNG.sync.read(readFileSync(join(a, '3_labels.png')));
    const parts = PNG.sync.read(readFileSync(join(a, '3_parts.png')));
    let body = 0;
    for (let p = 0; p < 40 * 40; p++) {
      const c = labels.data[4 * p];
      expect(c).toBeLessThanOrEqual(12);
      expect(labels.data[4 * p + 1]).toBe(0);
      if (c > 0) body++;
      expect([parts.data[4 * p], parts.data[4 * p + 1], parts.data[4 * p + 2]]).toEqual([...NBF_PARTS[c].rgb]);
    }
    expect(body).toBeGreaterThan(50);

    const second = await run(['--count', '5', '--size', '40', '--out', b, '--seed', '9', '--batch', '2']);
    expect(second.code).toBe(0);
    for (const f of files) expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
  });

  it('--other-person: a second person in the picture, background in the maps, named in the JSON', async () => {
    const dir = join(root, 'other');
    const plainDir = join(root, 'no-other');
    const r = await run(['--count', '3', '--size', '40', '--out', dir, '--seed', '9', '--other-person', '1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/second persons in 100 %/);
    expect((await run(['--count', '3', '--size', '40', '--out', plainDir, '--seed', '9'])).code).toBe(0);
    let drawn = 0;
    for (let i = 0; i < 3; i++) {
      const meta = JSON.parse(readFileSync(join(dir, `${i}.json`), 'utf8'));
      expect(meta.occluded).toBe(true);
      expect(meta.other.betas).toHaveLength(10);
      expect(meta.other.pose).toHaveLength(72);
      expect(meta.other.trans).toHaveLength(3);
      const without = JSON.parse(readFileSync(join(plainDir, `${i}.json`), 'utf8'));
      expect(without.other).toBeUndefined();
      expect(meta.pose).toEqual(without.pose); // the same main person
      const a = PNG.sync.read(readFileSync(join(dir, `${i}_labels.png`)));
      const b = PNG.sync.read(readFileSync(join(plainDir, `${i}_labels.png`)));
      const rgbA = PNG.sync.read(readFileSync(join(dir, `${i}_rgb.png`)));
      const rgbB = PNG.sync.read(readFileSync(join(plainDir, `${i}_rgb.png`)));
      for (let p = 0; p < 40 * 40; p++) {
        if (a.data[4 * p] !== b.data[4 * p]) expect(a.data[4 * p]).toBe(0); // the second person only ever hides the main one
        if ([0, 1, 2].some((k) => rgbA.data[4 * p + k] !== rgbB.data[4 * p + k])) drawn++;
      }
    }
    expect(drawn).toBeGreaterThan(30); // the second persons are in the pictures
  });

  it('bad arguments: a clear message and a non-zero exit, nothing written', async () => {
    const out = join(root, 'bad');
    for (const [argv, message] of [
      [['--size', '40', '--out', out], /--count is required/],
      [['--count', '0', '--out', out], /--count must be an integer/],
      [['--count', '2', '--size', 'big', '--out', out], /--size must be an integer/],
      [['--count', '2'], /--out DIR is required/],
      [['--count', '2', '--out', out, '--colour', 'red'], /unknown option --colour/],
      [['--count', '2', '--out', out, '--other-person', '1.5'], /--other-person 1.5 must be a number in \[0, 1\]/],
      [['--count', '2', '--out', out, '--other-person', 'some'], /--other-person some must be a number/],
      [['--count', '2', '--out', out, '--plain', '--other-person', '0.5'], /cannot be used with --plain/],
    ] as const) {
      const r = await run([...argv]);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.err).toMatch(message);
      expect(r.err).toMatch(/usage: nbf synth/);
    }
    // A body model that cannot be read: exit 1 naming the file (as nbf pose and nbf demo do).
    const missing = await run(['--count', '2', '--out', out, '--body-model', join(root, 'missing.nbfm')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read body model ".*missing\.nbfm": no such file/);
    const file = join(root, 'file');
    writeFileSync(file, 'x');
    const r = await run(['--count', '1', '--out', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is not a directory/);
    expect(readdirSync(root)).not.toContain('bad');
  });
});
