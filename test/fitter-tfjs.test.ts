/**
 * The fitting network (src/nn/fitter.ts: ResNet encoder + head + mean latent) checked against the
 * same network written with TensorFlow.js ops (test/helpers/tfjs-resnet.ts), on the WebGL backend on
 * the same headless-gl context, from the same parameter and buffer values:
 *   - inference (running averages): the latent agrees to ≤ 1e-3 of the scale of the head's output
 *     (latent − mean: the part the encoder computes; the mean alone would hide a wrong encoder)
 *   - training (batch statistics, L1 loss on the latent, AdamW): the loss before and after one step
 *     agrees to ≤ 1e-3 relative, and so do the running averages the step moved and the inference
 *     output after it.
 * Both a named configuration (compact: basic blocks, 3×3 stride-1 stem + max-pool) and a small
 * bottleneck network (5×5 stride-2 stem, odd map sizes so 'same' pads unevenly, another epsilon and
 * momentum) are checked. tfjs has no body model: the training loss here is the latent L1 term only.
 */
import { describe, expect, it } from 'vitest';
import { runtimeWithTfjs } from './helpers/tfjs-twin.js';
import { TfjsResNetFitter } from './helpers/tfjs-resnet.js';
import { FITTER_CONFIGS, FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { l1Loss } from '../src/autodiff/grads/losses.js';
import { adamw } from '../src/optim/optimizers.js';
import type { ParamRecord } from '../src/nn/layers.js';
import { Rng } from '../src/util/random.js';
import { normwiseError } from './helpers/compare.js';

const { rt, tf: tfjs } = runtimeWithTfjs();

/** bench/train.ts's Adam, with the fitter trainer's decoupled weight decay. */
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };

const BOTTLENECK: FitterConfig = {
  name: 'test-bottleneck', inputSize: 30, shapeCount: 10,
  encoder: { block: 'bottleneck', blocks: [1, 2], widths: [4, 8], inputChannels: 3, stemChannels: 8, stemKernel: 5, stemStride: 2, stemPool: 2, batchNorm: { epsilon: 1e-2, momentum: 0.9 } },
};

const CASES: { config: FitterConfig; batch: number; seed: number }[] = [
  { config: FITTER_CONFIGS.compact, batch: 3, seed: 1 },
  { config: BOTTLENECK, batch: 2, seed: 2 },
];

/** A network with every parameter and buffer non-trivial: BN scale/offset, running stats, head, mean. */
function randomisedNetwork(config: FitterConfig, seed: number): FitterNetwork {
  const net = new FitterNetwork(rt, config, { seed });
  const rng = new Rng(seed + 100);
  const params = net.params.readAll().map((p) => {
    const data = p.data.slice();
    if (p.name.endsWith('/bn/scale')) data.forEach((_, i) => (data[i] = rng.uniform(0.5, 1.5)));
    else if (p.name.endsWith('/bn/offset')) data.forEach((_, i) => (data[i] = rng.uniform(-0.2, 0.2)));
    else if (p.name === 'head/weights') {
      // Xavier scale instead of the 1e-3 start: the encoder's output must show in the latent.
      const limit = Math.sqrt(6 / (p.shape[0] + p.shape[1]));
      data.forEach((_, i) => (data[i] = rng.uniform(-limit, limit)));
    } else if (p.name === 'head/bias') data.forEach((_, i) => (data[i] = rng.uniform(-0.1, 0.1)));
    return { ...p, data };
  });
  net.params.assign(params);
  const buffers = net.buffers.readAll().map((b) => {
    const data = b.data.slice();
    if (b.name.endsWith('/bn/mean')) data.forEach((_, i) => (data[i] = rng.uniform(-0.3, 0.3)));
    else if (b.name.endsWith('/bn/variance')) data.forEach((_, i) => (data[i] = rng.uniform(0.5, 2)));
    else if (b.name === 'mean/latent') data.forEach((_, i) => (data[i] = rng.uniform(-1, 1)));
    return { ...b, data };
  });
  net.buffers.assign(buffers);
  return net;
}


