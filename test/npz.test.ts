import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { deflateFixed, fixtureModel, ndarray, npy, npyArray, zipArchive } from '../scripts/make-fixtures.js';
import { FileFormatError } from '../src/io/errors.js';
import { inflateRaw } from '../src/io/inflate.js';
import { readNpy, readNpz } from '../src/io/npy.js';
import { crc32, readZip } from '../src/io/zip.js';
import { loadBodyModelWithNotes } from '../src/smpl/load.js';
import { Rng } from '../src/util/random.js';
import { expectSameAsFixture } from './fixtures/expect-model.js';

const readFixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, 'fixtures', name)));

function sampleInputs(): Array<[string, Uint8Array]> {
  const rng = new Rng(9);
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(400) + 'tail');
  const floats = new Float64Array(3000).map(() => Math.round(rng.normal() * 100) / 100);
  return [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(42)],
    ['random bytes', new Uint8Array(70_001).map(() => rng.int(0, 255))],
    ['repetitive text', text],
    ['zeros (long runs)', new Uint8Array(200_000)],
    ['float64 array', new Uint8Array(floats.buffer)],
    ['skewed alphabet', new Uint8Array(50_000).map(() => Math.floor(rng.next() ** 4 * 20))],
  ];
}

describe('inflateRaw', () => {
  for (const [what, data] of sampleInputs()) {
    it(`inflates zlib's output for ${what} at levels 0, 1, 6, 9 and our fixed-Huffman encoder`, () => {
      for (const level of [0, 1, 6, 9]) {
        const packed = new Uint8Array(deflateRawSync(data, { level }));
        expect(Buffer.from(inflateRaw(packed, data.length, 'test')).equals(Buffer.from(data))).toBe(true);
        // Without a size hint the output grows as needed.
        expect(inflateRaw(packed, undefined, 'test').length).toBe(data.length);
      }
      expect(Buffer.from(inflateRaw(deflateFixed(data), data.length, 'test')).equals(Buffer.from(data))).toBe(true);
    });
  }

  it('reports truncated and corrupt streams', () => {
    const data = sampleInputs()[3][1];
    const packed = new Uint8Array(deflateRawSync(data, { level: 6 }));
    expect(() => inflateRaw(packed.subarray(0, packed.length >> 1), data.length, 'a.npz: entry "x"')).toThrow(/a\.npz: entry "x": deflate stream: truncated/);
    expect(() => inflateRaw(Uint8Array.of(0x07), undefined, 'b')).toThrow(/invalid block type 3/);
    expect(() => inflateRaw(Uint8Array.of(0x01, 0x05, 0x00, 0x00, 0x00), undefined, 'c')).toThrow(/stored block length check failed/);
    expect(() => inflateRaw(packed, data.length + 1, 'd')).toThrow(/inflated to \d+ bytes, the zip directory says/);
  });
});

