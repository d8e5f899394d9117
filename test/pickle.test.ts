import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFixtures, dict, fixtureModel, ndarray, pickle, smplDict, str, tuple, type Dialect, type SmplDictOptions } from '../scripts/make-fixtures.js';
import { FileFormatError } from '../src/io/errors.js';
import { fortranToC, NdArray } from '../src/io/ndarray.js';
import { ChumpyArray, CscMatrix, Latin1String, unpickle } from '../src/io/pickle.js';
import { BodyModelError } from '../src/smpl/errors.js';
import { loadBodyModel, loadBodyModelWithNotes } from '../src/smpl/load.js';
import { denseOf, expectSameAsFixture } from './fixtures/expect-model.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const readFixture = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));

const PICKLES: Array<[string, boolean, string]> = [
  ['smpl-py2-protocol2.pkl', true, 'pickle protocol 2'],
  ['smpl-py2-protocol0.pkl', false, 'pickle protocol 0'],
  ['smpl-py3-protocol2.pkl', true, 'pickle protocol 2'],
  ['smpl-py3-protocol4.pkl', true, 'pickle protocol 4'],
  ['smpl-py3-protocol5.pkl', true, 'pickle protocol 5'],
];

describe('fixtures', () => {
  it('are reproduced byte for byte by scripts/make-fixtures.ts', () => {
    const built = buildFixtures();
    expect(Object.keys(built).length).toBeGreaterThanOrEqual(8);
    for (const [name, bytes] of Object.entries(built)) {
      expect(Buffer.from(readFixture(name)).equals(Buffer.from(bytes)), `${name} differs from the committed fixture`).toBe(true);
    }
  });
});

