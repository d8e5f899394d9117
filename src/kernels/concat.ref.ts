/** Float64 CPU reference of concat (shaders/concat.glsl). */
import { concatShape } from './concat.js';
import { forEachIndex, stridesOf } from './transpose.ref.js';

export function concatRef(
  parts: readonly ArrayLike<number>[], shapes: readonly (readonly number[])[], axis = 0,
): { data: Float64Array; shape: number[] } {
  const { shape, axis: a } = concatShape(shapes, axis);
  const data = new Float64Array(shape.reduce((p, d) => p * d, 1));
  let offset = 0;
  parts.forEach((part, k) => {
    const outStrides = stridesOf(shape);
    forEachIndex(shapes[k], (flat, coords) => {
      let dst = 0;
      for (let d = 0; d < shape.length; d++) dst += (coords[d] + (d === a ? offset : 0)) * outStrides[d];
      data[dst] = part[flat];
    });
    offset += shapes[k][a];
  });
  return { data, shape };
}
