/**
 * The point operations of model fitting (project_points, sample_field, nearest_point and their backward kernels)
 * against float64 references and central finite differences, on odd shapes with batch > 1.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { sampleField as sampleFieldKernel } from '../src/kernels/sample-field.js';
import { sampleFieldRef } from '../src/kernels/sample-field.ref.js';
import { sampleFieldBackward } from '../src/autodiff/kernels/sample-field-backward.js';
import { sampleFieldBackwardRef } from '../src/autodiff/kernels/sample-field-backward.ref.js';
import { disposePointGroups, nearestPoint, pointGroups } from '../src/kernels/nearest-point.js';
import { nearestPointRef } from '../src/kernels/nearest-point.ref.js';
import { nearestPointBackward } from '../src/autodiff/kernels/nearest-point-backward.js';
import { nearestPointBackwardRef } from '../src/autodiff/kernels/nearest-point-backward.ref.js';
import { nearestPointDistance, projectPoints, sampleField } from '../src/autodiff/grads/geometry.js';
import { projectPoints as projectPointsKernel } from '../src/kernels/project-points.js';
import { projectPointsRef } from '../src/kernels/project-points.ref.js';
import { projectPointsBackward } from '../src/autodiff/kernels/project-points-backward.js';
import { projectPointsBackwardRef } from '../src/autodiff/kernels/project-points-backward.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(2718);

/** Points spread over the field and up to 2 pixels beyond it (the clamped border). */
function randomPoints(k: number, p: number, h: number, w: number): Float32Array {
  const out = new Float32Array(2 * k * p);
  for (let i = 0; i < k * p; i++) {
    out[2 * i] = rng.uniform(-2, w + 2);
    out[2 * i + 1] = rng.uniform(-2, h + 2);
  }
  return out;
}

const FIELD_CASES: { field: [number, number, number]; k: number; p: number }[] = [
  { field: [7, 9, 13], k: 3, p: 37 },
  { field: [5, 1, 3], k: 2, p: 11 },
  { field: [1, 6, 2], k: 2, p: 9 },
  { field: [16, 12, 5], k: 1, p: 130 },
];

describe('sample_field and its gradient vs float64 references', () => {
  for (const c of FIELD_CASES) {
    it(`field [${c.field}] at [${c.k}, ${c.p}] points`, () => {
      const rt = testRuntime();
      const [h, w, ch] = c.field;
      const field = rng.uniformArray(h * w * ch, -3, 3);
      const points = randomPoints(c.k, c.p, h, w);
      const channel = Float32Array.from({ length: c.p }, () => Math.floor(rng.uniform(0, ch)));
      const dy = rng.uniformArray(c.k * c.p, -1, 1);
      rt.scope(() => {
        const f = rt.tensor(field, c.field);
        const pts = rt.tensor(points, [c.k, c.p, 2]);
        const chan = rt.tensor(channel, [c.p, 1]);
        expectTensorClose(sampleFieldKernel(f, pts, chan), sampleFieldRef(field, c.field, points, c.k, c.p, channel), [c.k, c.p, 1], 1e-5);
        const grad = sampleFieldBackward(rt.tensor(dy, [c.k, c.p, 1]), f, pts, chan);
        expectTensorClose(grad, sampleFieldBackwardRef(field, c.field, points, c.k, c.p, channel, dy), [c.k, c.p, 2], 1e-4);
      });
    });
  }

  it('the gradient with respect to the points matches central finite differences', () => {
    const rt = testRuntime();
    const shape: [number, number, number] = [6, 8, 5];
    const field = rng.uniformArray(6 * 8 * 5, -2, 2);
    const k = 2;
    const p = 13;
    const channel = Float32Array.from({ length: p }, (_, i) => i % 5);
    rt.scope(() => {
      const f = rt.tensor(field, shape);
      const chan = rt.tensor(channel, [p, 1]);
      checkGradients(rt, ([pts]) => sampleField(f, pts, chan), ([pts]) => sampleFieldRef(field, shape, pts, k, p, channel), [randomPoints(k, p, 6, 8)], [[k, p, 2]]);
    });
  });

  it('reads values at pixel centres exactly and is constant beyond the border', () => {
    const rt = testRuntime();
    const field = Float32Array.from({ length: 3 * 4 }, (_, i) => i * 10); // [3, 4, 1]
    const pts = [0.5, 0.5, 3.5, 2.5, 2.0, 1.5, -5, 0.5, 9, 9];
    rt.scope(() => {
      const out = sampleFieldKernel(rt.tensor(field, [3, 4, 1]), rt.tensor(pts, [1, 5, 2]), rt.tensor([0, 0, 0, 0, 0], [5, 1])).readSync();
      expect(Array.from(out)).toEqual([0, 110, 55, 0, 110]);
    });
  });

  it('names the wrong shape', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const f = rt.tensor(new Float32Array(12), [3, 4, 1]);
      expect(() => sampleFieldKernel(f, rt.tensor(new Float32Array(6), [1, 2, 3]), rt.tensor([0, 0], [2, 1]))).toThrow(/points must be \[K, P, 2\]/);
      expect(() => sampleFieldKernel(f, rt.tensor(new Float32Array(4), [1, 2, 2]), rt.tensor([0, 0, 0], [3, 1]))).toThrow(ShapeError);
      expect(() => sampleFieldKernel(rt.tensor(new Float32Array(12), [12]), rt.tensor(new Float32Array(4), [1, 2, 2]), rt.tensor([0, 0], [2, 1]))).toThrow(/field must be \[H, W, C\]/);
    });
  });
});

