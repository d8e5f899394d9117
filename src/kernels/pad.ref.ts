/** Float64 CPU reference of pad (shaders/pad.glsl). */
import { padShape } from './pad.js';
import { forEachIndex, stridesOf } from './transpose.ref.js';

export function padRef(
  x: ArrayLike<number>, shape: readonly number[], paddings: readonly (readonly [number, number])[], value = 0,
): { data: Float64Array; shape: number[] } {
  const outShape = padShape(shape, paddings);
  const inStrides = stridesOf(shape);
  const data = new Float64Array(outShape.reduce((p, d) => p * d, 1));
  forEachIndex(outShape, (flat, coords) => {
    let src = 0;
    for (let d = 0; d < shape.length; d++) {
      const c = coords[d] - paddings[d][0];
      if (c < 0 || c >= shape[d]) {
        data[flat] = value;
        return;
      }
      src += c * inStrides[d];
    }
    data[flat] = x[src];
  });
  return { data, shape: outShape };
}
