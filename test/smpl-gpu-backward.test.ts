import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { absoluteToRelativeRotations, projectPerspective, projectWeakPerspective, smplForward as cpuForward, smplForwardFromRotations, type ForwardResult } from '../src/smpl/cpu-forward.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { nearestRotationRef } from '../src/smpl/gpu/rotations.ref.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { smplBackward, smplForward, type SmplGpuInputs } from '../src/smpl/gpu/layer.js';
import type { BodyModel } from '../src/smpl/types.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { smplBackwardRef } from '../src/smpl/gpu/backward.ref.js';

/**
 * Gradients of the GPU layer against central finite differences of the float64 CPU forward pass,
 * for the scalar loss L = Σ wV·vertices + Σ wJ·joints + Σ w2·joints2d with random weights w.
 * Tolerance: max |GPU − FD| ≤ 1e-3 · max |FD| per parameter group (float32 kernels).
 */
const rng = new Rng(99);
const H = 1e-6;

type PoseKind = 'axisAngle' | 'relative' | 'absolute';
interface Case {
  model: BodyModel;
  n: number;
  poseKind: PoseKind;
  orthogonalise: boolean;
  camera: 'perspective' | 'weak';
  outputs: { vertices: boolean; joints: boolean; joints2d: boolean };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>, offset = 0): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[offset + i];
  return s;
}

function expectGradientClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  expect(scale, `${what}: the finite-difference gradient is all zero, the check would be empty`).toBeGreaterThan(0);
  const err = maxRelError(got, want, scale);
  expect(err, `${what}: max error relative to the largest entry`).toBeLessThanOrEqual(1e-3);
}

