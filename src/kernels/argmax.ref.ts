/** Float64 CPU reference of argmax (first index among ties). */
import { normalizeAxis } from './transpose.js';

export function argmaxRef(x: ArrayLike<number>, shape: readonly number[], axis = -1): { data: Float64Array; shape: number[] } {
  const a = normalizeAxis(axis, shape, 'argmax');
  const length = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
  const data = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = 0;
      for (let j = 1; j < length; j++) {
        if (x[(o * length + j) * inner + i] > x[(o * length + best) * inner + i]) best = j;
      }
      data[o * inner + i] = best;
    }
  }
  return { data, shape: shape.filter((_, i) => i !== a) };
}
