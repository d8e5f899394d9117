import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { synth } from '../src/cli/synth.js';
import { smplForward } from '../src/smpl/cpu-forward.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { captureCommand, type CommandRun } from './helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'nbf-synth-params-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs the command with stdout/stderr captured. */
function run(argv: string[]): Promise<CommandRun> {
  return captureCommand(() => synth(argv));
}

/** An upright body facing the camera (half turn about x: body up → image up), arms lowered. */
function uprightPose(armDown = 1.2, yaw = 0): number[] {
  const pose = new Array<number>(72).fill(0);
  // Rotation by π about x, then yaw about the camera's vertical: axis-angle of Ry(yaw)·Rx(π).
  pose[0] = Math.PI * Math.cos(yaw / 2);
  pose[2] = -Math.PI * Math.sin(yaw / 2);
  pose[16 * 3 + 2] = -armDown; // left shoulder
  pose[17 * 3 + 2] = armDown; // right shoulder
  pose[4 * 3] = 0.4; // left knee
  return pose;
}

// Size 64: focal 5000·64/512 = 625 px. The open body's joints span about 1.6 m, mostly below the
// pelvis; at 24 m that is about 40 px, and trans y = −0.2 m puts them roughly in the middle.
const SIZE = 64;
const ENTRIES = [
  { betas: [1, -0.5, 0.3, 0, 0.2, -0.1, 0, 0, 0.4, -0.3], pose: uprightPose(), trans: [0, -0.2, 24] },
  { betas: [0.5, -1, 0.3], pose: uprightPose(0.9, 0.6), trans: [0.1, -0.15, 26], focal: 600, center: [30, 34] },
];