describe('fitter network against TensorFlow.js (same weights, buffers and inputs)', () => {
  for (const { config, batch, seed } of CASES) {
    it(`${config.name} (${config.encoder.block}, ${config.inputSize}², batch ${batch}): inference and one AdamW step of L1-latent training agree`, () => {
      const tf = tfjs();
      const net = randomisedNetwork(config, seed);
      const L = net.latentSize;
      const S = config.inputSize;
      const twin = new TfjsResNetFitter(tf, { encoder: net.config.encoder, latentSize: L }, net.params.readAll(), net.buffers.readAll());
      const rng = new Rng(seed + 7);
      const imageData = rng.uniformArray(batch * S * S * 3, -1, 1);
      const targetData = rng.uniformArray(batch * L, -1, 1);
      const images = rt.keep(rt.tensor(imageData, [batch, S, S, 3]));
      const targets = rt.keep(rt.tensor(targetData, [batch, L]));
      const tfImages = tf.tensor4d(imageData, [batch, S, S, 3]);
      const tfTargets = tf.tensor2d(targetData, [batch, L]);
      const optimizer = adamw(ADAMW);
      try {
        const infer = () => {
          const mean = net.buffers.get('mean/latent').readSync();
          const ours = rt.scope(() => net.forward(net.params.toRecord(), images, false).latent.readSync());
          const p = twin.predict(tfImages);
          const theirs = p.dataSync() as Float32Array;
          p.dispose();
          const offsets = theirs.map((v, i) => v - mean[i % L]);
          return { ours, theirs, gap: normwiseError(ours, theirs, offsets), offsetScale: Math.max(...offsets.map(Math.abs)) };
        };
        const before = infer();
        expect(before.offsetScale, 'the head output is not negligible').toBeGreaterThan(0.05);
        expect(before.gap, `inference: ours ${before.ours.slice(0, 4)} tfjs ${before.theirs.slice(0, 4)}`).toBeLessThanOrEqual(1e-3);

        const step = () => {
          const { value, grads } = valueAndGrad((p: ParamRecord) => l1Loss(net.forward(p, images, true).latent, targets))(net.params.toRecord());
          try {
            optimizer.step(net.params, grads);
          } finally {
            for (const g of Object.values(grads)) g.dispose();
          }
          const ours = value.readSync()[0];
          value.dispose();
          const l = twin.trainStep(tfImages, tfTargets, ADAMW);
          const theirs = l.dataSync()[0];
          l.dispose();
          return { ours, theirs, gap: Math.abs(ours - theirs) / Math.abs(theirs) };
        };
        const first = step();
        const second = step();
        expect(first.gap, `first loss: ours ${first.ours}, tfjs ${first.theirs}`).toBeLessThanOrEqual(1e-3);
        expect(second.gap, `loss after one step: ours ${second.ours}, tfjs ${second.theirs}`).toBeLessThanOrEqual(1e-3);
        // The step did something the comparison can see.
        expect(Math.abs(second.theirs - first.theirs)).toBeGreaterThan(1e-4);

        // Running averages after two training steps, and inference with them and the new weights.
        const theirBuffers = twin.readBuffers();
        let worstBuffer = 0;
        let worstName = '';
        for (const b of net.buffers.readAll()) {
          const d = normwiseError(b.data, theirBuffers.get(b.name)!);
          if (d > worstBuffer) { worstBuffer = d; worstName = b.name; }
        }
        expect(worstBuffer, `running averages (${worstName})`).toBeLessThanOrEqual(1e-3);
        const after = infer();
        expect(after.gap, 'inference after training').toBeLessThanOrEqual(1e-3);
        console.log(`${config.name}: inference gap ${before.gap.toExponential(2)} of the head output (scale ${before.offsetScale.toFixed(3)}); ` +
          `loss ours ${first.ours.toFixed(6)} → ${second.ours.toFixed(6)}, tfjs ${first.theirs.toFixed(6)} → ${second.theirs.toFixed(6)} (gaps ${first.gap.toExponential(1)}, ${second.gap.toExponential(1)}); ` +
          `running averages ≤ ${worstBuffer.toExponential(1)} (${worstName}); inference after ${after.gap.toExponential(2)}`);
      } finally {
        optimizer.dispose();
        net.dispose();
        twin.dispose();
        images.dispose();
        targets.dispose();
        tf.dispose([tfImages, tfTargets]);
      }
    }, 120_000);
  }
});
