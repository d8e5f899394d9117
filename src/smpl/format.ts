/**
 * The ".nbfm" body-model file: one self-describing binary that decodes the same in Node and the
 * browser (Uint8Array in and out, no platform APIs). Byte layout (all integers little-endian):
 *
 *   0   8 bytes  magic 89 4E 42 46 4D 0D 0A 1A  ("\x89NBFM\r\n\x1a": non-ASCII first byte and CR LF
 *                catch text-mode transfers, as PNG's does)
 *   8   uint32   format version (1)
 *   12  uint32   H, byte length of the header (UTF-8 JSON, space-padded so 16 + H is a multiple of 16)
 *   16  H bytes  header: counts, names, licence, metadata and an array table
 *                { key, dtype: f4|f8|i4|u4|u1, shape, offset, byteLength } (offset into the data section)
 *   16+H         data section, dataByteLength bytes; every array starts 16-byte aligned, zero padding
 *   end−32       SHA-256 of every byte before it
 *
 * Array keys are the BodyModel field paths (vTemplate, jRegressor.rowStart, skin.weights ...).
 */
import { FileFormatError } from '../io/errors.js';
import { sha256 } from '../util/sha256.js';
import type { BodyModel } from './types.js';
import { validateBodyModel } from './validate.js';

export { validateBodyModel } from './validate.js';

export const BODY_MODEL_MAGIC = new Uint8Array([0x89, 0x4e, 0x42, 0x46, 0x4d, 0x0d, 0x0a, 0x1a]);
export const BODY_MODEL_FORMAT_VERSION = 1;
const PREAMBLE_BYTES = 16;
const CHECKSUM_BYTES = 32;
const ALIGN = 16;

export type StoredDtype = 'f4' | 'f8' | 'i4' | 'u4' | 'u1';
const DTYPE_BYTES: Record<StoredDtype, number> = { f4: 4, f8: 8, i4: 4, u4: 4, u1: 1 };

interface ArrayEntry {
  key: string;
  dtype: StoredDtype;
  shape: number[];
  offset: number;
  byteLength: number;
}

interface Header {
  format: 'nbf-body-model';
  name: string;
  licence: string;
  units: 'm';
  vertexCount: number;
  jointCount: number;
  shapeCount: number;
  poseFeatureCount: number;
  influences: number;
  jointNames: string[];
  metadata: Record<string, string>;
  dataByteLength: number;
  arrays: ArrayEntry[];
}

export interface EncodeOptions {
  /**
   * Storage of the real-valued arrays: 'f4' (default; what the GPU uses, half the size) or 'f8'
   * (bit-exact round trip of a float64 model).
   */
  floatType?: 'f4' | 'f8';
}

/** True when `bytes` starts with the .nbfm magic. */
export function isBodyModelFile(bytes: Uint8Array): boolean {
  if (bytes.length < BODY_MODEL_MAGIC.length) return false;
  return BODY_MODEL_MAGIC.every((b, i) => bytes[i] === b);
}

const alignUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** Serialises a (valid) body model. Validates first, so a broken model never reaches a file. */
export function encodeBodyModel(model: BodyModel, options: EncodeOptions = {}): Uint8Array {
  validateBodyModel(model, model.name || '<model>');
  const floatType = options.floatType ?? 'f4';
  const V = model.vertexCount;
  const J = model.jointCount;
  const K = model.skin.influences;
  const arrays: Array<{ key: string; dtype: StoredDtype; shape: number[]; data: ArrayLike<number> }> = [
    { key: 'vTemplate', dtype: floatType, shape: [V, 3], data: model.vTemplate },
    { key: 'shapedirs', dtype: floatType, shape: [V, 3, model.shapeCount], data: model.shapedirs },
    { key: 'jRegressor.rowStart', dtype: 'i4', shape: [J + 1], data: model.jRegressor.rowStart },
    { key: 'jRegressor.colIndex', dtype: 'i4', shape: [model.jRegressor.colIndex.length], data: model.jRegressor.colIndex },
    { key: 'jRegressor.values', dtype: floatType, shape: [model.jRegressor.values.length], data: model.jRegressor.values },
    { key: 'skin.joints', dtype: 'i4', shape: [V, K], data: model.skin.joints },
    { key: 'skin.weights', dtype: floatType, shape: [V, K], data: model.skin.weights },
    { key: 'parents', dtype: 'i4', shape: [J], data: model.parents },
    { key: 'faces', dtype: 'u4', shape: [model.faces.length / 3, 3], data: model.faces },
    { key: 'parts24', dtype: 'u1', shape: [V], data: model.parts24 },
    { key: 'parts12', dtype: 'u1', shape: [V], data: model.parts12 },
  ];
  if (model.posedirs) arrays.splice(2, 0, { key: 'posedirs', dtype: floatType, shape: [V, 3, model.poseFeatureCount], data: model.posedirs });

  const entries: ArrayEntry[] = [];
  let dataByteLength = 0;
  for (const a of arrays) {
    const byteLength = a.data.length * DTYPE_BYTES[a.dtype];
    entries.push({ key: a.key, dtype: a.dtype, shape: a.shape, offset: dataByteLength, byteLength });
    dataByteLength = alignUp(dataByteLength + byteLength);
  }
  const header: Header = {
    format: 'nbf-body-model',
    name: model.name,
    licence: model.licence,
    units: 'm',
    vertexCount: V,
    jointCount: J,
    shapeCount: model.shapeCount,
    poseFeatureCount: model.poseFeatureCount,
    influences: K,
    jointNames: [...model.jointNames],
    metadata: { ...model.metadata },
    dataByteLength,
    arrays: entries,
  };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = alignUp(PREAMBLE_BYTES + json.length) - PREAMBLE_BYTES;
  const dataStart = PREAMBLE_BYTES + headerBytes;
  const total = dataStart + dataByteLength + CHECKSUM_BYTES;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(BODY_MODEL_MAGIC, 0);
  view.setUint32(8, BODY_MODEL_FORMAT_VERSION, true);
  view.setUint32(12, headerBytes, true);
  out.set(json, PREAMBLE_BYTES);
  out.fill(0x20, PREAMBLE_BYTES + json.length, dataStart);
  for (let i = 0; i < arrays.length; i++) {
    const { data, dtype } = arrays[i];
    let p = dataStart + entries[i].offset;
    const size = DTYPE_BYTES[dtype];
    for (let k = 0; k < data.length; k++, p += size) {
      const x = data[k];
      switch (dtype) {
        case 'f4': view.setFloat32(p, x, true); break;
        case 'f8': view.setFloat64(p, x, true); break;
        case 'i4': view.setInt32(p, x, true); break;
        case 'u4': view.setUint32(p, x, true); break;
        case 'u1': out[p] = x; break;
      }
    }
  }
  out.set(sha256(out.subarray(0, total - CHECKSUM_BYTES)), total - CHECKSUM_BYTES);
  return out;
}

