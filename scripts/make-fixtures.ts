/**
 * Builds the small body-model files under test/fixtures/ the way Python, numpy, chumpy and scipy write
 * them — without any of those installed: a Python 2 cPickle protocol-2 SMPL-style pickle, a protocol-0
 * re-save, Python 3 re-saves at protocols 2, 4 and 5, numpy savez / savez_compressed archives, and our
 * own .nbfm. The data is a random model (makeRandomBodyModel), never SMPL's.
 *
 * Run `npx tsx scripts/make-fixtures.ts` to rewrite the files; test/body-model-files.test.ts checks
 * that buildFixtures() reproduces the committed bytes exactly.
 */
import { encodeBodyModel } from '../src/smpl/format.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import type { BodyModel } from '../src/smpl/types.js';
import { crc32 } from '../src/io/zip.js';

export const FIXTURE_SEED = 4242;
export const FIXTURE_VERTICES = 6;

/** The model every fixture holds (10 shape coefficients, 24 joints, 6 vertices, 8 triangles). */
export function fixtureModel(): BodyModel {
  const m = makeRandomBodyModel(FIXTURE_SEED, { vertexCount: FIXTURE_VERTICES, shapeCount: 10, influences: 3, faceCount: 8 });
  return { ...m, name: 'fixture model', metadata: { generator: 'scripts/make-fixtures.ts', seed: String(FIXTURE_SEED) } };
}

// ---------------------------------------------------------------------------------------------------
// Python values, as far as the fixtures need them.

export type Py =
  | null
  | boolean
  | number // int
  | { t: 'float'; v: number }
  | { t: 'str'; v: string } // text: a Python 2 str or a Python 3 str, by dialect
  | { t: 'tuple'; items: Py[] }
  | Py[] // list
  | { t: 'dict'; items: Array<[Py, Py]> }
  | { t: 'set'; items: Py[] }
  | NumpyArray
  | { t: 'object'; module: string; name: string; state: Py };

export interface NumpyArray {
  t: 'ndarray';
  /** numpy type code without byte order, e.g. 'f8'. */
  code: 'f8' | 'f4' | 'i8' | 'i4' | 'u4';
  byteOrder: '<' | '>';
  shape: number[];
  /** Values in C order. */
  values: ArrayLike<number>;
  fortran: boolean;
}

export const str = (v: string): Py => ({ t: 'str', v });
export const tuple = (...items: Py[]): Py => ({ t: 'tuple', items });
export const dict = (...items: Array<[string, Py]>): Py => ({ t: 'dict', items: items.map(([k, v]) => [str(k), v]) });
export const float = (v: number): Py => ({ t: 'float', v });

export function ndarray(code: NumpyArray['code'], shape: number[], values: ArrayLike<number>, options: { byteOrder?: '<' | '>'; fortran?: boolean } = {}): NumpyArray {
  return { t: 'ndarray', code, byteOrder: options.byteOrder ?? '<', shape, values, fortran: options.fortran ?? false };
}

/** Raw bytes of an array as numpy's __reduce__ / tofile write them (Fortran order when is_fortran). */
function arrayBytes(a: NumpyArray): Uint8Array {
  const size = Number(a.code[1]);
  const n = a.values.length;
  const out = new Uint8Array(n * size);
  const view = new DataView(out.buffer);
  const le = a.byteOrder === '<';
  const order = a.fortran ? fortranOrderIndices(a.shape) : null;
  for (let i = 0; i < n; i++) {
    const x = a.values[order ? order[i] : i];
    const p = i * size;
    switch (a.code) {
      case 'f8': view.setFloat64(p, x, le); break;
      case 'f4': view.setFloat32(p, x, le); break;
      case 'i8': view.setBigInt64(p, BigInt(x), le); break;
      case 'i4': view.setInt32(p, x, le); break;
      case 'u4': view.setUint32(p, x, le); break;
    }
  }
  return out;
}

