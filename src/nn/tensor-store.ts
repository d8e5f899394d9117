/**
 * Named tensors that a caller replaces step by step (an optimizer swaps each for its next value):
 * the part of ParamStore (params.ts) that refinement needs. ParamStore adds seeded initialisers and
 * parameter files; they stay out of this file so that code using only this one (pipeline/refine.ts)
 * does not bring them along — in the split browser bundle, into every page (docs/performance.md).
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import type { NamedArray } from './param-format.js';

export function describeShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export class TensorStore {
  protected readonly tensors = new Map<string, Tensor>();

  constructor(readonly runtime: Runtime) {}

  /** Adds `value` under `name` (which must be new); the store takes ownership. */
  add(name: string, value: Tensor): Tensor {
    if (this.tensors.has(name)) throw new NbfError(`parameter "${name}" already exists`);
    this.tensors.set(name, this.runtime.keep(value));
    return value;
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  get(name: string): Tensor {
    const t = this.tensors.get(name);
    if (!t) throw new NbfError(`no parameter named "${name}" (have: ${[...this.tensors.keys()].join(', ') || 'none'})`);
    return t;
  }

  /** Replaces a parameter's tensor (same shape), freeing the old one; the store takes ownership. */
  set(name: string, value: Tensor): void {
    const old = this.get(name);
    if (old.rank !== value.rank || old.shape.some((d, i) => d !== value.shape[i])) {
      throw new ShapeError(`parameter "${name}" has shape ${describeShape(old.shape)}; cannot set a ${describeShape(value.shape)} tensor`);
    }
    if (old === value) return;
    this.tensors.set(name, this.runtime.keep(value));
    old.dispose();
  }

  names(): string[] {
    return [...this.tensors.keys()];
  }

  get size(): number {
    return this.tensors.size;
  }

  /** The parameters as a plain object (for valueAndGrad and optimizers); a snapshot, not live. */
  toRecord(): Record<string, Tensor> {
    return Object.fromEntries(this.tensors);
  }

  /** Number of scalar values over all parameters. */
  countValues(): number {
    let n = 0;
    for (const t of this.tensors.values()) n += t.size;
    return n;
  }

  /** Downloads every parameter (blocking). */
  readAll(): NamedArray[] {
    return [...this.tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: t.readSync() }));
  }

  /** Frees every parameter. */
  dispose(): void {
    for (const t of this.tensors.values()) t.dispose();
    this.tensors.clear();
  }
}
