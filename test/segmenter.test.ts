/**
 * The segmentation network (src/nn/refinenet.ts): RCU, MRF, CRP and the two RefineNet blocks on odd
 * sizes and against float64 references with central finite differences; the loss (class weights,
 * ignored labels) against a float64 hand computation and finite differences; the read-out; both
 * configurations forward and backward; a short smoke training of the compact one.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { checkGradients } from './helpers/finite-diff.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import {
  ChainedResidualPooling, LightRefineBlock, crpMaxPool, MultiResolutionFusion, RefineNetBlock, ResidualConvUnit, SEGMENTER_CLASSES, SEGMENTER_CONFIGS,
  SegmenterNetwork, checkSegmenterConfig, pixelClassWeights, predictLabels, segmenterConfig, segmenterLoss, type SegmenterConfig,
} from '../src/nn/refinenet.js';
import { ParamStore } from '../src/nn/params.js';
import { encodeParamFile } from '../src/nn/param-format.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { poolRef } from '../src/kernels/pool.ref.js';
import { maxPool } from '../src/autodiff/grads/spatial.js';
import { resizeBilinearRef } from '../src/kernels/resize.ref.js';
import { argmaxRef } from '../src/kernels/argmax.ref.js';
import { adam } from '../src/optim/optimizers.js';
import { Rng } from '../src/util/random.js';
import type { Tensor } from '../src/runtime/tensor.js';

const rt = testRuntime();

// ─── float64 references of the blocks ──────────────────────────────────────────────────────────

type Shape = readonly number[];
const conv = (x: ArrayLike<number>, xs: Shape, w: ArrayLike<number>, ws: Shape, bias?: ArrayLike<number>) =>
  conv2dRef(x, xs, w, ws, { padding: 'same', bias }).data;
const relu = (x: ArrayLike<number>) => Float64Array.from(x, (v) => Math.max(0, v));
const add = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]);
const maxPool5 = (x: ArrayLike<number>, xs: Shape) => poolRef('max', x, xs, { size: 5, strides: 1, padding: 'same' }).data;

/** A store's parameters in creation order: names, shapes and values (the inputs of a gradient check). */
function paramsOf(store: ParamStore): { names: string[]; shapes: number[][]; values: Float32Array[] } {
  const all = store.readAll();
  return { names: all.map((e) => e.name), shapes: all.map((e) => e.shape), values: all.map((e) => e.data) };
}

/** Gradient check of a block: inputs [...activations, ...parameters], every one checked. */
function checkBlock(
  store: ParamStore, activations: { data: Float32Array; shape: number[] }[],
  gpu: (params: Record<string, Tensor>, xs: Tensor[]) => Tensor,
  ref: (p: Record<string, Float64Array>, xs: Float64Array[]) => ArrayLike<number>,
): void {
  const { names, shapes, values } = paramsOf(store);
  const A = activations.length;
  const record = <T>(xs: T[]) => Object.fromEntries(names.map((n, i) => [n, xs[A + i]])) as Record<string, T>;
  checkGradients(
    rt,
    (xs) => gpu(record(xs), xs.slice(0, A)),
    (xs) => ref(record(xs), xs.slice(0, A)),
    [...activations.map((a) => a.data), ...values],
    [...activations.map((a) => a.shape), ...shapes],
  );
}

function rcuRef(p: Record<string, Float64Array>, name: string, x: Float64Array, xs: Shape): Float64Array {
  const c = xs[3];
  const w = [3, 3, c, c];
  const h = conv(relu(x), xs, p[`${name}/conv1/weights`], w, p[`${name}/conv1/bias`]);
  return add(x, conv(relu(h), xs, p[`${name}/conv2/weights`], w));
}

function crpRef(p: Record<string, Float64Array>, name: string, stages: number, k: number, input: Float64Array, xs: Shape): Float64Array {
  let x = relu(input);
  let path: Float64Array = x;
  for (let s = 1; s <= stages; s++) {
    path = conv(maxPool5(path, xs), xs, p[`${name}/conv${s}/weights`], [k, k, xs[3], xs[3]]);
    x = add(x, path);
  }
  return x;
}

