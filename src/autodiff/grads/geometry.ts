/**
 * Differentiable point operations for model fitting: projecting points, sampling a constant field at
 * moving points and the distance from fixed targets to the nearest moving point of a group. Gradients flow to the points
 * only (the field and the targets are data). Kernels: src/kernels/project-points.ts, sample-field.ts,
 * nearest-point.ts;
 * their backward kernels in ../kernels/.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { sampleField as sampleFieldKernel } from '../../kernels/sample-field.js';
import { nearestPoint, type PointGroups } from '../../kernels/nearest-point.js';
import { slice } from '../../kernels/slice.js';
import { recordOp } from '../tape.js';
import { sampleFieldBackward } from '../kernels/sample-field-backward.js';
import { nearestPointBackward } from '../kernels/nearest-point-backward.js';
import { projectPoints as projectPointsKernel, type ProjectionMap } from '../../kernels/project-points.js';
import { projectPointsBackward } from '../kernels/project-points-backward.js';

/** [K, V, 2]: points [K, V, 3] projected as (sx·X/Z + ox, sy·Y/Z + oy), map = (sx, sy, ox, oy). */
export function projectPoints(points: Tensor, map: ProjectionMap): Tensor {
  const y = projectPointsKernel(points, map);
  return recordOp('projectPoints', [points], y, (dy) => [projectPointsBackward(dy, points, map)]);
}

/** [K, P, 1] bilinear samples of field [H, W, C] at points [K, P, 2], channel [P, 1] per point. */
export function sampleField(field: Tensor, points: Tensor, channel: Tensor): Tensor {
  const y = sampleFieldKernel(field, points, channel);
  return recordOp('sampleField', [points], y, (dy) => [sampleFieldBackward(dy, field, points, channel)]);
}

/**
 * [K, S, 1]: squared distance from each target (the groups' sorted order) to the nearest point of its
 * group; 0 for a target whose group has no points.
 */
export function nearestPointDistance(points: Tensor, groups: PointGroups): Tensor {
  const raw = nearestPoint(points, groups);
  const [k, s] = raw.shape;
  const d2 = slice(raw, [0, 0, 0], [k, s, 1]);
  return recordOp('nearestPointDistance', [points], d2, (dy) => [nearestPointBackward(dy, points, raw, groups)], [raw]);
}
