/**
 * Pinhole projection of points [K, V, 3] with one shared affine map (shaders/project_points.glsl):
 * (sx·X/Z + ox, sy·Y/Z + oy). Gradient: autodiff/kernels/project-points-backward.ts. CPU reference:
 * project-points.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';

/** sx, sy, ox, oy. */
export type ProjectionMap = readonly [number, number, number, number];

export function checkProjection(op: string, points: Tensor, map: ProjectionMap): void {
  if (points.rank !== 3 || points.shape[2] !== 3) throw new ShapeError(`${op}: points must be [K, V, 3], got [${points.shape.join(', ')}]`);
  if (map.length !== 4 || !map.every(Number.isFinite)) throw new NbfError(`${op}: the map must be 4 finite numbers (sx, sy, ox, oy), got ${JSON.stringify(map)}`);
}

export function projectPoints(points: Tensor, map: ProjectionMap): Tensor {
  checkProjection('projectPoints', points, map);
  const [k, v] = points.shape;
  return points.runtime.run({ kernel: 'project_points', inputs: { Points: points }, uniforms: { u_map: [...map] }, outShape: [k, v, 2] });
}