function mrfRef(p: Record<string, Float64Array>, name: string, xs: Float64Array[], shapes: Shape[]): Float64Array {
  const out = Math.min(...shapes.map((s) => s[3]));
  const H = Math.max(...shapes.map((s) => s[1]));
  const W = Math.max(...shapes.map((s) => s[2]));
  let sum: Float64Array | undefined;
  xs.forEach((x, i) => {
    const s = shapes[i];
    let y = conv(x, s, p[`${name}/conv${i + 1}/weights`], [3, 3, s[3], out], p[`${name}/conv${i + 1}/bias`]);
    if (s[1] !== H || s[2] !== W) y = resizeBilinearRef(y, [s[0], s[1], s[2], out], [H, W]).data;
    sum = sum ? add(sum, y) : y;
  });
  return sum!;
}

function randomActivation(shape: number[], seed: number, lo = -1, hi = 1): { data: Float32Array; shape: number[] } {
  return { data: new Rng(seed).uniformArray(shape.reduce((p, d) => p * d, 1), lo, hi), shape };
}

/** Runs `fn` with a fresh seeded store, freeing it after. */
function withStore<T>(seed: number, fn: (store: ParamStore) => T): T {
  const store = new ParamStore(rt, { seed });
  try {
    return fn(store);
  } finally {
    store.dispose();
  }
}

const shapeOf = (f: () => Tensor) => rt.scope(() => [...f().shape]);

// ─── blocks ────────────────────────────────────────────────────────────────────────────────────

