/** Float64 CPU reference of the reductions (sum, mean, max, min). */
import { type Axes, type ReduceOp, reducedShape } from './reduce.js';
import { normalizeAxes } from './transpose.js';
import { forEachIndex } from './transpose.ref.js';

export function reduceRef(
  op: ReduceOp, x: ArrayLike<number>, shape: readonly number[], axes?: Axes, keepDims = false,
): { data: Float64Array; shape: number[] } {
  const resolved = normalizeAxes(axes, shape, op);
  const outShape = reducedShape(shape, resolved, keepDims);
  // Accumulate into the keepDims-shaped output (same row-major order as the squeezed one).
  const keptShape = reducedShape(shape, resolved, true);
  const keptStrides = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    keptStrides[d] = s;
    s *= keptShape[d];
  }
  const size = keptShape.reduce((p, d) => p * d, 1);
  const data = new Float64Array(size).fill(op === 'max' ? -Infinity : op === 'min' ? Infinity : 0);
  const reduced = new Set(resolved);
  forEachIndex(shape, (flat, coords) => {
    let dst = 0;
    for (let d = 0; d < shape.length; d++) if (!reduced.has(d)) dst += coords[d] * keptStrides[d];
    const v = x[flat];
    if (op === 'max') data[dst] = Math.max(data[dst], v);
    else if (op === 'min') data[dst] = Math.min(data[dst], v);
    else data[dst] += v;
  });
  if (op === 'mean') {
    const count = resolved.reduce((n, a) => n * shape[a], 1);
    for (let i = 0; i < size; i++) data[i] /= count;
  }
  return { data, shape: outShape };
}
