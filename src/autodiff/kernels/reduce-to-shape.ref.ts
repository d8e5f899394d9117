/** Float64 CPU references of reduceToShape and broadcastTo (src/autodiff/kernels/reduce-to-shape.ts). */
import { broadcastIndex } from '../../kernels/broadcast.js';

function padLeft(shape: readonly number[], rank: number): number[] {
  return [...new Array<number>(rank - shape.length).fill(1), ...shape];
}

export function reduceToShapeRef(x: ArrayLike<number>, xShape: readonly number[], shape: readonly number[]): Float64Array {
  const rank = Math.max(xShape.length, shape.length);
  const index = broadcastIndex(padLeft(shape, rank), padLeft(xShape, rank));
  const out = new Float64Array(shape.reduce((p, d) => p * d, 1));
  for (let i = 0; i < index.length; i++) out[index[i]] += x[i];
  return out;
}

export function broadcastToRef(x: ArrayLike<number>, xShape: readonly number[], shape: readonly number[]): Float64Array {
  const index = broadcastIndex(xShape, shape);
  const out = new Float64Array(index.length);
  for (let i = 0; i < index.length; i++) out[i] = x[index[i]];
  return out;
}
