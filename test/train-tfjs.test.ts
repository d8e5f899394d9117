/**
 * Training checked against an outside implementation: the same SmallResNet written with TensorFlow.js
 * ops (test/helpers/tfjs-small-resnet.ts: tf.variableGrads for the gradients, Adam written out),
 * running on the WebGL backend on the same headless-gl context as ours, from the same initial
 * weights on the same batches.
 *
 * Tolerances, and why they are not 1e-5: both sides compute in float32 but sum in different orders
 * (a 3×3 conv's filter gradient sums 8·32·32 products per weight; batch norm divides by a batch
 * standard deviation), so gradients differ by ~1e-5 relative to their tensor's largest value. Adam
 * divides each gradient by its own running RMS, which makes tiny absolute differences in near-zero
 * gradients visible in the weights, and training compounds them: measured on this machine, the loss
 * curves agree to ~2e-6 relative for 17 steps, then the gap grows (1.7e-5 at step 20, 3e-3 at step 30:
 * two float32 trainings of a network with ReLU kinks and L1's sign() drift apart). The bounds below
 * (2e-4 per gradient, 1e-4 for steps 1–10, 1e-3 up to step 20) leave a margin of ~15–60×.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { discBatch } from './helpers/disc-data.js';
import { TfjsSmallResNet, tfjsOnContext, type Tf } from './helpers/tfjs-small-resnet.js';
import { SmallResNet, trainStep } from '../src/nn/small-resnet.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { l1Loss } from '../src/autodiff/grads/losses.js';
import { adam } from '../src/optim/optimizers.js';
import { Rng } from '../src/util/random.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { normwiseError } from './helpers/compare.js';

const rt = testRuntime();
let tf: Tf;

beforeAll(async () => {
  tf = await tfjsOnContext(rt.gl);
}, 60_000);

const EPSILON = 1e-3;
const BATCH = 8;
const ADAM = { lr: 3e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

function makeTwins(seed: number) {
  const model = new SmallResNet(rt, { inputChannels: 3, stageChannels: [8, 16], stemStride: 1, outputs: 3, seed, batchNorm: { epsilon: EPSILON } });
  const twin = new TfjsSmallResNet(tf, { ...model.config, epsilon: EPSILON }, model.params.readAll());
  return { model, twin };
}


describe('training against TensorFlow.js (same network, weights and batches)', () => {
  it('the loss and the gradient of every parameter agree at the initial weights (≤ 2e-4 normwise per parameter)', () => {
    const { model, twin } = makeTwins(4);
    const batch = discBatch(new Rng(7), BATCH);
    try {
      const worst = rt.scope(() => {
        const images = rt.tensor(batch.images, batch.imageShape);
        const targets = rt.tensor(batch.targets, batch.targetShape);
        const { value, grads } = valueAndGrad((p: Record<string, Tensor>) =>
          l1Loss(model.forward(p, images, { training: true }), targets))(model.params.toRecord());
        const tfImages = tf.tensor4d(batch.images, batch.imageShape);
        const tfTargets = tf.tensor2d(batch.targets, batch.targetShape);
        const r = twin.lossAndGrads(tfImages, tfTargets);
        const theirs = { loss: r.loss.dataSync()[0], grads: new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array])) };
        tf.dispose([tfImages, tfTargets, r.loss, ...r.grads.values()]);
        expect(Math.abs(value.readSync()[0] - theirs.loss) / theirs.loss).toBeLessThan(1e-5);
        expect(Object.keys(grads).sort()).toEqual([...theirs.grads.keys()].sort());
        let worstName = '';
        let worstDiff = 0;
        for (const [name, g] of Object.entries(grads)) {
          const ref = theirs.grads.get(name)!;
          const ours = g.readSync();
          expect(ours.length, name).toBe(ref.length);
          // Every gradient is non-trivial (a zero gradient would make the comparison vacuous).
          expect(Math.max(...ref.map(Math.abs)), name).toBeGreaterThan(1e-6);
          const d = normwiseError(ours, ref);
          expect(d, `gradient of ${name}`).toBeLessThan(2e-4);
          if (d > worstDiff) { worstDiff = d; worstName = name; }
        }
        return { worstName, worstDiff, count: Object.keys(grads).length };
      });
      console.log(`gradients: ${worst.count} parameters, largest normwise difference ${worst.worstDiff.toExponential(2)} (${worst.worstName})`);
    } finally {
      model.dispose();
      twin.dispose();
    }
  }, 60_000);

  it('20 Adam steps give the same loss curve (≤ 1e-4 relative for the first 10 steps, ≤ 1e-3 for all)', () => {
    const STEPS = 20;
    const { model, twin } = makeTwins(9);
    const optimizer = adam(ADAM);
    const data = new Rng(21);
    const ours: number[] = [];
    const theirs: number[] = [];
    try {
      for (let step = 0; step < STEPS; step++) {
        const batch = discBatch(data, BATCH);
        ours.push(rt.scope(() => trainStep(model, optimizer, rt.tensor(batch.images, batch.imageShape), rt.tensor(batch.targets, batch.targetShape)).readSync()[0]));
        const x = tf.tensor4d(batch.images, batch.imageShape);
        const y = tf.tensor2d(batch.targets, batch.targetShape);
        const loss = twin.trainStep(x, y, ADAM);
        theirs.push(loss.dataSync()[0]);
        tf.dispose([x, y, loss]);
      }
      const gaps = ours.map((o, i) => Math.abs(o - theirs[i]) / Math.abs(theirs[i]));
      console.log(`loss curve: ours ${ours[0].toFixed(4)} → ${ours[STEPS - 1].toFixed(4)}, tfjs ${theirs[0].toFixed(4)} → ${theirs[STEPS - 1].toFixed(4)}; ` +
        `largest relative gap ${Math.max(...gaps.slice(0, 10)).toExponential(2)} (steps 1–10), ${Math.max(...gaps).toExponential(2)} (all); ` +
        `per step ${gaps.map((g) => g.toExponential(1)).join(' ')}`);
      // The curve goes somewhere: training reduces the loss, so agreement is not two flat lines.
      expect(Math.min(...ours.slice(-5))).toBeLessThan(0.8 * ours[0]);
      gaps.slice(0, 10).forEach((g, i) => expect(g, `step ${i + 1}: ours ${ours[i]}, tfjs ${theirs[i]}`).toBeLessThan(1e-4));
      gaps.forEach((g, i) => expect(g, `step ${i + 1}: ours ${ours[i]}, tfjs ${theirs[i]}`).toBeLessThan(1e-3));
    } finally {
      model.dispose();
      optimizer.dispose();
      twin.dispose();
    }
  }, 120_000);
});
