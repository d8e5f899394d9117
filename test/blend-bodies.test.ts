/**
 * blendBodies (src/pipeline/blend-bodies.ts): two answers for one body → β averaged, each joint's
 * global rotation the nearest rotation to the mean of the two; no blend when the roots disagree.
 */
import { describe, expect, it } from 'vitest';
import { blendBodies, rootAngleDegrees, BLEND_MAX_ROOT_ANGLE } from '../src/pipeline/blend-bodies.js';
import { SMPL_PARENTS } from '../src/smpl/types.js';
import { absoluteRotations } from '../src/smpl/cpu-forward.js';
import { geodesicAngles } from '../src/eval/metrics.js';
import { Rng } from '../src/util/random.js';

const J = 24;
const LEFT_ELBOW = 18;

function pose(entries: Record<number, [number, number, number]> = {}): number[] {
  const p = new Array<number>(3 * J).fill(0);
  for (const [j, v] of Object.entries(entries)) p.splice(3 * Number(j), 3, ...v);
  return p;
}

const globalRotations = (p: ArrayLike<number>) => absoluteRotations(p, SMPL_PARENTS);

describe('blendBodies', () => {
  it('the blend of an answer with itself is that answer', () => {
    const rng = new Rng(4);
    const a = { pose: Array.from({ length: 3 * J }, () => rng.uniform(-0.5, 0.5)), betas: Array.from({ length: 10 }, () => rng.uniform(-2, 2)) };
    const b = blendBodies(a, a, SMPL_PARENTS)!;
    const ga = globalRotations(a.pose);
    const gb = globalRotations(b.pose);
    for (let k = 0; k < J * 9; k++) expect(gb[k]).toBeCloseTo(ga[k], 9);
    for (let i = 0; i < 10; i++) expect(b.betas[i]).toBeCloseTo(a.betas[i], 12);
  });

  it('rotations about one axis meet halfway; β is the mean; the child keeps its own bend', () => {
    const deg = Math.PI / 180;
    // Roots turned 0° and 40° about y; the left elbow bent 0.6 and 0.2 rad about z (parent-relative).
    const a = { pose: pose({ 0: [0, 0, 0], [LEFT_ELBOW]: [0, 0, 0.6] }), betas: [1, -1, 0.5] };
    const b = { pose: pose({ 0: [0, 40 * deg, 0], [LEFT_ELBOW]: [0, 0, 0.2] }), betas: [3, 1, 0.5] };
    expect(rootAngleDegrees(a.pose, b.pose)).toBeCloseTo(40, 9);
    const m = blendBodies(a, b, SMPL_PARENTS)!;
    expect(m.betas).toEqual([2, 0, 0.5]);
    expect(m.pose[0]).toBeCloseTo(0, 9);
    expect(m.pose[1]).toBeCloseTo(20 * deg, 9);
    expect(m.pose[2]).toBeCloseTo(0, 9);
    // The elbow's global rotations are R_y(0)·R_z(0.6) and R_y(40°)·R_z(0.2); the blend's global elbow
    // is the nearest rotation to their mean: a proper rotation (RᵀR = I, det 1) between the two.
    const g = globalRotations(m.pose);
    const e = g.subarray(9 * LEFT_ELBOW, 9 * LEFT_ELBOW + 9);
    for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
      let dot = 0;
      for (let k = 0; k < 3; k++) dot += e[3 * k + r] * e[3 * k + c];
      expect(dot).toBeCloseTo(r === c ? 1 : 0, 9);
    }
    const ga = globalRotations(a.pose).subarray(9 * LEFT_ELBOW, 9 * LEFT_ELBOW + 9);
    const gb = globalRotations(b.pose).subarray(9 * LEFT_ELBOW, 9 * LEFT_ELBOW + 9);
    const angle = (x: ArrayLike<number>, y: ArrayLike<number>) => geodesicAngles(x, y, 1)[0];
    expect(angle(e, ga)).toBeCloseTo(angle(e, gb), 6);
    expect(angle(e, ga) + angle(e, gb)).toBeCloseTo(angle(ga, gb), 6);
  });

  it('no blend when the roots face more than BLEND_MAX_ROOT_ANGLE apart; bad input is named', () => {
    const a = { pose: pose(), betas: [0, 0] };
    const b = { pose: pose({ 0: [0, ((BLEND_MAX_ROOT_ANGLE + 5) * Math.PI) / 180, 0] }), betas: [0, 0] };
    expect(blendBodies(a, b, SMPL_PARENTS)).toBeNull();
    expect(blendBodies(a, b, SMPL_PARENTS, BLEND_MAX_ROOT_ANGLE + 10)).not.toBeNull();
    expect(() => blendBodies({ pose: [0, 0, 0], betas: [0, 0] }, b, SMPL_PARENTS)).toThrow(/poses must hold 72 numbers/);
    expect(() => blendBodies(a, { ...b, betas: [0] }, SMPL_PARENTS)).toThrow(/shapes of 2 and 1/);
  });
});
