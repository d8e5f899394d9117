/**
 * Fitting-network benchmark: our FitterNetwork (src/nn/fitter.ts) against the same network in
 * TensorFlow.js WebGL (test/helpers/tfjs-resnet.ts) on the SAME headless-gl context in one process,
 * from the same parameter and buffer values.
 *
 *   node scripts/with-display.mjs node --import tsx bench/fitter.ts [--quick] [--profile] [--only=<text>]
 *
 * Rows
 *   inference  compact (FITTER_CONFIGS.compact, 64²) and paper (FITTER_CONFIGS.paper: ResNet-50 at
 *              224²) at batch 1 and 8: ours = net.forward(params, x, false).latent (the folded inference
 *              path: batch norm folded into the convolutions, packed weights cached) read back into a
 *              Float32Array; tfjs = predict() (tf.batchNorm with the running averages) + dataSync().
 *              Target: tfjs/ours ≥ 1.5.
 *   training   compact at batch 16, one full step (forward, backward, AdamW update, loss read back):
 *              ours = valueAndGrad + adamw as in src/train/fitter-trainer.ts; tfjs = tf.variableGrads +
 *              AdamW written out. BOTH use the same loss: L1 on the latent only — tfjs has no body-model
 *              layer. Target: tfjs/ours ≥ 2. An extra row times ours with the full NBF loss
 *              (fitterLoss with DEFAULT_FITTER_LOSS: latent L1 + 3D joints + 2D joints through the
 *              GPU body layer), for reference; it has no tfjs counterpart.
 *              The batch is a real one (synthetic part maps of the open body model, fitterBatch), the
 *              head adds the mean latent of 256 training examples.
 *
 * Before timing, each row checks that both sides agree: inference latents to ≤ 1e-3 of the scale of
 * the head's output (latent − mean) and of the latent; training first-step losses to ≤ 1e-3 relative.
 * The inference networks' batch-norm running averages are first set to the statistics of a random
 * batch (a training-mode forward with momentum 0), so activations have realistic scales. Runs are
 * interleaved ours/tfjs (machine noise hits both), each until its result is read back and gl.finish()
 * returns; the median of the timed runs is reported, with the median CPU time of the process (all
 * threads: llvmpipe renders on worker threads), the steadier measure on a shared machine.
 *
 *   --quick    compact only, 1 warm-up and few timed runs (smoke test; writes nothing)
 *   --only=    rows whose name contains the text (writes nothing)
 *   --profile  after each row, one run of ours with gl.finish() around every kernel draw: time per
 *              kernel and per (kernel, shapes), printed; without --quick also written to
 *              bench/results/fitter-profile.json
 * Full runs write bench/results/fitter.json.
 */
import { loadavg } from 'node:os';
import type { Tensor } from '../src/runtime/tensor.js';
import { FITTER_CONFIGS, FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { DEFAULT_FITTER_LOSS, fitterLoss } from '../src/nn/fitter-loss.js';
import type { ParamRecord } from '../src/nn/layers.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { l1Loss } from '../src/autodiff/grads/losses.js';
import { adamw } from '../src/optim/optimizers.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { disposeFitterBatch, fitterBatch, meanLatent } from '../src/train/fitter-data.js';
import { Rng } from '../src/util/random.js';
import { TfjsResNetFitter } from '../test/helpers/tfjs-resnet.js';
import { normwiseError } from '../test/helpers/compare.js';
import { machineInfo, measureInterleaved, printRaceRow, printRaceTable, raceProfiler, raceRow, round, sharedContext, type RaceRow, writeBenchResult } from './shared.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const write = !quick && !only;
const TRAIN_BATCH = 16;
/** bench/train.ts's Adam hyper-parameters, with the fitter trainer's decoupled weight decay (AdamW). */
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };
const TOLERANCE = 1e-3;
const TARGET = { inference: 1.5, training: 2 };

/** Timed runs per row (warm-ups: 1 beyond the checking run). */
function repeatsFor(config: string, batch: number, kind: 'inference' | 'training'): number {
  if (quick) return kind === 'training' ? 2 : 3;
  if (kind === 'training') return 5;
  if (config === 'paper') return batch >= 8 ? 3 : 5;
  return batch >= 8 ? 7 : 10;
}

// ------------------------------------------------------------------ one context, two libraries
const { gl, rt, tf } = await sharedContext();

const wanted = (name: string) => !only || name.includes(only);
const rows: RaceRow[] = [];
const { profiles, run: runProfile } = raceProfiler(rt, gl, profile);

