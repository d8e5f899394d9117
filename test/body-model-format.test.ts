import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { FileFormatError } from '../src/io/errors.js';
import { BodyModelError } from '../src/smpl/errors.js';
import { decodeBodyModel, encodeBodyModel, isBodyModelFile, validateBodyModel } from '../src/smpl/format.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import type { BodyModel } from '../src/smpl/types.js';
import { Rng } from '../src/util/random.js';
import { Sha256, sha256Hex } from '../src/util/sha256.js';

function cloneModel(m: BodyModel): BodyModel {
  return {
    ...m,
    vTemplate: m.vTemplate.slice(),
    shapedirs: m.shapedirs.slice(),
    posedirs: m.posedirs ? m.posedirs.slice() : null,
    jRegressor: { ...m.jRegressor, rowStart: m.jRegressor.rowStart.slice(), colIndex: m.jRegressor.colIndex.slice(), values: m.jRegressor.values.slice() },
    skin: { ...m.skin, joints: m.skin.joints.slice(), weights: m.skin.weights.slice() },
    parents: m.parents.slice(),
    faces: m.faces.slice(),
    jointNames: [...m.jointNames],
    parts24: m.parts24.slice(),
    parts12: m.parts12.slice(),
    metadata: { ...m.metadata },
  };
}

