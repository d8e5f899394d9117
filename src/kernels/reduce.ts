/**
 * Reductions sum, mean, max, min over any set of axes (shaders/reduce_rows.glsl,
 * shaders/reduce_segments.glsl). CPU reference: reduce.ref.ts. Pass structure: docs/kernels/reduce.md.
 *
 * The reduced axes are split into runs of adjacent axes. A run that leaves the last axis alone is
 * reduced texel-wise (reduce_rows: X viewed as [O, R, I, C]); the run that ends at the last axis
 * (reduce_segments) comes last, because its output no longer has whole channel texels. Each run is a
 * tree of passes: one pass combines at most REDUCE_BLOCK texels per output, producing partials that
 * the next pass combines, so no fragment loops over a long reduction and float32 sums are blocked
 * (error grows with REDUCE_BLOCK · passes, not with the element count).
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { normalizeAxes, product } from './transpose.js';

export type ReduceOp = 'sum' | 'mean' | 'max' | 'min';
const KERNEL_OP = { sum: 0, mean: 0, max: 1, min: 2 } as const;

/** Texels (reduce_segments) or rows (reduce_rows) one fragment combines per pass. */
export const REDUCE_BLOCK = 32;

export type Axes = number | readonly number[] | null | undefined;

/** Output shape of a reduction; axes already normalised. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepDims: boolean): number[] {
  const reduced = new Set(axes);
  return keepDims ? shape.map((d, i) => (reduced.has(i) ? 1 : d)) : shape.filter((_, i) => !reduced.has(i));
}

/** Maximal runs [first, last] of adjacent axes in a sorted axis list. */
export function axisRuns(axes: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (const a of axes) {
    const run = runs[runs.length - 1];
    if (run && run[1] === a - 1) run[1] = a;
    else runs.push([a, a]);
  }
  return runs;
}

/**
 * Reduces x over `axes` (a number, a list, or undefined/null for every axis; negative axes count from
 * the end) with op; keepDims leaves the reduced dims as 1.
 */
export function reduce(op: ReduceOp, x: Tensor, axes?: Axes, keepDims = false): Tensor {
  if (!Object.hasOwn(KERNEL_OP, op)) throw new NbfError(`unknown reduction "${String(op)}" (sum, mean, max, min)`);
  const resolved = normalizeAxes(axes, x.shape, op);
  const finalShape = reducedShape(x.shape, resolved, keepDims);
  if (resolved.length === 0) return x.runtime.view(x, finalShape);
  const count = resolved.reduce((n, a) => n * x.shape[a], 1);
  const runs = axisRuns(resolved);
  const channelRun = runs[runs.length - 1][1] === x.rank - 1 ? runs.pop()! : null;
  const chain = new PassChain(x, KERNEL_OP[op], op === 'mean' ? 1 / count : 1);
  try {
    runs.forEach((run, i) => reduceRowRun(chain, run, !channelRun && i === runs.length - 1 ? finalShape : null));
    if (channelRun) reduceChannelRun(chain, channelRun[0], finalShape);
  } catch (e) {
    chain.disposeIntermediate();
    throw e;
  }
  return chain.current;
}

/** The tensor a reduction has reached, its dims (reduced dims set to 1) and the passes' settings. */
class PassChain {
  current: Tensor;
  readonly dims: number[];
  constructor(readonly input: Tensor, readonly opCode: number, readonly lastScale: number) {
    this.current = input;
    this.dims = [...input.shape];
  }
  /** Runs one pass on the current tensor; the previous intermediate is freed. */
  pass(kernel: string, uniforms: Record<string, number>, outShape: readonly number[]): void {
    const next = this.input.runtime.run({ kernel, defines: { OP: this.opCode }, inputs: { X: this.current }, uniforms, outShape });
    this.disposeIntermediate();
    this.current = next;
  }
  disposeIntermediate(): void {
    if (this.current !== this.input) this.current.dispose();
  }
}

/**
 * Reduces dims first..last (not the last dim) texel-wise: X viewed as [O, R, I, C], a tree of
 * reduce_rows passes. `finalShape` is given when this is the reduction's last run.
 */
function reduceRowRun(chain: PassChain, [first, last]: [number, number], finalShape: readonly number[] | null): void {
  const dims = chain.dims;
  const rank = dims.length;
  const outer = product(dims, 0, first);
  const inner = product(dims, last + 1, rank - 1);
  const channels = dims[rank - 1];
  let reduceSize = product(dims, first, last + 1);
  for (let i = first; i <= last; i++) dims[i] = 1;
  do {
    const partials = Math.ceil(reduceSize / REDUCE_BLOCK);
    const done = partials === 1;
    const outShape = !done ? [outer, partials, inner, channels] : finalShape ?? [...dims];
    chain.pass('reduce_rows', {
      u_channels: channels, u_reduceSize: reduceSize, u_inner: inner, u_partials: partials,
      u_block: REDUCE_BLOCK, u_scale: done && finalShape ? chain.lastScale : 1,
    }, outShape);
    reduceSize = partials;
  } while (reduceSize > 1);
}

/**
 * Reduces dims first..rank−1 (the run ending at the last dim): each output reduces a contiguous
 * segment of texels; a tree of reduce_segments passes whose last one writes the final shape.
 */
function reduceChannelRun(chain: PassChain, first: number, finalShape: readonly number[]): void {
  const dims = chain.dims;
  const rank = dims.length;
  const outer = product(dims, 0, first);
  let inChannels = dims[rank - 1];
  let segmentTexels = product(dims, first, rank - 1) * Math.ceil(inChannels / 4);
  for (;;) {
    const partials = Math.ceil(segmentTexels / REDUCE_BLOCK);
    const done = partials === 1;
    const outShape = done ? finalShape : [outer, partials];
    chain.pass('reduce_segments', {
      u_inChannels: inChannels, u_segmentTexels: segmentTexels, u_partials: partials, u_block: REDUCE_BLOCK,
      u_outChannels: outShape.length ? outShape[outShape.length - 1] : 1, u_scale: done ? chain.lastScale : 1,
    }, outShape);
    if (done) return;
    inChannels = partials;
    segmentTexels = Math.ceil(partials / 4);
  }
}

export const sum = (x: Tensor, axes?: Axes, keepDims = false) => reduce('sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: Axes, keepDims = false) => reduce('mean', x, axes, keepDims);
export const max = (x: Tensor, axes?: Axes, keepDims = false) => reduce('max', x, axes, keepDims);
export const min = (x: Tensor, axes?: Axes, keepDims = false) => reduce('min', x, axes, keepDims);
