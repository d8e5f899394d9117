/** Numeric n-d arrays read from numpy files (.npy / pickles), kept as float64 in C (row-major) order. */
import { FileFormatError } from './errors.js';

export class NdArray {
  constructor(
    /** numpy type string with explicit byte order as stored, e.g. '<f8', '|u1', '>i4'. */
    public dtype: string,
    public shape: number[],
    /** Values in C order (converted from Fortran order when the file stored it so). */
    public data: Float64Array,
  ) {}

  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export interface NumericType {
  /** f: float, i: signed int, u: unsigned int, b: bool. */
  kind: 'f' | 'i' | 'u' | 'b';
  bytes: number;
  littleEndian: boolean;
}

/**
 * Parses a numpy type string ('<f8', 'f4', '|u1', '>i8', '?', 'b1', ...) into a numeric type, or null
 * for types we do not read as numbers (objects, strings, structured, half floats ...). A missing or '='
 * byte order means native, which for every platform numpy files realistically come from is little-endian.
 */
export function parseNumericType(descr: string): NumericType | null {
  const m = /^([<>|=]?)([fiub?])(\d*)$/.exec(descr);
  if (!m) return null;
  const kind = (m[2] === '?' ? 'b' : m[2]) as NumericType['kind'];
  const bytes = m[3] === '' ? (kind === 'b' ? 1 : NaN) : Number(m[3]);
  const ok = kind === 'f' ? bytes === 4 || bytes === 8 : kind === 'b' ? bytes === 1 : [1, 2, 4, 8].includes(bytes);
  if (!ok) return null;
  return { kind, bytes, littleEndian: m[1] !== '>' };
}

/**
 * Decodes `count` elements of `type` from `bytes` into float64, converting Fortran to C order.
 * 64-bit integers beyond ±2^53 lose precision (numbers in body-model files never come close).
 */
export function decodeNumeric(bytes: Uint8Array, type: NumericType, shape: number[], fortranOrder: boolean, where: string): Float64Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.length < count * type.bytes) {
    throw new FileFormatError(`${where}: ${bytes.length} bytes of data, the shape [${shape}] needs ${count * type.bytes} (truncated?)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = type.littleEndian;
  const raw = new Float64Array(count);
  const n = type.bytes;
  for (let i = 0, p = 0; i < count; i++, p += n) {
    let x: number;
    switch (type.kind) {
      case 'f':
        x = n === 8 ? view.getFloat64(p, le) : view.getFloat32(p, le);
        break;
      case 'i':
        x = n === 8 ? Number(view.getBigInt64(p, le)) : n === 4 ? view.getInt32(p, le) : n === 2 ? view.getInt16(p, le) : view.getInt8(p);
        break;
      case 'u':
        x = n === 8 ? Number(view.getBigUint64(p, le)) : n === 4 ? view.getUint32(p, le) : n === 2 ? view.getUint16(p, le) : bytes[p];
        break;
      case 'b':
        x = bytes[p] !== 0 ? 1 : 0;
        break;
    }
    raw[i] = x;
  }
  return fortranOrder && shape.length > 1 ? fortranToC(raw, shape) : raw;
}

/** Reorders a column-major (Fortran) buffer into row-major (C) order. */
export function fortranToC(src: Float64Array, shape: number[]): Float64Array {
  const rank = shape.length;
  const out = new Float64Array(src.length);
  const fStride = new Array<number>(rank);
  let s = 1;
  for (let d = 0; d < rank; d++) {
    fStride[d] = s;
    s *= shape[d];
  }
  const index = new Array<number>(rank).fill(0);
  let f = 0;
  // Walk C order with an odometer over the index, tracking the Fortran offset incrementally.
  for (let c = 0; c < src.length; c++) {
    out[c] = src[f];
    for (let d = rank - 1; d >= 0; d--) {
      index[d]++;
      f += fStride[d];
      if (index[d] < shape[d]) break;
      f -= fStride[d] * shape[d];
      index[d] = 0;
    }
  }
  return out;
}