describe('RefineNet blocks', () => {
  it('keep or fuse shapes on odd sizes (9×11, and 5×6 for the coarser path)', () => {
    withStore(1, (store) => {
      const p = () => store.toRecord();
      const fine = () => rt.zeros([2, 9, 11, 6]);
      const coarse = () => rt.zeros([2, 5, 6, 10]);
      const rcu = new ResidualConvUnit(store, 'rcu', 6);
      expect(shapeOf(() => rcu.apply(p(), fine()))).toEqual([2, 9, 11, 6]);
      const mrf = new MultiResolutionFusion(store, 'mrf', [6, 10]);
      expect(mrf.outChannels).toBe(6);
      expect(shapeOf(() => mrf.apply(p(), [fine(), coarse()]))).toEqual([2, 9, 11, 6]);
      // The order of the paths does not matter: the largest resolution and the smallest width win.
      const mrf2 = new MultiResolutionFusion(store, 'mrf2', [10, 6]);
      expect(shapeOf(() => mrf2.apply(p(), [coarse(), fine()]))).toEqual([2, 9, 11, 6]);
      for (const k of [3, 1]) {
        const crp = new ChainedResidualPooling(store, `crp${k}`, 6, { kernelSize: k });
        expect(crp.convs.length).toBe(4);
        expect(shapeOf(() => crp.apply(p(), fine()))).toEqual([2, 9, 11, 6]);
      }
      const block = new RefineNetBlock(store, 'block', [6, 10], { crpStages: 2 });
      expect(block.outChannels).toBe(6);
      expect(shapeOf(() => block.apply(p(), [fine(), coarse()]))).toEqual([2, 9, 11, 6]);
      const single = new RefineNetBlock(store, 'single', [10]);
      expect(single.fusion).toBeUndefined();
      expect(shapeOf(() => single.apply(p(), [coarse()]))).toEqual([2, 5, 6, 10]);
      const light = new LightRefineBlock(store, 'light', { inChannels: 7, width: 10, coarser: true, outChannels: 4 });
      expect(shapeOf(() => light.apply(p(), rt.zeros([2, 9, 11, 7]), coarse()))).toEqual([2, 9, 11, 4]);
      const lightTop = new LightRefineBlock(store, 'lightTop', { inChannels: 7, width: 10, coarser: false });
      expect(shapeOf(() => lightTop.apply(p(), rt.zeros([2, 9, 11, 7])))).toEqual([2, 9, 11, 10]);
      // Wrong inputs are named.
      expect(() => rt.scope(() => mrf.apply(p(), [fine()]))).toThrow(/mrf: expected 2 input paths/);
      expect(() => rt.scope(() => rcu.apply(p(), coarse()))).toThrow(/rcu: input must be NHWC with 6 channels/);
      expect(() => rt.scope(() => light.apply(p(), rt.zeros([2, 9, 11, 7])))).toThrow(/light: needs coarser input/);
    });
  });

  it('RCU: value and gradients (input and parameters) match float64 central differences', () => {
    withStore(2, (store) => {
      const rcu = new ResidualConvUnit(store, 'rcu', 3);
      checkBlock(store, [randomActivation([1, 4, 5, 3], 20)], (p, [x]) => rcu.apply(p, x), (p, [x]) => rcuRef(p, 'rcu', x, [1, 4, 5, 3]));
    });
  });

  it('MRF of a 5×7 and a 3×4 path: value and gradients match float64 central differences', () => {
    withStore(3, (store) => {
      const shapes = [[1, 5, 7, 3], [1, 3, 4, 5]];
      const mrf = new MultiResolutionFusion(store, 'mrf', [3, 5]);
      checkBlock(store, [randomActivation(shapes[0], 30), randomActivation(shapes[1], 31)], (p, xs) => mrf.apply(p, xs), (p, xs) => mrfRef(p, 'mrf', xs, shapes));
    });
  });

  for (const [k, stages] of [[3, 2], [1, 4]] as const) {
    it(`CRP (${k}×${k} convs, ${stages} stages): value and gradients match float64 central differences`, () => {
      withStore(4 + k, (store) => {
        const shape = [1, 5, 6, 3];
        const crp = new ChainedResidualPooling(store, 'crp', 3, { kernelSize: k, stages });
        checkBlock(store, [randomActivation(shape, 40 + k)], (p, [x]) => crp.apply(p, x), (p, [x]) => crpRef(p, 'crp', stages, k, x, shape));
      });
    });
  }

  it('CRP pool: the 1×5-then-5×1 passes equal one 5×5 pool, value and gradient, ties included', () => {
    // ReLU outputs are full of equal zeros and the windows overlap: where the gradient of a tie goes
    // is what could differ. Values from a set of 4 make ties common in every window.
    const shape = [2, 7, 9, 6];
    const rng = new Rng(77);
    const data = Float32Array.from({ length: shape.reduce((a, b) => a * b) }, () => Math.max(0, Math.floor(rng.uniform(-2, 3))));
    const seedData = Float32Array.from({ length: data.length }, () => rng.uniform(-1, 1));
    const run = (pool: (x: Tensor) => Tensor) => rt.scope(() => {
      const x = rt.tensor(data, shape);
      const { value, grads } = valueAndGrad(([t]: Tensor[]) => pool(t))([x], rt.tensor(seedData, shape));
      return { value: value.readSync(), grad: grads[0].readSync() };
    });
    const separable = run(crpMaxPool);
    const square = run((x) => maxPool(x, { size: 5, strides: 1, padding: 'same' }));
    expect(Array.from(separable.value)).toEqual(Array.from(maxPool5(data, shape), Math.fround));
    expect(Array.from(separable.value)).toEqual(Array.from(square.value));
    // The same outputs' seeds reach each pixel, summed in another order: equal to float rounding.
    const worst = separable.grad.reduce((m, g, i) => Math.max(m, Math.abs(g - square.grad[i])), 0);
    expect(worst).toBeLessThan(1e-5);
    expect(separable.grad.some((g) => g !== 0)).toBe(true);
  });

  it('RefineNet block (2 RCUs per path → MRF → CRP → RCU) equals the composition of the references, gradients included', () => {
    withStore(6, (store) => {
      const shapes = [[1, 4, 5, 2], [1, 2, 3, 3]];
      const block = new RefineNetBlock(store, 'b', [2, 3], { crpStages: 1 });
      checkBlock(store, [randomActivation(shapes[0], 60), randomActivation(shapes[1], 61)], (p, xs) => block.apply(p, xs), (p, xs) => {
        const refined = xs.map((x, i) => rcuRef(p, `b/path${i + 1}/rcu2`, rcuRef(p, `b/path${i + 1}/rcu1`, x, shapes[i]), shapes[i]));
        const fused = mrfRef(p, 'b/mrf', refined, shapes);
        const out = [1, 4, 5, 2];
        return rcuRef(p, 'b/out', crpRef(p, 'b/crp', 1, 3, fused, out), out);
      });
    });
  });
});

// ─── loss and read-out ─────────────────────────────────────────────────────────────────────────

