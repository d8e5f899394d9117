/** Float64 CPU reference of project_points (shaders/project_points.glsl). */
export function projectPointsRef(points: ArrayLike<number>, map: readonly number[]): Float64Array {
  const n = points.length / 3;
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [points[3 * i], points[3 * i + 1], points[3 * i + 2]];
    out[2 * i] = (map[0] * x) / z + map[2];
    out[2 * i + 1] = (map[1] * y) / z + map[3];
  }
  return out;
}