/** For each position in Fortran order, the C-order index of that element. */
function fortranOrderIndices(shape: number[]): number[] {
  const n = shape.reduce((a, b) => a * b, 1);
  const cStride: number[] = [];
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    cStride[d] = s;
    s *= shape[d];
  }
  const out: number[] = [];
  const idx = new Array<number>(shape.length).fill(0);
  for (let f = 0; f < n; f++) {
    out.push(idx.reduce((acc, v, d) => acc + v * cStride[d], 0));
    for (let d = 0; d < shape.length; d++) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// A pickler that writes the opcodes CPython's picklers emit for these values.

export interface Dialect {
  protocol: 0 | 2 | 4 | 5;
  /** 2: Python 2 (str is bytes; cPickle memo ids from 1); 3: Python 3. */
  python: 2 | 3;
  numpy: 'numpy.core' | 'numpy._core';
}

class ByteSink {
  private chunks: number[] = [];
  byte(b: number) {
    this.chunks.push(b & 0xff);
  }
  bytes(b: ArrayLike<number>) {
    for (let i = 0; i < b.length; i++) this.chunks.push(b[i]);
  }
  ascii(s: string) {
    for (let i = 0; i < s.length; i++) this.chunks.push(s.charCodeAt(i));
  }
  u16(v: number) {
    this.bytes([v & 0xff, (v >>> 8) & 0xff]);
  }
  u32(v: number) {
    this.bytes([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
  }
  u64(v: number) {
    this.u32(v % 0x100000000);
    this.u32(Math.floor(v / 0x100000000));
  }
  get length() {
    return this.chunks.length;
  }
  take(): Uint8Array {
    const out = Uint8Array.from(this.chunks);
    this.chunks = [];
    return out;
  }
}

/** Python 2's repr() of a byte string, as protocol 0 STRING writes it. */
function python2Repr(bytes: Uint8Array): string {
  const hasSingle = bytes.includes(0x27);
  const hasDouble = bytes.includes(0x22);
  const quote = hasSingle && !hasDouble ? '"' : "'";
  let s = quote;
  for (const b of bytes) {
    if (b === 0x5c) s += '\\\\';
    else if (b === quote.charCodeAt(0)) s += '\\' + quote;
    else if (b === 9) s += '\\t';
    else if (b === 10) s += '\\n';
    else if (b === 13) s += '\\r';
    else if (b < 0x20 || b >= 0x7f) s += '\\x' + b.toString(16).padStart(2, '0');
    else s += String.fromCharCode(b);
  }
  return s + quote;
}

/** Python's repr() of a float for the few values the fixtures write as text. */
function pythonFloatRepr(x: number): string {
  if (Number.isInteger(x)) return x.toFixed(1);
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2');
}

const latin1Bytes = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const utf8Bytes = (s: string) => new TextEncoder().encode(s);

class Pickler {
  private out = new ByteSink();
  private frame = new ByteSink();
  private memoCount: number;
  private memoByKey = new Map<string, number>();
  constructor(private readonly d: Dialect) {
    // cPickle (Python 2's default) numbers memo entries from 1, pickle.py and Python 3 from 0.
    this.memoCount = d.python === 2 && d.protocol === 2 ? 1 : 0;
  }

  dump(value: Py): Uint8Array {
    const { protocol } = this.d;
    if (protocol >= 2) this.out.bytes([0x80, protocol]);
    this.save(value);
    this.w().byte(0x2e); // STOP
    this.commitFrame(true);
    return this.out.take();
  }

  /** Where opcodes go: the current frame at protocol ≥ 4, else straight out. */
  private w(): ByteSink {
    return this.d.protocol >= 4 ? this.frame : this.out;
  }

  private commitFrame(force = false) {
    if (this.d.protocol < 4) return;
    if (this.frame.length >= 64 * 1024 || (force && this.frame.length > 0)) {
      const data = this.frame.take();
      if (data.length >= 4) {
        this.out.byte(0x95); // FRAME
        this.out.u64(data.length);
      }
      this.out.bytes(data);
    }
  }

  private put(key?: string) {
    const id = this.memoCount++;
    if (key !== undefined) this.memoByKey.set(key, id);
    const w = this.w();
    if (this.d.protocol === 0) w.ascii(`p${id}\n`);
    else if (this.d.protocol >= 4) w.byte(0x94); // MEMOIZE
    else if (id < 256) w.bytes([0x71, id]); // BINPUT
    else {
      w.byte(0x72); // LONG_BINPUT
      w.u32(id);
    }
  }

  private get(key: string): boolean {
    const id = this.memoByKey.get(key);
    if (id === undefined) return false;
    const w = this.w();
    if (this.d.protocol === 0) w.ascii(`g${id}\n`);
    else if (id < 256) w.bytes([0x68, id]); // BINGET
    else {
      w.byte(0x6a);
      w.u32(id);
    }
    return true;
  }

  private global(module: string, name: string) {
    const key = `global:${module}.${name}`;
    if (this.get(key)) return;
    if (this.d.protocol >= 4) {
      this.text(module);
      this.text(name);
      this.w().byte(0x93); // STACK_GLOBAL
    } else {
      this.w().ascii(`c${module}\n${name}\n`);
    }
    this.put(key);
  }

  /** A Python text string: str in Python 2 dialect, unicode in Python 3. Memoised like CPython does. */
  private text(s: string) {
    const w = this.w();
    const { protocol, python } = this.d;
    if (python === 2) {
      const b = latin1Bytes(s);
      if (protocol === 0) w.ascii(`S${python2Repr(b)}\n`);
      else if (b.length < 256) {
        w.bytes([0x55, b.length]); // SHORT_BINSTRING
        w.bytes(b);
      } else {
        w.byte(0x54); // BINSTRING
        w.u32(b.length);
        w.bytes(b);
      }
    } else {
      const b = utf8Bytes(s);
      if (protocol >= 4 && b.length < 256) {
        w.bytes([0x8c, b.length]); // SHORT_BINUNICODE
      } else {
        w.byte(0x58); // BINUNICODE
        w.u32(b.length);
      }
      w.bytes(b);
    }
    this.put();
  }

  /** Raw bytes (array payloads): str in Python 2, _codecs.encode at Python 3 protocol 2, else bytes. */
  private rawBytes(b: Uint8Array) {
    const { protocol, python } = this.d;
    const w = this.w();
    if (python === 2) {
      if (protocol === 0) w.ascii(`S${python2Repr(b)}\n`);
      else if (b.length < 256) {
        w.bytes([0x55, b.length]);
        w.bytes(b);
      } else {
        w.byte(0x54);
        w.u32(b.length);
        w.bytes(b);
      }
      this.put();
      return;
    }
    if (protocol < 3) {
      // Python 3 writes bytes at protocol 2 as _codecs.encode(<latin-1 text>, 'latin1').
      this.global('_codecs', 'encode');
      const textBytes = utf8Bytes(String.fromCharCode(...b));
      w.byte(0x58);
      w.u32(textBytes.length);
      w.bytes(textBytes);
      this.put();
      this.text('latin1');
      w.byte(0x86); // TUPLE2
      this.put();
      w.byte(0x52); // REDUCE
      this.put();
      return;
    }
    if (b.length < 256) w.bytes([0x43, b.length]); // SHORT_BINBYTES
    else {
      w.byte(0x42); // BINBYTES
      w.u32(b.length);
    }
    w.bytes(b);
    this.put();
  }

  private int(v: number) {
    const w = this.w();
    if (this.d.protocol === 0) w.ascii(`I${v}\n`);
    else if (v >= 0 && v < 256) w.bytes([0x4b, v]); // BININT1
    else if (v >= 0 && v < 65536) {
      w.byte(0x4d); // BININT2
      w.u16(v);
    } else {
      w.byte(0x4a); // BININT
      w.u32(v >>> 0);
    }
  }

  private bool(v: boolean) {
    if (this.d.protocol === 0) this.w().ascii(v ? 'I01\n' : 'I00\n');
    else this.w().byte(v ? 0x88 : 0x89);
  }

  private tupleOf(items: Py[], memoKey?: string) {
    const w = this.w();
    const { protocol } = this.d;
    if (items.length === 0) {
      w.ascii(protocol === 0 ? '(t' : ')');
      if (protocol === 0) this.put(memoKey);
      return;
    }
    if (protocol >= 2 && items.length <= 3) {
      for (const it of items) this.save(it);
      w.byte(0x84 + items.length); // TUPLE1..3
    } else {
      w.byte(0x28); // MARK
      for (const it of items) this.save(it);
      w.byte(0x74); // TUPLE
    }
    this.put(memoKey);
  }

  private dtype(a: NumpyArray) {
    const key = `dtype:${a.byteOrder}${a.code}`;
    if (this.get(key)) return;
    this.global('numpy', 'dtype');
    // numpy 1.x under Python 2 passes (code, 0, 1); under Python 3 (code, False, True).
    if (this.d.python === 2) this.tupleOf([str(a.code), 0, 1]);
    else this.tupleOf([str(a.code), false, true]);
    this.w().byte(0x52); // REDUCE
    this.put(key);
    this.tupleOf([3, str(a.byteOrder), null, null, null, -1, -1, 0]);
    this.w().byte(0x62); // BUILD
  }

  private array(a: NumpyArray) {
    const w = this.w();
    if (this.d.protocol === 5) {
      // numpy ≥ 1.16 at protocol 5: _frombuffer(PickleBuffer, dtype, shape, order); in-band, a writable
      // array's buffer is a bytearray.
      this.global(`${this.d.numpy}.numeric`, '_frombuffer');
      w.byte(0x28);
      const data = arrayBytes(a);
      w.byte(0x96); // BYTEARRAY8
      w.u64(data.length);
      w.bytes(data);
      this.put();
      this.dtype(a);
      this.tupleOf(a.shape);
      this.text(a.fortran ? 'F' : 'C');
      w.byte(0x74);
      this.put();
      w.byte(0x52);
      this.put();
      return;
    }
    this.global(`${this.d.numpy}.multiarray`, '_reconstruct');
    // args: (numpy.ndarray, (0,), b'b')
    const argsItems = () => {
      this.global('numpy', 'ndarray');
      this.tupleOf([0]);
      if (this.d.python === 2) this.text('b');
      else this.rawBytes(latin1Bytes('b'));
    };
    if (this.d.protocol === 0) {
      w.byte(0x28);
      argsItems();
      w.byte(0x74);
    } else {
      argsItems();
      w.byte(0x87); // TUPLE3
    }
    this.put();
    w.byte(0x52); // REDUCE
    this.put();
    // state: (1, shape, dtype, is_fortran, raw)
    w.byte(0x28);
    this.int(1);
    this.tupleOf(a.shape);
    this.dtype(a);
    this.bool(a.fortran);
    this.rawBytes(arrayBytes(a));
    w.byte(0x74);
    this.put();
    w.byte(0x62); // BUILD
  }

  private dictOf(items: Array<[Py, Py]>) {
    const w = this.w();
    if (this.d.protocol === 0) {
      w.ascii('(d');
      this.put();
      for (const [k, v] of items) {
        this.save(k);
        this.save(v);
        w.byte(0x73); // SETITEM
      }
      return;
    }
    w.byte(0x7d); // EMPTY_DICT
    this.put();
    if (items.length === 1) {
      this.save(items[0][0]);
      this.save(items[0][1]);
      w.byte(0x73);
    } else if (items.length > 1) {
      w.byte(0x28);
      for (const [k, v] of items) {
        this.save(k);
        this.save(v);
      }
      w.byte(0x75); // SETITEMS
    }
  }

  private listOf(items: Py[]) {
    const w = this.w();
    if (this.d.protocol === 0) {
      w.ascii('(l');
      this.put();
      for (const it of items) {
        this.save(it);
        w.byte(0x61); // APPEND
      }
      return;
    }
    w.byte(0x5d); // EMPTY_LIST
    this.put();
    if (items.length === 1) {
      this.save(items[0]);
      w.byte(0x61);
    } else if (items.length > 1) {
      w.byte(0x28);
      for (const it of items) this.save(it);
      w.byte(0x65); // APPENDS
    }
  }

  private setOf(items: Py[]) {
    const w = this.w();
    if (this.d.protocol >= 4) {
      w.byte(0x8f); // EMPTY_SET
      this.put();
      if (items.length) {
        w.byte(0x28);
        for (const it of items) this.save(it);
        w.byte(0x90); // ADDITEMS
      }
      return;
    }
    // set.__reduce__: (set, ([items],), None); Python 3 writes builtins as __builtin__ below protocol 3.
    this.global('__builtin__', 'set');
    if (this.d.protocol === 0) {
      w.byte(0x28);
      this.listOf(items);
      w.byte(0x74);
      this.put();
    } else {
      this.listOf(items);
      w.byte(0x85); // TUPLE1
      this.put();
    }
    w.byte(0x52);
    this.put();
  }

  private object(module: string, name: string, state: Py) {
    const w = this.w();
    if (this.d.protocol === 0) {
      // copy_reg.__reduce_ex__ at protocols 0–1: _reconstructor(cls, object, None)
      this.global('copy_reg', '_reconstructor');
      w.byte(0x28);
      this.global(module, name);
      this.global('__builtin__', 'object');
      w.byte(0x4e);
      w.byte(0x74);
      this.put();
      w.byte(0x52);
      this.put();
    } else {
      this.global(module, name);
      w.byte(0x29); // EMPTY_TUPLE
      w.byte(0x81); // NEWOBJ
      this.put();
    }
    this.save(state);
    w.byte(0x62); // BUILD
  }

  save(v: Py) {
    this.commitFrame();
    const w = this.w();
    if (v === null) w.byte(0x4e);
    else if (typeof v === 'boolean') this.bool(v);
    else if (typeof v === 'number') this.int(v);
    else if (Array.isArray(v)) this.listOf(v);
    else if (v.t === 'float') {
      if (this.d.protocol === 0) w.ascii(`F${pythonFloatRepr(v.v)}\n`);
      else {
        w.byte(0x47); // BINFLOAT, big-endian
        const b = new Uint8Array(8);
        new DataView(b.buffer).setFloat64(0, v.v, false);
        w.bytes(b);
      }
    } else if (v.t === 'str') this.text(v.v);
    else if (v.t === 'tuple') this.tupleOf(v.items);
    else if (v.t === 'dict') this.dictOf(v.items);
    else if (v.t === 'set') this.setOf(v.items);
    else if (v.t === 'ndarray') this.array(v);
    else if (v.t === 'object') this.object(v.module, v.name, v.state);
  }
}

export function pickle(value: Py, dialect: Dialect): Uint8Array {
  return new Pickler(dialect).dump(value);
}

// ---------------------------------------------------------------------------------------------------
// The SMPL-style dictionary of a model.

function denseWeights(m: BodyModel): Float64Array {
  const w = new Float64Array(m.vertexCount * m.jointCount);
  const K = m.skin.influences;
  for (let v = 0; v < m.vertexCount; v++) for (let k = 0; k < K; k++) w[v * m.jointCount + m.skin.joints[v * K + k]] += m.skin.weights[v * K + k];
  return w;
}

function denseRegressor(m: BodyModel): Float64Array {
  const r = new Float64Array(m.jointCount * m.vertexCount);
  for (let j = 0; j < m.jointCount; j++) for (let k = m.jRegressor.rowStart[j]; k < m.jRegressor.rowStart[j + 1]; k++) r[j * m.vertexCount + m.jRegressor.colIndex[k]] += m.jRegressor.values[k];
  return r;
}

function kintree(m: BodyModel): number[] {
  return [...Array.from(m.parents, (p) => (p < 0 ? 4294967295 : p)), ...Array.from(m.parents, (_, j) => j)];
}

function cscMatrix(dense: Float64Array, rows: number, cols: number, scipyModule: string): Py {
  const data: number[] = [];
  const indices: number[] = [];
  const indptr = [0];
  for (let c = 0; c < cols; c++) {
    for (let r = 0; r < rows; r++) {
      if (dense[r * cols + c] !== 0) {
        data.push(dense[r * cols + c]);
        indices.push(r);
      }
    }
    indptr.push(data.length);
  }
  return {
    t: 'object',
    module: scipyModule,
    name: 'csc_matrix',
    state: dict(
      ['_shape', tuple(rows, cols)],
      ['indices', ndarray('i4', [indices.length], indices)],
      ['indptr', ndarray('i4', [indptr.length], indptr)],
      ['maxprint', 50],
      ['format', str('csc')],
      ['data', ndarray('f8', [data.length], data)],
    ),
  };
}

export interface SmplDictOptions {
  scipyModule: string;
  posedirs: boolean;
  weightsFortran: boolean;
  vTemplateByteOrder: '<' | '>';
  facesCode: 'u4' | 'i8';
}

/** The model as SMPL's .pkl dictionary (key order of a typical Python 2 file). */
export function smplDict(m: BodyModel, o: SmplDictOptions): Py {
  const V = m.vertexCount;
  const J = m.jointCount;
  const reg = denseRegressor(m);
  const prior = reg.map((x, i) => (i % 7 === 0 ? x : 0));
  const chumpy = (x: NumpyArray): Py => ({
    t: 'object',
    module: 'chumpy.ch',
    name: 'Ch',
    // chumpy's pickled state: the value x plus bookkeeping, including a set (__builtin__.set([...])).
    state: dict(['x', x], ['_depends_on_deps', { t: 'dict', items: [] }], ['_cache', dict(['r', null])], ['_dirty_vars', { t: 'set', items: [str('x')] }]),
  });
  const items: Array<[string, Py]> = [
    ['J_regressor_prior', cscMatrix(prior, J, V, o.scipyModule)],
    ['f', ndarray(o.facesCode, [m.faces.length / 3, 3], m.faces)],
    ['J_regressor', cscMatrix(reg, J, V, o.scipyModule)],
    ['kintree_table', ndarray('i8', [2, J], kintree(m))],
    ['J', ndarray('f8', [J, 3], new Float64Array(J * 3).fill(0.25))],
    ['weights_prior', ndarray('f8', [V, J], denseWeights(m))],
    ['weights', ndarray('f8', [V, J], denseWeights(m), { fortran: o.weightsFortran })],
    ['vert_sym_idxs', ndarray('i8', [V], Array.from({ length: V }, (_, v) => V - 1 - v))],
    ['bs_style', str('lbs')],
    ['pose_training_info', dict(['lambda_pose', float(1.5)], ['subjects', [str('a'), str('b')]], ['iterations', 100])],
    ['bs_type', str('lrotmin')],
    ['v_template', ndarray('f8', [V, 3], m.vTemplate, { byteOrder: o.vTemplateByteOrder })],
    ['shapedirs', chumpy(ndarray('f8', [V, 3, m.shapeCount], m.shapedirs))],
  ];
  if (o.posedirs && m.posedirs) items.push(['posedirs', ndarray('f8', [V, 3, m.poseFeatureCount], m.posedirs)]);
  return dict(...items);
}

// ---------------------------------------------------------------------------------------------------
// .npy / .npz the way numpy's save / savez / savez_compressed write them.

export function npy(descr: string, shape: number[], payload: Uint8Array): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // numpy pads the header with spaces and a newline so the data starts 64-byte aligned.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + payload.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(latin1Bytes(header), 10);
  out.set(payload, 10 + header.length);
  return out;
}

export function npyArray(a: NumpyArray): Uint8Array {
  return npy(`${a.byteOrder}${a.code}`, a.shape, arrayBytes(a));
}

/** Unicode scalar array: numpy's '<U<n>' stores UTF-32LE code units. */
function npyUnicode(s: string): Uint8Array {
  const payload = new Uint8Array(s.length * 4);
  for (let i = 0; i < s.length; i++) new DataView(payload.buffer).setUint32(i * 4, s.charCodeAt(i), true);
  return npy(`<U${s.length}`, [], payload);
}

/**
 * Raw DEFLATE with fixed Huffman codes and greedy LZ77 matching: deterministic (unlike zlib builds, which
 * may differ between Node versions), so the fixture bytes are reproducible.
 */
export function deflateFixed(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let bitBuf = 0;
  let bitCount = 0;
  const putBits = (value: number, n: number) => {
    bitBuf |= value << bitCount;
    bitCount += n;
    while (bitCount >= 8) {
      out.push(bitBuf & 0xff);
      bitBuf >>>= 8;
      bitCount -= 8;
    }
  };
  const putCode = (code: number, n: number) => {
    // Huffman codes go most-significant bit first.
    let rev = 0;
    for (let i = 0; i < n; i++) rev |= ((code >>> i) & 1) << (n - 1 - i);
    putBits(rev, n);
  };
  const literal = (sym: number) => {
    if (sym < 144) putCode(0x30 + sym, 8);
    else if (sym < 256) putCode(0x190 + sym - 144, 9);
    else if (sym < 280) putCode(sym - 256, 7);
    else putCode(0xc0 + sym - 280, 8);
  };
  const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
  const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
  const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
  const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
  const lastIndex = (table: number[], v: number) => {
    let i = table.length - 1;
    while (table[i] > v) i--;
    return i;
  };
  putBits(1, 1); // final block
  putBits(1, 2); // fixed Huffman
  const head = new Map<number, number[]>();
  for (let i = 0; i < data.length; ) {
    let bestLen = 0;
    let bestDist = 0;
    if (i + 3 <= data.length) {
      const key = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
      const candidates = head.get(key) ?? [];
      for (let c = candidates.length - 1; c >= Math.max(0, candidates.length - 16); c--) {
        const j = candidates[c];
        if (i - j > 32768) break;
        let len = 0;
        while (len < 258 && i + len < data.length && data[j + len] === data[i + len]) len++;
        if (len > bestLen) {
          bestLen = len;
          bestDist = i - j;
        }
      }
    }
    const step = bestLen >= 3 ? bestLen : 1;
    if (bestLen >= 3) {
      const li = lastIndex(LEN_BASE, bestLen);
      literal(257 + li);
      putBits(bestLen - LEN_BASE[li], LEN_EXTRA[li]);
      const di = lastIndex(DIST_BASE, bestDist);
      putCode(di, 5);
      putBits(bestDist - DIST_BASE[di], DIST_EXTRA[di]);
    } else {
      literal(data[i]);
    }
    for (let k = i; k < i + step && k + 3 <= data.length; k++) {
      const key = (data[k] << 16) | (data[k + 1] << 8) | data[k + 2];
      const list = head.get(key);
      if (list) list.push(k);
      else head.set(key, [k]);
    }
    i += step;
  }
  literal(256);
  if (bitCount > 0) out.push(bitBuf & 0xff);
  return Uint8Array.from(out);
}

/**
 * A zip as Python's zipfile writes numpy archives: `zipf.open(name, 'w', force_zip64=True)` puts
 * 0xFFFFFFFF sizes and a zip64 extra field in each local header; the central directory has plain sizes.
 * Timestamps are fixed at 1980-01-01 so the bytes are reproducible.
 */
export function zipArchive(files: Array<[string, Uint8Array]>, deflate: boolean): Uint8Array {
  const sink = new ByteSink();
  const central = new ByteSink();
  for (const [name, data] of files) {
    const offset = sink.length;
    const packed = deflate ? deflateFixed(data) : data;
    const crc = crc32(data);
    const nameBytes = latin1Bytes(name);
    sink.u32(0x04034b50);
    sink.u16(45); // version needed: zip64
    sink.u16(0);
    sink.u16(deflate ? 8 : 0);
    sink.u16(0); // time
    sink.u16(0x21); // date 1980-01-01
    sink.u32(crc);
    sink.u32(0xffffffff);
    sink.u32(0xffffffff);
    sink.u16(nameBytes.length);
    sink.u16(20);
    sink.bytes(nameBytes);
    sink.u16(1); // zip64 extra: uncompressed then compressed size
    sink.u16(16);
    sink.u64(data.length);
    sink.u64(packed.length);
    sink.bytes(packed);
    central.u32(0x02014b50);
    central.u16(0x032d); // made by: unix, 4.5
    central.u16(45);
    central.u16(0);
    central.u16(deflate ? 8 : 0);
    central.u16(0);
    central.u16(0x21);
    central.u32(crc);
    central.u32(packed.length);
    central.u32(data.length);
    central.u16(nameBytes.length);
    central.u16(0);
    central.u16(0);
    central.u16(0);
    central.u16(0);
    central.u32(0o600 << 16);
    central.u32(offset);
    central.bytes(nameBytes);
  }
  const dirOffset = sink.length;
  const dir = central.take();
  sink.bytes(dir);
  sink.u32(0x06054b50);
  sink.u16(0);
  sink.u16(0);
  sink.u16(files.length);
  sink.u16(files.length);
  sink.u32(dir.length);
  sink.u32(dirOffset);
  sink.u16(0);
  return sink.take();
}

/** The model as SMPL's .npz: plain arrays, dense regressor, string scalars, one object array. */
export function smplNpz(m: BodyModel, deflate: boolean): Uint8Array {
  const V = m.vertexCount;
  const J = m.jointCount;
  const files: Array<[string, Uint8Array]> = [
    ['v_template.npy', npyArray(ndarray('f8', [V, 3], m.vTemplate))],
    ['shapedirs.npy', npyArray(ndarray('f8', [V, 3, m.shapeCount], m.shapedirs))],
    ['posedirs.npy', npyArray(ndarray('f8', [V, 3, m.poseFeatureCount], m.posedirs!))],
    ['J_regressor.npy', npyArray(ndarray('f8', [J, V], denseRegressor(m)))],
    ['weights.npy', npyArray(ndarray('f8', [V, J], denseWeights(m)))],
    ['f.npy', npyArray(ndarray('i8', [m.faces.length / 3, 3], m.faces))],
    ['kintree_table.npy', npyArray(ndarray('i8', [2, J], kintree(m)))],
    ['bs_style.npy', npyUnicode('lbs')],
    ['bs_type.npy', npyUnicode('lrotmin')],
    // np.savez of a dict stores an object array: its payload is a pickle, which readers must not load.
    ['pose_training_info.npy', npy('|O', [], pickle(dict(['lambda_pose', float(1.5)]), { protocol: 4, python: 3, numpy: 'numpy.core' }))],
  ];
  return zipArchive(files, deflate);
}

/** Every fixture file, by name. */
export function buildFixtures(): Record<string, Uint8Array> {
  const m = fixtureModel();
  const py2 = { scipyModule: 'scipy.sparse.csc', posedirs: true, weightsFortran: true, vTemplateByteOrder: '<' as const, facesCode: 'u4' as const };
  const py3 = { ...py2, scipyModule: 'scipy.sparse._csc', weightsFortran: false, facesCode: 'i8' as const };
  return {
    'smpl-py2-protocol2.pkl': pickle(smplDict(m, py2), { protocol: 2, python: 2, numpy: 'numpy.core' }),
    // Protocol 0 text escapes every byte: leave out posedirs to keep it small; big-endian template.
    'smpl-py2-protocol0.pkl': pickle(smplDict(m, { ...py2, posedirs: false, vTemplateByteOrder: '>' }), { protocol: 0, python: 2, numpy: 'numpy.core' }),
    'smpl-py3-protocol2.pkl': pickle(smplDict(m, { ...py3, scipyModule: 'scipy.sparse.csc' }), { protocol: 2, python: 3, numpy: 'numpy.core' }),
    'smpl-py3-protocol4.pkl': pickle(smplDict(m, py3), { protocol: 4, python: 3, numpy: 'numpy.core' }),
    'smpl-py3-protocol5.pkl': pickle(smplDict(m, { ...py3, weightsFortran: true }), { protocol: 5, python: 3, numpy: 'numpy._core' }),
    'smpl-stored.npz': smplNpz(m, false),
    'smpl-deflated.npz': smplNpz(m, true),
    'fixture-model.nbfm': encodeBodyModel(m),
  };
}

const { pathToFileURL, fileURLToPath } = await import('node:url');
if (typeof process !== 'undefined' && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const { dirname, join } = await import('node:path');
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'test', 'fixtures');
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of Object.entries(buildFixtures())) {
    writeFileSync(join(dir, name), bytes);
    console.log(`${name}: ${bytes.length} bytes`);
  }
}
