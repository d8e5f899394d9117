/**
 * Recorded detections: what a real landmark detector (BlazePose) found on rendered synthetic people,
 * so that the landmark fitter can train on the detector's own mistakes on renders beside the modelled
 * ones (synth/landmark-noise.ts). scripts/detect-renders.ts renders examples start … start + count − 1
 * of a seed, runs the detector on each picture and writes one file; fitter-data.ts draws the same
 * bodies again (example i of a seed is always the same body, at any picture size) and reads the
 * recorded joints as the "landmarks" input.
 *
 * File (little-endian): "NBFDET1\n", u32 header length, header JSON (DetectionHeader), padding to a
 * multiple of 4 bytes, then `count` records of RECORD_FLOATS float32: found (1 or 0), 24 × (x, y) body
 * joints in the S×S picture's pixels (to-body-joints.ts; 0 where no landmark gives the joint), 24
 * visibilities.
 */
import { NbfError } from '../runtime/errors.js';
import { HEATMAP_JOINTS } from '../nn/fitter-inputs.js';

const MAGIC = 'NBFDET1\n';
export const RECORD_FLOATS = 1 + HEATMAP_JOINTS * 3;

export interface DetectionHeader {
  format: 'nbf-detections';
  /** Run seed of the rendered examples. */
  seed: number;
  /** Index of the first example. */
  start: number;
  /** Side of the square pictures the detector read (pixels). */
  size: number;
  /** Which detector (e.g. "blazepose-full"). */
  detector: string;
  /** How the pictures were drawn (backgrounds, photo fraction, sampler options): for the record. */
  pictures: Record<string, unknown>;
}

export interface DetectionCache extends DetectionHeader {
  /** Examples recorded so far. */
  count: number;
  /** count × RECORD_FLOATS. */
  records: Float32Array;
}

export function encodeDetections(cache: DetectionCache): Uint8Array {
  if (cache.records.length !== cache.count * RECORD_FLOATS) throw new NbfError(`detections: ${cache.records.length} floats for ${cache.count} records (want ${cache.count * RECORD_FLOATS})`);
  const { records, count, ...header } = cache;
  const json = new TextEncoder().encode(JSON.stringify({ ...header, count }));
  const headerEnd = MAGIC.length + 4 + json.length;
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const bytes = new Uint8Array(dataStart + records.byteLength);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(MAGIC.length, json.length, true);
  bytes.set(json, MAGIC.length + 4);
  bytes.fill(0x20, headerEnd, dataStart);
  bytes.set(new Uint8Array(records.buffer, records.byteOffset, records.byteLength), dataStart);
  return bytes;
}

export function decodeDetections(bytes: Uint8Array, name: string): DetectionCache {
  const bad = (why: string) => new NbfError(`${name}: not a detections file (${why}); write one with scripts/detect-renders.ts`);
  if (bytes.length < MAGIC.length + 4 || new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC) throw bad('wrong magic');
  const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(MAGIC.length, true);
  const headerEnd = MAGIC.length + 4 + length;
  if (headerEnd > bytes.length) throw bad(`header of ${length} bytes past the end of the file`);
  let header: DetectionHeader & { count: number };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, headerEnd)));
  } catch (e) {
    throw bad(`header is not JSON: ${(e as Error).message}`);
  }
  if (header.format !== 'nbf-detections') throw bad(`format "${String(header.format)}"`);
  for (const key of ['seed', 'start', 'size', 'count'] as const) {
    if (!Number.isInteger(header[key]) || header[key] < 0) throw bad(`header key "${key}" is ${JSON.stringify(header[key])}, want an integer ≥ 0`);
  }
  const dataStart = Math.ceil(headerEnd / 4) * 4;
  const want = header.count * RECORD_FLOATS * 4;
  if (bytes.length - dataStart !== want) throw new NbfError(`${name}: ${bytes.length - dataStart} bytes of records for ${header.count} records (want ${want}): the file is cut short or damaged`);
  const records = new Float32Array(header.count * RECORD_FLOATS);
  new Uint8Array(records.buffer).set(bytes.subarray(dataStart));
  return { ...header, records };
}

/** Record `i` (0-based within the cache) as the detector's joints, or null where it found no one. */
export function recordedJoints(cache: DetectionCache, i: number): { joints2d: Float32Array; visibility: Float32Array } | null {
  if (!(i >= 0 && i < cache.count)) throw new NbfError(`detections: record ${i} of ${cache.count}`);
  const r = cache.records.subarray(i * RECORD_FLOATS, (i + 1) * RECORD_FLOATS);
  if (r[0] !== 1) return null;
  return { joints2d: r.subarray(1, 1 + 2 * HEATMAP_JOINTS), visibility: r.subarray(1 + 2 * HEATMAP_JOINTS) };
}

/**
 * One file of several recorded over adjoining ranges of the same seed (e.g. by two processes side by
 * side: BlazePose leaves part of the two cores idle, so two run nearly twice as fast as one).
 */
export function mergeDetections(parts: readonly DetectionCache[]): DetectionCache {
  if (!parts.length) throw new NbfError('detections: nothing to merge');
  const sorted = [...parts].sort((a, b) => a.start - b.start);
  const first = sorted[0];
  let end = first.start;
  for (const p of sorted) {
    for (const key of ['seed', 'size', 'detector'] as const) {
      if (p[key] !== first[key]) throw new NbfError(`detections: cannot merge files of ${key} ${first[key]} and ${p[key]}`);
    }
    if (p.start !== end) throw new NbfError(`detections: the files leave examples ${end}…${p.start - 1} out (or overlap); merge adjoining ranges`);
    end = p.start + p.count;
  }
  const records = new Float32Array((end - first.start) * RECORD_FLOATS);
  for (const p of sorted) records.set(p.records, (p.start - first.start) * RECORD_FLOATS);
  return { ...first, count: end - first.start, records };
}
