import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureModel } from '../scripts/make-fixtures.js';
import { convertBodyModel, defaultBodyModelPath, pose, setDefaultBodyModelResolver, type CommandIO } from '../src/cli/body-model.js';
import { smplForward } from '../src/smpl/cpu-forward.js';
import { openBodyModelPath } from '../src/smpl/default-model.js';
import { decodeBodyModel, encodeBodyModel } from '../src/smpl/format.js';
import { expectSameAsFixture } from './fixtures/expect-model.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const dir = mkdtempSync(join(tmpdir(), 'nbf-cli-body-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): CommandIO & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** Files in the temp dir (to prove failures leave no partial or temporary files). */
const listing = () => readdirSync(dir).sort();

describe('nbf convert-body-model', () => {
  for (const [name, posedirs] of [['smpl-py2-protocol2.pkl', true], ['smpl-py2-protocol0.pkl', false], ['smpl-deflated.npz', true]] as const) {
    it(`converts ${name} and reports what it read`, async () => {
      const io = capture();
      const out = join(dir, `${name}.nbfm`);
      expect(await convertBodyModel([join(FIXTURES, name), out, '--float64'], io)).toBe(0);
      expect(io.stderr).toEqual([]);
      const report = io.stdout.join('\n');
      expect(report).toMatch(new RegExp(`read .*${name.replace('.', '\\.')} \\((pickle|npz)\\): 6 vertices, 8 triangles, 24 joints, 10 shape coefficients`));
      expect(report).toMatch(/skin: dense weights → 3 influences per vertex/);
      expect(report).toMatch(/wrote .*\.nbfm: \d+ bytes, sha256 [0-9a-f]{64}/);
      expect(report).toMatch(/licence: .*may not be redistributed/);
      expectSameAsFixture(decodeBodyModel(new Uint8Array(readFileSync(out)), out), { posedirs });
    });
  }

  it('fails cleanly, without creating the output, on missing, corrupt or unknown input', async () => {
    const before = listing();
    const cases: Array<[string[], number, RegExp]> = [
      [[join(dir, 'nope.pkl'), join(dir, 'a.nbfm')], 1, /cannot read body model ".*nope\.pkl": no such file/],
      [[join(FIXTURES, 'smpl-py2-protocol2.pkl')], 2, /expected an input and an output file, got 1/],
      [[join(FIXTURES, 'smpl-py2-protocol2.pkl'), join(dir, 'a.bin')], 2, /the output ".*a\.bin" must end in \.nbfm/],
      [['--frobnicate', 'a', 'b'], 2, /unknown option --frobnicate/],
    ];
    const truncated = join(dir, 'truncated.pkl');
    writeFileSync(truncated, readFileSync(join(FIXTURES, 'smpl-py2-protocol2.pkl')).subarray(0, 3000));
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some text');
    cases.push([[truncated, join(dir, 'a.nbfm')], 1, /FileFormatError: .*truncated\.pkl: pickle byte \d+: truncated/]);
    cases.push([[text, join(dir, 'a.nbfm')], 1, /notes\.txt: not a body-model file we can read/]);
    for (const [argv, code, message] of cases) {
      const io = capture();
      expect(await convertBodyModel(argv, io)).toBe(code);
      expect(io.stderr.join('\n')).toMatch(message);
      if (code === 2) expect(io.stderr.join('\n')).toMatch(/usage: nbf convert-body-model/);
    }
    expect(listing()).toEqual([...before, 'notes.txt', 'truncated.pkl'].sort());
  });
});

