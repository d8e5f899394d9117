/**
 * A minimal, data-only unpickler for body-model files (protocols 0–5). Nothing in the file is ever
 * executed or imported: the few globals below are recognised by name and rebuilt by our own code, and
 * any other global (os.system, builtins.eval, custom classes ...) is refused with an error naming it.
 *
 * Recognised globals (both the Python 2 and 3 module spellings):
 *   numpy.core.multiarray._reconstruct, numpy._core.multiarray._reconstruct, numpy.ndarray, numpy.dtype
 *       — numpy arrays (numeric and bool dtypes; honours byte order and Fortran order)
 *   numpy.core.numeric._frombuffer, numpy._core.numeric._frombuffer — arrays at protocol 5
 *   numpy.core.multiarray.scalar, numpy._core.multiarray.scalar — numpy scalars (inside dicts)
 *   chumpy.ch.Ch — only its `x` array is kept
 *   scipy.sparse.csc.csc_matrix, scipy.sparse._csc.csc_matrix — shape, data, indices, indptr
 *   copy_reg._reconstructor / copyreg._reconstructor with __builtin__/builtins.object — how
 *       protocols 0–1 create the objects above
 *   _codecs.encode(text, 'latin1') — how Python 3 writes Python 2 byte strings at protocol 2
 *   __builtin__.set / builtins.set / frozenset
 *
 * Values: None → null, bool → boolean, int → number (bigint past ±2^53), float → number,
 * unicode → string, Python 2 str → Latin1String (bytes; `.text` decodes latin-1), bytes/bytearray →
 * Uint8Array, list and tuple → array, dict → Map (Python 2 str keys become strings), set → Set.
 */
import { FileFormatError } from './errors.js';
import { decodeNumeric, NdArray, parseNumericType } from './ndarray.js';

/** A Python 2 `str`: raw bytes, decoded as latin-1 when used as text. */
export class Latin1String {
  constructor(readonly bytes: Uint8Array) {}
  get text(): string {
    return latin1Text(this.bytes);
  }
  toString(): string {
    return this.text;
  }
}

/** A chumpy.ch.Ch: we keep its value `x` and drop the computation graph. */
export class ChumpyArray {
  x: PickleValue = null;
}

/** A scipy.sparse CSC matrix: column c holds rows indices[indptr[c] .. indptr[c+1]). */
export class CscMatrix {
  shape: [number, number] = [0, 0];
  data: NdArray | null = null;
  indices: NdArray | null = null;
  indptr: NdArray | null = null;
}

/** A numpy dtype, as far as we need it. */
export class PickledDtype {
  byteOrder = '|';
  constructor(readonly code: string) {}
  /** Type string with byte order, e.g. '<f8'. */
  get descr(): string {
    return (this.byteOrder === '=' ? '<' : this.byteOrder) + this.code;
  }
}