describe('segmenterLoss', () => {
  const K = SEGMENTER_CLASSES;
  const shape = [2, 2, 3, K];
  const logits = new Rng(7).uniformArray(2 * 2 * 3 * K, -3, 3);
  // Every kind of label: 0, the last class, repeats, one above the range (ignored), −1 (ignored).
  const labels = Float32Array.from([0, 12, 5, 13, 5, 7, 3, -1, 12, 1, 0, 9]);
  const classWeights = Array.from({ length: K }, (_, k) => 0.25 + 0.15 * k);

  /** Float64: Σ w_y·(logsumexp(z) − z_y) / Σ w_y over labelled pixels. */
  function lossRef(z: ArrayLike<number>, y: ArrayLike<number>, w?: readonly number[]): number {
    let num = 0;
    let den = 0;
    for (let p = 0; p < y.length; p++) {
      if (!(y[p] >= 0 && y[p] < K)) continue;
      let m = -Infinity;
      for (let k = 0; k < K; k++) m = Math.max(m, z[p * K + k]);
      let s = 0;
      for (let k = 0; k < K; k++) s += Math.exp(z[p * K + k] - m);
      const weight = w ? w[y[p]] : 1;
      num += weight * (m + Math.log(s) - z[p * K + y[p]]);
      den += weight;
    }
    return num / den;
  }

  for (const weighted of [false, true]) {
    it(`${weighted ? 'with class weights' : 'unweighted'}: value equals a float64 hand computation; gradient matches central differences`, () => {
      const w = weighted ? classWeights : undefined;
      const options = weighted ? { classWeights } : {};
      const value = rt.scope(() => segmenterLoss(rt.tensor(logits, shape), rt.tensor(labels, [2, 2, 3, 1]), options).readSync()[0]);
      expect(Math.abs(value - lossRef(logits, labels, w)) / lossRef(logits, labels, w)).toBeLessThan(1e-5);
      checkGradients(rt, ([z, y]) => segmenterLoss(z, y, options), ([z, y]) => [lossRef(z, y, w)], [logits, labels], [shape, [2, 2, 3, 1]], { check: [0] });
    });
  }

  it('weights pixels by their class (0 for ignored labels); unit weights equal no weights; rejects bad weights and shapes', () => {
    const got = rt.scope(() => pixelClassWeights(rt.tensor(labels, [2, 2, 3, 1]), classWeights).readSync());
    expect([...got]).toEqual([...labels].map((y) => (y >= 0 && y < K ? Math.fround(classWeights[y]) : 0)));
    rt.scope(() => {
      const z = rt.tensor(logits, shape);
      const y = rt.tensor(labels, [2, 2, 3]);
      const plain = segmenterLoss(z, y).readSync()[0];
      expect(segmenterLoss(z, y, { classWeights: new Array(K).fill(1) }).readSync()[0]).toBeCloseTo(plain, 6);
      expect(() => segmenterLoss(z, y, { classWeights: [1, 2] })).toThrow(/2 class weights for 13 classes/);
      expect(() => segmenterLoss(z, y, { classWeights: new Array(K).fill(0) })).toThrow(/every class weight is 0/);
      expect(() => segmenterLoss(z, y, { classWeights: [-1, ...new Array(K - 1).fill(1)] })).toThrow(/class weight 0/);
      expect(() => segmenterLoss(z, rt.zeros([2, 3, 2, 1]))).toThrow(/labels must be \[2, 2, 3, 1\]/);
    });
  });

  it('predictLabels is the argmax over classes, as [N, H, W, 1]', () => {
    const data = new Rng(8).uniformArray(2 * 5 * 7 * K, -2, 2);
    const got = rt.scope(() => {
      const labelsOut = predictLabels(rt.tensor(data, [2, 5, 7, K]));
      expect(labelsOut.shape).toEqual([2, 5, 7, 1]);
      return labelsOut.readSync();
    });
    expect([...got]).toEqual([...argmaxRef(data, [2, 5, 7, K]).data]);
  });
});

// ─── networks ──────────────────────────────────────────────────────────────────────────────────

function randomPictures(n: number, size: number, seed: number): Tensor {
  return rt.tensor(new Rng(seed).uniformArray(n * size * size * 3, 0, 1), [n, size, size, 3]);
}

function randomLabels(n: number, size: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return rt.tensor(Float32Array.from({ length: n * size * size }, () => rng.int(0, SEGMENTER_CLASSES - 1)), [n, size, size, 1]);
}