describe('nbf pose', () => {
  const modelPath = join(dir, 'model.nbfm');
  const model = fixtureModel();
  writeFileSync(modelPath, encodeBodyModel(model, { floatType: 'f8' }));
  const params = { betas: [0.3, -0.2], pose: Array.from({ length: 72 }, (_, i) => Math.sin(i) * 0.3), trans: [0.1, 0.2, 3] };
  const paramsPath = join(dir, 'params.json');
  writeFileSync(paramsPath, JSON.stringify(params));

  it('writes an OBJ mesh and the posed joints', async () => {
    const io = capture();
    const out = join(dir, 'posed.obj');
    const jointsPath = join(dir, 'joints.json');
    expect(await pose(['--body-model', modelPath, '--params', paramsPath, '--out', out, '--joints', jointsPath], io)).toBe(0);
    expect(io.stderr).toEqual([]);
    expect(io.stdout.join('\n')).toMatch(/posed fixture model \(6 vertices\); wrote .*posed\.obj and .*joints\.json/);
    const want = smplForward(model, params);
    const joints = JSON.parse(readFileSync(jointsPath, 'utf8'));
    expect(joints.joints.length).toBe(24);
    joints.joints.flat().forEach((x: number, i: number) => expect(x).toBeCloseTo(want.joints[i], 12));
    expect(joints.names[15]).toBe('head');
    const vs = readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('v ')).flatMap((l) => l.split(' ').slice(1).map(Number));
    vs.forEach((x, i) => expect(Math.abs(x - want.vertices[i])).toBeLessThanOrEqual(5e-7));
  });

  it('writes a GLB mesh with part colours', async () => {
    const out = join(dir, 'posed.glb');
    expect(await pose(['--body-model', modelPath, '--params', paramsPath, '--out', out], capture())).toBe(0);
    const glb = new Uint8Array(readFileSync(out));
    expect(new TextDecoder().decode(glb.subarray(0, 4))).toBe('glTF');
    const jsonLength = new DataView(glb.buffer, glb.byteOffset).getUint32(12, true);
    const json = JSON.parse(new TextDecoder().decode(glb.subarray(20, 20 + jsonLength)));
    expect(json.meshes[0].primitives[0].attributes.COLOR_0).toBe(2);
    expect(json.asset.extras.bodyModel).toBe('fixture model');
  });

  it('reads SMPL pickles directly as --body-model', async () => {
    const out = join(dir, 'from-pkl.obj');
    expect(await pose(['--body-model', join(FIXTURES, 'smpl-py3-protocol4.pkl'), '--params', paramsPath, '--out', out], capture())).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it('rejects bad input with a clear message and leaves no partial file', async () => {
    const existing = join(dir, 'existing.obj');
    writeFileSync(existing, 'previous contents');
    const badParams = (name: string, content: string) => {
      const p = join(dir, name);
      writeFileSync(p, content);
      return p;
    };
    const before = listing();
    const p71 = badParams('p71.json', JSON.stringify({ pose: new Array(71).fill(0) }));
    const pNaN = badParams('pnan.json', '{"betas": [1, "x"]}');
    const pKey = badParams('pkey.json', '{"shape": [1]}');
    const pJson = badParams('pjson.json', '{"pose": [1, 2');
    const pBetas = badParams('pbetas.json', JSON.stringify({ betas: new Array(11).fill(0) }));
    const created = ['p71.json', 'pnan.json', 'pkey.json', 'pjson.json', 'pbetas.json'];
    const cases: Array<[string[], number, RegExp]> = [
      [['--body-model', modelPath, '--params', p71, '--out', existing, '--joints', join(dir, 'j.json')], 1, /p71\.json: "pose" has 71 numbers, expected 72 \(axis-angle for 24 joints\)/],
      [['--body-model', modelPath, '--params', pNaN, '--out', existing], 1, /pnan\.json: "betas"\[1\] is "x", not a finite number/],
      [['--body-model', modelPath, '--params', pKey, '--out', existing], 1, /pkey\.json: unknown key\(s\) "shape"/],
      [['--body-model', modelPath, '--params', pJson, '--out', existing], 1, /pjson\.json: not valid JSON/],
      [['--body-model', modelPath, '--params', pBetas, '--out', existing], 1, /"betas" has 11 numbers, the body model has 10 shape coefficients/],
      [['--body-model', modelPath, '--params', paramsPath, '--out', join(dir, 'x.ply')], 2, /--out ".*x\.ply" must end in \.obj or \.glb/],
      [['--body-model', join(dir, 'missing.nbfm'), '--params', paramsPath, '--out', existing], 1, /cannot read body model ".*missing\.nbfm": no such file/],
      [['--body-model', paramsPath, '--params', paramsPath, '--out', existing], 1, /params\.json: not a body-model file we can read/],
      [['--body-model', modelPath, '--out', existing], 2, /--params is required/],
      [['--body-model', modelPath, '--params', paramsPath, '--out'], 2, /option --out needs a value/],
      // The joints cannot be written: the mesh must not appear either.
      [['--body-model', modelPath, '--params', paramsPath, '--out', join(dir, 'lonely.obj'), '--joints', join(dir, 'no-such-dir', 'j.json')], 1, /cannot write ".*j\.json": its directory does not exist/],
    ];
    for (const [argv, code, message] of cases) {
      const io = capture();
      expect(await pose(argv, io), argv.join(' ')).toBe(code);
      expect(io.stderr.join('\n')).toMatch(message);
    }
    expect(readFileSync(existing, 'utf8')).toBe('previous contents');
    expect(listing()).toEqual([...before, ...created].sort());
  });

  it('poses the shipped open body model when --body-model is omitted', async () => {
    const path = defaultBodyModelPath();
    expect(path).toMatch(/weights[\\/]nbf-open-body\.nbfm$/);
    const open = decodeBodyModel(new Uint8Array(readFileSync(path!)), path!);
    const out = join(dir, 'open-default.obj');
    const joints = join(dir, 'open-default-joints.json');
    const io = capture();
    expect(await pose(['--params', paramsPath, '--out', out, '--joints', joints], io)).toBe(0);
    expect(io.stdout.join('\n')).toMatch(new RegExp(`posed nbf-open-body v1 \\(${open.vertexCount} vertices\\)`));
    const obj = readFileSync(out, 'utf8');
    expect(obj.split('\n').filter((l) => l.startsWith('v ')).length).toBe(open.vertexCount);
    const expected = smplForward(open, JSON.parse(readFileSync(paramsPath, 'utf8')));
    const written = JSON.parse(readFileSync(joints, 'utf8')).joints as number[][];
    expect(written.length).toBe(24);
    for (let j = 0; j < 24; j++) for (let k = 0; k < 3; k++) expect(written[j][k]).toBeCloseTo(expected.joints[3 * j + k], 6);
  });

  it('uses a registered default body model resolver, and says so when none is found', async () => {
    setDefaultBodyModelResolver(() => modelPath);
    try {
      const out = join(dir, 'default.obj');
      expect(await pose(['--params', paramsPath, '--out', out], capture())).toBe(0);
      expect(existsSync(out)).toBe(true);
      setDefaultBodyModelResolver(() => null);
      const io = capture();
      expect(await pose(['--params', paramsPath, '--out', join(dir, 'none.obj')], io)).toBe(2);
      expect(io.stderr.join('\n')).toMatch(/--body-model is required \(the default open body model .* was not found\)/);
      expect(existsSync(join(dir, 'none.obj'))).toBe(false);
    } finally {
      setDefaultBodyModelResolver(openBodyModelPath);
    }
  });

});
