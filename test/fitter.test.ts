/**
 * The fitting network (src/nn/fitter.ts, resnet.ts): construction of the shipped configurations,
 * forward and backward, the output head (proper rotations, camera decoding), the losses against
 * central finite differences, and the weights file.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { l1Loss } from '../src/autodiff/grads/losses.js';
import { FITTER_CONFIGS, FitterNetwork, cameraLatent, translationOfLatent, fitterConfig, latentSize, type FitterConfig } from '../src/nn/fitter.js';
import { fitterLoss, type FitterLossWeights, type FitterTargets } from '../src/nn/fitter-loss.js';
import { RESNET_CONFIGS, ResNet, resnetStride, type ResNetConfig } from '../src/nn/resnet.js';
import { ParamStore } from '../src/nn/params.js';
import { encodeFitterWeights, loadFitterWeights, readWeightsMeta } from '../src/nn/weights-file.js';
import { encodeParamFile } from '../src/nn/param-format.js';
import { orthogonalise } from '../src/smpl/gpu/kernels.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { Rng } from '../src/util/random.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rt = testRuntime();
const body = loadOpenBodyModel();

/** A small fitter that builds fast (the same code as the shipped ones). */
const TINY: FitterConfig = {
  name: 'tiny', inputSize: 24, shapeCount: 10,
  encoder: { block: 'basic', blocks: [1, 1], widths: [8, 12], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
};

function randomParts(n: number, size: number, seed: number): Tensor {
  return rt.tensor(new Rng(seed).uniformArray(n * size * size * 3, -1, 1), [n, size, size, 3]);
}

function det3(m: ArrayLike<number>, o: number): number {
  return m[o] * (m[o + 4] * m[o + 8] - m[o + 5] * m[o + 7]) - m[o + 1] * (m[o + 3] * m[o + 8] - m[o + 5] * m[o + 6]) + m[o + 2] * (m[o + 3] * m[o + 7] - m[o + 4] * m[o + 6]);
}

describe('ResNet', () => {
  it('builds ResNet-50 with the published parameter count and a stride of 32', () => {
    const params = new ParamStore(rt);
    const buffers = new ParamStore(rt);
    try {
      const net = new ResNet(params, buffers, RESNET_CONFIGS.resnet50);
      expect(net.outChannels).toBe(2048);
      // torchvision's resnet50 without the fc layer: 23,508,032 parameters (conv + BN scale/offset).
      expect(params.countValues()).toBe(23_508_032);
      expect(resnetStride(RESNET_CONFIGS.resnet50)).toBe(32);
    } finally {
      params.dispose();
      buffers.dispose();
    }
  });

  it('rejects a bad configuration naming the field', () => {
    const params = new ParamStore(rt);
    const buffers = new ParamStore(rt);
    expect(() => new ResNet(params, buffers, { ...RESNET_CONFIGS.resnet18, widths: [64, 128] })).toThrow(/widths .*blocks/);
    expect(() => new ResNet(params, buffers, { ...RESNET_CONFIGS.resnet18, stemKernel: 0 })).toThrow(/stemKernel/);
    params.dispose();
    buffers.dispose();
  });
});

describe('FitterNetwork', () => {
  it('builds the compact configuration, small enough to ship (≤ 5 MB in fp16)', () => {
    const net = new FitterNetwork(rt, fitterConfig('compact'));
    try {
      expect(net.latentSize).toBe(10 + 216 + 3);
      const bytes = encodeFitterWeights(net);
      expect(bytes.length).toBeLessThan(5 * 1024 * 1024);
      expect(bytes.length).toBeGreaterThan(2 * (net.params.countValues() + net.buffers.countValues()));
    } finally {
      net.dispose();
    }
  });

  it('runs the paper configuration (ResNet-50 at 224²) forward and backward', () => {
    const net = new FitterNetwork(rt, fitterConfig('paper'));
    try {
      expect(net.encoder.outChannels).toBe(2048);
      const x = randomParts(1, 224, 1);
      const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => {
        const pred = net.forward(p, x, true);
        const target = rt.zeros(pred.latent.shape);
        return fitterLoss(pred, null, { latent: target, joints3d: target, joints2d: target, has3d: rt.fill([1], 1), has2d: rt.fill([1], 1) }, 224, { params: 1, joints3d: 0, joints2d: 0 }).total;
      })(net.params.toRecord());
      expect(Number.isFinite(value.readSync()[0])).toBe(true);
      const stem = grads['encoder/stem/conv/weights'].readSync();
      expect(stem.some((g) => g !== 0)).toBe(true);
      expect(stem.every(Number.isFinite)).toBe(true);
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      x.dispose();
    } finally {
      net.dispose();
    }
  });

  it('starts at the mean: a fresh head predicts the mean latent up to its small initial weights', () => {
    const L = latentSize(TINY);
    const mean = new Rng(3).uniformArray(L, -1, 1);
    const net = new FitterNetwork(rt, TINY, { meanLatent: mean, seed: 5 });
    try {
      const latent = rt.scope(() => net.forward(net.params.toRecord(), randomParts(2, 24, 2), false).latent.readSync());
      for (let i = 0; i < 2 * L; i++) expect(Math.abs(latent[i] - mean[i % L])).toBeLessThan(0.05);
    } finally {
      net.dispose();
    }
  });

  it('turns any head output into proper rotations (orthonormal, det +1) and a translation in front of the camera', () => {
    const net = new FitterNetwork(rt, TINY, { seed: 7 });
    const gpuModel = GpuBodyModel.upload(rt, body);
    try {
      const rng = new Rng(9);
      const N = 3;
      const L = net.latentSize;
      const raw = rng.uniformArray(N * L, -2, 2);
      // A reflection on purpose: det −1 must still come out as a proper rotation.
      for (let k = 0; k < 9; k++) raw[10 + k] = [-1, 0, 0, 0, 1, 0, 0, 0, 1][k];
      const out = rt.scope(() => {
        const p = net.decode(rt.tensor(raw, [N, L]));
        const b = net.body(gpuModel, p);
        return { r: orthogonalise(p.rotations, N * 24).readSync(), t: p.trans.readSync(), j2: (b.joints2d as Tensor).readSync() };
      });
      for (let m = 0; m < N * 24; m++) {
        const o = 9 * m;
        expect(det3(out.r, o)).toBeCloseTo(1, 4);
        for (let a = 0; a < 3; a++) {
          for (let b = 0; b < 3; b++) {
            let dot = 0;
            for (let k = 0; k < 3; k++) dot += out.r[o + 3 * a + k] * out.r[o + 3 * b + k];
            expect(dot).toBeCloseTo(a === b ? 1 : 0, 4);
          }
        }
      }
      for (let n = 0; n < N; n++) {
        const cpu = translationOfLatent(raw, n * L + L - 3);
        for (let k = 0; k < 3; k++) expect(out.t[3 * n + k]).toBeCloseTo(cpu[k], 4);
        expect(out.t[3 * n + 2]).toBeGreaterThan(0);
      }
      expect(out.j2.every(Number.isFinite)).toBe(true);
    } finally {
      gpuModel.dispose();
      net.dispose();
    }
  });

  it('decodes the camera latent as the inverse of cameraLatent, and rejects a body behind the camera', () => {
    const t = [0.31, -0.2, 17.5];
    const back = translationOfLatent(cameraLatent(t));
    for (let k = 0; k < 3; k++) expect(back[k]).toBeCloseTo(t[k], 10);
    expect(() => cameraLatent([0, 0, -1])).toThrow(/in front of the camera/);
  });
});

