import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import {
  absoluteToRelative, absoluteToRelativeRotations, globalRotationsOf, projectPerspective, projectWeakPerspective, rodrigues as rodriguesRef,
  smplForward as cpuForward, smplForwardFromRotations, type ForwardResult,
} from '../src/smpl/cpu-forward.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { absoluteToRelativeAxisAngle, smplForward } from '../src/smpl/gpu/layer.js';
import { nearestRotationRef } from '../src/smpl/gpu/rotations.ref.js';
import { BodyModelError } from '../src/smpl/errors.js';
import { ShapeError } from '../src/runtime/errors.js';
import type { BodyModel } from '../src/smpl/types.js';

const rng = new Rng(777);

function randomPose(n: number, J: number, scale = 0.6): Float64Array {
  return Float64Array.from({ length: n * J * 3 }, () => rng.normal(0, scale));
}
function randomBetas(n: number, B: number): Float64Array {
  return Float64Array.from({ length: n * B }, () => rng.normal(0, 1.5));
}
function randomTrans(n: number): Float64Array {
  return Float64Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? rng.uniform(4, 8) : rng.uniform(-0.3, 0.3)));
}

/** Runs the float64 CPU forward pass per body and concatenates one field. */
function cpuBatch(results: ForwardResult[], field: 'vertices' | 'joints'): Float64Array {
  const size = results[0][field].length;
  const out = new Float64Array(results.length * size);
  results.forEach((r, i) => out.set(r[field], i * size));
  return out;
}

function checkAxisAngleForward(model: BodyModel, n: number): void {
  const rt = testRuntime();
  const gpu = GpuBodyModel.upload(rt, model);
  const J = model.jointCount;
  const B = model.shapeCount;
  const pose = randomPose(n, J);
  const betas = randomBetas(n, B);
  const trans = randomTrans(n);
  const cam = Float64Array.from({ length: n * 4 }, (_, i) => [900, 950, 256, 240][i % 4] + rng.uniform(-20, 20));
  const ref = Array.from({ length: n }, (_, b) =>
    cpuForward(model, { pose: pose.subarray(b * J * 3, (b + 1) * J * 3), betas: betas.subarray(b * B, (b + 1) * B), trans: trans.subarray(3 * b, 3 * b + 3) }));
  const ref2d = new Float64Array(n * J * 2);
  ref.forEach((r, b) => {
    const camera = { focalLength: [cam[4 * b], cam[4 * b + 1]] as [number, number], principalPoint: [cam[4 * b + 2], cam[4 * b + 3]] as [number, number] };
    ref2d.set(projectPerspective(r.joints, camera), b * J * 2);
  });
  rt.scope(() => {
    const out = smplForward(gpu, {
      betas: rt.tensor(betas, [n, B]),
      pose: rt.tensor(pose, [n, J, 3]),
      trans: rt.tensor(trans, [n, 3]),
      camera: { type: 'perspective', params: rt.tensor(cam, [n, 4]) },
    });
    // Metres: an absolute error of 1e-5 m (floor 1 in the relative error).
    expectTensorClose(out.vertices, cpuBatch(ref, 'vertices'), [n, model.vertexCount, 3]);
    expectTensorClose(out.joints, cpuBatch(ref, 'joints'), [n, J, 3]);
    // Pixels: 1e-5 relative to the coordinates (a few hundred px).
    expectTensorClose(out.joints2d as NonNullable<typeof out.joints2d>, ref2d, [n, J, 2], 1e-5, 100);
    expect(out.saved).toBeNull();
  });
  gpu.dispose();
}

