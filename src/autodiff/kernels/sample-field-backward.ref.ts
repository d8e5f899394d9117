/** Float64 CPU reference of sample_field_backward (the gradient of sampleField with respect to the points). */
import { fieldCellRef } from '../../kernels/sample-field.ref.js';

/** [K, P, 2] gradient of Σ dy·sample with respect to the points. */
export function sampleFieldBackwardRef(field: ArrayLike<number>, fieldShape: readonly number[], points: ArrayLike<number>, k: number, p: number, channel: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const out = new Float64Array(2 * k * p);
  for (let i = 0; i < k * p; i++) {
    const c = fieldCellRef(field, fieldShape, channel[i % p], points[2 * i], points[2 * i + 1]);
    out[2 * i] = dy[i] * c.insideX * ((1 - c.fy) * (c.v01 - c.v00) + c.fy * (c.v11 - c.v10));
    out[2 * i + 1] = dy[i] * c.insideY * ((1 - c.fx) * (c.v10 - c.v00) + c.fx * (c.v11 - c.v01));
  }
  return out;
}
