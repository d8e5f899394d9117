/** Float64 CPU reference of slice (shaders/pad.glsl with before = −begin). */
import { sliceShape } from './slice.js';
import { forEachIndex, stridesOf } from './transpose.ref.js';

export function sliceRef(
  x: ArrayLike<number>, shape: readonly number[], begin: readonly number[], size: readonly number[],
): { data: Float64Array; shape: number[] } {
  const outShape = sliceShape(shape, begin, size);
  const inStrides = stridesOf(shape);
  const data = new Float64Array(outShape.reduce((p, d) => p * d, 1));
  forEachIndex(outShape, (flat, coords) => {
    let src = 0;
    for (let d = 0; d < shape.length; d++) src += (coords[d] + begin[d]) * inStrides[d];
    data[flat] = x[src];
  });
  return { data, shape: outShape };
}
