/** Float64 CPU reference of nearest_point (shaders/nearest_point.glsl), on unsorted targets. */

/**
 * [K, S, 2]: squared distance from target s (x, y, group) to the nearest of its group's points in
 * batch entry k, and that point's index (first of equals in point order; empty group: 0, −1).
 */
export function nearestPointRef(points: ArrayLike<number>, k: number, pointGroup: ArrayLike<number>, targets: ArrayLike<number>): Float64Array {
  const V = pointGroup.length;
  const S = targets.length / 3;
  const out = new Float64Array(k * S * 2);
  for (let b = 0; b < k; b++) {
    for (let s = 0; s < S; s++) {
      let best = Infinity;
      let index = -1;
      for (let v = 0; v < V; v++) {
        if (pointGroup[v] !== targets[3 * s + 2]) continue;
        const dx = points[2 * (b * V + v)] - targets[3 * s];
        const dy = points[2 * (b * V + v) + 1] - targets[3 * s + 1];
        const d2 = dx * dx + dy * dy;
        if (d2 < best) {
          best = d2;
          index = v;
        }
      }
      out[2 * (b * S + s)] = index < 0 ? 0 : best;
      out[2 * (b * S + s) + 1] = index;
    }
  }
  return out;
}