/** Random γ, β and running averages, so every batch norm really changes its activations. */
function randomiseNorms(params: ParamStore, buffers: ParamStore, seed: number): void {
  const rng = new Rng(seed);
  const randomise = (store: ParamStore, suffix: string, lo: number, hi: number) => {
    for (const name of store.names().filter((n) => n.endsWith(suffix))) {
      const shape = store.get(name).shape;
      store.set(name, rt.tensor(rng.uniformArray(shape[0], lo, hi), shape));
    }
  };
  randomise(params, '/bn/scale', 0.5, 1.5);
  randomise(params, '/bn/offset', -0.5, 0.5);
  randomise(buffers, '/bn/mean', -0.5, 0.5);
  randomise(buffers, '/bn/variance', 0.5, 2);
}

/** max |a − b| / max |b|. */
function relativeGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  expect(a.length).toBe(b.length);
  expect(scale).toBeGreaterThan(0);
  return diff / scale;
}

/** Bottleneck blocks with every kind of convolution: 7×7 s2 stem (im2col), 1×1 (matmul), 3×3 s2, 1×1 s2 projection. */
const BOTTLENECK: ResNetConfig = {
  block: 'bottleneck', blocks: [1, 2], widths: [4, 8], inputChannels: 3, stemChannels: 8, stemKernel: 7, stemStride: 2, stemPool: 0,
  batchNorm: { epsilon: 1e-3, momentum: 0.5 },
};