// ------------------------------------------------------------------ inference
function inferenceRows(base: FitterConfig, batches: number[]): void {
  const names = batches.map((b) => `inference ${base.name} ${base.inputSize}x${base.inputSize} batch ${b}`);
  if (!names.some(wanted)) return;
  const S = base.inputSize;
  // Momentum 0 so that one training-mode forward sets the running averages to a batch's statistics.
  const config: FitterConfig = { ...structuredClone(base), encoder: { ...structuredClone(base.encoder), batchNorm: { ...base.encoder.batchNorm, momentum: 0 } } };
  const rng = new Rng(S);
  const net = new FitterNetwork(rt, config, { seed: 3 });
  let twin: TfjsResNetFitter | undefined;
  try {
    net.setMeanLatent(rng.uniformArray(net.latentSize, -1, 1));
    rt.scope(() => {
      const calibration = rt.tensor(rng.uniformArray(2 * S * S * 3, -1, 1), [2, S, S, 3]);
      net.forward(net.params.toRecord(), calibration, true);
    });
    twin = new TfjsResNetFitter(tf, { encoder: net.config.encoder, latentSize: net.latentSize }, net.params.readAll(), net.buffers.readAll());
    const params = net.params.toRecord();
    const mean = net.buffers.get('mean/latent').readSync();
    batches.forEach((batch, k) => {
      if (!wanted(names[k])) return;
      const data = rng.uniformArray(batch * S * S * 3, -1, 1);
      const x = rt.keep(rt.tensor(data, [batch, S, S, 3]));
      const tfX = tf.tensor4d(data, [batch, S, S, 3]);
      try {
        const ours = () => {
          const latent = rt.scope(() => net.forward(params, x, false).latent.readSync());
          gl.finish();
          return latent;
        };
        const tfjs = () => {
          const p = twin!.predict(tfX);
          const latent = p.dataSync() as Float32Array;
          p.dispose();
          gl.finish();
          return latent;
        };
        const a = ours();
        const b = tfjs();
        const offsets = b.map((v, i) => v - mean[i % net.latentSize]);
        const agreement = { head_output_gap: normwiseError(a, b, offsets), latent_gap: normwiseError(a, b) };
        if (!(agreement.head_output_gap <= TOLERANCE && agreement.latent_gap <= TOLERANCE)) {
          throw new Error(`${names[k]}: ours and tfjs disagree before timing: ${JSON.stringify(agreement)}`);
        }
        const load = loadavg()[0];
        const [o, t] = measureInterleaved([ours, tfjs], repeatsFor(base.name, batch, 'inference'));
        const row = raceRow({
          name: names[k], kind: 'inference', config: base.name, input: `${S}x${S}x3`, batch,
          measures: 'forward with running averages, latent read back', target: TARGET.inference,
          agreement: Object.fromEntries(Object.entries(agreement).map(([key, v]) => [key, Number(v.toExponential(2))])), load_average: round(load, 2),
        }, o, t);
        rows.push(row);
        printRaceRow(row);
        runProfile(names[k], () => { ours(); });
      } finally {
        x.dispose();
        tfX.dispose();
      }
    });
  } finally {
    twin?.dispose();
    net.dispose();
  }
}

