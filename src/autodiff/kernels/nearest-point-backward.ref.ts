/** Float64 CPU reference of nearest_point_backward, on unsorted targets. */
import { nearestPointRef } from '../../kernels/nearest-point.ref.js';

/** [K, V, 2] gradient of Σ dy·d² (dy [K, S] in the targets' own order) with respect to the points. */
export function nearestPointBackwardRef(points: ArrayLike<number>, k: number, pointGroup: ArrayLike<number>, targets: ArrayLike<number>, dy: ArrayLike<number>): Float64Array {
  const V = pointGroup.length;
  const S = targets.length / 3;
  const nearest = nearestPointRef(points, k, pointGroup, targets);
  const out = new Float64Array(k * V * 2);
  for (let b = 0; b < k; b++) {
    for (let s = 0; s < S; s++) {
      const v = nearest[2 * (b * S + s) + 1];
      if (v < 0) continue;
      for (let a = 0; a < 2; a++) out[2 * (b * V + v) + a] += dy[b * S + s] * 2 * (points[2 * (b * V + v) + a] - targets[3 * s + a]);
    }
  }
  return out;
}
