/**
 * The same small CNN trained side by side by nbf-gl (GPU kernels, our tape) and by TensorFlow.js
 * (tfjs-core on its float32 CPU backend, its own autodiff), from the same initial weights on the same
 * batch: losses and weights must agree step by step. This checks the whole chain — forward ops,
 * every backward, gradient accumulation across branches, the loss and the optimizer update — against
 * an independent implementation.
 *
 * The resize runs in TF1's legacy mode (no half-pixel centres): tfjs 4.22's resizeBilinear gradient
 * ignores halfPixelCenters (on its CPU backend ⟨resize(x), dy⟩ ≠ ⟨x, grad⟩ in that mode), whereas ours is
 * checked against finite differences in every mode (test/autodiff-ops.test.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import '@tensorflow/tfjs-backend-cpu';
import { testRuntime } from './helpers/gl.js';
import { maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { conv2d, matmul } from '../src/autodiff/grads/linear.js';
import { maxPool, globalAvgPool, resizeBilinear } from '../src/autodiff/grads/spatial.js';
import { batchNormTraining } from '../src/autodiff/grads/norm.js';
import { add, relu } from '../src/autodiff/grads/elementwise.js';
import { reshape } from '../src/autodiff/grads/shape.js';
import { softmaxCrossEntropy, euclideanLoss, l2Regularization } from '../src/autodiff/grads/losses.js';
import { ParamStore } from '../src/nn/params.js';
import { sgd, adam, type Optimizer } from '../src/optim/optimizers.js';
import type { Tensor } from '../src/runtime/tensor.js';

const N = 3;
const SHAPES: Record<string, number[]> = {
  // No bias before the batch norm: its exact gradient is 0, and float noise there would make Adam
  // (which normalises the gradient) take ±lr steps of random sign on each side.
  'conv1/w': [3, 3, 3, 6], 'bn/gamma': [6], 'bn/beta': [6],
  'conv2/w': [3, 3, 6, 10], 'fc/w': [10, 5], 'fc/b': [5], 'kp/w': [10, 4],
};
const DECAYED = ['conv1/w', 'conv2/w', 'fc/w', 'kp/w'];

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function makeData() {
  const rng = new Rng(17);
  return {
    images: rng.uniformArray(N * 9 * 9 * 3, -1, 1),
    labels: Float32Array.from([4, 0, 2]),
    points: rng.uniformArray(N * 2 * 2, -1, 1),
  };
}

/** Runs `steps` optimizer steps on both sides; returns per-step losses and final weights. */
function trainBoth(makeOptimizer: () => Optimizer, makeTfOptimizer: () => tf.Optimizer, steps: number) {
  const rt = testRuntime();
  const store = new ParamStore(rt, { seed: 5 });
  for (const [name, shape] of Object.entries(SHAPES)) {
    store.create(name, shape, name.endsWith('/b') || name === 'bn/beta' ? { kind: 'normal', std: 0.1 } : name === 'bn/gamma' ? { kind: 'uniform', lo: 0.8, hi: 1.2 } : 'he');
  }
  const initial = Object.fromEntries(store.readAll().map((e) => [e.name, e]));
  const data = makeData();
  const images = rt.keep(rt.tensor(data.images, [N, 9, 9, 3]));
  const labels = rt.keep(rt.tensor(data.labels, [N]));
  const points = rt.keep(rt.tensor(data.points, [N, 2, 2]));

  // conv → BN (batch stats) → relu → max pool → bilinear ×2 upsample → conv /2 + relu → global pool
  // → two heads: 5-way classifier (cross-entropy) and 2 "joints" (per-joint Euclidean distance).
  const ours = valueAndGrad((p: Record<string, Tensor>) => {
    let h = conv2d(images, p['conv1/w'], { padding: 'same' });
    h = relu(batchNormTraining(h, { scale: p['bn/gamma'], offset: p['bn/beta'], epsilon: 1e-3 }));
    h = maxPool(h, { size: 2 });
    h = resizeBilinear(h, [8, 8], { halfPixelCenters: false });
    h = conv2d(h, p['conv2/w'], { strides: 2, padding: 'same', activation: 'relu' });
    const feature = globalAvgPool(h);
    const logits = matmul(feature, p['fc/w'], { bias: p['fc/b'] });
    const joints = reshape(matmul(feature, p['kp/w']), [N, 2, 2]);
    const data = add(softmaxCrossEntropy(logits, labels), euclideanLoss(joints, points));
    return add(data, l2Regularization(DECAYED.map((k) => p[k]), 1e-2));
  });
  const optimizer = makeOptimizer();
  const ourLosses: number[] = [];
  for (let s = 0; s < steps; s++) {
    rt.scope(() => {
      const { value, grads } = ours(store.toRecord());
      ourLosses.push(value.readSync()[0]);
      optimizer.step(store, grads);
    });
  }
  const ourWeights = Object.fromEntries(store.readAll().map((e) => [e.name, e.data]));

  // The same network in TensorFlow.js.
  const vars = Object.fromEntries(Object.entries(initial).map(([k, e]) => [k, tf.variable(tf.tensor(e.data, e.shape), true)]));
  const x = tf.tensor4d(data.images, [N, 9, 9, 3]);
  const oneHot = tf.oneHot(tf.tensor1d(Array.from(data.labels), 'int32'), 5);
  const target = tf.tensor3d(data.points, [N, 2, 2]);
  const tfLoss = () => tf.tidy(() => {
    let h = tf.conv2d(x, vars['conv1/w'] as tf.Tensor4D, 1, 'same');
    const { mean, variance } = tf.moments(h, [0, 1, 2]);
    h = tf.relu(tf.batchNorm(h, mean, variance, vars['bn/beta'], vars['bn/gamma'], 1e-3)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.image.resizeBilinear(h, [8, 8], false, false);
    h = tf.relu(tf.conv2d(h, vars['conv2/w'] as tf.Tensor4D, 2, 'same'));
    const feature = tf.mean(h, [1, 2]) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(feature, vars['fc/w'] as tf.Tensor2D), vars['fc/b']);
    const ce = tf.mean(tf.sub(tf.logSumExp(logits, 1), tf.sum(tf.mul(logits, oneHot), 1)));
    const joints = tf.reshape(tf.matMul(feature, vars['kp/w'] as tf.Tensor2D), [N, 2, 2]);
    const dist = tf.mean(tf.sqrt(tf.sum(tf.square(tf.sub(joints, target)), 2)));
    const l2 = tf.mul(0.5e-2, tf.addN(DECAYED.map((k) => tf.sum(tf.square(vars[k])))));
    return tf.add(tf.add(ce, dist), l2) as tf.Scalar;
  });
  const tfOptimizer = makeTfOptimizer();
  const tfLosses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const loss = tfOptimizer.minimize(tfLoss, true)!;
    tfLosses.push(loss.dataSync()[0]);
    loss.dispose();
  }
  const tfWeights = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.dataSync() as Float32Array]));
  Object.values(vars).forEach((v) => v.dispose());
  [x, oneHot, target].forEach((t) => t.dispose());
  tfOptimizer.dispose();
  optimizer.dispose();
  store.dispose();
  [images, labels, points].forEach((t) => t.dispose());
  return { ourLosses, tfLosses, ourWeights, tfWeights };
}

describe('training agrees with TensorFlow.js', () => {
  it('SGD with momentum: 12 steps, losses and weights match', () => {
    const r = trainBoth(() => sgd({ lr: 0.05, momentum: 0.9 }), () => tf.train.momentum(0.05, 0.9), 12);
    expect(maxRelError(r.ourLosses, r.tfLosses, 1e-2)).toBeLessThan(1e-4);
    expect(r.ourLosses[11]).toBeLessThan(r.ourLosses[0]);
    for (const k of Object.keys(SHAPES)) expect(maxRelError(r.ourWeights[k], r.tfWeights[k], 1e-2), k).toBeLessThan(1e-4);
  });
  it('Adam (β1 0.5 as NBF): 8 steps, losses and weights match', () => {
    const r = trainBoth(() => adam({ lr: 0.01, beta1: 0.5, beta2: 0.999, epsilon: 1e-7 }), () => tf.train.adam(0.01, 0.5, 0.999, 1e-7), 8);
    expect(maxRelError(r.ourLosses, r.tfLosses, 1e-2)).toBeLessThan(1e-4);
    for (const k of Object.keys(SHAPES)) expect(maxRelError(r.ourWeights[k], r.tfWeights[k], 1e-2), k).toBeLessThan(1e-3);
  });
});