describe('sha256', () => {
  it('matches the FIPS 180-2 test vectors', () => {
    const enc = new TextEncoder();
    expect(sha256Hex(enc.encode(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(enc.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'))).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
    expect(sha256Hex(new Uint8Array(1_000_000).fill(0x61))).toBe('cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0');
  });

  it('agrees with node:crypto around block boundaries and across incremental updates', () => {
    const rng = new Rng(5);
    for (const n of [1, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000, 4099]) {
      const data = new Uint8Array(n).map(() => rng.int(0, 255));
      const want = createHash('sha256').update(data).digest('hex');
      expect(sha256Hex(data)).toBe(want);
      const h = new Sha256();
      for (let p = 0; p < n; ) {
        const step = rng.int(1, 70);
        h.update(data.subarray(p, p + step));
        p += step;
      }
      expect(Buffer.from(h.digest()).toString('hex')).toBe(want);
    }
  });
});

describe('.nbfm body-model format', () => {
  const model = makeRandomBodyModel(11, { vertexCount: 31, shapeCount: 7, influences: 3, faceCount: 17 });

  it('round-trips bit-exactly with float64 storage', () => {
    const bytes = encodeBodyModel(model, { floatType: 'f8' });
    expect(isBodyModelFile(bytes)).toBe(true);
    const back = decodeBodyModel(bytes, 'model.nbfm');
    expect(back).toEqual(model);
  });

  it('round-trips to float32 precision with the default storage, and aligns every array', () => {
    const bytes = encodeBodyModel(model);
    expect(bytes.length % 16).toBe(0);
    const back = decodeBodyModel(bytes, 'model.nbfm');
    expect(back.faces).toEqual(model.faces);
    expect(back.parents).toEqual(model.parents);
    expect(back.skin.joints).toEqual(model.skin.joints);
    expect(back.parts12).toEqual(model.parts12);
    expect(back.jointNames).toEqual(model.jointNames);
    expect(back.metadata).toEqual(model.metadata);
    for (const key of ['vTemplate', 'shapedirs', 'posedirs'] as const) {
      const a = back[key]!;
      const b = model[key]!;
      expect(a.length).toBe(b.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(Math.abs(b[i]) * 6e-8 + 1e-45);
    }
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
    for (const a of header.arrays) expect(a.offset % 16).toBe(0);
    expect(header.licence).toBe(model.licence);
  });

  it('stores a model without pose blend shapes as posedirs = null', () => {
    const flat = makeRandomBodyModel(3, { poseBlend: false });
    const back = decodeBodyModel(encodeBodyModel(flat), 'flat.nbfm');
    expect(back.posedirs).toBeNull();
  });

  it('decodes from a Uint8Array at an odd byte offset', () => {
    const bytes = encodeBodyModel(model, { floatType: 'f8' });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(decodeBodyModel(shifted.subarray(3), 'x').vTemplate).toEqual(model.vTemplate);
  });

  it('rejects wrong magic, other versions, truncation, trailing bytes and corruption, naming the file', () => {
    const bytes = encodeBodyModel(model);
    expect(() => decodeBodyModel(new TextEncoder().encode('hello world, not a model'), 'a.txt')).toThrow(/a\.txt: not an nbf body-model/);
    const v2 = bytes.slice();
    v2[8] = 2;
    expect(() => decodeBodyModel(v2, 'v2.nbfm')).toThrow(/v2\.nbfm: format version 2 is not supported/);
    for (const cut of [10, 40, 200, bytes.length - 1]) {
      expect(() => decodeBodyModel(bytes.subarray(0, cut), 'cut.nbfm')).toThrow(FileFormatError);
      expect(() => decodeBodyModel(bytes.subarray(0, cut), 'cut.nbfm')).toThrow(/cut\.nbfm: truncated/);
    }
    const longer = new Uint8Array(bytes.length + 5);
    longer.set(bytes);
    expect(() => decodeBodyModel(longer, 'long.nbfm')).toThrow(/5 unexpected bytes/);
    const flipped = bytes.slice();
    flipped[bytes.length - 100] ^= 0x10;
    expect(() => decodeBodyModel(flipped, 'flip.nbfm')).toThrow(/flip\.nbfm: checksum mismatch/);
  });
});

describe('validateBodyModel', () => {
  const base = makeRandomBodyModel(21);
  const cases: Array<[string, (m: BodyModel) => void, RegExp]> = [
    ['weights not summing to 1', (m) => (m.skin.weights[5 * 4] += 0.1), /"skin\.weights" vertex 5 weights sum to/],
    ['negative weight', (m) => { m.skin.weights[0] = -0.5; m.skin.weights[1] = (m.skin.weights[1] ?? 0) + 0.5; }, /"skin\.weights" vertex 0 slot 0 is negative/],
    ['regressor row not summing to 1', (m) => (m.jRegressor.values[0] += 0.2), /"jRegressor" row 0 sums to/],
    ['regressor column out of range', (m) => (m.jRegressor.colIndex[2] = 999), /"jRegressor\.colIndex" holds vertex 999/],
    ['parent after child', (m) => (m.parents[4] = 7), /"parents" joint 4 has parent 7/],
    ['root with a parent', (m) => (m.parents[0] = 0), /"parents" joint 0 must be the root/],
    ['face index out of range', (m) => (m.faces[7] = 30), /"faces" triangle 2 uses vertex 30/],
    ['skin joint out of range', (m) => (m.skin.joints[3] = 24), /"skin\.joints" vertex 0 slot 3 names joint 24/],
    ['NaN in shapedirs', (m) => (m.shapedirs[17] = NaN), /"shapedirs" holds NaN at index 17/],
    ['wrong vTemplate length', (m) => (m.vTemplate = m.vTemplate.subarray(0, 89)), /"vTemplate" has 89 entries, expected 90/],
    ['wrong posedirs length', (m) => (m.posedirs = new Float64Array(10)), /"posedirs" has 10 entries/],
    ['parts12 label 0', (m) => (m.parts12[3] = 0), /"parts12" vertex 3 has part 0/],
    ['pose feature count', (m) => (m.poseFeatureCount = 200), /"poseFeatureCount" is 200, expected 9·\(jointCount − 1\) = 207/],
    ['joint names', (m) => m.jointNames.pop(), /"jointNames" must list 24 names/],
  ];
  it('accepts a valid model', () => {
    expect(validateBodyModel(base, 'ok.nbfm')).toBe(base);
  });
  for (const [what, mutate, message] of cases) {
    it(`rejects ${what} with a BodyModelError naming the source and key`, () => {
      const m = cloneModel(base);
      mutate(m);
      expect(() => validateBodyModel(m, 'bad.nbfm')).toThrow(BodyModelError);
      expect(() => validateBodyModel(m, 'bad.nbfm')).toThrow(/^bad\.nbfm: /);
      expect(() => validateBodyModel(m, 'bad.nbfm')).toThrow(message);
      // The encoder refuses broken models too, so they never reach a file.
      expect(() => encodeBodyModel(m)).toThrow(BodyModelError);
    });
  }
});