describe('configurations', () => {
  it('rejects bad configurations, naming the field', () => {
    const c = segmenterConfig('compact');
    const bad = (patch: (c: SegmenterConfig) => void) => {
      const copy = structuredClone(c) as SegmenterConfig;
      patch(copy);
      return () => checkSegmenterConfig(copy);
    };
    expect(bad((x) => (x.inputSize = 100))).toThrow(/inputSize must be a multiple of the encoder's stride 32/);
    expect(bad((x) => (x.decoder = { ...x.decoder, widths: [64, 64, 64] }))).toThrow(/decoder\.widths \(3\) must have one entry per encoder stage \(4\)/);
    expect(bad((x) => (x.decoder = { ...x.decoder, widths: [64, 0, 64, 64] }))).toThrow(/decoder\.widths\[1\]/);
    expect(bad((x) => (x.decoder = { ...x.decoder, kind: 'unet' as 'light' }))).toThrow(/decoder\.kind/);
    expect(bad((x) => (x.decoder = { ...x.decoder, crpStages: 0 }))).toThrow(/crpStages/);
    expect(bad((x) => (x.classes = 1))).toThrow(/classes/);
    expect(bad((x) => (x.encoder = { ...x.encoder, stemKernel: 0 }))).toThrow(/encoder: stemKernel/);
    expect(bad((x) => (x.encoder = { ...x.encoder, inputChannels: 4 }))).toThrow(/input "rgb" needs encoder.inputChannels 3 \(RGB pictures\), got 4/);
    expect(() => segmenterConfig('huge')).toThrow(/unknown segmenter configuration "huge" \(known: paper, compact\)/);
    expect(() => segmenterConfig('compact', { inputSize: 96 + 1 })).toThrow(/multiple of the encoder's stride 32/);
    expect(segmenterConfig('compact', { inputSize: 96 }).inputSize).toBe(96);
  });

  it('compact: ≤ 2.5 M parameters (≤ 5 MB in fp16); runs forward and backward on batch 2 at 64², every parameter learning', () => {
    const base = rt.memory();
    const net = new SegmenterNetwork(rt, segmenterConfig('compact'), { seed: 1 });
    try {
      const count = net.params.countValues();
      const encoder = net.params.names().filter((n) => n.startsWith('encoder/')).reduce((s, n) => s + net.params.get(n).size, 0);
      console.log(`segmenter compact: ${count.toLocaleString('en')} parameters (encoder ${encoder.toLocaleString('en')}, decoder + head ${(count - encoder).toLocaleString('en')}), ${net.buffers.countValues().toLocaleString('en')} buffer values`);
      expect(count).toBeLessThanOrEqual(2_500_000);
      const fp16 = encodeParamFile(net.namedTensors(), { dtype: 'float16' });
      expect(fp16.length).toBeLessThan(5 * 1024 * 1024);
      const x = randomPictures(2, 64, 1);
      const y = randomLabels(2, 64, 2);
      // The encoder's stages, finest first, at 1/4 … 1/32.
      expect(rt.scope(() => net.encoder.forwardFeatures(net.params.toRecord(), x, false).map((f) => [...f.shape]))).toEqual([[2, 16, 16, 32], [2, 8, 8, 64], [2, 4, 4, 128], [2, 2, 2, 256]]);
      const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => {
        const logits = net.forward(p, x, true);
        expect(logits.shape).toEqual([2, 64, 64, SEGMENTER_CLASSES]);
        return segmenterLoss(logits, y);
      })(net.params.toRecord());
      const loss = value.readSync()[0];
      // Random labels, fresh network: about ln 13 = 2.56.
      expect(loss).toBeGreaterThan(2);
      expect(loss).toBeLessThan(4);
      for (const [name, g] of Object.entries(grads)) {
        const data = g.readSync();
        expect(data.every(Number.isFinite), name).toBe(true);
        expect(data.some((v) => v !== 0), `${name} gets no gradient`).toBe(true);
      }
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      // Inference: batch norm folded into the encoder's convolutions gives the plain path's logits.
      const record = net.params.toRecord();
      const plain = rt.scope(() => net.forward(record, x, false, { folded: false }).readSync());
      const folded = rt.scope(() => net.forward(record, x, false).readSync());
      let gap = 0;
      let scale = 0;
      for (let i = 0; i < plain.length; i++) {
        gap = Math.max(gap, Math.abs(folded[i] - plain[i]));
        scale = Math.max(scale, Math.abs(plain[i]));
      }
      expect(gap / scale).toBeLessThan(1e-4);
      const labels = net.predict(x);
      expect(labels.shape).toEqual([2, 64, 64, 1]);
      expect(labels.readSync().every((v) => Number.isInteger(v) && v >= 0 && v < SEGMENTER_CLASSES)).toBe(true);
      labels.dispose();
      expect(() => rt.scope(() => net.forward(record, rt.zeros([1, 48, 64, 3]), false))).toThrow(/multiples of 32/);
      x.dispose();
      y.dispose();
    } finally {
      net.dispose();
    }
    expect(rt.memory()).toMatchObject({ tensors: base.tensors, liveTextures: base.liveTextures, liveBytes: base.liveBytes });
  });

  it('paper: RefineNet-101 (ResNet-101 encoder, 4 cascaded blocks) builds and runs forward and backward at 64², batch 1', () => {
    expect(SEGMENTER_CONFIGS.paper.inputSize).toBe(512);
    const net = new SegmenterNetwork(rt, segmenterConfig('paper'), { seed: 2 });
    try {
      const count = net.params.countValues();
      const encoder = net.params.names().filter((n) => n.startsWith('encoder/')).reduce((s, n) => s + net.params.get(n).size, 0);
      console.log(`segmenter paper: ${count.toLocaleString('en')} parameters (encoder ${encoder.toLocaleString('en')}, decoder + head ${(count - encoder).toLocaleString('en')})`);
      // torchvision's resnet101 without the fc layer.
      expect(encoder).toBe(42_500_160);
      expect(net.encoder.stageChannels).toEqual([256, 512, 1024, 2048]);
      expect(net.decoder.outChannels).toBe(256);
      const x = randomPictures(1, 64, 3);
      const y = randomLabels(1, 64, 4);
      const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => {
        const logits = net.forward(p, x, true);
        expect(logits.shape).toEqual([1, 64, 64, SEGMENTER_CLASSES]);
        return segmenterLoss(logits, y, { classWeights: Array.from({ length: SEGMENTER_CLASSES }, (_, k) => (k === 0 ? 0.5 : 1)) });
      })(net.params.toRecord());
      const loss = value.readSync()[0];
      expect(loss).toBeGreaterThan(2);
      expect(loss).toBeLessThan(4);
      for (const name of ['encoder/stem/conv/weights', 'encoder/stage3/block23/c/bn/scale', 'decoder/adapt4/weights', 'decoder/block4/crp/conv4/weights', 'decoder/block1/path2/rcu1/conv1/bias', 'decoder/block1/mrf/conv2/weights', 'head/weights']) {
        const g = grads[name].readSync();
        expect(g.every(Number.isFinite), name).toBe(true);
        expect(g.some((v) => v !== 0), `${name} gets no gradient`).toBe(true);
      }
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
      x.dispose();
      y.dispose();
    } finally {
      net.dispose();
    }
  });
});