describe('zip reader', () => {
  it('lists, inflates and CRC-checks entries', () => {
    const files: Array<[string, Uint8Array]> = [
      ['a.txt', new TextEncoder().encode('hello hello hello')],
      ['b.bin', new Uint8Array(1000).map((_, i) => i % 7)],
    ];
    for (const deflate of [false, true]) {
      const entries = readZip(zipArchive(files, deflate), 'x.zip');
      expect(entries.map((e) => e.name)).toEqual(['a.txt', 'b.bin']);
      expect(entries.map((e) => e.method)).toEqual(deflate ? [8, 8] : [0, 0]);
      entries.forEach((e, i) => expect(Buffer.from(e.read()).equals(Buffer.from(files[i][1]))).toBe(true));
    }
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('rejects corrupt and truncated archives, naming the file and entry', () => {
    const zip = zipArchive([['a.npy', npyArray(ndarray('f8', [3], [1, 2, 3]))]], false);
    const flipped = zip.slice();
    flipped[120] ^= 0xff; // inside the entry's data
    expect(() => readZip(flipped, 'f.npz')[0].read()).toThrow(/f\.npz: zip: entry "a\.npy" fails its CRC-32 check/);
    expect(() => readZip(zip.subarray(0, zip.length - 30), 't.npz')).toThrow(/t\.npz: zip: no end-of-central-directory record/);
    expect(() => readZip(new Uint8Array(100), 'z.npz')).toThrow(FileFormatError);
    const packed = zipArchive([['a.npy', new Uint8Array(5000)]], true);
    // Cut inside the data but keep a directory pointing past the end.
    const cut = new Uint8Array(packed.length - 10);
    cut.set(packed.subarray(0, 40));
    cut.set(packed.subarray(50), 40);
    expect(() => readZip(cut, 'c.npz')[0].read()).toThrow(/c\.npz: /);
  });
});

describe('.npy', () => {
  it('reads format versions 1, 2 and 3, Fortran order, big-endian, bool and unicode', () => {
    const v1 = npyArray(ndarray('f4', [2, 2], [1, 2, 3, 4]));
    expect(readNpy(v1, 'v1')).toMatchObject({ kind: 'numeric', array: { shape: [2, 2], dtype: '<f4' } });
    // Version 2 and 3: a 4-byte header length; version 3 allows UTF-8 in the header.
    const header = "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 3), }\n";
    const payload = new Uint8Array(12);
    [0, 3, 1, 4, 2, 5].forEach((x, i) => new DataView(payload.buffer).setInt16(2 * i, x - 2, false));
    for (const major of [2, 3]) {
      const bytes = new Uint8Array(12 + header.length + payload.length);
      bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0]);
      new DataView(bytes.buffer).setUint32(8, header.length, true);
      bytes.set(new TextEncoder().encode(header), 12);
      bytes.set(payload, 12 + header.length);
      const got = readNpy(bytes, 'v');
      expect(got.kind).toBe('numeric');
      if (got.kind === 'numeric') expect(Array.from(got.array.data)).toEqual([-2, -1, 0, 1, 2, 3]);
    }
    const bools = npy('|b1', [3], Uint8Array.of(1, 0, 2));
    expect(readNpy(bools, 'b')).toMatchObject({ kind: 'numeric', array: { data: Float64Array.of(1, 0, 1) } });
    const unicode = npy('<U4', [2], new Uint8Array(new Uint32Array([0x6c, 0x62, 0x73, 0, 0xe9, 0x1f600, 0, 0]).buffer));
    expect(readNpy(unicode, 'u')).toEqual({ kind: 'strings', shape: [2], values: ['lbs', 'é😀'] });
    expect(readNpy(npy('|O', [], Uint8Array.of(0x80, 0x03, 0x4e, 0x2e)), 'o')).toEqual({ kind: 'skipped', reason: 'object array (pickled payload; not read)' });
    const structuredHeader = "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }\n";
    const structured = new Uint8Array(10 + structuredHeader.length + 8);
    structured.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, structuredHeader.length, 0]);
    structured.set(new TextEncoder().encode(structuredHeader), 10);
    expect(readNpy(structured, 's')).toEqual({ kind: 'skipped', reason: 'structured dtype' });
  });

  it('rejects bad magic, unknown versions and truncated data', () => {
    const good = npyArray(ndarray('f8', [4], [1, 2, 3, 4]));
    expect(() => readNpy(good.subarray(1), 'm.npy')).toThrow(/m\.npy: not a \.npy file/);
    const v9 = good.slice();
    v9[6] = 9;
    expect(() => readNpy(v9, 'v.npy')).toThrow(/v\.npy: \.npy format version 9\.0 is not supported/);
    expect(() => readNpy(good.subarray(0, good.length - 1), 't.npy')).toThrow(/t\.npy: truncated: 31 bytes of data, shape \[4\] of <f8 needs 32/);
    expect(() => readNpy(good.subarray(0, 40), 'h.npy')).toThrow(/h\.npy: truncated: the header needs/);
  });
});

describe('SMPL .npz → BodyModel', () => {
  for (const name of ['smpl-stored.npz', 'smpl-deflated.npz']) {
    it(`loads ${name}, skipping the object array with a warning`, () => {
      const bytes = readFixture(name);
      const npz = readNpz(bytes, name);
      expect([...npz.arrays.keys()].sort()).toEqual(['J_regressor', 'f', 'kintree_table', 'posedirs', 'shapedirs', 'v_template', 'weights']);
      expect(npz.strings.get('bs_style')).toEqual(['lbs']);
      expect(npz.warnings).toEqual([`${name}: skipped "pose_training_info": object array (pickled payload; not read)`]);
      const { model, format, notes } = loadBodyModelWithNotes(bytes, `dir/${name}`);
      expect(format).toBe('npz');
      expect(model.metadata.sourceFormat).toBe('npz');
      expect(notes[0]).toMatch(/skipped "pose_training_info"/);
      expect(notes.join('\n')).toMatch(/J_regressor: \[24, 6\] dense <f8/);
      expectSameAsFixture(model, { posedirs: true });
    });
  }

  it('rejects an archive missing a key or with a wrong shape, naming the key', () => {
    const m = fixtureModel();
    const entries = (skip: string): Array<[string, Uint8Array]> =>
      readZip(readFixture('smpl-stored.npz'), 'x').filter((e) => e.name !== skip).map((e) => [e.name, e.read()]);
    expect(() => loadBodyModelWithNotes(zipArchive(entries('posedirs.npy'), false), 'np.npz')).not.toThrow();
    expect(() => loadBodyModelWithNotes(zipArchive(entries('kintree_table.npy'), true), 'k.npz')).toThrow(/k\.npz: "kintree_table" is missing/);
    const badRegressor: Array<[string, Uint8Array]> = [...entries('J_regressor.npy'), ['J_regressor.npy', npyArray(ndarray('f8', [24, 5], new Float64Array(120)))]];
    expect(() => loadBodyModelWithNotes(zipArchive(badRegressor, false), 'r.npz')).toThrow(/r\.npz: "J_regressor" has shape \[24,5\], expected \[24, 6\]/);
    expect(m.vertexCount).toBe(6);
    const cut = readFixture('smpl-deflated.npz');
    expect(() => loadBodyModelWithNotes(cut.subarray(0, cut.length >> 1), 'half.npz')).toThrow(/half\.npz: /);
  });
});
