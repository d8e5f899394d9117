/**
 * transpose(x, perm): output dim k is input dim perm[k] (shaders/transpose.glsl). CPU reference:
 * transpose.ref.ts. Also holds the axis and shape helpers shared by the data-movement, reduction,
 * softmax and argmax ops, so every op validates axes with the same wording.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { MAX_RANK } from '../runtime/layout.js';

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Resolves a possibly negative axis against a rank; throws a ShapeError naming the op, axis and shape. */
export function normalizeAxis(axis: number, shape: readonly number[], op: string): number {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    const valid = rank === 0 ? 'a scalar has no axes' : `valid axes are ${-rank}..${rank - 1}`;
    throw new ShapeError(`${op}: axis ${String(axis)} is out of range for shape ${formatShape(shape)} (${valid})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Resolves a set of axes (undefined/null = every axis), sorted ascending; throws on out-of-range or
 * repeated axes.
 */
export function normalizeAxes(axes: number | readonly number[] | null | undefined, shape: readonly number[], op: string): number[] {
  if (axes === undefined || axes === null) return shape.map((_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  if (!Array.isArray(list)) throw new ShapeError(`${op}: axes must be a number or an array of numbers, got ${String(axes)}`);
  const resolved = list.map((a) => normalizeAxis(a, shape, op));
  const seen = new Set<number>();
  for (let i = 0; i < resolved.length; i++) {
    if (seen.has(resolved[i])) {
      throw new ShapeError(`${op}: axis ${list[i]} is repeated in axes [${list.join(', ')}] for shape ${formatShape(shape)}`);
    }
    seen.add(resolved[i]);
  }
  return resolved.sort((a, b) => a - b);
}

/** Right-aligns a per-dimension list into MAX_RANK slots, filling the front with `fill`. */
export function rightAlign(values: readonly number[], fill: number): number[] {
  return [...new Array<number>(MAX_RANK - values.length).fill(fill), ...values];
}

export function product(dims: readonly number[], from = 0, to = dims.length): number {
  let p = 1;
  for (let i = from; i < to; i++) p *= dims[i];
  return p;
}

/** Checks that perm is a permutation of 0..rank-1 (default: reversed axes) and returns it. */
export function resolvePerm(shape: readonly number[], perm?: readonly number[]): number[] {
  const rank = shape.length;
  if (perm === undefined) return shape.map((_, i) => rank - 1 - i);
  if (!Array.isArray(perm) || perm.length !== rank) {
    throw new ShapeError(`transpose: perm [${String(perm)}] must list each of the ${rank} axes of shape ${formatShape(shape)} once`);
  }
  const seen = new Array<boolean>(rank).fill(false);
  for (const p of perm) {
    if (!Number.isInteger(p) || p < 0 || p >= rank || seen[p]) {
      throw new ShapeError(`transpose: perm [${perm.join(', ')}] is not a permutation of the axes 0..${rank - 1} of shape ${formatShape(shape)}`);
    }
    seen[p] = true;
  }
  return [...perm];
}

/**
 * Permutes the dimensions: out[..., i_k, ...] = x[..., i_perm⁻¹...], i.e. output dim k is input dim
 * perm[k]. Default perm reverses the axes. When perm keeps the last axis last, whole texels move;
 * otherwise every lane fetches its own element (channels re-pack across texels).
 */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = resolvePerm(x.shape, perm);
  const rank = x.rank;
  const outShape = p.map((axis) => x.shape[axis]);
  if (p.every((axis, i) => axis === i)) return x.runtime.view(x, x.shape);
  // Rows of the input per step along each input dim (the last dim is the channel, not a row step).
  const inRowStride = new Array<number>(rank).fill(0);
  for (let d = rank - 2, stride = 1; d >= 0; d--) {
    inRowStride[d] = stride;
    stride *= x.shape[d];
  }
  const rowStride = p.map((axis) => (axis === rank - 1 ? 0 : inRowStride[axis]));
  const channelStride = p.map((axis) => (axis === rank - 1 ? 1 : 0));
  const keepsLastAxis = p[rank - 1] === rank - 1;
  return x.runtime.run({
    kernel: 'transpose',
    defines: { KEEP_LAST: keepsLastAxis },
    inputs: { X: x },
    uniforms: {
      u_outDims: rightAlign(outShape, 1),
      u_rowStride: rightAlign(rowStride, 0),
      u_channelStride: rightAlign(channelStride, 0),
      u_inChannels: x.geometry.channels,
    },
    outShape,
  });
}