/** Random groups (some points in none), targets in random group order, one group left empty. */
function randomGroups(v: number, groups: number, s: number) {
  const pointGroup = Float32Array.from({ length: v }, () => (rng.uniform(0, 1) < 0.15 ? -1 : Math.floor(rng.uniform(0, groups - 1))));
  const targets = new Float32Array(3 * s);
  for (let i = 0; i < s; i++) targets.set([rng.uniform(0, 20), rng.uniform(0, 20), Math.floor(rng.uniform(0, groups))], 3 * i);
  return { pointGroup, targets };
}

describe('nearest_point and its gradient vs float64 references', () => {
  const CASES = [
    { k: 3, v: 41, groups: 5, s: 29 },
    { k: 1, v: 7, groups: 2, s: 3 },
    { k: 2, v: 300, groups: 13, s: 77 },
  ];
  for (const c of CASES) {
    it(`[${c.k}, ${c.v}] points in ${c.groups} groups, ${c.s} targets`, () => {
      const rt = testRuntime();
      const { pointGroup, targets } = randomGroups(c.v, c.groups, c.s);
      const points = rng.uniformArray(2 * c.k * c.v, 0, 20);
      const groups = pointGroups(rt, pointGroup, c.groups, targets);
      try {
        rt.scope(() => {
          const pts = rt.tensor(points, [c.k, c.v, 2]);
          // The kernel works in the sorted target order; reorder the reference's rows the same way.
          const want = nearestPointRef(points, c.k, pointGroup, targets);
          const sorted = new Float64Array(want.length);
          for (let b = 0; b < c.k; b++) groups.order.forEach((s, i) => sorted.set(want.subarray(2 * (b * c.s + s), 2 * (b * c.s + s) + 2), 2 * (b * c.s + i)));
          const raw = nearestPoint(pts, groups);
          expectTensorClose(raw, sorted, [c.k, c.s, 2], 1e-5);
          const dySorted = rng.uniformArray(c.k * c.s, -1, 1);
          const dy = new Float64Array(c.k * c.s);
          for (let b = 0; b < c.k; b++) groups.order.forEach((s, i) => (dy[b * c.s + s] = dySorted[b * c.s + i]));
          const grad = nearestPointBackward(rt.tensor(dySorted, [c.k, c.s, 1]), pts, raw, groups);
          expectTensorClose(grad, nearestPointBackwardRef(points, c.k, pointGroup, targets, dy), [c.k, c.v, 2], 1e-4);
        });
      } finally {
        disposePointGroups(groups);
      }
    });
  }

  it('the gradient of the distances matches central finite differences', () => {
    const rt = testRuntime();
    const k = 2;
    const v = 23;
    const pointGroup = Float32Array.from({ length: v }, (_, i) => (i % 7 === 6 ? -1 : i % 3));
    // Already in group order, so the kernel's order is the reference's.
    const targets = Float32Array.from([1, 2, 0, 15, 4, 0, 8, 8, 1, 3, 17, 1, 12, 12, 2, 5, 9, 2, 19, 1, 2]);
    const groups = pointGroups(rt, pointGroup, 3, targets);
    try {
      checkGradients(rt, ([pts]) => nearestPointDistance(pts, groups), ([pts]) => nearestPointRef(pts, k, pointGroup, targets).filter((_, i) => i % 2 === 0), [rng.uniformArray(2 * k * v, 0, 20)], [[k, v, 2]]);
    } finally {
      disposePointGroups(groups);
    }
  });

  it('names bad groups and shapes', () => {
    const rt = testRuntime();
    expect(() => pointGroups(rt, [0, 1, 5], 3, [0, 0, 0])).toThrow(/point 2 has group 5/);
    expect(() => pointGroups(rt, [0, 1], 2, [0, 0, -1])).toThrow(/target 0 has group -1/);
    expect(() => pointGroups(rt, [0, 1], 2, [0, 0])).toThrow(/S × 3/);
    const groups = pointGroups(rt, [0, 1, 1], 2, [0, 0, 1]);
    try {
      rt.scope(() => expect(() => nearestPoint(rt.tensor(new Float32Array(8), [1, 4, 2]), groups)).toThrow(/points must be \[K, 3, 2\]/));
    } finally {
      disposePointGroups(groups);
    }
  });
});

