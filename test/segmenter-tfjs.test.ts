/**
 * The segmentation network (src/nn/refinenet.ts: ResNet encoder + decoder + head) checked against
 * the same network written with TensorFlow.js ops (test/helpers/tfjs-refinenet.ts), on the WebGL
 * backend on the same headless-gl context, from the same parameter and buffer values, batch 2:
 *   - inference (running averages): our folded path (batch norm folded into the convolutions, the
 *     path `nbf segment` runs) and the plain one agree with tfjs's logits to ≤ 1e-4 of their scale
 *   - training-mode forward (batch statistics): logits to ≤ 1e-4
 *   - one step of the class-weighted per-pixel softmax cross-entropy (segmenterLoss; some labels
 *     outside 0..12, ignored): the loss to ≤ 1e-5 relative, every parameter's gradient to ≤ 1e-4 of
 *     its largest magnitude; after an AdamW step on both sides the loss, the running averages and the
 *     inference logits still agree (≤ 1e-3, ≤ 1e-3, ≤ 1e-4).
 * (The twin's resize gradient matters: with tfjs's own ResizeBilinearGrad, which ignores half-pixel
 * centres, the worst gradient gap is 0.45 — see tfjs-refinenet.ts.)
 * Two networks: compact (Light-Weight RefineNet on the basic-block ResNet-10) at 64², and a small
 * bottleneck encoder under the original RefineNet decoder (RCU, MRF, 3×3 CRP; the paper's
 * structure at a few channels) at 64×96, so that H ≠ W in every resize.
 */
import { describe, expect, it } from 'vitest';
import { runtimeWithTfjs } from './helpers/tfjs-twin.js';
import { TfjsSegmenter } from './helpers/tfjs-refinenet.js';
import { SegmenterNetwork, segmenterConfig, segmenterLoss, type SegmenterConfig } from '../src/nn/refinenet.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { adamw } from '../src/optim/optimizers.js';
import type { ParamRecord } from '../src/nn/layers.js';
import { Rng } from '../src/util/random.js';
import { normwiseError } from './helpers/compare.js';

const { rt, tf: tfjs } = runtimeWithTfjs();

/** The segmenter trainer's AdamW (lr after the warm-up, decoupled decay 1e-4). */
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };
/** Measured (llvmpipe): logits ≤ 1.4e-6, losses ≤ 4e-7, gradients ≤ 6e-6; the margins are 10–100×. */
const TOLERANCE = { logits: 1e-4, loss: 1e-5, gradient: 1e-4 };

const SMALL_REFINENET: SegmenterConfig = {
  name: 'test-refinenet', inputSize: 64, classes: 13,
  encoder: { block: 'bottleneck', blocks: [1, 1, 1, 1], widths: [4, 4, 8, 8], inputChannels: 3, stemChannels: 8, stemKernel: 5, stemStride: 2, stemPool: 2, batchNorm: { epsilon: 1e-2, momentum: 0.9 } },
  decoder: { kind: 'refinenet', widths: [8, 8, 8, 12], crpStages: 2 },
};

const CASES: { config: SegmenterConfig; height: number; width: number; seed: number }[] = [
  { config: segmenterConfig('compact', { inputSize: 64 }), height: 64, width: 64, seed: 1 },
  { config: SMALL_REFINENET, height: 64, width: 96, seed: 2 },
];
const BATCH = 2;

/** Every parameter and buffer non-trivial: BN scale/offset and running stats, decoder and head biases. */
function randomisedNetwork(config: SegmenterConfig, seed: number): SegmenterNetwork {
  const net = new SegmenterNetwork(rt, config, { seed });
  const rng = new Rng(seed + 100);
  const fill = (data: Float32Array, lo: number, hi: number) => data.forEach((_, i) => (data[i] = rng.uniform(lo, hi)));
  net.params.assign(net.params.readAll().map((p) => {
    const data = p.data.slice();
    if (p.name.endsWith('/bn/scale')) fill(data, 0.5, 1.5);
    else if (p.name.endsWith('/bn/offset')) fill(data, -0.2, 0.2);
    else if (p.name.endsWith('/bias')) fill(data, -0.1, 0.1);
    return { ...p, data };
  }));
  net.buffers.assign(net.buffers.readAll().map((b) => {
    const data = b.data.slice();
    if (b.name.endsWith('/bn/mean')) fill(data, -0.3, 0.3);
    else if (b.name.endsWith('/bn/variance')) fill(data, 0.5, 2);
    return { ...b, data };
  }));
  return net;
}

