/**
 * Nearest moving point of a group for fixed target points (shaders/nearest_point.glsl; gradient:
 * autodiff/kernels/nearest-point-backward.ts). The points [K, V, 2] are split into groups (each point
 * in one group or none); every target has a group and is compared only with that group's points —
 * for the refinement, a body part's projected vertices against that part's pixels.
 * CPU reference: nearest-point.ref.ts.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';

/** The constant side of nearestPoint: groups of points and the targets, uploaded once. */
export interface PointGroups {
  /** V: points per batch entry. */
  points: number;
  /** S: targets. */
  targets: number;
  /** [S, 3] x, y, group of each target, sorted by group. */
  targetData: Tensor;
  /** [G, 2] first target and target count of each group. */
  targetSpans: Tensor;
  /** [M, 1] the points of group 0, then of group 1, … */
  members: Tensor;
  /** [G, 2] first member and member count of each group. */
  memberSpans: Tensor;
  /** [V, 1] each point's group, −1 for none. */
  pointGroup: Tensor;
}

/**
 * Uploads groups: `pointGroup[v]` is point v's group (0..groups−1, or −1 for none); `targets` is
 * S × 3 numbers (x, y, group). The targets are reordered by group (stable); `order[i]` is the input
 * index of sorted target i.
 */
export function pointGroups(rt: Runtime, pointGroup: ArrayLike<number>, groups: number, targets: ArrayLike<number>): PointGroups & { order: Int32Array } {
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`pointGroups: the group count must be a positive integer, got ${groups}`);
  if (targets.length % 3 !== 0) throw new ShapeError(`pointGroups: targets must be S × 3 numbers (x, y, group), got ${targets.length}`);
  const V = pointGroup.length;
  const S = targets.length / 3;
  if (V < 1 || V >= 2 ** 24) throw new ShapeError(`pointGroups: 1 to 2^24 − 1 points, got ${V}`);
  const checkGroup = (g: number, what: string, allowNone: boolean) => {
    if (!Number.isInteger(g) || g >= groups || g < (allowNone ? -1 : 0)) throw new ShapeError(`pointGroups: ${what} has group ${g}, outside 0..${groups - 1}${allowNone ? ' (or −1)' : ''}`);
  };
  const members: number[][] = Array.from({ length: groups }, () => []);
  for (let v = 0; v < V; v++) {
    checkGroup(pointGroup[v], `point ${v}`, true);
    if (pointGroup[v] >= 0) members[pointGroup[v]].push(v);
  }
  const byGroup: number[][] = Array.from({ length: groups }, () => []);
  for (let s = 0; s < S; s++) {
    checkGroup(targets[3 * s + 2], `target ${s}`, false);
    byGroup[targets[3 * s + 2]].push(s);
  }
  const order = Int32Array.from(byGroup.flat());
  const spans = (lists: number[][]) => {
    const out = new Float32Array(2 * groups);
    let first = 0;
    lists.forEach((l, g) => {
      out[2 * g] = first;
      out[2 * g + 1] = l.length;
      first += l.length;
    });
    return out;
  };
  const sorted = new Float32Array(3 * S);
  order.forEach((s, i) => sorted.set([targets[3 * s], targets[3 * s + 1], targets[3 * s + 2]], 3 * i));
  const memberList = Float32Array.from(members.flat());
  return {
    points: V,
    targets: S,
    order,
    targetData: rt.tensor(sorted, [Math.max(S, 1), 3]),
    targetSpans: rt.tensor(spans(byGroup), [groups, 2]),
    members: rt.tensor(memberList.length ? memberList : [0], [Math.max(memberList.length, 1), 1]),
    memberSpans: rt.tensor(spans(members), [groups, 2]),
    pointGroup: rt.tensor(Float32Array.from(pointGroup), [V, 1]),
  };
}

export function disposePointGroups(g: PointGroups): void {
  for (const t of [g.targetData, g.targetSpans, g.members, g.memberSpans, g.pointGroup]) t.dispose();
}

export function checkNearestPointShapes(op: string, points: Tensor, groups: PointGroups): number {
  if (points.rank !== 3 || points.shape[1] !== groups.points || points.shape[2] !== 2) {
    throw new ShapeError(`${op}: points must be [K, ${groups.points}, 2] to match the groups, got [${points.shape.join(', ')}]`);
  }
  if (groups.targets < 1) throw new ShapeError(`${op}: no targets`);
  return points.shape[0];
}

/**
 * [K, S, 2]: for each target (in the groups' sorted order) the squared distance to the nearest point
 * of its group in batch entry k and that point's index (as a float; an empty group gives (0, −1)).
 */
export function nearestPoint(points: Tensor, groups: PointGroups): Tensor {
  const k = checkNearestPointShapes('nearestPoint', points, groups);
  return points.runtime.run({
    kernel: 'nearest_point',
    inputs: { Points: points, Targets: groups.targetData, Members: groups.members, Groups: groups.memberSpans },
    uniforms: { u_points: groups.points, u_targets: groups.targets },
    outShape: [k, groups.targets, 2],
  });
}
