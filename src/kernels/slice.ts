/**
 * slice(x, begin, size): the block x[begin_i : begin_i + size_i] (size −1 = to the end). Runs the
 * window-copy kernel of shaders/pad.glsl with before = −begin. CPU reference: slice.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { formatShape } from './transpose.js';
import { windowCopy } from './pad.js';

/** Resolves size −1 and checks the block lies inside the shape; returns the output shape. */
export function sliceShape(shape: readonly number[], begin: readonly number[], size: readonly number[]): number[] {
  const rank = shape.length;
  if (!Array.isArray(begin) || !Array.isArray(size) || begin.length !== rank || size.length !== rank) {
    throw new ShapeError(`slice: begin [${String(begin)}] and size [${String(size)}] must each have ${rank} entries for shape ${formatShape(shape)}`);
  }
  return shape.map((d, i) => {
    const b = begin[i];
    const s = size[i] === -1 ? d - b : size[i];
    if (!Number.isInteger(b) || b < 0 || b >= d) {
      throw new ShapeError(`slice: begin[${i}] = ${b} is outside dim ${i} (size ${d}) of shape ${formatShape(shape)}`);
    }
    if (!Number.isInteger(s) || s < 1 || b + s > d) {
      throw new ShapeError(`slice: size[${i}] = ${size[i]} from begin ${b} does not fit dim ${i} (size ${d}) of shape ${formatShape(shape)} (sizes are ≥ 1, or −1 for the rest)`);
    }
    return s;
  });
}

/** The block starting at `begin` with extents `size` (−1: to the end of that dim). */
export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  const outShape = sliceShape(x.shape, begin, size);
  if (outShape.every((d, i) => d === x.shape[i])) return x.runtime.view(x, x.shape);
  return windowCopy(x, begin.map((b) => -b), outShape, 0);
}