const exp = (v: number) => v.toExponential(2);
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

describe('segmenter network against TensorFlow.js (same weights, buffers and inputs)', () => {
  for (const { config, height: H, width: W, seed } of CASES) {
    it(`${config.name} (${config.decoder.kind} decoder, ${config.encoder.block} encoder, ${H}×${W}, batch ${BATCH}): inference, training forward, loss, gradients and one AdamW step agree`, () => {
      const tf = tfjs();
      const net = randomisedNetwork(config, seed);
      const K = config.classes;
      const twin = new TfjsSegmenter(tf, net.config, net.params.readAll(), net.buffers.readAll());
      const rng = new Rng(seed + 7);
      const imageData = rng.uniformArray(BATCH * H * W * 3, 0, 1);
      // Class indices, about 5 % of them outside 0..K−1 (−1 or K: ignored by the loss).
      const labelData = Float32Array.from({ length: BATCH * H * W }, () => {
        const u = rng.uniform(0, 1);
        return u < 0.025 ? -1 : u < 0.05 ? K : rng.int(0, K - 1);
      });
      const classWeights = Array.from({ length: K }, () => rng.uniform(0.5, 3));
      const images = rt.keep(rt.tensor(imageData, [BATCH, H, W, 3]));
      const labels = rt.keep(rt.tensor(labelData, [BATCH, H, W, 1]));
      const tfImages = tf.tensor4d(imageData, [BATCH, H, W, 3]);
      const tfLabels = tf.tensor4d(labelData, [BATCH, H, W, 1]);
      const optimizer = adamw(ADAMW);
      try {
        expect(labelData.some((v) => v === -1) && labelData.some((v) => v === K), 'some labels are ignored').toBe(true);
        const tfLogits = (training: boolean) => {
          const y = training ? twin.forwardTraining(tfImages) : twin.predict(tfImages);
          const data = y.dataSync() as Float32Array;
          y.dispose();
          return data;
        };
        const infer = (folded: boolean) => rt.scope(() => net.forward(net.params.toRecord(), images, false, { folded }).readSync());

        // Inference: folded and plain paths against tfjs.
        const theirs = tfLogits(false);
        const scale = maxAbs(theirs);
        expect(scale, 'logits are not negligible').toBeGreaterThan(0.05);
        const foldedGap = normwiseError(infer(true), theirs);
        const plainGap = normwiseError(infer(false), theirs);
        expect(foldedGap, 'inference, folded').toBeLessThanOrEqual(TOLERANCE.logits);
        expect(plainGap, 'inference, plain').toBeLessThanOrEqual(TOLERANCE.logits);

        // Training-mode forward (batch statistics). Ours moves the running averages: put them back.
        const savedBuffers = net.buffers.readAll();
        const oursTraining = rt.scope(() => net.forward(net.params.toRecord(), images, true).readSync());
        net.buffers.assign(savedBuffers);
        const trainingGap = normwiseError(oursTraining, tfLogits(true));
        expect(trainingGap, 'training-mode forward').toBeLessThanOrEqual(TOLERANCE.logits);

        // One step: loss and every gradient, then AdamW on both.
        const lossOf = (p: ParamRecord) => segmenterLoss(net.forward(p, images, true), labels, { classWeights });
        const { value, grads } = valueAndGrad(lossOf)(net.params.toRecord());
        const oursLoss = value.readSync()[0];
        value.dispose();
        const oursGrads = new Map(Object.entries(grads).map(([n, g]) => [n, g.readSync()]));
        try {
          optimizer.step(net.params, grads);
        } finally {
          for (const g of Object.values(grads)) g.dispose();
        }
        const tfStep = twin.lossAndGrads(tfImages, tfLabels, classWeights);
        const theirLoss = tfStep.loss.dataSync()[0];
        tfStep.loss.dispose();
        const gradientGaps: { name: string; gap: number; scale: number }[] = [];
        for (const [name, g] of tfStep.grads) {
          const mine = oursGrads.get(name);
          expect(mine, `our gradient of ${name}`).toBeDefined();
          const t = g.dataSync() as Float32Array;
          gradientGaps.push({ name, gap: normwiseError(mine!, t), scale: maxAbs(t) });
        }
        expect(gradientGaps.length).toBe(oursGrads.size);
        twin.applyAdam(tfStep.grads, ADAMW);
        const lossGap = Math.abs(oursLoss - theirLoss) / Math.abs(theirLoss);
        expect(lossGap, `first loss: ours ${oursLoss}, tfjs ${theirLoss}`).toBeLessThanOrEqual(TOLERANCE.loss);
        gradientGaps.sort((a, b) => b.gap - a.gap);
        const worst = gradientGaps[0];
        expect(gradientGaps.every((g) => g.scale > 0), 'every parameter gets a gradient').toBe(true);
        expect(worst.gap, `gradient of ${worst.name} (largest |g| ${exp(worst.scale)})`).toBeLessThanOrEqual(TOLERANCE.gradient);

        // After the step: the loss (second step's, before its update), running averages, inference.
        const secondOurs = rt.scope(() => {
          const { value: v, grads: g } = valueAndGrad(lossOf)(net.params.toRecord());
          for (const t of Object.values(g)) t.dispose();
          return v.readSync()[0];
        });
        const second = twin.lossAndGrads(tfImages, tfLabels, classWeights);
        const secondTheirs = second.loss.dataSync()[0];
        tf.dispose([second.loss, ...second.grads.values()]);
        const secondGap = Math.abs(secondOurs - secondTheirs) / Math.abs(secondTheirs);
        expect(secondGap, `loss after one step: ours ${secondOurs}, tfjs ${secondTheirs}`).toBeLessThanOrEqual(1e-3);
        expect(Math.abs(secondTheirs - theirLoss), 'the step changed the loss').toBeGreaterThan(1e-4);
        const theirBuffers = twin.readBuffers();
        let worstBuffer = 0;
        let worstBufferName = '';
        for (const b of net.buffers.readAll()) {
          const d = normwiseError(b.data, theirBuffers.get(b.name)!);
          if (d > worstBuffer) { worstBuffer = d; worstBufferName = b.name; }
        }
        expect(worstBuffer, `running averages (${worstBufferName})`).toBeLessThanOrEqual(1e-3);
        const afterGap = normwiseError(infer(true), tfLogits(false));
        expect(afterGap, 'inference after the steps').toBeLessThanOrEqual(TOLERANCE.logits);

        console.log(`${config.name} ${H}×${W}: logits (scale ${scale.toFixed(3)}) inference folded ${exp(foldedGap)}, plain ${exp(plainGap)}, training ${exp(trainingGap)}; ` +
          `loss ours ${oursLoss.toFixed(6)} tfjs ${theirLoss.toFixed(6)} (gap ${exp(lossGap)}) → ${secondOurs.toFixed(6)} / ${secondTheirs.toFixed(6)} (gap ${exp(secondGap)}); ` +
          `gradients of ${gradientGaps.length} parameters: worst ${exp(worst.gap)} (${worst.name}), median ${exp(gradientGaps[gradientGaps.length >> 1].gap)}; ` +
          `running averages ≤ ${exp(worstBuffer)}; inference after ${exp(afterGap)}`);
      } finally {
        optimizer.dispose();
        net.dispose();
        twin.dispose();
        images.dispose();
        labels.dispose();
        tf.dispose([tfImages, tfLabels]);
      }
    }, 300_000);
  }
});