function checkGradients(c: Case): void {
  const rt = testRuntime();
  const { model, n } = c;
  const J = model.jointCount;
  const B = model.shapeCount;
  const V = model.vertexCount;
  const perPose = c.poseKind === 'axisAngle' ? 3 : 9;
  const betas = Float64Array.from({ length: n * B }, () => rng.normal(0, 1));
  const trans = Float64Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? rng.uniform(5, 8) : rng.uniform(-0.3, 0.3)));
  let pose: Float64Array;
  if (c.poseKind === 'axisAngle') {
    pose = Float64Array.from({ length: n * J * 3 }, () => rng.normal(0, 0.5));
    pose.fill(0, 3, 9); // two joints at exactly zero angle
  } else {
    // Rotations of random poses plus noise; one reflection in the absolute case.
    pose = new Float64Array(n * J * 9);
    for (let b = 0; b < n; b++) {
      const theta = Float64Array.from({ length: J * 3 }, () => rng.normal(0, 0.5));
      const fwd = cpuForward(model, { pose: theta });
      const src = c.poseKind === 'absolute' ? fwd.globalTransforms : null;
      for (let j = 0; j < J; j++) {
        for (let e = 0; e < 9; e++) {
          const clean = src ? src[12 * j + 4 * Math.floor(e / 3) + (e % 3)] : fwd.rotations[9 * j + e];
          pose[(b * J + j) * 9 + e] = clean + (c.orthogonalise ? rng.normal(0, 0.05) : 0);
        }
      }
    }
    if (c.poseKind === 'absolute' && c.orthogonalise) for (let e = 0; e < 3; e++) pose[9 * 4 + e] *= -1;
  }
  const camWidth = c.camera === 'perspective' ? 4 : 3;
  const cam = Float64Array.from({ length: n * camWidth }, (_, i) =>
    c.camera === 'perspective' ? [800, 850, 250, 260][i % 4] + rng.uniform(-30, 30) : [1.5, 0.2, -0.1][i % 3] + rng.uniform(-0.1, 0.1));
  const wV = Float64Array.from({ length: n * V * 3 }, () => (c.outputs.vertices ? rng.normal() : 0));
  const wJ = Float64Array.from({ length: n * J * 3 }, () => (c.outputs.joints ? rng.normal() : 0));
  const w2 = Float64Array.from({ length: n * J * 2 }, () => (c.outputs.joints2d ? rng.normal(0, 0.01) : 0));

  // Float64 loss of body b from its own parameter slices.
  const loss = (b: number, be: Float64Array, po: Float64Array, tr: Float64Array, ca: Float64Array): number => {
    let fwd: ForwardResult;
    if (c.poseKind === 'axisAngle') {
      fwd = cpuForward(model, { betas: be, pose: po, trans: tr });
    } else {
      let rot = po;
      if (c.orthogonalise) {
        rot = new Float64Array(J * 9);
        for (let j = 0; j < J; j++) rot.set(nearestRotationRef(po, 9 * j), 9 * j);
      }
      if (c.poseKind === 'absolute') rot = absoluteToRelativeRotations(rot, model.parents);
      fwd = smplForwardFromRotations(model, rot, be, tr);
    }
    const j2d = c.camera === 'perspective'
      ? projectPerspective(fwd.joints, { focalLength: [ca[0], ca[1]], principalPoint: [ca[2], ca[3]] })
      : projectWeakPerspective(fwd.joints, ca[0], [ca[1], ca[2]]);
    return dot(fwd.vertices, wV, b * V * 3) + dot(fwd.joints, wJ, b * J * 3) + dot(j2d, w2, b * J * 2);
  };
  const groups = { betas: [betas, B], pose: [pose, J * perPose], trans: [trans, 3], camera: [cam, camWidth] } as const;
  const fd: Record<keyof typeof groups, Float64Array> = { betas: new Float64Array(betas.length), pose: new Float64Array(pose.length), trans: new Float64Array(trans.length), camera: new Float64Array(cam.length) };
  for (let b = 0; b < n; b++) {
    const slices = Object.fromEntries(Object.entries(groups).map(([k, [data, per]]) => [k, Float64Array.from(data.subarray(b * per, (b + 1) * per))])) as Record<keyof typeof groups, Float64Array>;
    const evaluate = () => loss(b, slices.betas, slices.pose, slices.trans, slices.camera);
    for (const key of Object.keys(groups) as (keyof typeof groups)[]) {
      const x = slices[key];
      const per = groups[key][1];
      for (let i = 0; i < per; i++) {
        const keep = x[i];
        x[i] = keep + H;
        const up = evaluate();
        x[i] = keep - H;
        const down = evaluate();
        x[i] = keep;
        fd[key][b * per + i] = (up - down) / (2 * H);
      }
    }
  }

  if (c.poseKind === 'axisAngle') {
    // The float64 CPU backward (bench/smpl.ts's CPU side) must agree with the same differences.
    const cpu = { betas: new Float64Array(n * B), pose: new Float64Array(n * J * 3), trans: new Float64Array(n * 3), camera: new Float64Array(n * camWidth) };
    for (let b = 0; b < n; b++) {
      const be = betas.subarray(b * B, (b + 1) * B);
      const po = pose.subarray(b * J * 3, (b + 1) * J * 3);
      const tr = trans.subarray(3 * b, 3 * b + 3);
      const g = smplBackwardRef(model, po, cpuForward(model, { betas: be, pose: po, trans: tr }), tr,
        { type: c.camera, params: cam.subarray(b * camWidth, (b + 1) * camWidth) },
        { vertices: wV.subarray(b * V * 3, (b + 1) * V * 3), joints: wJ.subarray(b * J * 3, (b + 1) * J * 3), joints2d: w2.subarray(b * J * 2, (b + 1) * J * 2) });
      cpu.betas.set(g.betas, b * B);
      cpu.pose.set(g.pose, b * J * 3);
      cpu.trans.set(g.trans, 3 * b);
      cpu.camera.set(g.camera, b * camWidth);
    }
    for (const key of ['betas', 'pose', 'trans'] as const) expectGradientClose(cpu[key], fd[key], `CPU reference ${key}`);
    if (c.outputs.joints2d) expectGradientClose(cpu.camera, fd.camera, 'CPU reference camera');
  }

  const gpu = GpuBodyModel.upload(rt, model);
  rt.scope(() => {
    const poseTensor = rt.tensor(pose, c.poseKind === 'axisAngle' ? [n, J * 3] : [n, J, 9]);
    const inputs: SmplGpuInputs = {
      betas: rt.tensor(betas, [n, B]),
      trans: rt.tensor(trans, [n, 3]),
      camera: { type: c.camera, params: rt.tensor(cam, [n, camWidth]) },
      keepForBackward: true,
      ...(c.poseKind === 'axisAngle' ? { pose: poseTensor } : { rotations: poseTensor, frame: c.poseKind, orthogonalise: c.orthogonalise }),
    };
    const out = smplForward(gpu, inputs);
    const saved = out.saved as NonNullable<typeof out.saved>;
    const grads = smplBackward(gpu, saved, {
      vertices: c.outputs.vertices ? rt.tensor(wV, [n, V, 3]) : undefined,
      joints: c.outputs.joints ? rt.tensor(wJ, [n, J, 3]) : undefined,
      joints2d: c.outputs.joints2d ? rt.tensor(w2, [n, J, 2]) : undefined,
    });
    saved.dispose();
    expectGradientClose(grads.betas.readSync(), fd.betas, 'betas');
    const poseGrad = (c.poseKind === 'axisAngle' ? grads.pose : grads.rotations) as Tensor;
    expect([...poseGrad.shape]).toEqual([...poseTensor.shape]);
    expectGradientClose(poseGrad.readSync(), fd.pose, 'pose');
    expectGradientClose(grads.trans.readSync(), fd.trans, 'trans');
    if (c.outputs.joints2d) expectGradientClose((grads.camera as Tensor).readSync(), fd.camera, 'camera');
  });
  gpu.dispose();
}