/** Parses and validates a .nbfm file. `source` (a file name) is quoted in every error. */
export function decodeBodyModel(bytes: Uint8Array, source = '<bytes>'): BodyModel {
  const bad = (problem: string): never => {
    throw new FileFormatError(`${source}: ${problem}`);
  };
  if (!isBodyModelFile(bytes)) bad('not an nbf body-model (.nbfm) file (wrong magic bytes)');
  if (bytes.length < PREAMBLE_BYTES + CHECKSUM_BYTES) bad(`truncated: ${bytes.length} bytes is shorter than the smallest .nbfm file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== BODY_MODEL_FORMAT_VERSION) bad(`format version ${version} is not supported (this build reads version ${BODY_MODEL_FORMAT_VERSION})`);
  const headerBytes = view.getUint32(12, true);
  const dataStart = PREAMBLE_BYTES + headerBytes;
  if (dataStart + CHECKSUM_BYTES > bytes.length) bad(`truncated: the header claims ${headerBytes} bytes but the file has ${bytes.length}`);
  let header: Header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE_BYTES, dataStart))) as Header;
  } catch (e) {
    return bad(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || header.format !== 'nbf-body-model' || !Array.isArray(header.arrays)) {
    bad('header is not an nbf-body-model header');
  }
  const expectedTotal = dataStart + header.dataByteLength + CHECKSUM_BYTES;
  if (bytes.length < expectedTotal) bad(`truncated: ${bytes.length} bytes, the header describes ${expectedTotal}`);
  if (bytes.length > expectedTotal) bad(`${bytes.length - expectedTotal} unexpected bytes after the end of the model`);
  const stored = bytes.subarray(expectedTotal - CHECKSUM_BYTES);
  const actual = sha256(bytes.subarray(0, expectedTotal - CHECKSUM_BYTES));
  if (!actual.every((b, i) => b === stored[i])) bad('checksum mismatch: the file is corrupt');

  const byKey = new Map<string, ArrayEntry>();
  for (const e of header.arrays) byKey.set(e.key, e);
  const read = (key: string, dtypes: StoredDtype[], shape: number[], optional = false): Float64Array | null => {
    const e = byKey.get(key);
    if (!e) return optional ? null : bad(`array "${key}" is missing`);
    if (!dtypes.includes(e.dtype)) bad(`array "${key}" has dtype ${e.dtype}, expected one of ${dtypes.join(', ')}`);
    if (!Array.isArray(e.shape) || e.shape.length !== shape.length || e.shape.some((d, i) => d !== shape[i] && shape[i] >= 0)) {
      bad(`array "${key}" has shape [${e.shape}], expected [${shape.map((d) => (d < 0 ? '?' : d))}]`);
    }
    const count = e.shape.reduce((a, b) => a * b, 1);
    const size = DTYPE_BYTES[e.dtype];
    if (e.byteLength !== count * size) bad(`array "${key}" has ${e.byteLength} bytes, its shape needs ${count * size}`);
    if (e.offset % ALIGN !== 0 || e.offset < 0 || e.offset + e.byteLength > header.dataByteLength) {
      bad(`array "${key}" lies outside the data section (offset ${e.offset}, ${e.byteLength} bytes)`);
    }
    const out = new Float64Array(count);
    let p = dataStart + e.offset;
    for (let i = 0; i < count; i++, p += size) {
      switch (e.dtype) {
        case 'f4': out[i] = view.getFloat32(p, true); break;
        case 'f8': out[i] = view.getFloat64(p, true); break;
        case 'i4': out[i] = view.getInt32(p, true); break;
        case 'u4': out[i] = view.getUint32(p, true); break;
        case 'u1': out[i] = bytes[p]; break;
      }
    }
    return out;
  };
  const V = header.vertexCount;
  const J = header.jointCount;
  const B = header.shapeCount;
  const P = header.poseFeatureCount;
  const K = header.influences;
  for (const [k, n] of Object.entries({ vertexCount: V, jointCount: J, shapeCount: B, poseFeatureCount: P, influences: K })) {
    if (!Number.isInteger(n) || n < 0) bad(`header field "${k}" must be a non-negative integer, got ${JSON.stringify(n)}`);
  }
  const floats: StoredDtype[] = ['f4', 'f8'];
  const posedirs = read('posedirs', floats, [V, 3, P], true);
  const colIndex = read('jRegressor.colIndex', ['i4'], [-1])!;
  const faces = read('faces', ['u4'], [-1, 3])!;
  const model: BodyModel = {
    name: String(header.name),
    licence: String(header.licence),
    units: header.units,
    vertexCount: V,
    jointCount: J,
    shapeCount: B,
    poseFeatureCount: P,
    vTemplate: read('vTemplate', floats, [V, 3])!,
    shapedirs: read('shapedirs', floats, [V, 3, B])!,
    posedirs,
    jRegressor: {
      rows: J,
      cols: V,
      rowStart: Int32Array.from(read('jRegressor.rowStart', ['i4'], [J + 1])!),
      colIndex: Int32Array.from(colIndex),
      values: read('jRegressor.values', floats, [colIndex.length])!,
    },
    skin: {
      influences: K,
      joints: Int32Array.from(read('skin.joints', ['i4'], [V, K])!),
      weights: read('skin.weights', floats, [V, K])!,
    },
    parents: Int32Array.from(read('parents', ['i4'], [J])!),
    faces: Uint32Array.from(faces),
    jointNames: Array.isArray(header.jointNames) ? header.jointNames.map(String) : bad('header field "jointNames" must be a list'),
    parts24: Uint8Array.from(read('parts24', ['u1'], [V])!),
    parts12: Uint8Array.from(read('parts12', ['u1'], [V])!),
    metadata: header.metadata && typeof header.metadata === 'object' ? { ...header.metadata } : {},
  };
  return validateBodyModel(model, source);
}
