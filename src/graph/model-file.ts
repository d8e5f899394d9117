/**
 * A TensorFlow.js graph model as it lies on disk: `model.json` (the graph's nodes, their attributes,
 * the signature and a weights manifest) and binary weight shards. This module reads and checks the
 * JSON and decodes the weights into plain typed arrays; it knows nothing of the GPU.
 *
 * Weight storage (tfjs-converter's manifest): the shards of all groups, concatenated in manifest
 * order, hold every weight's bytes back to back. A weight is float32, int32 or bool as stored, or
 * quantised: `quantization.dtype` float16 (IEEE half), uint8 or uint16 (value = min + q · scale).
 */
import { NbfError } from '../runtime/errors.js';

/** A graph model could not be read or run: the message names the file, node, op or weight. */
export class GraphModelError extends NbfError {}

export interface AttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  shape?: { dim?: { size: string | number }[]; unknownRank?: boolean };
  tensor?: { dtype?: string; tensorShape?: { dim?: { size: string | number }[] } };
  list?: { s?: string[]; i?: (string | number)[]; f?: number[]; b?: boolean[]; type?: string[] };
  func?: unknown;
}

export interface NodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
  device?: string;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number; original_dtype?: string };
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

export interface TensorInfo {
  name: string;
  dtype?: string;
  tensorShape?: { dim?: { size: string | number }[] };
}

export interface GraphModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node: NodeDef[]; library?: unknown; versions?: unknown };
  weightsManifest: WeightGroup[];
  signature?: { inputs?: Record<string, TensorInfo>; outputs?: Record<string, TensorInfo> };
}

/** A constant known on the CPU: a weight, or the result of folding shape arithmetic. */
export interface HostTensor {
  dtype: 'float32' | 'int32' | 'bool';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Checks the parts of model.json that running it needs; `source` names the file in errors. */
export function parseModelJson(text: string | object, source: string): GraphModelJson {
  let json: unknown;
  if (typeof text === 'string') {
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new GraphModelError(`${source}: not valid JSON (${(e as Error).message})`);
    }
  } else {
    json = text;
  }
  const m = json as Partial<GraphModelJson>;
  if (!m || typeof m !== 'object') throw new GraphModelError(`${source}: not a TF.js model (expected a JSON object)`);
  if (m.format !== undefined && m.format !== 'graph-model') {
    throw new GraphModelError(`${source}: format "${m.format}" is not a TF.js graph model (layers models are not supported; convert with tensorflowjs_converter --output_format tfjs_graph_model)`);
  }
  if (!m.modelTopology || !Array.isArray(m.modelTopology.node)) throw new GraphModelError(`${source}: modelTopology.node is missing; not a TF.js graph model`);
  if (!Array.isArray(m.weightsManifest)) throw new GraphModelError(`${source}: weightsManifest is missing`);
  for (const [i, node] of m.modelTopology.node.entries()) {
    if (!node || typeof node.name !== 'string' || typeof node.op !== 'string') throw new GraphModelError(`${source}: node ${i} has no name or op`);
  }
  for (const group of m.weightsManifest) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) throw new GraphModelError(`${source}: a weightsManifest group lacks paths or weights`);
    for (const w of group.weights) {
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || typeof w.dtype !== 'string') {
        throw new GraphModelError(`${source}: weight ${JSON.stringify(w?.name)} lacks a name, shape or dtype in the manifest`);
      }
    }
  }
  return m as GraphModelJson;
}

/** Every shard path of the manifest, in the order their bytes concatenate. */
export function shardPaths(model: GraphModelJson): string[] {
  return model.weightsManifest.flatMap((g) => g.paths);
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, float16: 2, uint8: 1, uint16: 2 };

/**
 * Decodes every weight of the manifest from the shards' bytes (in `shardPaths` order). A shard that
 * is too short or too long for the manifest is an error naming the weight or the shard.
 */
