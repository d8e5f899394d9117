/** Float64 CPU reference of transpose (shaders/transpose.glsl). */
import { resolvePerm } from './transpose.js';

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/** Calls fn(flatIndex, coords) for every element of a shape in row-major order. */
export function forEachIndex(shape: readonly number[], fn: (flat: number, coords: readonly number[]) => void): void {
  const size = shape.reduce((p, d) => p * d, 1);
  const coords = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < size; i++) {
    fn(i, coords);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coords[d] < shape[d]) break;
      coords[d] = 0;
    }
  }
}

export function transposeRef(x: ArrayLike<number>, shape: readonly number[], perm?: readonly number[]): { data: Float64Array; shape: number[] } {
  const p = resolvePerm(shape, perm);
  const outShape = p.map((a) => shape[a]);
  const inStrides = stridesOf(shape);
  const data = new Float64Array(x.length);
  forEachIndex(outShape, (flat, coords) => {
    let src = 0;
    for (let k = 0; k < p.length; k++) src += coords[k] * inStrides[p[k]];
    data[flat] = x[src];
  });
  return { data, shape: outShape };
}
