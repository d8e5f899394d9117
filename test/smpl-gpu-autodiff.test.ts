import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { makeRandomBodyModel } from '../src/smpl/random-model.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { smplBackward, smplForward } from '../src/smpl/gpu/layer.js';
import { smpl } from '../src/smpl/gpu/differentiable.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { add, mul, sum } from '../src/autodiff/index.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rng = new Rng(5150);

describe('SMPL layer on the autodiff tape', () => {
  it('valueAndGrad through vertices, joints and joints2d equals smplBackward, and frees everything', () => {
    const rt = testRuntime();
    const before = rt.memory();
    const model = makeRandomBodyModel(41, { vertexCount: 29 });
    const gpu = GpuBodyModel.upload(rt, model);
    const n = 3;
    const J = model.jointCount;
    const V = model.vertexCount;
    const data = {
      betas: Float32Array.from({ length: n * 10 }, () => rng.normal()),
      pose: Float32Array.from({ length: n * J * 3 }, () => rng.normal(0, 0.4)),
      trans: Float32Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? 6 : 0.1)),
      camera: Float32Array.from({ length: n * 4 }, (_, i) => [700, 720, 200, 210][i % 4]),
    };
    const weights = {
      vertices: Float32Array.from({ length: n * V * 3 }, () => rng.normal()),
      joints: Float32Array.from({ length: n * J * 3 }, () => rng.normal()),
      joints2d: Float32Array.from({ length: n * J * 2 }, () => rng.normal(0, 0.01)),
    };
    rt.scope(() => {
      const params = {
        betas: rt.tensor(data.betas, [n, 10]), pose: rt.tensor(data.pose, [n, J, 3]), trans: rt.tensor(data.trans, [n, 3]), camera: rt.tensor(data.camera, [n, 4]),
      };
      const w = { vertices: rt.tensor(weights.vertices, [n, V, 3]), joints: rt.tensor(weights.joints, [n, J, 3]), joints2d: rt.tensor(weights.joints2d, [n, J, 2]) };
      const step = valueAndGrad((p: typeof params) => {
        const out = smpl(gpu, { betas: p.betas, pose: p.pose, trans: p.trans, camera: { type: 'perspective', params: p.camera } });
        return add(add(sum(mul(out.vertices, w.vertices)), sum(mul(out.joints, w.joints))), sum(mul(out.joints2d as Tensor, w.joints2d)));
      });
      const { grads } = step(params);
      const direct = smplForward(gpu, { betas: params.betas, pose: params.pose, trans: params.trans, camera: { type: 'perspective', params: params.camera }, keepForBackward: true });
      const want = smplBackward(gpu, direct.saved as NonNullable<typeof direct.saved>, w);
      direct.saved?.dispose();
      for (const [key, t] of [['betas', want.betas], ['pose', want.pose], ['trans', want.trans], ['camera', want.camera]] as const) {
        const got = grads[key].readSync();
        const ref = (t as Tensor).readSync();
        let scale = 0;
        for (const x of ref) scale = Math.max(scale, Math.abs(x));
        expect(scale, key).toBeGreaterThan(0);
        expect(maxRelError(got, ref, scale), key).toBeLessThan(1e-5);
      }
      // Outside a tape: the plain forward pass, nothing kept.
      const plain = smpl(gpu, { betas: params.betas, pose: params.pose });
      expect(plain.joints2d).toBeNull();
    });
    gpu.dispose();
    const after = rt.memory();
    expect(after.tensors).toBe(before.tensors);
  });
});