export function decodeWeights(model: GraphModelJson, shards: readonly Uint8Array[], source: string): Map<string, HostTensor> {
  const paths = shardPaths(model);
  if (shards.length !== paths.length) throw new GraphModelError(`${source}: the manifest names ${paths.length} weight shard(s), got ${shards.length}`);
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const b of shards) {
    all.set(b, at);
    at += b.byteLength;
  }
  const view = new DataView(all.buffer, all.byteOffset, all.byteLength);
  const out = new Map<string, HostTensor>();
  let offset = 0;
  const shardOf = (byte: number) => {
    let end = 0;
    for (let i = 0; i < shards.length; i++) {
      end += shards[i].byteLength;
      if (byte < end) return paths[i];
    }
    return paths[paths.length - 1] ?? '(no shard)';
  };
  for (const group of model.weightsManifest) {
    for (const spec of group.weights) {
      const count = spec.shape.reduce((p, d) => p * d, 1);
      if (!spec.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new GraphModelError(`${source}: weight "${spec.name}" has shape [${spec.shape.join(', ')}]`);
      const q = spec.quantization;
      const stored = q ? q.dtype : spec.dtype;
      const size = BYTES[stored];
      if (size === undefined) throw new GraphModelError(`${source}: weight "${spec.name}" is stored as ${stored}; supported: float32, int32, bool, float16, uint8, uint16`);
      if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') {
        throw new GraphModelError(`${source}: weight "${spec.name}" has dtype ${spec.dtype}; supported: float32, int32, bool`);
      }
      const bytes = count * size;
      if (offset + bytes > total) {
        throw new GraphModelError(`${source}: the weight shards end (${total} bytes) inside weight "${spec.name}" (needs bytes ${offset}–${offset + bytes} of ${shardOf(Math.min(offset, total - 1))}); the file is truncated or does not match the manifest`);
      }
      const integer = spec.dtype !== 'float32';
      const data = integer ? new Int32Array(count) : new Float32Array(count);
      if (!q) {
        if (stored === 'float32') for (let k = 0; k < count; k++) data[k] = view.getFloat32(offset + 4 * k, true);
        else if (stored === 'int32') for (let k = 0; k < count; k++) data[k] = view.getInt32(offset + 4 * k, true);
        else for (let k = 0; k < count; k++) data[k] = all[offset + k] ? 1 : 0;
      } else if (stored === 'float16') {
        for (let k = 0; k < count; k++) data[k] = halfToFloat(view.getUint16(offset + 2 * k, true));
      } else {
        const min = q.min ?? 0;
        const scale = q.scale ?? 1;
        for (let k = 0; k < count; k++) {
          const v = stored === 'uint8' ? all[offset + k] : view.getUint16(offset + 2 * k, true);
          data[k] = integer ? Math.round(min + v * scale) : min + v * scale;
        }
      }
      out.set(spec.name, { dtype: spec.dtype as HostTensor['dtype'], shape: spec.shape.slice(), data });
      offset += bytes;
    }
  }
  if (offset !== total) throw new GraphModelError(`${source}: the weight shards hold ${total} bytes but the manifest describes ${offset}; the files do not match the manifest`);
  return out;
}

/** IEEE 754 half → float. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** base64 → text (attribute strings are base64 in model.json), without Node's Buffer. */
export function decodeAttrString(b64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const ch of b64) {
    if (ch === '=') break;
    const v = alphabet.indexOf(ch);
    if (v < 0) continue;
    value = (value << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += String.fromCharCode((value >> bits) & 0xff);
    }
  }
  return out;
}

/** Typed access to one node's attributes, with errors that name the node. */
export class Attrs {
  constructor(private readonly node: NodeDef, private readonly source: string) {}

  private get(key: string): AttrValue | undefined {
    return this.node.attr?.[key];
  }

  fail(message: string): never {
    throw new GraphModelError(`${this.source}: node "${this.node.name}" (${this.node.op}): ${message}`);
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  string(key: string, fallback?: string): string {
    const a = this.get(key);
    if (a?.s !== undefined) return decodeAttrString(a.s);
    if (fallback !== undefined) return fallback;
    return this.fail(`attribute "${key}" is missing`);
  }

  int(key: string, fallback?: number): number {
    const a = this.get(key);
    if (a?.i !== undefined) return Number(a.i);
    if (fallback !== undefined) return fallback;
    return this.fail(`attribute "${key}" is missing`);
  }

  float(key: string, fallback?: number): number {
    const a = this.get(key);
    if (a?.f !== undefined) return Number(a.f);
    if (fallback !== undefined) return fallback;
    return this.fail(`attribute "${key}" is missing`);
  }

  bool(key: string, fallback: boolean): boolean {
    const a = this.get(key);
    return a?.b !== undefined ? !!a.b : fallback;
  }

  ints(key: string, fallback?: number[]): number[] {
    const a = this.get(key);
    if (a?.list) return (a.list.i ?? []).map(Number);
    if (fallback !== undefined) return fallback;
    return this.fail(`attribute "${key}" is missing`);
  }

  strings(key: string): string[] {
    return (this.get(key)?.list?.s ?? []).map(decodeAttrString);
  }
}
