/**
 * Named parameter store: creates parameters with seeded initialisers, hands them to valueAndGrad as a
 * plain object, takes updated tensors from optimizers (all of which TensorStore, tensor-store.ts,
 * does), and saves/loads them (src/nn/param-format.ts).
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { checkShape } from '../runtime/layout.js';
import { describeShape as describe, TensorStore } from './tensor-store.js';
import { Rng } from '../util/random.js';
import { decodeParamFile, encodeParamFile, ParamFormatError, type NamedArray, type ParamDtype } from './param-format.js';

/**
 * How a parameter starts. Fans follow the HWIO / [in, out] convention: the last dimension is the
 * output, fanIn = product of the others, fanOut = (product of all but the last two) · last.
 *   he      normal(0, √(2/fanIn))              — ReLU networks (He et al. 2015)
 *   xavier  uniform(±√(6/(fanIn+fanOut)))      — Glorot & Bengio 2010
 *   normal  normal(mean, std)
 *   uniform uniform(lo, hi)
 *   zeros, ones, constant(value)
 */
export type Initializer =
  | 'he' | 'xavier' | 'zeros' | 'ones'
  | { kind: 'he' | 'xavier'; fanIn?: number; fanOut?: number }
  | { kind: 'normal'; std: number; mean?: number }
  | { kind: 'uniform'; lo: number; hi: number }
  | { kind: 'constant'; value: number };

export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length === 0) return { fanIn: 1, fanOut: 1 };
  if (shape.length === 1) return { fanIn: shape[0], fanOut: shape[0] };
  const out = shape[shape.length - 1];
  const fanIn = shape.slice(0, -1).reduce((p, d) => p * d, 1);
  const receptive = shape.slice(0, -2).reduce((p, d) => p * d, 1);
  return { fanIn, fanOut: receptive * out };
}

/** Initial values of a parameter, drawn from `rng` (deterministic for a seed). */
export function initialValues(shape: readonly number[], init: Initializer, rng: Rng): Float32Array {
  const size = shape.reduce((p, d) => p * d, 1);
  const out = new Float32Array(size);
  const spec = typeof init === 'string' ? { kind: init } : init;
  const f = fans(shape);
  switch (spec.kind) {
    case 'zeros': return out;
    case 'ones': return out.fill(1);
    case 'constant': return out.fill(spec.value);
    case 'he': {
      const std = Math.sqrt(2 / ('fanIn' in spec && spec.fanIn ? spec.fanIn : f.fanIn));
      for (let i = 0; i < size; i++) out[i] = rng.normal(0, std);
      return out;
    }
    case 'xavier': {
      const fanIn = 'fanIn' in spec && spec.fanIn ? spec.fanIn : f.fanIn;
      const fanOut = 'fanOut' in spec && spec.fanOut ? spec.fanOut : f.fanOut;
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) out[i] = rng.uniform(-limit, limit);
      return out;
    }
    case 'normal': {
      if (!(spec.std >= 0)) throw new NbfError(`normal initialiser: std must be ≥ 0, got ${spec.std}`);
      for (let i = 0; i < size; i++) out[i] = rng.normal(spec.mean ?? 0, spec.std);
      return out;
    }
    case 'uniform':
      for (let i = 0; i < size; i++) out[i] = rng.uniform(spec.lo, spec.hi);
      return out;
    default:
      throw new NbfError(`unknown initialiser ${JSON.stringify(init)} (he, xavier, normal, uniform, zeros, ones, constant)`);
  }
}

export class ParamStore extends TensorStore {
  /** The generator initialisers draw from; its state goes into checkpoints. */
  readonly rng: Rng;

  constructor(runtime: Runtime, options: { seed?: number; rng?: Rng } = {}) {
    super(runtime);
    this.rng = options.rng ?? new Rng(options.seed ?? 0);
  }

  /** Creates parameter `name` (which must be new) of `shape`, initialised by `init`. */
  create(name: string, shape: readonly number[], init: Initializer): Tensor {
    if (this.tensors.has(name)) throw new NbfError(`parameter "${name}" already exists`);
    checkShape(shape, `shape of parameter "${name}"`);
    return this.add(name, this.runtime.tensor(initialValues(shape, init, this.rng), shape));
  }

  /** The store as a parameter file (reads every parameter back from the GPU). */
  save(options: { dtype?: ParamDtype; meta?: unknown } = {}): Uint8Array {
    return encodeParamFile(this.readAll(), options);
  }

  /**
   * Loads a parameter file. An empty store takes every parameter in the file; otherwise the file must
   * hold exactly the store's names and shapes. The file is fully checked first: on any error nothing
   * changes.
   */
  load(bytes: Uint8Array, what = 'parameter file'): void {
    const file = decodeParamFile(bytes, what);
    this.assign(file.entries, what);
  }

  /** Checks that `entries` match this store (names and shapes) without changing anything. */
  validate(entries: readonly { name: string; shape: readonly number[] }[], what = 'parameter file'): void {
    if (this.tensors.size === 0) return;
    const fileNames = new Set(entries.map((e) => e.name));
    const missing = [...this.tensors.keys()].filter((n) => !fileNames.has(n));
    const unknown = entries.map((e) => e.name).filter((n) => !this.tensors.has(n));
    if (missing.length || unknown.length) {
      throw new ParamFormatError(`${what} does not match the model: missing ${missing.map((n) => `"${n}"`).join(', ') || 'none'}; unknown ${unknown.map((n) => `"${n}"`).join(', ') || 'none'}`);
    }
    for (const e of entries) {
      const t = this.tensors.get(e.name)!;
      if (t.rank !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
        throw new ParamFormatError(`${what}: parameter "${e.name}" has shape ${describe(e.shape)} in the file but ${describe(t.shape)} in the model`);
      }
    }
  }

  /** Replaces every parameter with the given values, all or nothing. */
  assign(entries: readonly NamedArray[], what = 'parameter file'): void {
    this.validate(entries, what);
    const uploaded: [string, Tensor][] = [];
    try {
      for (const e of entries) uploaded.push([e.name, this.runtime.keep(this.runtime.tensor(e.data, e.shape))]);
    } catch (err) {
      for (const [, t] of uploaded) t.dispose();
      throw err;
    }
    for (const [name, t] of uploaded) {
      this.tensors.get(name)?.dispose();
      this.tensors.set(name, t);
    }
  }
}