// ------------------------------------------------------------------ training
function trainingRows(): void {
  const base = FITTER_CONFIGS.compact as FitterConfig;
  const S = base.inputSize;
  const nameL1 = `training ${base.name} ${S}x${S} batch ${TRAIN_BATCH} (L1 latent loss)`;
  const nameFull = `training ${base.name} ${S}x${S} batch ${TRAIN_BATCH}, ours with the full NBF loss (body model)`;
  if (!wanted(nameL1) && !wanted(nameFull)) return;
  const generator = new SynthGenerator(rt, loadOpenBodyModel());
  const data = { size: S, shapeCount: base.shapeCount };
  const batch = fitterBatch(rt, generator, TRAIN_BATCH, 1, 0, data);
  const mean = meanLatent(generator, { ...data, seed: 1, count: 256 });
  const netL1 = new FitterNetwork(rt, base, { seed: 0, meanLatent: mean });
  const netFull = new FitterNetwork(rt, base, { seed: 0, meanLatent: mean });
  const optL1 = adamw(ADAMW);
  const optFull = adamw(ADAMW);
  const twin = new TfjsResNetFitter(tf, { encoder: netL1.config.encoder, latentSize: netL1.latentSize }, netL1.params.readAll(), netL1.buffers.readAll());
  const tfX = tf.tensor4d(batch.inputs.readSync(), [TRAIN_BATCH, S, S, 3]);
  const tfY = tf.tensor2d(batch.targets.latent.readSync(), [TRAIN_BATCH, netL1.latentSize]);
  try {
    const step = (net: FitterNetwork, optimizer: ReturnType<typeof adamw>, lossOf: (p: ParamRecord) => Tensor) => () => {
      const { value, grads } = valueAndGrad(lossOf)(net.params.toRecord());
      try {
        optimizer.step(net.params, grads);
      } finally {
        for (const g of Object.values(grads)) g.dispose();
      }
      const loss = value.readSync()[0];
      value.dispose();
      gl.finish();
      return loss;
    };
    const oursL1 = step(netL1, optL1, (p) => l1Loss(netL1.forward(p, batch.inputs, true).latent, batch.targets.latent));
    const oursFull = step(netFull, optFull, (p) => {
      const prediction = netFull.forward(p, batch.inputs, true);
      return fitterLoss(prediction, netFull.body(generator.gpuModel, prediction), batch.targets, S, DEFAULT_FITTER_LOSS).total;
    });
    const tfjs = () => {
      const l = twin.trainStep(tfX, tfY, ADAMW);
      const loss = l.dataSync()[0];
      l.dispose();
      gl.finish();
      return loss;
    };
    const first = { ours: oursL1(), tfjs: tfjs(), full: oursFull() };
    const gap = Math.abs(first.ours - first.tfjs) / Math.abs(first.tfjs);
    if (!(gap <= TOLERANCE)) throw new Error(`${nameL1}: first-step loss differs: ours ${first.ours}, tfjs ${first.tfjs}`);
    const load = loadavg()[0];
    const repeats = repeatsFor(base.name, TRAIN_BATCH, 'training');
    const [o, t, f] = measureInterleaved([oursL1, tfjs, oursFull], repeats);
    const common = { kind: 'training' as const, config: base.name, input: `${S}x${S}x3`, batch: TRAIN_BATCH, load_average: round(load, 2) };
    const l1Row = raceRow({
      ...common, name: nameL1, target: TARGET.training,
      measures: 'forward (batch statistics) + backward + AdamW update, loss read back; loss = L1 on the latent only (tfjs has no body-model layer)',
      agreement: { first_loss_ours: first.ours, first_loss_tfjs: first.tfjs, first_loss_gap: Number(gap.toExponential(2)) },
    }, o, t);
    const fullRow = raceRow({
      ...common, name: nameFull, target: null,
      measures: 'as above with fitterLoss(DEFAULT_FITTER_LOSS): latent L1 + root-aligned 3D joints + 2D joints through the GPU body layer (ours only)',
      agreement: { first_loss: first.full },
    }, f, null);
    for (const r of [l1Row, fullRow]) {
      if (!wanted(r.name)) continue;
      rows.push(r);
      printRaceRow(r);
    }
    if (wanted(nameL1)) runProfile(nameL1, () => { oursL1(); });
    if (wanted(nameFull)) runProfile(nameFull, () => { oursFull(); });
  } finally {
    tf.dispose([tfX, tfY]);
    twin.dispose();
    optL1.dispose();
    optFull.dispose();
    netL1.dispose();
    netFull.dispose();
    disposeFitterBatch(batch);
    generator.dispose();
  }
}

// ------------------------------------------------------------------ run
const started = performance.now();
const loadAtStart = loadavg();
inferenceRows(FITTER_CONFIGS.compact as FitterConfig, [1, 8]);
if (!quick) inferenceRows(FITTER_CONFIGS.paper as FitterConfig, [1, 8]);
trainingRows();
const seconds = (performance.now() - started) / 1000;

printRaceTable(rows);
console.log(`\ntotal ${seconds.toFixed(0)} s; load average at start ${loadAtStart.map((v) => v.toFixed(2)).join(' ')}, at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}; memory after: ${JSON.stringify(rt.memory())}`);

if (write) {
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(gl, loadAtStart),
    libraries: { ours: 'nbf-gl (this repository)', tfjs: 'tfjs-core + tfjs-backend-webgl 4.22.0 on the same headless-gl context' },
    settings: { adamw: ADAMW, tolerance: TOLERANCE, targets: TARGET, statistic: 'median of interleaved timed runs after one warm-up; CPU = process CPU time (all threads)' },
    note: 'Training rows compare the same loss on both sides: L1 on the latent only (tfjs has no body-model layer). The "full NBF loss" row is ours alone, for reference.',
    total_seconds: round(seconds, 0),
    rows,
  };
  writeBenchResult('fitter.json', result);
}
if (profile && !quick) {
  writeBenchResult('fitter-profile.json', profiles);
}
rt.destroy();
