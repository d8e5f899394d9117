/**
 * Training end to end: a SmallResNet learns a task the test generates (centre and radius of a disc,
 * test/helpers/disc-data.ts) to a stated loss in a bounded number of steps, and its training steps
 * leave GPU memory where they started (the 1000-step loop is test/autodiff-training.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { discBatch } from './helpers/disc-data.js';
import { SmallResNet, trainStep } from '../src/nn/small-resnet.js';
import { Conv2dLayer } from '../src/nn/layers.js';
import { ParamStore } from '../src/nn/params.js';
import { adam } from '../src/optim/optimizers.js';
import { cosineSchedule } from '../src/optim/schedules.js';
import { l1Loss } from '../src/autodiff/grads/losses.js';
import { Rng } from '../src/util/random.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rt = testRuntime();

describe('training a small ResNet end to end', () => {
  it('learns the centre and radius of a disc: held-out L1 loss < 0.25 within 120 steps (predicting the mean scores ≈ 0.5)', () => {
    const STEPS = 120;
    const BATCH = 8;
    const model = new SmallResNet(rt, { inputChannels: 3, stageChannels: [8, 16], stemStride: 1, outputs: 3, seed: 1, batchNorm: { momentum: 0.9 } });
    const optimizer = adam({ lr: cosineSchedule({ lr: 1e-2, totalSteps: STEPS }) });
    const data = new Rng(5);
    const heldOut = discBatch(new Rng(999), 32);
    const evalImages = rt.keep(rt.tensor(heldOut.images, heldOut.imageShape));
    const evalTargets = rt.keep(rt.tensor(heldOut.targets, heldOut.targetShape));
    const evaluate = () => rt.scope(() => l1Loss(model.predict(evalImages), evalTargets).readSync()[0]);
    try {
      const before = evaluate();
      const losses: number[] = [];
      for (let step = 0; step < STEPS; step++) {
        const batch = discBatch(data, BATCH);
        losses.push(rt.scope(() => {
          const images = rt.tensor(batch.images, batch.imageShape);
          const targets = rt.tensor(batch.targets, batch.targetShape);
          return trainStep(model, optimizer, images, targets).readSync()[0];
        }));
      }
      const after = evaluate();
      const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
      const firstLosses = mean(losses.slice(0, 5));
      const lastLosses = mean(losses.slice(-20));
      console.log(`disc: held-out L1 ${before.toFixed(3)} → ${after.toFixed(3)}; training L1 first 5 steps ${firstLosses.toFixed(3)}, last 20 ${lastLosses.toFixed(3)}`);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(before).toBeGreaterThan(0.35);
      // Inference mode (running batch-norm averages) on images the network never saw.
      expect(after).toBeLessThan(0.25);
      expect(lastLosses).toBeLessThan(0.25);
      expect(lastLosses).toBeLessThan(0.6 * firstLosses);
    } finally {
      model.dispose();
      optimizer.dispose();
      evalImages.dispose();
      evalTargets.dispose();
    }
  }, 120_000);

  it('training steps of the SmallResNet leave live textures, bytes and tensors where they started', () => {
    // The 1000-step loop over the autodiff core is test/autodiff-training.test.ts; this one covers what
    // this model adds: batch-norm running averages swapped into the buffer store every step, the
    // residual projection, inference between steps. A tiny network keeps it cheap.
    const model = new SmallResNet(rt, { inputChannels: 1, stageChannels: [4, 4], outputs: 2, seed: 3 });
    const optimizer = adam({ lr: 1e-3 });
    const rng = new Rng(2);
    const images = rt.keep(rt.tensor(rng.uniformArray(2 * 6 * 6), [2, 6, 6, 1]));
    const targets = rt.keep(rt.tensor(rng.uniformArray(4), [2, 2]));
    try {
      // The first steps create the optimizer state and fill the texture pool.
      for (let i = 0; i < 3; i++) trainStep(model, optimizer, images, targets).dispose();
      const start = rt.memory();
      const runningMean = model.buffers.get('stem/bn/mean').readSync();
      for (let step = 1; step <= 30; step++) {
        trainStep(model, optimizer, images, targets).dispose();
        if (step % 10 === 0) model.predict(images).dispose();
        const m = rt.memory();
        expect({ step, liveTextures: m.liveTextures, liveBytes: m.liveBytes, tensors: m.tensors })
          .toEqual({ step, liveTextures: start.liveTextures, liveBytes: start.liveBytes, tensors: start.tensors });
      }
      expect(rt.memory().pooledTextures).toBeLessThanOrEqual(start.pooledTextures + 10);
      // The running averages did move (they are live state, not a stale copy).
      expect(model.buffers.get('stem/bn/mean').readSync()).not.toEqual(runningMean);
    } finally {
      model.dispose();
      optimizer.dispose();
      images.dispose();
      targets.dispose();
    }
  });

  it('bad configurations and inputs fail clearly', () => {
    expect(() => new SmallResNet(rt, { inputChannels: 3, stageChannels: [], outputs: 3 })).toThrow(/at least one stage/);
    expect(() => new SmallResNet(rt, { inputChannels: 3, stageChannels: [8, 0], outputs: 3 })).toThrow(/stageChannels\[1\] must be a positive integer/);
    const before = rt.memory().liveTextures;
    const model = new SmallResNet(rt, { inputChannels: 3, stageChannels: [4], outputs: 2 });
    try {
      rt.scope(() => {
        const wrongChannels = rt.zeros([2, 8, 8, 1]);
        expect(() => model.predict(wrongChannels)).toThrow(ShapeError);
        expect(() => model.predict(wrongChannels)).toThrow(/\[N, H, W, 3\], got \[2, 8, 8, 1\]/);
        const onePixel = rt.zeros([1, 1, 1, 3]);
        expect(() => model.forward(model.params.toRecord(), onePixel, { training: true })).toThrow(/more than one pixel/);
        // A record that lacks a parameter names it.
        const { ['head/bias']: _dropped, ...partial } = model.params.toRecord();
        expect(() => model.forward(partial, rt.zeros([2, 8, 8, 3]), { training: false })).toThrow(NbfError);
        expect(() => model.forward(partial, rt.zeros([2, 8, 8, 3]), { training: false })).toThrow(/no parameter "head\/bias"/);
      });
      const store = new ParamStore(rt);
      expect(() => new Conv2dLayer(store, 'c', { inChannels: 3, outChannels: 4, kernelSize: 0 })).toThrow(/c: kernelSize must be a positive integer, got 0/);
      const conv = new Conv2dLayer(store, 'conv', { inChannels: 3, outChannels: 4 });
      expect(() => rt.scope(() => conv.apply(store.toRecord(), rt.zeros([1, 5, 5, 2])))).toThrow(/conv: input must be NHWC with 3 channels, got \[1, 5, 5, 2\]/);
      store.dispose();
    } finally {
      model.dispose();
    }
    expect(rt.memory().liveTextures).toBe(before);
  });
});