describe('SMPL layer forward (axis-angle) against the float64 CPU forward pass', () => {
  const small = makeRandomBodyModel(11, { vertexCount: 37, shapeCount: 10, influences: 4 });
  it('small random model, batch 1', () => checkAxisAngleForward(small, 1));
  it('small random model, batch 16', () => checkAxisAngleForward(small, 16));
  const odd = makeRandomBodyModel(12, { vertexCount: 53, shapeCount: 7, influences: 6, poseBlend: false });
  it('odd sizes: 7 betas, 6 influences, no pose blend shapes, batch 5', () => checkAxisAngleForward(odd, 5));
  // SMPL's sizes: 6890 vertices, 24 joints, 10 betas, 207 pose features, 13776 faces — random data.
  const big = makeRandomBodyModel(13, { vertexCount: 6890, shapeCount: 10, influences: 4, faceCount: 13776 });
  it('random model of SMPL size, batch 1', () => checkAxisAngleForward(big, 1));
  it('random model of SMPL size, batch 16', () => checkAxisAngleForward(big, 16));
});

describe('SMPL layer forward, other inputs', () => {
  const model = makeRandomBodyModel(21, { vertexCount: 41 });
  const J = model.jointCount;
  const B = model.shapeCount;

  it('zero pose returns the shaped template (plus trans)', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, model);
    const n = 3;
    const betas = randomBetas(n, B);
    const trans = randomTrans(n);
    const want = new Float64Array(n * model.vertexCount * 3);
    for (let b = 0; b < n; b++) {
      const shaped = cpuForward(model, { betas: betas.subarray(b * B, (b + 1) * B) }).shapedVertices;
      for (let i = 0; i < shaped.length; i++) want[b * shaped.length + i] = shaped[i] + trans[3 * b + (i % 3)];
    }
    rt.scope(() => {
      const out = smplForward(gpu, { betas: rt.tensor(betas, [n, B]), pose: rt.zeros([n, J * 3]), trans: rt.tensor(trans, [n, 3]) });
      expectTensorClose(out.vertices, want, [n, model.vertexCount, 3]);
      expect(out.joints2d).toBeNull();
    });
    gpu.dispose();
  });

  it('relative and absolute rotation matrices, orthogonalised, with a weak-perspective camera', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, model);
    const n = 4;
    const pose = randomPose(n, J);
    const betas = randomBetas(n, B);
    const cam = Float64Array.from({ length: n * 3 }, () => rng.uniform(0.5, 2));
    // Noisy matrices; the reference is the CPU forward pass of their nearest rotations.
    const relative = new Float64Array(n * J * 9);
    for (let i = 0; i < n * J; i++) rodriguesRef(pose[3 * i], pose[3 * i + 1], pose[3 * i + 2], relative, 9 * i);
    const refs = Array.from({ length: n }, (_, b) => smplForwardFromRotations(model, relative.subarray(b * J * 9, (b + 1) * J * 9), betas.subarray(b * B, (b + 1) * B)));
    const absolute = new Float64Array(n * J * 9);
    refs.forEach((r, b) => absolute.set(globalRotationsOf(r), b * J * 9));
    const noisyAbs = absolute.map((x) => x + rng.normal(0, 0.05));
    // One reflection among the inputs: a proper rotation must come out of it.
    for (let k = 0; k < 3; k++) noisyAbs[9 * 5 + k] *= -1;
    const projectedAbs = new Float64Array(n * J * 9);
    for (let i = 0; i < n * J; i++) projectedAbs.set(nearestRotationRef(noisyAbs, 9 * i), 9 * i);
    const absRefs = Array.from({ length: n }, (_, b) =>
      smplForwardFromRotations(model, absoluteToRelativeRotations(projectedAbs.subarray(b * J * 9, (b + 1) * J * 9), model.parents), betas.subarray(b * B, (b + 1) * B)));
    const ref2d = new Float64Array(n * J * 2);
    absRefs.forEach((r, b) => ref2d.set(projectWeakPerspective(r.joints, cam[3 * b], [cam[3 * b + 1], cam[3 * b + 2]]), b * J * 2));
    rt.scope(() => {
      const betasT = rt.tensor(betas, [n, B]);
      const rel = smplForward(gpu, { betas: betasT, rotations: rt.tensor(relative, [n, J, 9]), orthogonalise: false });
      expectTensorClose(rel.vertices, cpuBatch(refs, 'vertices'), [n, model.vertexCount, 3]);
      const rel2 = smplForward(gpu, { betas: betasT, rotations: rt.tensor(relative, [n, J * 9]), orthogonalise: true });
      expectTensorClose(rel2.joints, cpuBatch(refs, 'joints'), [n, J, 3]);
      const abs = smplForward(gpu, {
        betas: betasT, rotations: rt.tensor(noisyAbs, [n, J, 9]), frame: 'absolute', camera: { type: 'weak', params: rt.tensor(cam, [n, 3]) },
      });
      expectTensorClose(abs.vertices, cpuBatch(absRefs, 'vertices'), [n, model.vertexCount, 3]);
      expectTensorClose(abs.joints, cpuBatch(absRefs, 'joints'), [n, J, 3]);
      expectTensorClose(abs.joints2d as NonNullable<typeof abs.joints2d>, ref2d, [n, J, 2]);
    });
    gpu.dispose();
  });

  it('exports absolute rotations as parent-relative axis-angle (NBF export, 72 numbers)', () => {
    const rt = testRuntime();
    const gpu = GpuBodyModel.upload(rt, model);
    const n = 5;
    const pose = randomPose(n, J, 0.5);
    const absolute = new Float64Array(n * J * 9);
    for (let b = 0; b < n; b++) absolute.set(globalRotationsOf(cpuForward(model, { pose: pose.subarray(b * J * 3, (b + 1) * J * 3) })), b * J * 9);
    const want = new Float64Array(n * J * 3);
    for (let b = 0; b < n; b++) want.set(absoluteToRelative(absolute.subarray(b * J * 9, (b + 1) * J * 9), model.parents), b * J * 3);
    rt.scope(() => {
      const got = absoluteToRelativeAxisAngle(gpu, rt.tensor(absolute, [n, J * 9]));
      // Composed float32 rotations: errors of a few 1e-6 rad per joint.
      expectTensorClose(got, want, [n, J * 3], 2e-5);
      expectTensorClose(got, pose, [n, J * 3], 2e-5);
    });
    gpu.dispose();
  });

  it('rejects bad inputs with errors naming the shapes, and frees its textures', () => {
    const rt = testRuntime();
    const before = rt.memory();
    const gpu = GpuBodyModel.upload(rt, model);
    rt.scope(() => {
      const betas = rt.zeros([2, B]);
      expect(() => smplForward(gpu, { betas: rt.zeros([2, B + 1]), pose: rt.zeros([2, J, 3]) })).toThrow(/betas should be \[N, 10\].*\[2, 11\]/);
      expect(() => smplForward(gpu, { betas, pose: rt.zeros([2, J, 2]) })).toThrow(ShapeError);
      expect(() => smplForward(gpu, { betas })).toThrow(/exactly one of pose/);
      expect(() => smplForward(gpu, { betas, pose: rt.zeros([2, J * 3]), trans: rt.zeros([2, 2]) })).toThrow(/trans should be \[2, 3\]/);
      expect(() => smplForward(gpu, { betas, pose: rt.zeros([2, J * 3]), camera: { type: 'perspective', params: rt.zeros([2, 3]) } })).toThrow(/params \[2, 4\]/);
      smplForward(gpu, { betas, pose: rt.zeros([2, J * 3]), keepForBackward: true }).saved?.dispose();
    });
    gpu.dispose();
    rt.scope(() => expect(() => smplForward(gpu, { betas: rt.zeros([1, B]), pose: rt.zeros([1, J * 3]) })).toThrow(/disposed/));
    expect(rt.memory().tensors).toBe(before.tensors);
    const broken = { ...model, parents: Int32Array.from(model.parents).fill(3, 2, 3) };
    expect(() => GpuBodyModel.upload(rt, broken)).toThrow(BodyModelError);
    expect(() => GpuBodyModel.upload(rt, { ...model, vTemplate: model.vTemplate.subarray(3) })).toThrow(/vTemplate has/);
    expect(rt.memory().tensors).toBe(before.tensors);
  });
});
