/**
 * The parameter file format: named float tensors with a JSON header and a SHA-256 checksum.
 *
 *   offset  size  content
 *   0       4     magic "NBFP"
 *   4       4     format version, uint32 little-endian (1)
 *   8       4     header length H in bytes, uint32 LE
 *   12      32    SHA-256 of every byte from offset 44 to the end (header, padding, data)
 *   44      H     header: UTF-8 JSON {dtype, dataBytes, tensors: [{name, shape, offset, bytes}], meta}
 *   …       0–7   zero padding so the data starts at a multiple of 8
 *   …             data: each tensor row-major, little-endian float32 or IEEE float16; offsets are
 *                 relative to the start of the data
 *
 * Decoding checks everything (length, magic, version, checksum, header fields, every tensor's extent)
 * before returning, so a caller can validate a file fully before touching live state.
 */
import { NbfError } from '../runtime/errors.js';
import { sha256, toHex } from '../util/sha256.js';

/** A parameter or checkpoint file is malformed, truncated, corrupted or does not fit. */
export class ParamFormatError extends NbfError {}

export const PARAM_FILE_MAGIC = 'NBFP';
export const PARAM_FILE_VERSION = 1;
const PREFIX_BYTES = 44;

export type ParamDtype = 'float32' | 'float16';

export interface NamedArray {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface ParamFile {
  dtype: ParamDtype;
  entries: NamedArray[];
  /** Free-form JSON stored with the tensors (checkpoints keep step, optimizer and RNG state here). */
  meta: unknown;
}

interface HeaderEntry {
  name: string;
  shape: number[];
  offset: number;
  bytes: number;
}

const scratch = new DataView(new ArrayBuffer(4));

/** float32 → IEEE binary16 bits, round to nearest even; overflow → ±inf, NaN stays NaN. */
export function float32ToHalfBits(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to inf).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

export function halfBitsToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 31) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function encodeParamFile(entries: readonly NamedArray[], options: { dtype?: ParamDtype; meta?: unknown } = {}): Uint8Array {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float16') throw new ParamFormatError(`unknown dtype "${String(dtype)}" (float32 or float16)`);
  const width = dtype === 'float32' ? 4 : 2;
  const seen = new Set<string>();
  const header: HeaderEntry[] = [];
  let offset = 0;
  for (const e of entries) {
    if (seen.has(e.name)) throw new ParamFormatError(`parameter "${e.name}" appears twice`);
    seen.add(e.name);
    const size = e.shape.reduce((p, d) => p * d, 1);
    if (e.data.length !== size) throw new ParamFormatError(`parameter "${e.name}": ${e.data.length} values for shape ${describe(e.shape)}`);
    header.push({ name: e.name, shape: [...e.shape], offset, bytes: size * width });
    offset += size * width;
    offset = Math.ceil(offset / 8) * 8; // every tensor starts 8-byte aligned
  }
  const dataBytes = offset;
  const headerBytes = new TextEncoder().encode(JSON.stringify({ dtype, dataBytes, tensors: header, meta: options.meta ?? null }));
  const dataStart = Math.ceil((PREFIX_BYTES + headerBytes.length) / 8) * 8;
  const out = new Uint8Array(dataStart + dataBytes);
  out.set(new TextEncoder().encode(PARAM_FILE_MAGIC), 0);
  const view = new DataView(out.buffer);
  view.setUint32(4, PARAM_FILE_VERSION, true);
  view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, PREFIX_BYTES);
  entries.forEach((e, i) => {
    let p = dataStart + header[i].offset;
    if (dtype === 'float32') {
      for (let k = 0; k < e.data.length; k++, p += 4) view.setFloat32(p, e.data[k], true);
    } else {
      for (let k = 0; k < e.data.length; k++, p += 2) view.setUint16(p, float32ToHalfBits(e.data[k]), true);
    }
  });
  out.set(sha256(out.subarray(PREFIX_BYTES)), 12);
  return out;
}