function writeParams(name: string, value: unknown): string {
  const path = join(root, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
  return path;
}

describe('nbf synth --params', () => {
  it('renders the given bodies: four files per entry, targets as given', async () => {
    const params = writeParams('two.json', ENTRIES);
    const out = join(root, 'happy');
    const r = await run(['--params', params, '--size', String(SIZE), '--out', out, '--seed', '5', '--batch', '1']);
    expect(r.err).not.toMatch(/nbf synth:/);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote 2 samples \(bodies of .*two\.json, 64×64, seed 5/);
    const files = readdirSync(out).sort();
    expect(files).toEqual(['0.json', '0_labels.png', '0_parts.png', '0_rgb.png', '1.json', '1_labels.png', '1_parts.png', '1_rgb.png']);

    const model = loadOpenBodyModel();
    // The entries as the file holds them (JSON has no −0).
    (JSON.parse(JSON.stringify(ENTRIES)) as typeof ENTRIES).forEach((entry, i) => {
      const meta = JSON.parse(readFileSync(join(out, `${i}.json`), 'utf8'));
      expect(meta.index).toBe(i);
      expect(meta.family).toBe('params');
      expect(meta.pose).toEqual(entry.pose);
      expect(meta.trans).toEqual(entry.trans);
      // Missing shape coefficients are 0.
      expect(meta.betas).toEqual([...entry.betas, ...new Array(model.shapeCount - entry.betas.length).fill(0)]);
      const focal = entry.focal ?? (5000 * SIZE) / 512;
      const [cx, cy] = entry.center ?? [SIZE / 2, SIZE / 2];
      expect(meta.focal).toBeCloseTo(focal, 9);
      expect(meta.center).toEqual([cx, cy]);
      // joints3d are the body model's joints for these parameters (CPU float64 pass vs the GPU layer).
      const cpu = smplForward(model, { betas: entry.betas, pose: entry.pose, trans: entry.trans });
      for (let j = 0; j < 24; j++) {
        for (let k = 0; k < 3; k++) expect(meta.joints3d[j][k]).toBeCloseTo(cpu.joints[3 * j + k], 3);
        const [X, Y, Z] = meta.joints3d[j];
        const [u, v] = meta.joints2d[j];
        expect(u).toBeCloseTo((focal * X) / Z + cx, 2);
        expect(v).toBeCloseTo((focal * Y) / Z + cy, 2);
        expect(u).toBeGreaterThan(0);
        expect(u).toBeLessThan(SIZE);
        expect(v).toBeGreaterThan(0);
        expect(v).toBeLessThan(SIZE);
      }
      // The person is in the picture.
      const labels = PNG.sync.read(readFileSync(join(out, `${i}_labels.png`)));
      let body = 0;
      for (let p = 0; p < SIZE * SIZE; p++) if (labels.data[4 * p] > 0) body++;
      expect(body).toBeGreaterThan(100);
    });
  });

  it('--plain: the same pictures whatever the seed', async () => {
    const params = writeParams('plain.json', ENTRIES);
    const a = join(root, 'plain-a');
    const b = join(root, 'plain-b');
    expect((await run(['--params', params, '--size', String(SIZE), '--out', a, '--seed', '1', '--plain'])).code).toBe(0);
    expect((await run(['--params', params, '--size', String(SIZE), '--out', b, '--seed', '77', '--plain'])).code).toBe(0);
    for (const i of [0, 1]) {
      for (const s of ['_parts.png', '_labels.png', '_rgb.png']) {
        expect(readFileSync(join(b, `${i}${s}`)).equals(readFileSync(join(a, `${i}${s}`))), `${i}${s}`).toBe(true);
      }
      const [ma, mb] = [a, b].map((d) => JSON.parse(readFileSync(join(d, `${i}.json`), 'utf8')));
      expect(ma.occluded).toBe(false);
      expect({ ...mb, seed: 0 }).toEqual({ ...ma, seed: 0 });
    }
  });

  it('bad params files: exit 1, one line naming the file, entry and key; nothing written', async () => {
    const good = ENTRIES[0];
    const cases: Array<[string, unknown, RegExp]> = [
      ['not-json.json', '[{"pose": [1, 2', /not-json\.json: not valid JSON/],
      ['object.json', good, /object\.json: expected a JSON array/],
      ['empty.json', [], /empty\.json: the array is empty/],
      ['no-pose.json', [good, { trans: [0, 0, 20] }], /no-pose\.json: entry 1: "pose" is missing/],
      ['short-pose.json', [{ ...good, pose: good.pose.slice(0, 71) }], /short-pose\.json: entry 0: "pose" has 71 numbers, expected 72/],
      ['many-betas.json', [good, good, { ...good, betas: new Array(11).fill(0) }], /many-betas\.json: entry 2: "betas" has 11 numbers, at most 10/],
      ['infinite.json', `[{"pose": ${JSON.stringify(good.pose)}, "trans": [0, 0, 1e999]}]`, /infinite\.json: entry 0: "trans"\[2\] is Infinity, not a finite number/],
      ['string.json', [{ ...good, betas: [0, '1'] }], /string\.json: entry 0: "betas"\[1\] is "1", not a finite number/],
      ['behind.json', [good, { ...good, trans: [0, 0, -3] }], /behind\.json: entry 1: "trans"\[2\] \(z\) is -3: the body must be in front of the camera/],
      ['focal.json', [{ ...good, focal: 0 }], /focal\.json: entry 0: "focal" is 0, must be > 0/],
      ['typo.json', [{ ...good, tran: [0, 0, 1] }], /typo\.json: entry 0: unknown key\(s\) "tran"/],
      ['no-trans.json', [{ pose: good.pose }], /no-trans\.json: entry 0: "trans" is missing/],
    ];
    for (const [name, value, message] of cases) {
      const out = join(root, `bad-${name}`);
      const r = await run(['--params', writeParams(name, value), '--size', String(SIZE), '--out', out]);
      expect(r.code, name).toBe(1);
      expect(r.err.trim().split('\n'), name).toHaveLength(1);
      expect(r.err, name).toMatch(message);
      expect(existsSync(out), name).toBe(false);
    }
    const missing = await run(['--params', join(root, 'missing.json'), '--out', join(root, 'bad-missing')]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read params ".*missing\.json": no such file/);
    expect(existsSync(join(root, 'bad-missing'))).toBe(false);
  });

  it('--count together with --params is a usage error', async () => {
    const out = join(root, 'bad-count');
    const r = await run(['--params', writeParams('count.json', ENTRIES), '--count', '2', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--count cannot be used with --params/);
    expect(r.err).toMatch(/usage: nbf synth \(--count N \| --params FILE\)/);
    expect(existsSync(out)).toBe(false);
  });
});