describe('smoke training', () => {
  it('compact, 30 Adam steps on 4 fixed pictures of colour patches labelled by their colour: the loss falls by ≥ 30 %', () => {
    const S = 64;
    const N = 4;
    const P = 16; // patch side
    const rng = new Rng(11);
    const pictures = new Float32Array(N * S * S * 3);
    const labels = new Float32Array(N * S * S);
    for (let n = 0; n < N; n++) {
      for (let py = 0; py < S / P; py++) {
        for (let px = 0; px < S / P; px++) {
          const rgb = [rng.uniform(), rng.uniform(), rng.uniform()];
          // The class: which of r, g, b exceed ½ (8 of the 13 classes), the rest unused.
          const label = (rgb[0] > 0.5 ? 1 : 0) + (rgb[1] > 0.5 ? 2 : 0) + (rgb[2] > 0.5 ? 4 : 0);
          for (let y = py * P; y < (py + 1) * P; y++) {
            for (let x = px * P; x < (px + 1) * P; x++) {
              const i = (n * S + y) * S + x;
              pictures.set(rgb, 3 * i);
              labels[i] = label;
            }
          }
        }
      }
    }
    const net = new SegmenterNetwork(rt, segmenterConfig('compact', { inputSize: S }), { seed: 3 });
    const opt = adam({ lr: 3e-3 });
    const x = rt.tensor(pictures, [N, S, S, 3]);
    const y = rt.tensor(labels, [N, S, S, 1]);
    try {
      const losses: number[] = [];
      const step = () => {
        const { value, grads } = valueAndGrad((p: Record<string, Tensor>) => segmenterLoss(net.forward(p, x, true), y))(net.params.toRecord());
        losses.push(value.readSync()[0]);
        value.dispose();
        opt.step(net.params, grads);
        for (const g of Object.values(grads)) g.dispose();
      };
      for (let s = 0; s < 30; s++) step();
      const last = rt.scope(() => segmenterLoss(net.forward(net.params.toRecord(), x, true), y).readSync()[0]);
      console.log(`segmenter smoke training: loss ${losses[0].toFixed(3)} → ${last.toFixed(3)} after 30 steps (${losses.map((l) => l.toFixed(2)).join(' ')})`);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(last).toBeLessThan(0.7 * losses[0]);
    } finally {
      x.dispose();
      y.dispose();
      opt.dispose();
      net.dispose();
    }
  });
});