describe('inference with batch norm folded into the convolutions', () => {
  it('compact fitter, batch 2: the folded path equals batch norm as its own pass; the cache is reused and freed', () => {
    const base = rt.memory();
    const net = new FitterNetwork(rt, fitterConfig('compact'), { seed: 5 });
    try {
      randomiseNorms(net.params, net.buffers, 11);
      const mean = new Rng(3).uniformArray(net.latentSize, -1, 1);
      net.setMeanLatent(mean);
      const x = randomParts(2, 64, 4);
      const record = net.params.toRecord();
      const live = rt.memory().tensors;
      const plain = rt.scope(() => net.encoder.features(record, x, false).readSync());
      const folded = rt.scope(() => net.encoder.features(record, x, false, { foldBatchNorm: true }).readSync());
      expect(relativeGap(folded, plain)).toBeLessThan(1e-4);
      // FitterNetwork.forward folds by default; compare the head's output (latent − mean).
      const offsets = (latent: Float32Array) => latent.map((v, i) => v - mean[i % net.latentSize]);
      const latentPlain = rt.scope(() => net.forward(record, x, false, { folded: false }).latent.readSync());
      const latent = rt.scope(() => net.forward(net.params.toRecord(), x, false).latent.readSync());
      expect(relativeGap(offsets(latent), offsets(latentPlain))).toBeLessThan(1e-4);
      // Built once: a second call creates nothing new.
      const cached = rt.memory().tensors;
      expect(cached).toBeGreaterThan(live);
      const inference = net.encoder.prepareInference(record);
      expect(inference).toBeDefined();
      expect(rt.scope(() => net.forward(record, x, false).latent.readSync())).toEqual(latent);
      expect(net.encoder.prepareInference(net.params.toRecord())).toBe(inference);
      expect(rt.memory().tensors).toBe(cached);
      // A record that is not the network's own runs unfolded (nothing cached for it).
      const copy = rt.tensor(record['encoder/stem/conv/weights'].readSync(), record['encoder/stem/conv/weights'].shape);
      expect(net.encoder.prepareInference({ ...record, 'encoder/stem/conv/weights': copy })).toBeUndefined();
      copy.dispose();
      // Replacing a buffer (as training or loading does) frees the cache; the next call folds the new values.
      randomiseNorms(net.params, net.buffers, 12);
      expect(rt.memory().tensors).toBe(live + 1); // + the head's packed weights: those were not replaced
      const record2 = net.params.toRecord();
      const plain2 = rt.scope(() => net.forward(record2, x, false, { folded: false }).latent.readSync());
      const folded2 = rt.scope(() => net.forward(record2, x, false).latent.readSync());
      expect(relativeGap(offsets(folded2), offsets(plain2))).toBeLessThan(1e-4);
      expect(relativeGap(offsets(folded2), offsets(latent))).toBeGreaterThan(1e-2);
      expect(net.encoder.prepareInference(record2)).not.toBe(inference);
      x.dispose();
    } finally {
      net.dispose();
    }
    expect(rt.memory()).toMatchObject({ tensors: base.tensors, liveTextures: base.liveTextures, liveBytes: base.liveBytes });
  });

  it('bottleneck ResNet, batch 2: folded equals unfolded; a training step (new running averages) invalidates the cache', () => {
    const base = rt.memory();
    const params = new ParamStore(rt, { seed: 2 });
    const buffers = new ParamStore(rt, { seed: 2 });
    try {
      const net = new ResNet(params, buffers, BOTTLENECK);
      randomiseNorms(params, buffers, 13);
      const x = randomParts(2, 16, 6);
      const check = () => {
        const record = params.toRecord();
        const plain = rt.scope(() => net.forward(record, x, false).readSync());
        const folded = rt.scope(() => net.forward(record, x, false, { foldBatchNorm: true }).readSync());
        expect(relativeGap(folded, plain)).toBeLessThan(1e-4);
        return folded;
      };
      const before = rt.memory().tensors;
      const first = check();
      expect(rt.memory().tensors).toBeGreaterThan(before);
      rt.scope(() => { net.forward(params.toRecord(), x, true); }); // moves the running averages
      expect(rt.memory().tensors).toBe(before);
      expect(relativeGap(check(), first)).toBeGreaterThan(1e-3);
      net.releaseInference();
      expect(rt.memory().tensors).toBe(before);
      x.dispose();
    } finally {
      params.dispose();
      buffers.dispose();
    }
    expect(rt.memory()).toMatchObject({ tensors: base.tensors, liveTextures: base.liveTextures, liveBytes: base.liveBytes });
  });

  it('is not used while a tape records (the fold is not differentiable)', () => {
    const net = new FitterNetwork(rt, TINY, { seed: 9 });
    try {
      const x = randomParts(2, 24, 8);
      const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => {
        expect(net.encoder.prepareInference(p)).toBeUndefined();
        const latent = net.forward(p, x, false).latent;
        return l1Loss(latent, rt.zeros(latent.shape));
      })(net.params.toRecord());
      expect(grads['head/weights'].readSync().some((g) => g !== 0)).toBe(true);
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      expect(net.encoder.prepareInference(net.params.toRecord())).toBeDefined(); // outside the tape it applies
      x.dispose();
    } finally {
      net.dispose();
    }
  });
});