const all = { vertices: true, joints: true, joints2d: true };

describe('SMPL layer backward against central differences of the float64 forward pass', () => {
  const small = makeRandomBodyModel(31, { vertexCount: 37, influences: 4 });
  it('axis-angle pose, perspective camera, all outputs, batch 3 (zero-angle joints included)', () =>
    checkGradients({ model: small, n: 3, poseKind: 'axisAngle', orthogonalise: false, camera: 'perspective', outputs: all }));
  it('vertices only (skinning, blend shapes)', () =>
    checkGradients({ model: small, n: 2, poseKind: 'axisAngle', orthogonalise: false, camera: 'perspective', outputs: { vertices: true, joints: false, joints2d: false } }));
  it('joints2d only (NBF loss), weak perspective', () =>
    checkGradients({ model: small, n: 2, poseKind: 'axisAngle', orthogonalise: false, camera: 'weak', outputs: { vertices: false, joints: false, joints2d: true } }));
  it('absolute rotation matrices, orthogonalised (one reflection), all outputs', () =>
    checkGradients({ model: small, n: 2, poseKind: 'absolute', orthogonalise: true, camera: 'perspective', outputs: all }));
  it('relative rotation matrices, not orthogonalised', () =>
    checkGradients({ model: small, n: 2, poseKind: 'relative', orthogonalise: false, camera: 'weak', outputs: all }));
  const odd = makeRandomBodyModel(32, { vertexCount: 45, shapeCount: 5, influences: 7, poseBlend: false });
  it('odd model: 5 betas, 7 influences, no pose blend shapes', () =>
    checkGradients({ model: odd, n: 2, poseKind: 'axisAngle', orthogonalise: false, camera: 'perspective', outputs: all }));
  const big = makeRandomBodyModel(33, { vertexCount: 6890, faceCount: 13776 });
  it('random model of SMPL size (27 vertex chunks in the blend-shape reduction, 13 per skinning list), batch 2', () =>
    checkGradients({ model: big, n: 2, poseKind: 'axisAngle', orthogonalise: false, camera: 'perspective', outputs: all }));
});