describe('SMPL pickles → BodyModel', () => {
  for (const [name, posedirs, format] of PICKLES) {
    it(`loads ${name}`, () => {
      const { model, format: kind, notes } = loadBodyModelWithNotes(readFixture(name), `fixtures/${name}`);
      expect(kind).toBe('pickle');
      expectSameAsFixture(model, { posedirs });
      expect(model.metadata.sourceFormat).toBe(format);
      expect(model.name).toBe(name);
      expect(model.licence).toMatch(/may not be redistributed/);
      expect(notes.join('\n')).toMatch(/ignored keys: .*J_regressor_prior.*pose_training_info/);
      expect(notes.join('\n')).toMatch(/parts12: derived/);
      expect(model.skin.influences).toBe(3);
    });
  }

  it('keeps chumpy x, sets, csc matrices, Python 2 strings and plain values of the Python 2 file', () => {
    const root = unpickle(readFixture('smpl-py2-protocol2.pkl'), 'py2.pkl') as Map<unknown, unknown>;
    expect(root).toBeInstanceOf(Map);
    const ch = root.get('shapedirs') as ChumpyArray;
    expect(ch).toBeInstanceOf(ChumpyArray);
    expect((ch.x as NdArray).shape).toEqual([6, 3, 10]);
    expect((ch.x as NdArray).dtype).toBe('<f8');
    const reg = root.get('J_regressor') as CscMatrix;
    expect(reg).toBeInstanceOf(CscMatrix);
    expect(reg.shape).toEqual([24, 6]);
    expect(reg.indptr!.data.length).toBe(7);
    expect(root.get('bs_style')).toBeInstanceOf(Latin1String);
    expect(String(root.get('bs_type'))).toBe('lrotmin');
    const info = root.get('pose_training_info') as Map<string, unknown>;
    expect(info.get('lambda_pose')).toBe(1.5);
    expect(info.get('iterations')).toBe(100);
    expect((info.get('subjects') as Latin1String[]).map(String)).toEqual(['a', 'b']);
    const kintree = root.get('kintree_table') as NdArray;
    expect(kintree.dtype).toBe('<i8');
    expect(kintree.data[0]).toBe(4294967295);
    expect((root.get('weights') as NdArray).shape).toEqual([6, 24]);
  });

  it('reads Python 3 strings as JS strings and sets built by EMPTY_SET/ADDITEMS', () => {
    const root = unpickle(readFixture('smpl-py3-protocol4.pkl'), 'p4.pkl') as Map<unknown, unknown>;
    expect(root.get('bs_style')).toBe('lbs');
    // The chumpy state's set is dropped with everything but x; check one through a hand-made pickle.
    const set = unpickle(pickle({ t: 'set', items: [str('a'), 3] }, { protocol: 4, python: 3, numpy: 'numpy.core' }));
    expect(set).toEqual(new Set(['a', 3]));
    const set2 = unpickle(pickle({ t: 'set', items: [str('a')] }, { protocol: 2, python: 2, numpy: 'numpy.core' }));
    expect(set2).toEqual(new Set([new Latin1String(Uint8Array.of(0x61))]));
  });

  it('honours byte order and Fortran order', () => {
    const values = Array.from({ length: 24 }, (_, i) => i * 1.25 - 3);
    for (const protocol of [0, 2, 4, 5] as const) {
      const dialect: Dialect = { protocol, python: protocol < 3 ? 2 : 3, numpy: protocol === 5 ? 'numpy._core' : 'numpy.core' };
      const got = unpickle(pickle(dict(['a', ndarray('f8', [2, 3, 4], values, { byteOrder: '>', fortran: true })], ['b', ndarray('i4', [4, 6], values.map((x) => Math.round(x) + 0), { fortran: true })]), dialect)) as Map<string, NdArray>;
      expect(got.get('a')!.shape).toEqual([2, 3, 4]);
      expect(Array.from(got.get('a')!.data)).toEqual(values);
      expect(got.get('a')!.dtype).toBe('>f8');
      expect(Array.from(got.get('b')!.data)).toEqual(values.map((x) => Math.round(x) + 0));
    }
    // fortranToC on its own: F order of a 2×3 matrix [[0,1,2],[3,4,5]] is 0 3 1 4 2 5.
    expect(Array.from(fortranToC(Float64Array.of(0, 3, 1, 4, 2, 5), [2, 3]))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('decodes protocol-0 text opcodes: escaped strings, longs, floats, unicode', () => {
    const text = "(dp0\nS'a\\'b\\\\c\\x00\\n'\np1\nL12345678901234567890L\nsS\"q'\"\np2\nF-2.5e-07\nsVcaf\\u00e9\np3\nI01\ns.";
    const got = unpickle(new Uint8Array(Buffer.from(text, 'latin1'))) as Map<string, unknown>;
    expect([...got.keys()]).toEqual(["a'b\\c\u0000\n", "q'", 'café']);
    expect(got.get("a'b\\c\u0000\n")).toBe(12345678901234567890n);
    expect(got.get("q'")).toBe(-2.5e-7);
    expect(got.get('café')).toBe(true);
  });

  it('reads numpy scalars and LONG1 integers', () => {
    // {'s': numpy.core.multiarray.scalar(dtype('<f8'), b'...'), 'n': -2**70}
    const scalar = new Uint8Array(8);
    new DataView(scalar.buffer).setFloat64(0, 0.125, true);
    const bytes = Buffer.concat([
      Buffer.from('\x80\x02}(X\x01\x00\x00\x00scnumpy.core.multiarray\nscalar\ncnumpy\ndtype\nX\x02\x00\x00\x00f8\x89\x88\x87R(K\x03X\x01\x00\x00\x00<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbC\x08', 'latin1'),
      Buffer.from(scalar),
      Buffer.from('\x86RX\x01\x00\x00\x00n\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\xffu.', 'latin1'),
    ]);
    const got = unpickle(new Uint8Array(bytes)) as Map<string, unknown>;
    expect(got.get('s')).toBe(0.125);
    expect(got.get('n')).toBe(-(2n ** 64n));
  });
});

describe('pickle errors', () => {
  const p = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
  it('refuses every global it does not recognise, naming it, without running anything', () => {
    expect(() => unpickle(p("cos\nsystem\n(S'echo hi'\ntR."), 'evil.pkl')).toThrow(/evil\.pkl: pickle byte 0: refusing global "os\.system"/);
    expect(() => unpickle(p('\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x08builtins\x94\x8c\x04eval\x94\x93\x94.'), 'e.pkl')).toThrow(/refusing global "builtins\.eval"/);
    expect(() => unpickle(p('\x80\x02cchumpy.reordering\ntranspose\n)\x81.'), 't.pkl')).toThrow(/refusing global "chumpy\.reordering\.transpose"/);
    expect(() => unpickle(p("cnumpy\ndtype\n(S'f8'\nI0\nI1\ntR(I3\nS'|'\nN(S'a'\ntNI8\nI1\nI0\ntb."), 's.pkl')).toThrow(/structured numpy dtypes/);
    expect(() => unpickle(p('\x80\x02c__builtin__\nobject\n)\x81.'), 'o.pkl')).toThrow(/cannot instantiate/);
  });

  it('reports truncated, corrupt and unsupported streams with the byte offset', () => {
    const good = readFixture('smpl-py2-protocol2.pkl');
    for (const cut of [1, 2, 30, 5000, good.length - 1]) {
      expect(() => unpickle(good.subarray(0, cut), 'cut.pkl')).toThrow(FileFormatError);
      expect(() => unpickle(good.subarray(0, cut), 'cut.pkl')).toThrow(/cut\.pkl: pickle byte \d+: (truncated|stack underflow|STOP)/);
    }
    expect(() => unpickle(p('\x80\x02\xff.'), 'x.pkl')).toThrow(/x\.pkl: pickle byte 2: unknown pickle opcode 0xff/);
    expect(() => unpickle(p('\x80\x06N.'), 'x.pkl')).toThrow(/protocol 6 is not supported/);
    expect(() => unpickle(p('\x80\x02h\x07.'), 'x.pkl')).toThrow(/memo entry 7 is not defined/);
    expect(() => unpickle(p('\x80\x02s.'), 'x.pkl')).toThrow(/stack underflow/);
    expect(() => unpickle(p('\x80\x05\x97.'), 'x.pkl')).toThrow(/out-of-band buffers/);
    expect(() => unpickle(p('\x80\x02NN.'), 'x.pkl')).toThrow(/STOP with 2 items/);
    expect(() => unpickle(p('\x80\x02Q.'), 'x.pkl')).toThrow(/persistent ids/);
  });

  it('rejects a pickle whose arrays have wrong shapes or are missing, naming the key', () => {
    const m = fixtureModel();
    const opts: SmplDictOptions = { scipyModule: 'scipy.sparse.csc', posedirs: true, weightsFortran: false, vTemplateByteOrder: '<', facesCode: 'u4' };
    const dialect: Dialect = { protocol: 2, python: 2, numpy: 'numpy.core' };
    const base = smplDict(m, opts) as { t: 'dict'; items: Array<[{ t: 'str'; v: string }, unknown]> };
    const without = (key: string) => ({ t: 'dict' as const, items: base.items.filter(([k]) => k.v !== key) });
    const replaced = (key: string, value: unknown) => ({ t: 'dict' as const, items: base.items.map(([k, v]) => [k, k.v === key ? value : v]) });
    const load = (d: unknown) => () => loadBodyModel(pickle(d as never, dialect), 'user.pkl');
    expect(load(base)).not.toThrow();
    expect(load(without('weights'))).toThrow(/user\.pkl: "weights" is missing \(keys present: /);
    expect(load(replaced('v_template', ndarray('f8', [6, 2], new Float64Array(12))))).toThrow(/user\.pkl: "v_template" has shape \[6,2\], expected \[V, 3\]/);
    expect(load(replaced('weights', ndarray('f8', [6, 23], new Float64Array(6 * 23))))).toThrow(/"weights" has shape \[6,23\], expected \[6, 24\]/);
    expect(load(replaced('posedirs', ndarray('f8', [6, 3, 10], new Float64Array(180))))).toThrow(/"posedirs" has shape \[6,3,10\], expected \[6, 3, 207\]/);
    expect(load(replaced('f', ndarray('u4', [1, 3], [0, 1, 6])))).toThrow(/"f" triangle 0 uses vertex 6/);
    expect(load(replaced('bs_style', ndarray('f8', [1], [1])))).not.toThrow();
    expect(load(replaced('shapedirs', str('not an array')))).toThrow(/"shapedirs" holds a string, expected a numpy array/);
    // Weights that do not sum to 1 reach the validator.
    const w = denseOf(m).weights.map((x, i) => (i < 24 ? x * 2 : x));
    expect(load(replaced('weights', ndarray('f8', [6, 24], w)))).toThrow(BodyModelError);
    expect(load(replaced('weights', ndarray('f8', [6, 24], w)))).toThrow(/user\.pkl: "skin\.weights" vertex 0 weights sum to/);
    // A skeleton that is not SMPL's cannot get NBF's 12 parts.
    const tree = [4294967295, 0, 1, ...Array.from({ length: 21 }, (_, j) => j + 2), ...Array.from({ length: 24 }, (_, j) => j)];
    expect(load(replaced('kintree_table', ndarray('i8', [2, 24], tree)))).toThrow(/not SMPL's skeleton/);
    expect(() => loadBodyModel(pickle(tuple(1, 2), dialect), 'tuple.pkl')).toThrow(/tuple\.pkl: the pickle holds a list\/tuple, not a dict of arrays/);
    expect(() => loadBodyModel(new TextEncoder().encode('hello'), 'notes.txt')).toThrow(/notes\.txt: not a body-model file we can read/);
  });
});