describe('fitter losses', () => {
  const N = 3;
  const L = latentSize(TINY);
  const rng = new Rng(21);
  const gpuModel = GpuBodyModel.upload(rt, body);
  // Near the mean pose of a person 20 m away (NBF's framing), so the projection is well-conditioned.
  const base = new Float32Array(N * L);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < 24; j++) base.set([1, 0, 0, 0, 1, 0, 0, 0, 1], n * L + 10 + 9 * j);
    base.set([Math.log(20), 0.05, -0.1], n * L + L - 3);
  }
  const start = Float32Array.from(base, (v, i) => v + rng.uniform(-0.15, 0.15) * (i % L < L - 3 ? 1 : 0.2));
  const target = Float32Array.from(base, (v, i) => v + rng.uniform(-0.3, 0.3) * (i % L < L - 3 ? 1 : 0.2));
  const net = new FitterNetwork(rt, TINY);

  function targets(has3d: number[]): FitterTargets {
    const p = net.decode(rt.tensor(target, [N, L]));
    const b = net.body(gpuModel, p);
    return { latent: rt.tensor(target, [N, L]), joints3d: b.joints, joints2d: b.joints2d as Tensor, has3d: rt.tensor(Float32Array.from(has3d), [N]), has2d: rt.fill([N], 1) };
  }

  function lossAt(latent: Float32Array, weights: FitterLossWeights, has3d: number[]): number {
    return rt.scope(() => {
      const p = net.decode(rt.tensor(latent, [N, L]));
      return fitterLoss(p, net.body(gpuModel, p), targets(has3d), 64, weights).total.readSync()[0];
    });
  }

  function gradientAt(latent: Float32Array, weights: FitterLossWeights, has3d: number[]): Float32Array {
    return rt.scope(() => {
      const x = rt.tensor(latent, [N, L]);
      const t = targets(has3d);
      const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => {
        const pred = net.decode(p.latent);
        return fitterLoss(pred, net.body(gpuModel, pred), t, 64, weights).total;
      })({ latent: x });
      value.dispose();
      return grads.latent.readSync();
    });
  }

  const cases: [string, FitterLossWeights][] = [
    ['params (L1)', { params: 1, joints3d: 0, joints2d: 0 }],
    ['joints3d (Euclidean)', { params: 0, joints3d: 1, joints2d: 0 }],
    ['joints3d (L2)', { params: 0, joints3d: 1, joints2d: 0, joints3dKind: 'l2' }],
    ['joints2d', { params: 0, joints3d: 0, joints2d: 1 }],
    ['a mix', { params: 0.5, joints3d: 2, joints2d: 1 }],
  ];
  for (const [name, weights] of cases) {
    it(`${name}: gradient matches central finite differences`, () => {
      const has3d = [1, 0, 1];
      const grad = gradientAt(start, weights, has3d);
      // Coordinates of every kind: β, a root and a limb rotation entry, the camera; in a 3D-masked example too.
      const coords = [0, 4, 10, 14, 10 + 9 * 18 + 2, L - 3, L - 2, L - 1, L + 3, L + 12, 2 * L + 30, 2 * L + L - 1];
      const h = 2e-3;
      let worst = 0;
      for (const c of coords) {
        const up = Float32Array.from(start);
        const down = Float32Array.from(start);
        up[c] += h;
        down[c] -= h;
        const numeric = (lossAt(up, weights, has3d) - lossAt(down, weights, has3d)) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - grad[c]) / Math.max(0.05, Math.abs(numeric)));
      }
      expect(worst).toBeLessThan(0.05);
    });
  }

  it('masks the parameter and 3D terms of examples without 3D labels (NBF partial supervision)', () => {
    const grad = gradientAt(start, { params: 1, joints3d: 1, joints2d: 0 }, [1, 0, 1]);
    for (let i = L; i < 2 * L; i++) expect(grad[i]).toBe(0);
    expect(grad.subarray(0, L).some((g) => g !== 0)).toBe(true);
    const with2d = gradientAt(start, { params: 1, joints3d: 1, joints2d: 1 }, [1, 0, 1]);
    expect(with2d.subarray(L, 2 * L).some((g) => g !== 0)).toBe(true);
  });

  it('is zero at the target and rejects weights that train nothing', () => {
    expect(lossAt(target, { params: 1, joints3d: 1, joints2d: 1 }, [1, 1, 1])).toBeLessThan(1e-4);
    expect(() => lossAt(start, { params: 0, joints3d: 0, joints2d: 0 }, [1, 1, 1])).toThrow(/every weight is 0/);
    expect(() => lossAt(start, { params: -1, joints3d: 0, joints2d: 1 }, [1, 1, 1])).toThrow(/"params"/);
  });
});