/** A numpy array of objects (dtype 'O'): its items as pickled values. */
export class ObjectArray {
  constructor(readonly shape: number[], readonly items: PickleValue[]) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Latin1String
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | Set<PickleValue>
  | NdArray
  | ObjectArray
  | ChumpyArray
  | CscMatrix
  | PickledDtype
  | RecognisedGlobal;

type GlobalKind = 'reconstruct' | 'ndarray' | 'dtype' | 'frombuffer' | 'scalar' | 'chumpy' | 'csc' | 'reconstructor' | 'object' | 'set' | 'encode';

/** A global we recognise: a tag, never a callable. */
export class RecognisedGlobal {
  constructor(readonly kind: GlobalKind, readonly qualifiedName: string) {}
}

const GLOBALS: Record<string, GlobalKind> = {
  'numpy.core.multiarray._reconstruct': 'reconstruct',
  'numpy._core.multiarray._reconstruct': 'reconstruct',
  'numpy.ndarray': 'ndarray',
  'numpy.dtype': 'dtype',
  'numpy.core.numeric._frombuffer': 'frombuffer',
  'numpy._core.numeric._frombuffer': 'frombuffer',
  'numpy.core.multiarray.scalar': 'scalar',
  'numpy._core.multiarray.scalar': 'scalar',
  'chumpy.ch.Ch': 'chumpy',
  'scipy.sparse.csc.csc_matrix': 'csc',
  'scipy.sparse._csc.csc_matrix': 'csc',
  'copy_reg._reconstructor': 'reconstructor',
  'copyreg._reconstructor': 'reconstructor',
  '__builtin__.object': 'object',
  'builtins.object': 'object',
  '__builtin__.set': 'set',
  'builtins.set': 'set',
  '__builtin__.frozenset': 'set',
  'builtins.frozenset': 'set',
  '_codecs.encode': 'encode',
};

/** Marks the stack position of a MARK opcode. */
const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes Python's repr-style escapes of a protocol-0 STRING payload (the bytes between the quotes).
 * Works on bytes, so a multi-megabyte array written as text needs no intermediate JS string.
 */
function unescapeStringLiteral(body: Uint8Array, fail: (m: string) => never): Uint8Array {
  const out = new Uint8Array(body.length);
  let n = 0;
  const simple: Record<number, number> = { 0x6e: 10, 0x72: 13, 0x74: 9, 0x5c: 92, 0x27: 39, 0x22: 34, 0x61: 7, 0x62: 8, 0x66: 12, 0x76: 11 };
  const hexValue = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1);
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== 92) {
      out[n++] = ch;
      continue;
    }
    if (++i >= body.length) fail('string ends in a lone backslash');
    const next = body[i];
    if (next in simple) {
      out[n++] = simple[next];
    } else if (next === 0x0a) {
      // Backslash-newline: a line continuation, produces nothing.
    } else if (next === 0x78) {
      const hi = hexValue(body[i + 1]);
      const lo = hexValue(body[i + 2]);
      if (hi < 0 || lo < 0) fail('bad \\x escape in STRING');
      out[n++] = hi * 16 + lo;
      i += 2;
    } else if (next >= 48 && next <= 55) {
      let v = next - 48;
      for (let k = 0; k < 2 && body[i + 1] >= 48 && body[i + 1] <= 55; k++) v = v * 8 + (body[++i] - 48);
      out[n++] = v & 0xff;
    } else {
      out[n++] = 92;
      out[n++] = next;
    }
  }
  return out.slice(0, n);
}

/** Latin-1 text of bytes, in chunks (spreading a huge array into fromCharCode would overflow the stack). */
export function latin1Text(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Decodes Python's raw-unicode-escape (protocol-0 UNICODE): \uXXXX and \UXXXXXXXX, other bytes latin-1. */
function decodeRawUnicodeEscape(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 92 && (bytes[i + 1] === 0x75 || bytes[i + 1] === 0x55)) {
      const digits = bytes[i + 1] === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...bytes.subarray(i + 2, i + 2 + digits));
      if (/^[0-9a-fA-F]+$/.test(hex) && hex.length === digits) {
        s += String.fromCodePoint(parseInt(hex, 16));
        i += 1 + digits;
        continue;
      }
    }
    s += String.fromCharCode(bytes[i]);
  }
  return s;
}

