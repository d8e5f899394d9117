/** Float64 CPU reference of project_points_backward. */
export function projectPointsBackwardRef(points: ArrayLike<number>, map: readonly number[], dy: ArrayLike<number>): Float64Array {
  const n = points.length / 3;
  const out = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
    const gx = map[0] * dy[2 * i];
    const gy = map[1] * dy[2 * i + 1];
    out[3 * i] = gx / z;
    out[3 * i + 1] = gy / z;
    out[3 * i + 2] = -(gx * x + gy * y) / (z * z);
  }
  return out;
}