/** Parses and fully validates a file; `what` names it in errors (a path, "checkpoint", …). */
export function decodeParamFile(bytes: Uint8Array, what = 'parameter file'): ParamFile {
  if (!(bytes instanceof Uint8Array)) throw new ParamFormatError(`${what}: expected a Uint8Array of file bytes`);
  if (bytes.length < PREFIX_BYTES) throw new ParamFormatError(`${what} is truncated: ${bytes.length} bytes, the fixed header alone is ${PREFIX_BYTES}`);
  const magic = new TextDecoder().decode(bytes.subarray(0, 4));
  if (magic !== PARAM_FILE_MAGIC) throw new ParamFormatError(`${what} is not an nbf-gl parameter file (starts with ${JSON.stringify(magic)}, not "${PARAM_FILE_MAGIC}")`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(4, true);
  if (version !== PARAM_FILE_VERSION) throw new ParamFormatError(`${what} has format version ${version}; this build reads version ${PARAM_FILE_VERSION}`);
  const headerLength = view.getUint32(8, true);
  if (PREFIX_BYTES + headerLength > bytes.length) {
    throw new ParamFormatError(`${what} is truncated: ${bytes.length} bytes, but its JSON header alone ends at byte ${PREFIX_BYTES + headerLength}`);
  }
  let header: { dtype?: unknown; dataBytes?: unknown; tensors?: unknown; meta?: unknown };
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength)));
  } catch (e) {
    throw new ParamFormatError(`${what}: the JSON header does not parse (${(e as Error).message}); the file is corrupted`);
  }
  const dataStart = Math.ceil((PREFIX_BYTES + headerLength) / 8) * 8;
  const dataBytes = header.dataBytes;
  if (typeof dataBytes !== 'number' || !Number.isInteger(dataBytes) || dataBytes < 0) throw new ParamFormatError(`${what}: header field dataBytes is missing or invalid`);
  if (bytes.length < dataStart + dataBytes) {
    throw new ParamFormatError(`${what} is truncated: ${bytes.length} bytes, expected ${dataStart + dataBytes} (header + ${dataBytes} data bytes)`);
  }
  if (bytes.length > dataStart + dataBytes) {
    throw new ParamFormatError(`${what} has ${bytes.length - dataStart - dataBytes} unexpected trailing bytes after its data`);
  }
  const stored = toHex(bytes.subarray(12, PREFIX_BYTES));
  const actual = toHex(sha256(bytes.subarray(PREFIX_BYTES)));
  if (stored !== actual) throw new ParamFormatError(`${what} failed its SHA-256 check (stored ${stored.slice(0, 16)}…, computed ${actual.slice(0, 16)}…): the file is corrupted`);
  const dtype = header.dtype;
  if (dtype !== 'float32' && dtype !== 'float16') throw new ParamFormatError(`${what}: unknown dtype ${JSON.stringify(dtype)} (float32 or float16)`);
  const width = dtype === 'float32' ? 4 : 2;
  if (!Array.isArray(header.tensors)) throw new ParamFormatError(`${what}: header has no tensor list`);
  const names = new Set<string>();
  const entries = (header.tensors as HeaderEntry[]).map((h, i) => {
    if (!h || typeof h.name !== 'string') throw new ParamFormatError(`${what}: tensor ${i} has no name`);
    if (names.has(h.name)) throw new ParamFormatError(`${what}: parameter "${h.name}" appears twice`);
    names.add(h.name);
    if (!Array.isArray(h.shape) || h.shape.some((d) => !Number.isInteger(d) || d < 1)) {
      throw new ParamFormatError(`${what}: parameter "${h.name}" has an invalid shape ${JSON.stringify(h.shape)}`);
    }
    const size = h.shape.reduce((p, d) => p * d, 1);
    if (h.bytes !== size * width || !Number.isInteger(h.offset) || h.offset < 0 || h.offset + h.bytes > dataBytes) {
      throw new ParamFormatError(`${what}: parameter "${h.name}" ${describe(h.shape)} does not fit the data section (offset ${h.offset}, ${h.bytes} bytes of ${dataBytes})`);
    }
    const data = new Float32Array(size);
    let p = dataStart + h.offset;
    if (width === 4) for (let k = 0; k < size; k++, p += 4) data[k] = view.getFloat32(p, true);
    else for (let k = 0; k < size; k++, p += 2) data[k] = halfBitsToFloat32(view.getUint16(p, true));
    return { name: h.name, shape: [...h.shape], data };
  });
  return { dtype, entries, meta: header.meta ?? null };
}
