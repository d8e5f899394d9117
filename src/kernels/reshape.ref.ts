/** Float64 CPU reference of reshape: the row-major data is unchanged; only the shape is resolved. */
import { inferShape } from './reshape.js';

export function reshapeRef(x: ArrayLike<number>, shape: readonly number[], newShape: readonly number[]): { data: Float64Array; shape: number[] } {
  return { data: Float64Array.from(x), shape: inferShape(shape, newShape) };
}
