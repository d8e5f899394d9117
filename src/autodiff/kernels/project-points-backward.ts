/** Gradient of projectPoints with respect to the points (shaders/project_points_backward.glsl). CPU reference: project-points-backward.ref.ts. */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { checkProjection, type ProjectionMap } from '../../kernels/project-points.js';

export function projectPointsBackward(dy: Tensor, points: Tensor, map: ProjectionMap): Tensor {
  checkProjection('projectPoints backward', points, map);
  const [k, v] = points.shape;
  if (dy.rank !== 3 || dy.shape[0] !== k || dy.shape[1] !== v || dy.shape[2] !== 2) {
    throw new ShapeError(`projectPoints backward: gradient [${dy.shape.join(', ')}] must be [${k}, ${v}, 2]`);
  }
  return points.runtime.run({ kernel: 'project_points_backward', inputs: { Points: points, DY: dy }, uniforms: { u_map: [...map] }, outShape: [k, v, 3] });
}
