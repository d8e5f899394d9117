/**
 * Sums over broadcast dimensions (reduceToShape, on the tree reduction of src/kernels/reduce.ts) and
 * its adjoint, broadcasting to a larger shape (shaders/reduce_to_shape_backward.glsl). Every gradient
 * of a broadcasting op goes through these. CPU references: reduce-to-shape.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { broadcastShapes, leadingDims, rowStrides } from '../../kernels/broadcast.js';
import { reduce } from '../../kernels/reduce.js';

function padLeft(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * X summed down to `shape`: `shape` must broadcast to X's shape (right-aligned, each dim equal or 1);
 * dims where it is 1 are summed. A scalar shape [] sums everything. Runs the tree reduction of
 * src/kernels/reduce.ts (blocked passes: many fragments in parallel, short float32 sums) — on
 * llvmpipe 2–17× faster than one fragment per output texel looping over every row.
 */
export function reduceToShape(x: Tensor, shape: readonly number[]): Tensor {
  const rank = Math.max(x.rank, shape.length);
  const xFull = padLeft(x.shape, rank);
  const tFull = padLeft(shape, rank);
  const axes: number[] = [];
  for (let i = 0; i < rank; i++) {
    if (tFull[i] !== xFull[i] && tFull[i] !== 1) {
      throw new ShapeError(`reduceToShape: cannot sum ${describe(x.shape)} down to ${describe(shape)} (dim ${i}: ${xFull[i]} vs ${tFull[i]})`);
    }
    if (tFull[i] === 1 && xFull[i] !== 1) axes.push(i);
  }
  const rt = x.runtime;
  // The kept shape equals `shape` padded with leading 1s, so the final reshape is a free view.
  const source = x.rank === rank ? x : rt.view(x, xFull);
  try {
    const summed = reduce('sum', source, axes, true);
    try {
      return rt.view(summed, shape);
    } finally {
      summed.dispose();
    }
  } finally {
    if (source !== x) source.dispose();
  }
}

/** X broadcast (numpy rules) to `shape`, which X's shape must broadcast to exactly. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  if (x.rank > shape.length) {
    // Leading 1s beyond the target's rank are dropped by a free view (same texture).
    const lead = x.shape.slice(0, x.rank - shape.length);
    if (lead.some((d) => d !== 1)) throw new ShapeError(`broadcastTo: ${describe(x.shape)} has more dims than ${describe(shape)}`);
    const trimmed = x.runtime.view(x, x.shape.slice(x.rank - shape.length));
    try {
      return broadcastTo(trimmed, shape);
    } finally {
      trimmed.dispose();
    }
  }
  const result = broadcastShapes(x.shape, shape, 'broadcastTo');
  if (result.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`broadcastTo: ${describe(x.shape)} does not broadcast to ${describe(shape)}`);
  }
  const { strides, splat } = rowStrides(x.shape, shape);
  return x.runtime.run({
    kernel: 'reduce_to_shape_backward',
    inputs: { G: x },
    uniforms: {
      u_channels: shape.length ? shape[shape.length - 1] : 1,
      u_outDims: leadingDims(shape),
      u_gRowStrides: strides,
      u_gTexelsPerRow: x.geometry.texelsPerRow,
      u_splat: splat,
    },
    outShape: shape,
  });
}

/** Gradient helper: `g` summed down to `shape`, or `g` itself when it already has that shape. */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.rank === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  return reduceToShape(g, shape);
}