describe('project_points and its gradient vs float64 references', () => {
  /** Points in front of the camera (Z in [2, 8]), spread sideways. */
  const points = (n: number) => Float32Array.from({ length: 3 * n }, (_, i) => (i % 3 === 2 ? rng.uniform(2, 8) : rng.uniform(-1.5, 1.5)));
  for (const [k, v] of [[3, 37], [1, 5], [2, 690]] as const) {
    it(`[${k}, ${v}, 3] points`, () => {
      const rt = testRuntime();
      const p = points(k * v);
      const map = [rng.uniform(50, 300), rng.uniform(50, 300), rng.uniform(-20, 80), rng.uniform(-20, 80)] as const;
      const dy = rng.uniformArray(2 * k * v, -1, 1);
      rt.scope(() => {
        const t = rt.tensor(p, [k, v, 3]);
        expectTensorClose(projectPointsKernel(t, map), projectPointsRef(p, map), [k, v, 2], 1e-5);
        expectTensorClose(projectPointsBackward(rt.tensor(dy, [k, v, 2]), t, map), projectPointsBackwardRef(p, map, dy), [k, v, 3], 1e-5);
      });
    });
  }

  it('the gradient matches central finite differences', () => {
    const map = [120, 90, 32, 40] as const;
    checkGradients(testRuntime(), ([p]) => projectPoints(p, map), ([p]) => projectPointsRef(p, map), [points(2 * 9)], [[2, 9, 3]]);
  });

  it('names the wrong shape and map', () => {
    const rt = testRuntime();
    rt.scope(() => {
      expect(() => projectPointsKernel(rt.tensor(new Float32Array(8), [1, 4, 2]), [1, 1, 0, 0])).toThrow(/points must be \[K, V, 3\]/);
      expect(() => projectPointsKernel(rt.tensor(new Float32Array(6), [1, 2, 3]), [1, Number.NaN, 0, 0])).toThrow(/4 finite numbers/);
    });
  });
});
