import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { Rng } from '../src/util/random.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { conv2d, matmul } from '../src/autodiff/grads/linear.js';
import { maxPool, globalAvgPool } from '../src/autodiff/grads/spatial.js';
import { batchNormTraining, type RunningStats } from '../src/autodiff/grads/norm.js';
import { add } from '../src/autodiff/grads/elementwise.js';
import { softmaxCrossEntropy, l2Regularization } from '../src/autodiff/grads/losses.js';
import { ParamStore } from '../src/nn/params.js';
import { adam } from '../src/optim/optimizers.js';
import { cosineSchedule } from '../src/optim/schedules.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { textureDims } from '../src/runtime/layout.js';

describe('training loop on the GPU', () => {
  it('1000 steps of a tiny CNN: memory stays flat, nothing is read back, the loss falls', () => {
    const rt = testRuntime();
    const store = new ParamStore(rt, { seed: 8 });
    store.create('conv1/w', [3, 3, 3, 6], 'he');
    store.create('conv1/b', [6], 'zeros');
    store.create('bn/gamma', [6], 'ones');
    store.create('bn/beta', [6], 'zeros');
    store.create('conv2/w', [3, 3, 6, 7], 'he');
    store.create('fc/w', [7, 5], 'xavier');
    store.create('fc/b', [5], 'zeros');
    const running: RunningStats = { mean: rt.keep(rt.zeros([6])), variance: rt.keep(rt.fill([6], 1)) };
    const optimizer = adam({ lr: cosineSchedule({ lr: 0.01, totalSteps: 1000, warmupSteps: 20 }), beta1: 0.5 });

    // A fixed batch of 4 random 8×8 images with labels: the net must fit it.
    const data = new Rng(21);
    const images = rt.keep(rt.tensor(data.uniformArray(4 * 8 * 8 * 3), [4, 8, 8, 3]));
    const labels = rt.keep(rt.tensor([0, 3, 1, 4], [4]));

    const step = valueAndGrad((p: Record<string, Tensor>) => {
      let h = conv2d(images, p['conv1/w'], { padding: 'same', bias: p['conv1/b'] });
      h = batchNormTraining(h, { scale: p['bn/gamma'], offset: p['bn/beta'], epsilon: 1e-3, running, momentum: 0.9 });
      h = maxPool(h, { size: 2 });
      h = conv2d(h, p['conv2/w'], { padding: 'same', activation: 'relu' });
      const logits = matmul(globalAvgPool(h), p['fc/w'], { bias: p['fc/b'] });
      return add(softmaxCrossEntropy(logits, labels), l2Regularization([p['conv1/w'], p['conv2/w'], p['fc/w']], 1e-4));
    });
    const train = (n: number): Tensor => {
      let last: Tensor | undefined;
      for (let i = 0; i < n; i++) {
        last?.dispose();
        last = rt.scope(() => {
          const { value, grads } = step(store.toRecord());
          optimizer.step(store, grads);
          return value;
        });
      }
      return last!;
    };

    const first = train(1);
    const initialLoss = first.readSync()[0];
    first.dispose();
    train(20).dispose(); // every program compiled, every pool size class seen
    const before = rt.memory();

    const gl = rt.gl as unknown as { readPixels: (...args: unknown[]) => void };
    const realReadPixels = gl.readPixels;
    let readbacks = 0;
    gl.readPixels = (...args: unknown[]) => {
      readbacks++;
      realReadPixels.apply(rt.gl, args);
    };
    let lastLoss: Tensor;
    try {
      lastLoss = train(979);
    } finally {
      gl.readPixels = realReadPixels;
    }
    const after = rt.memory();
    expect(readbacks).toBe(0);
    expect(after.liveTextures).toBe(before.liveTextures + 1); // + the last loss value
    expect(after.tensors).toBe(before.tensors + 1);
    // One 1-texel tensor's texture (1 × 3 texels: heights are never powers of two, layout.ts).
    const { width, height } = textureDims(1, rt.maxTextureSize);
    expect(after.liveBytes - before.liveBytes).toBeLessThanOrEqual(16 * width * height);
    expect(after.pooledBytes).toBeLessThanOrEqual(before.pooledBytes);
    expect(optimizer.stepCount).toBe(1000);

    const finalLoss = lastLoss.readSync()[0];
    expect(Number.isFinite(finalLoss)).toBe(true);
    expect(finalLoss).toBeLessThan(initialLoss * 0.2);
    lastLoss.dispose();
    for (const t of [images, labels, running.mean, running.variance]) t.dispose();
    optimizer.dispose();
    store.dispose();
  });
});