/** Signed little-endian two's-complement integer of LONG1 / LONG4. */
function decodeLong(bytes: Uint8Array): number | bigint {
  if (bytes.length === 0) return 0;
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
  if (bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
  return narrowInt(v);
}

function narrowInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Text of a str-like pickle value (unicode or Python 2 str), else null. */
export function pickleText(v: PickleValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (v instanceof Latin1String) return v.text;
  return null;
}

/** True if `bytes` looks like a pickle: a PROTO opcode, or a protocol-0/1 stream's usual first opcode. */
export function looksLikePickle(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  if (bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return true;
  // Protocol 0/1 files start with MARK '(', EMPTY_DICT '}', DICT-building '(dp', or GLOBAL 'c'.
  return (bytes[0] === 0x28 || bytes[0] === 0x7d || bytes[0] === 0x63 || bytes[0] === 0x5d) && bytes[bytes.length - 1] === 0x2e;
}

/**
 * Unpickles `bytes`. `source` (the file name) is quoted in errors together with the byte offset.
 * Throws FileFormatError for truncated or corrupt streams, unsupported opcodes and refused globals.
 */
export function unpickle(bytes: Uint8Array, source = '<bytes>'): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = 0;
  let opStart = 0;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PickleValue>();

  const fail = (problem: string): never => {
    throw new FileFormatError(`${source}: pickle byte ${opStart}: ${problem}`);
  };
  const need = (n: number) => {
    if (pos + n > bytes.length) fail(`truncated: needs ${n} more bytes, the file ends at byte ${bytes.length}`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(bytes.length)) fail(`length ${v} exceeds the file size (truncated or corrupt)`);
    return Number(v);
  };
  const take = (n: number) => {
    if (n < 0) fail(`negative length ${n}`);
    need(n);
    pos += n;
    return bytes.subarray(pos - n, pos);
  };
  const lineBytes = (): Uint8Array => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) fail('truncated: a text opcode has no terminating newline');
    const raw = bytes.subarray(pos, end);
    pos = end + 1;
    return raw;
  };
  const line = (): string => latin1Text(lineBytes());
  const pop = (): PickleValue => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) fail('stack underflow (corrupt pickle)');
    return stack.pop() as PickleValue;
  };
  const top = (): PickleValue => {
    if (stack.length === 0) fail('stack underflow (corrupt pickle)');
    return stack[stack.length - 1] as PickleValue;
  };
  const popMark = (): PickleValue[] => {
    const m = marks.pop();
    if (m === undefined) fail('no MARK on the stack (corrupt pickle)');
    const items = stack.splice(m!) as PickleValue[];
    return items;
  };
  const text = (v: PickleValue, what: string): string => pickleText(v) ?? fail(`${what} must be a string`);
  const dictKey = (k: PickleValue): PickleValue => (k instanceof Latin1String ? k.text : k);

  const resolveGlobal = (module: string, name: string): RecognisedGlobal => {
    const q = `${module}.${name}`;
    const kind = GLOBALS[q];
    if (!kind) {
      fail(`refusing global "${q}": a body-model pickle may only hold numpy arrays, chumpy Ch, scipy csc_matrix and plain Python containers (nothing in a pickle is executed)`);
    }
    return new RecognisedGlobal(kind!, q);
  };

  const bytesOf = (v: PickleValue, what: string): Uint8Array => {
    if (v instanceof Uint8Array) return v;
    if (v instanceof Latin1String) return v.bytes;
    return fail(`${what} must be bytes`);
  };

  const makeArray = (dtype: PickleValue, shapeValue: PickleValue, fortran: boolean, raw: PickleValue, target: NdArray): PickleValue => {
    if (!(dtype instanceof PickledDtype)) fail('array state has no numpy dtype');
    const dt = dtype as PickledDtype;
    if (!Array.isArray(shapeValue) || !shapeValue.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) fail('array shape must be a tuple of non-negative integers');
    const shape = shapeValue as number[];
    if (Array.isArray(raw)) return new ObjectArray(shape, raw);
    const type = parseNumericType(dt.descr);
    if (!type) fail(`numpy dtype "${dt.descr}" is not supported (numeric and bool arrays only)`);
    target.dtype = dt.descr;
    target.shape = shape;
    target.data = decodeNumeric(bytesOf(raw, 'array data'), type!, shape, fortran, `${source}: pickle byte ${opStart}: array`);
    return target;
  };

  /** REDUCE / INST / OBJ: apply a recognised global to arguments, by our own code. */
  const call = (fn: PickleValue, args: PickleValue[]): PickleValue => {
    if (!(fn instanceof RecognisedGlobal)) return fail('REDUCE of something that is not a recognised global');
    switch (fn.kind) {
      case 'reconstruct': {
        if (!(args[0] instanceof RecognisedGlobal) || args[0].kind !== 'ndarray') fail(`${fn.qualifiedName} of a class other than numpy.ndarray`);
        return new NdArray('', [], new Float64Array(0));
      }
      case 'dtype':
        return new PickledDtype(text(args[0], 'numpy.dtype code'));
      case 'set':
        if (args.length === 0) return new Set();
        if (!Array.isArray(args[0])) fail('set() of something other than a list');
        return new Set(args[0] as PickleValue[]);
      case 'encode': {
        const encoding = args.length > 1 ? text(args[1], 'encoding').toLowerCase() : 'utf-8';
        if (!['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1'].includes(encoding)) fail(`_codecs.encode with encoding "${encoding}" (only latin-1 is supported)`);
        const s = text(args[0], '_codecs.encode argument');
        const out = new Uint8Array(s.length);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          if (c > 255) fail('_codecs.encode: character outside latin-1');
          out[i] = c;
        }
        return out;
      }
      case 'reconstructor': {
        const [cls, base] = args;
        if (!(base instanceof RecognisedGlobal) || base.kind !== 'object') fail('copy_reg._reconstructor with a base other than object');
        return instantiate(cls);
      }
      case 'scalar': {
        const arr = new NdArray('', [], new Float64Array(0));
        makeArray(args[0], [], false, args[1], arr);
        return arr.data[0];
      }
      case 'frombuffer': {
        const [buffer, dtype, shape, order] = args;
        return makeArray(dtype, shape, text(order ?? 'C', 'order') === 'F', buffer, new NdArray('', [], new Float64Array(0)));
      }
      default:
        return fail(`${fn.qualifiedName} cannot be called`);
    }
  };

  /** NEWOBJ / _reconstructor: an empty instance of a recognised class, filled by BUILD. */
  const instantiate = (cls: PickleValue): PickleValue => {
    if (cls instanceof RecognisedGlobal) {
      if (cls.kind === 'chumpy') return new ChumpyArray();
      if (cls.kind === 'csc') return new CscMatrix();
      if (cls.kind === 'ndarray') return new NdArray('', [], new Float64Array(0));
      if (cls.kind === 'set') return new Set();
    }
    return fail('cannot instantiate this object (only chumpy Ch, scipy csc_matrix and numpy arrays)');
  };

  const build = (obj: PickleValue, state: PickleValue): void => {
    if (obj instanceof NdArray) {
      if (!Array.isArray(state)) fail('numpy array state must be a tuple');
      const s = state as PickleValue[];
      // (version, shape, dtype, is_fortran, data), or the older form without the version.
      const [shape, dtype, fortran, raw] = s.length === 5 ? s.slice(1) : s;
      const made = makeArray(dtype, shape, fortran === true || fortran === 1, raw, obj);
      if (made instanceof ObjectArray) {
        obj.dtype = '|O';
        obj.shape = made.shape;
        obj.data = new Float64Array(0);
        objectArrays.set(obj, made);
      }
      return;
    }
    if (obj instanceof PickledDtype) {
      if (!Array.isArray(state) || state.length < 2) fail('numpy dtype state must be a tuple');
      const s = state as PickleValue[];
      if (s.length >= 4 && s[3] !== null) fail(`structured numpy dtypes are not supported (dtype "${obj.code}")`);
      obj.byteOrder = text(s[1], 'dtype byte order');
      return;
    }
    const dict = state instanceof Map ? state : Array.isArray(state) && state[1] instanceof Map ? state[1] : null;
    if (obj instanceof ChumpyArray) {
      if (!(state instanceof Map)) fail('chumpy.ch.Ch state must be a dict');
      obj.x = (state as Map<PickleValue, PickleValue>).get('x') ?? null;
      return;
    }
    if (obj instanceof CscMatrix) {
      if (!dict) fail('csc_matrix state must be a dict');
      const d = dict!;
      const shape = d.get('_shape') ?? d.get('shape');
      if (!Array.isArray(shape) || shape.length !== 2) fail('csc_matrix has no 2-d "_shape"');
      obj.shape = [Number((shape as PickleValue[])[0]), Number((shape as PickleValue[])[1])];
      for (const key of ['data', 'indices', 'indptr'] as const) {
        const a = d.get(key);
        if (!(a instanceof NdArray)) fail(`csc_matrix "${key}" is not a numpy array`);
        obj[key] = a as NdArray;
      }
      return;
    }
    fail('BUILD on an object we do not reconstruct');
  };
  // Object-dtype arrays found while building; replaced by ObjectArray values at the end.
  const objectArrays = new Map<NdArray, ObjectArray>();

  for (;;) {
    opStart = pos;
    const op = u8();
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto > 5) fail(`pickle protocol ${proto} is not supported (0–5)`);
        break;
      }
      case 0x95: // FRAME: a length prefix only; opcodes continue inline.
        u64();
        break;
      case 0x2e: { // STOP
        if (stack.length !== 1 || marks.length) fail(`STOP with ${stack.length} items on the stack (corrupt pickle)`);
        const result = stack[0] as PickleValue;
        return objectArrays.size ? replaceObjectArrays(result, objectArrays) : result;
      }
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: stack.push(decodeLong(take(i32()))); break; // LONG4
      case 0x49: { // INT (text); I00 / I01 are False / True
        const s = line().trim();
        if (s === '00') stack.push(false);
        else if (s === '01') stack.push(true);
        else if (/^[+-]?\d+$/.test(s)) stack.push(narrowInt(BigInt(s)));
        else fail(`bad INT "${s}"`);
        break;
      }
      case 0x4c: { // LONG (text)
        const s = line().trim().replace(/L$/, '');
        if (!/^[+-]?\d+$/.test(s)) fail(`bad LONG "${s}"`);
        stack.push(narrowInt(BigInt(s)));
        break;
      }
      case 0x46: { // FLOAT (text)
        const s = line().trim();
        const x = s === 'nan' ? NaN : s === 'inf' ? Infinity : s === '-inf' ? -Infinity : Number(s);
        if (Number.isNaN(x) && s !== 'nan') fail(`bad FLOAT "${s}"`);
        stack.push(x);
        break;
      }
      case 0x47: { // BINFLOAT (big-endian)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x53: { // STRING (text, quoted with Python repr escapes)
        let raw = lineBytes();
        if (raw[raw.length - 1] === 0x0d) raw = raw.subarray(0, -1);
        const q = raw[0];
        if (raw.length < 2 || (q !== 0x27 && q !== 0x22) || raw[raw.length - 1] !== q) fail('STRING is not quoted');
        stack.push(new Latin1String(unescapeStringLiteral(raw.subarray(1, -1), fail)));
        break;
      }
      case 0x54: stack.push(new Latin1String(take(i32()))); break; // BINSTRING
      case 0x55: stack.push(new Latin1String(take(u8()))); break; // SHORT_BINSTRING
      case 0x56: stack.push(decodeRawUnicodeEscape(lineBytes())); break; // UNICODE
      case 0x58: // BINUNICODE
      case 0x8c: // SHORT_BINUNICODE
      case 0x8d: { // BINUNICODE8
        const n = op === 0x58 ? u32() : op === 0x8c ? u8() : u64();
        const raw = take(n);
        try {
          stack.push(utf8.decode(raw));
        } catch {
          fail('unicode string is not valid UTF-8');
        }
        break;
      }
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x8e: // BINBYTES8
      case 0x96: stack.push(take(u64()).slice()); break; // BYTEARRAY8
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x8f: stack.push(new Set()); break; // EMPTY_SET
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x91: stack.push(new Set(popMark())); break; // FROZENSET
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items');
        const d = new Map<PickleValue, PickleValue>();
        for (let i = 0; i < items.length; i += 2) d.set(dictKey(items[i]), items[i + 1]);
        stack.push(d);
        break;
      }
      case 0x61: { // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) fail('APPEND to something that is not a list');
        (list as PickleValue[]).push(v);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) fail('APPENDS to something that is not a list');
        for (const v of items) (list as PickleValue[]).push(v);
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        const d = top();
        if (!(d instanceof Map)) fail('SETITEM on something that is not a dict');
        (d as Map<PickleValue, PickleValue>).set(dictKey(k), v);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        const d = top();
        if (!(d instanceof Map)) fail('SETITEMS on something that is not a dict');
        if (items.length % 2) fail('SETITEMS with an odd number of items');
        for (let i = 0; i < items.length; i += 2) (d as Map<PickleValue, PickleValue>).set(dictKey(items[i]), items[i + 1]);
        break;
      }
      case 0x90: { // ADDITEMS
        const items = popMark();
        const s = top();
        if (!(s instanceof Set)) fail('ADDITEMS on something that is not a set');
        for (const v of items) (s as Set<PickleValue>).add(v);
        break;
      }
      case 0x70: memo.set(Number(line()), top()); break; // PUT
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x67: // GET
      case 0x68: // BINGET
      case 0x6a: { // LONG_BINGET
        const k = op === 0x67 ? Number(line()) : op === 0x68 ? u8() : u32();
        if (!memo.has(k)) fail(`memo entry ${k} is not defined (corrupt pickle)`);
        stack.push(memo.get(k)!);
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        stack.push(resolveGlobal(module, name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        stack.push(resolveGlobal(text(module, 'STACK_GLOBAL module'), text(name, 'STACK_GLOBAL name')));
        break;
      }
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!Array.isArray(args)) fail('REDUCE arguments must be a tuple');
        stack.push(call(fn, args as PickleValue[]));
        break;
      }
      case 0x81: { // NEWOBJ
        pop(); // constructor args: ignored, the recognised classes are all filled by BUILD
        stack.push(instantiate(pop()));
        break;
      }
      case 0x92: { // NEWOBJ_EX
        pop();
        pop();
        stack.push(instantiate(pop()));
        break;
      }
      case 0x69: { // INST "module\nname\n" with MARKed args
        const cls = resolveGlobal(line(), line());
        stack.push(call(cls, popMark()));
        break;
      }
      case 0x6f: { // OBJ: MARK cls args...
        const [cls, ...args] = popMark();
        stack.push(call(cls, args));
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        build(top(), state);
        break;
      }
      case 0x50: case 0x51: fail('persistent ids are not supported (not a plain data pickle)'); break;
      case 0x82: case 0x83: case 0x84: fail('extension-registry opcodes are not supported'); break;
      case 0x97: case 0x98: fail('out-of-band buffers (pickle protocol 5 NEXT_BUFFER) are not supported'); break;
      default:
        fail(`unknown pickle opcode 0x${op.toString(16).padStart(2, '0')} (not a pickle, or corrupt)`);
    }
  }
}

/** Swaps arrays whose dtype was 'O' for ObjectArray values (they were referenced before BUILD ran). */
function replaceObjectArrays(value: PickleValue, map: Map<NdArray, ObjectArray>, seen = new Set<unknown>()): PickleValue {
  if (value instanceof NdArray) return map.get(value) ?? value;
  if (seen.has(value)) return value;
  seen.add(value);
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) value[i] = replaceObjectArrays(value[i], map, seen);
  else if (value instanceof Map) for (const [k, v] of value) value.set(k, replaceObjectArrays(v, map, seen));
  else if (value instanceof ChumpyArray) value.x = replaceObjectArrays(value.x, map, seen);
  return value;
}
