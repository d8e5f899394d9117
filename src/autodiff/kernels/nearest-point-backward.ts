/**
 * Gradient of nearestPoint's squared distances with respect to the points
 * (shaders/nearest_point_backward.glsl): each target's gradient goes to its nearest point only.
 * CPU reference: nearest-point-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { checkNearestPointShapes, type PointGroups } from '../../kernels/nearest-point.js';

/** dy [K, S, 1] (sorted target order), nearest = nearestPoint's output [K, S, 2] → [K, V, 2]. */
export function nearestPointBackward(dy: Tensor, points: Tensor, nearest: Tensor, groups: PointGroups): Tensor {
  const k = checkNearestPointShapes('nearestPoint backward', points, groups);
  const expect = (t: Tensor, lanes: number, what: string) => {
    if (t.rank !== 3 || t.shape[0] !== k || t.shape[1] !== groups.targets || t.shape[2] !== lanes) {
      throw new ShapeError(`nearestPoint backward: ${what} [${t.shape.join(', ')}] must be [${k}, ${groups.targets}, ${lanes}]`);
    }
  };
  expect(dy, 1, 'gradient');
  expect(nearest, 2, 'nearest');
  return points.runtime.run({
    kernel: 'nearest_point_backward',
    inputs: { Points: points, Targets: groups.targetData, Nearest: nearest, DY: dy, PointGroup: groups.pointGroup, TargetSpans: groups.targetSpans },
    uniforms: { u_points: groups.points, u_targets: groups.targets },
    outShape: [k, groups.points, 2],
  });
}