describe('weights file', () => {
  it('round-trips a fitter in fp16 and fp32 with the same predictions', () => {
    const mean = new Rng(4).uniformArray(latentSize(TINY), -1, 1);
    const net = new FitterNetwork(rt, TINY, { seed: 3, meanLatent: mean });
    try {
      const x = randomParts(2, 24, 5);
      const reference = rt.scope(() => net.forward(net.params.toRecord(), x, false).latent.readSync());
      for (const [dtype, tol] of [['float32', 1e-6], ['float16', 5e-3]] as const) {
        const bytes = encodeFitterWeights(net, { dtype, info: { note: 'test' } });
        const { network, meta } = loadFitterWeights(rt, bytes, 'w.nbfw');
        try {
          expect(meta.config).toEqual(net.config);
          expect(meta.info).toEqual({ note: 'test' });
          const again = rt.scope(() => network.forward(network.params.toRecord(), x, false).latent.readSync());
          for (let i = 0; i < again.length; i++) expect(Math.abs(again[i] - reference[i])).toBeLessThan(tol * Math.max(1, Math.abs(reference[i])));
        } finally {
          network.dispose();
        }
      }
      x.dispose();
    } finally {
      net.dispose();
    }
  });

  it('names the file when it is truncated, and the tensor when it does not match its config', () => {
    const net = new FitterNetwork(rt, TINY);
    try {
      const bytes = encodeFitterWeights(net);
      expect(() => readWeightsMeta(bytes.subarray(0, bytes.length - 10), 'cut.nbfw')).toThrow(/cut\.nbfw/);
      const before = rt.memory().tensors;
      const { meta, entries } = readWeightsMeta(bytes);
      const wrong = entries.map((e) => (e.name === 'head/bias' ? { ...e, shape: [e.shape[0] - 1], data: e.data.subarray(1) } : e));
      expect(() => loadFitterWeights(rt, encodeParamFile(wrong, { meta }), 'bad.nbfw')).toThrow(/bad\.nbfw.*"head\/bias"/);
      const missing = entries.filter((e) => e.name !== 'encoder/stem/conv/weights');
      expect(() => loadFitterWeights(rt, encodeParamFile(missing, { meta }), 'missing.nbfw')).toThrow(/missing "encoder\/stem\/conv\/weights"/);
      expect(() => loadFitterWeights(rt, encodeParamFile(entries, { meta: { kind: 'nbf-gl checkpoint' } }), 'ckpt')).toThrow(/not an nbf-gl weights file/);
      expect(rt.memory().tensors).toBe(before);
    } finally {
      net.dispose();
    }
  });
});

describe('configurations', () => {
  it('paper is NBF: ResNet-50 at 224² on 3 input channels', () => {
    expect(FITTER_CONFIGS.paper.inputSize).toBe(224);
    expect(FITTER_CONFIGS.paper.encoder.blocks).toEqual([3, 4, 6, 3]);
    expect(() => fitterConfig('huge')).toThrow(/unknown fitter configuration "huge"/);
  });
});
