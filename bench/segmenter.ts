/**
 * Segmentation-network benchmark: our SegmenterNetwork (src/nn/refinenet.ts) against the same network
 * in TensorFlow.js WebGL (test/helpers/tfjs-refinenet.ts: the fitter twin's encoder + the RefineNet /
 * Light-Weight RefineNet decoder written with tfjs ops) on the SAME headless-gl context in one
 * process, from the same parameter and buffer values.
 *
 *   node scripts/with-display.mjs node --import tsx bench/segmenter.ts [--quick] [--profile] [--only=<text>] [--paper-size=N]
 *   npm run bench:segmenter [-- --quick]
 *
 * Rows
 *   inference  compact (SEGMENTER_CONFIGS.compact: Light-Weight RefineNet on a narrow ResNet-10, 128²)
 *              at batch 1 and 4; paper (SEGMENTER_CONFIGS.paper: 4-cascaded RefineNet on ResNet-101)
 *              at batch 1 at PAPER_SIZE² (default 256², --paper-size=512 for the paper's own size:
 *              see below). ours = net.forward(params, x, false), the folded inference path (encoder
 *              batch norm folded into its convolutions, packed weights cached), logits
 *              [N, H, W, 13] read back into a Float32Array; tfjs = predict() (conv → tf.batchNorm
 *              with the running averages; fused conv + bias in the decoder) + dataSync().
 *              Target: tfjs/ours ≥ 1.5.
 *   training   compact at batch 8, 128², one full step (forward with batch statistics, backward,
 *              AdamW update, loss read back): ours = valueAndGrad(segmenterLoss) + adamw as in
 *              src/train/segmenter-trainer.ts; tfjs = tf.variableGrads + AdamW written out. The same
 *              loss on both sides: per-pixel softmax cross-entropy weighted by class (1/√frequency
 *              of the batch's own labels, inverseSqrtClassWeights, as the trainer's 'auto'). The batch
 *              is a real one (segmenterBatch: synthetic people of the open body model, seed 1).
 *              The network starts from its initialisation (seed 0), as a training run does.
 *              Target: tfjs/ours ≥ 2.
 *
 * Why 256² for paper by default: at 512² one forward of ResNet-101 + the RefineNet decoder (whose
 * finest block runs a dozen 3×3 256→256 convolutions at 128²) took 75 s (ours) and 87 s (tfjs,
 * warm) on this 2-core llvmpipe machine with a training run beside it, so the row (a checking run and
 * 3 timed runs per side) would take 10 minutes or more; 256² is the same graph (fully convolutional)
 * at about a quarter of the work. `--paper-size=512` runs the paper's size (it agrees: 1.1e-4).
 *
 * Before timing, each row checks that both sides agree and fails loudly otherwise: inference logits
 * to ≤ 1e-3 of their largest magnitude; training first-step losses to ≤ 1e-3 relative. The inference
 * networks' batch-norm running averages are first set to the statistics of a random batch (a
 * training-mode forward with momentum 0), so activations have realistic scales. Runs are interleaved
 * ours/tfjs (machine noise hits both), each until its result is read back and gl.finish() returns;
 * the median of the timed runs is reported, with the median CPU time of the process (all threads:
 * llvmpipe renders on worker threads), the steadier measure on a shared machine.
 *
 *   --quick         compact only, 1 warm-up and few timed runs (smoke test; writes nothing)
 *   --only=         rows whose name contains the text (writes nothing)
 *   --paper-size=N  the paper row's input side (a multiple of 32; default 256)
 *   --profile       after each row, one run of ours with gl.finish() around every kernel draw: time per
 *                   kernel and per (kernel, shapes), printed; without --quick also written to
 *                   bench/results/segmenter-profile.json
 * Full runs write bench/results/segmenter.json.
 */
import { loadavg } from 'node:os';
import { SEGMENTER_CONFIGS, SegmenterNetwork, segmenterConfig, segmenterLoss, type SegmenterConfig } from '../src/nn/refinenet.js';
import type { ParamRecord } from '../src/nn/layers.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import { adamw } from '../src/optim/optimizers.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { disposeSegmenterBatch, inverseSqrtClassWeights, segmenterBatch } from '../src/train/segmenter-data.js';
import { Rng } from '../src/util/random.js';
import { TfjsSegmenter } from '../test/helpers/tfjs-refinenet.js';
import { normwiseError } from '../test/helpers/compare.js';
import { machineInfo, measureInterleaved, printRaceRow, printRaceTable, raceProfiler, raceRow, round, sharedContext, type RaceRow, writeBenchResult } from './shared.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const paperSizeArg = args.find((a) => a.startsWith('--paper-size='))?.slice('--paper-size='.length);
const PAPER_SIZE = paperSizeArg === undefined ? 256 : Number(paperSizeArg);
if (!Number.isInteger(PAPER_SIZE) || PAPER_SIZE < 32 || PAPER_SIZE % 32 !== 0) {
  console.error(`--paper-size must be a multiple of 32, got ${paperSizeArg}`);
  process.exit(2);
}
const write = !quick && !only;
const TRAIN_BATCH = 8;
/** The segmenter trainer's AdamW (lr after the warm-up, decoupled decay 1e-4). */
const ADAMW = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 };
const TOLERANCE = 1e-3;
const TARGET = { inference: 1.5, training: 2 };

/** Timed runs per row (warm-ups: 1 beyond the checking run; none for paper, whose checking run warms it up). */
function repeatsFor(config: string, batch: number, kind: 'inference' | 'training'): number {
  if (quick) return kind === 'training' ? 2 : 3;
  if (kind === 'training') return 5;
  if (config === 'paper') return 3;
  return batch >= 4 ? 7 : 10;
}

// ------------------------------------------------------------------ one context, two libraries
const { gl, rt, tf } = await sharedContext();

const wanted = (name: string) => !only || name.includes(only);
const rows: RaceRow[] = [];
const { profiles, run: runProfile } = raceProfiler(rt, gl, profile);

const exp2 = (v: number) => Number(v.toExponential(2));

// ------------------------------------------------------------------ inference
function inferenceRows(base: SegmenterConfig, size: number, batches: number[]): void {
  const names = batches.map((b) => `inference ${base.name} ${size}x${size} batch ${b}`);
  if (!names.some(wanted)) return;
  // Momentum 0 so that one training-mode forward sets the running averages to a batch's statistics.
  const config: SegmenterConfig = { ...structuredClone(base), encoder: { ...structuredClone(base.encoder), batchNorm: { ...base.encoder.batchNorm, momentum: 0 } } };
  const rng = new Rng(size + 11);
  const net = new SegmenterNetwork(rt, config, { seed: 3 });
  let twin: TfjsSegmenter | undefined;
  try {
    // Calibration at up to 256² (batch 2): the statistics only set the activations' scales.
    const C = Math.min(size, 256);
    rt.scope(() => {
      const calibration = rt.tensor(rng.uniformArray(2 * C * C * 3, 0, 1), [2, C, C, 3]);
      net.forward(net.params.toRecord(), calibration, true);
    });
    twin = new TfjsSegmenter(tf, net.config, net.params.readAll(), net.buffers.readAll());
    const params = net.params.toRecord();
    batches.forEach((batch, k) => {
      if (!wanted(names[k])) return;
      const data = rng.uniformArray(batch * size * size * 3, 0, 1);
      const x = rt.keep(rt.tensor(data, [batch, size, size, 3]));
      const tfX = tf.tensor4d(data, [batch, size, size, 3]);
      try {
        const ours = () => {
          const logits = rt.scope(() => net.forward(params, x, false).readSync());
          gl.finish();
          return logits;
        };
        const tfjs = () => {
          const p = twin!.predict(tfX);
          const logits = p.dataSync() as Float32Array;
          p.dispose();
          gl.finish();
          return logits;
        };
        const gap = normwiseError(ours(), tfjs());
        if (!(gap <= TOLERANCE)) throw new Error(`${names[k]}: ours and tfjs disagree before timing: logits gap ${gap} > ${TOLERANCE}`);
        const load = loadavg()[0];
        // The paper network's runs take seconds to a minute: its checking run is its warm-up.
        const [o, t] = measureInterleaved([ours, tfjs], repeatsFor(base.name, batch, 'inference'), base.name === 'paper' ? 0 : 1);
        const row = raceRow({
          name: names[k], kind: 'inference', config: base.name, input: `${size}x${size}x3`, batch,
          measures: 'forward with running averages (ours folded), logits [N, H, W, 13] read back', target: TARGET.inference,
          agreement: { logits_gap: exp2(gap) }, load_average: round(load, 2),
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
function trainingRow(): void {
  const config = segmenterConfig('compact');
  const S = config.inputSize;
  const name = `training ${config.name} ${S}x${S} batch ${TRAIN_BATCH}`;
  if (!wanted(name)) return;
  const generator = new SynthGenerator(rt, loadOpenBodyModel());
  const batch = segmenterBatch(rt, generator, TRAIN_BATCH, 1, 0, { size: S });
  const net = new SegmenterNetwork(rt, config, { seed: 0 });
  const optimizer = adamw(ADAMW);
  const twin = new TfjsSegmenter(tf, net.config, net.params.readAll(), net.buffers.readAll());
  const labelData = batch.labels.readSync();
  const counts = new Float64Array(config.classes);
  for (const v of labelData) if (v >= 0 && v < config.classes) counts[v]++;
  const classWeights = inverseSqrtClassWeights(counts);
  const tfX = tf.tensor4d(batch.images.readSync(), [TRAIN_BATCH, S, S, 3]);
  const tfY = tf.tensor4d(labelData, [TRAIN_BATCH, S, S, 1]);
  try {
    const ours = () => {
      const { value, grads } = valueAndGrad((p: ParamRecord) => segmenterLoss(net.forward(p, batch.images, true), batch.labels, { classWeights }))(net.params.toRecord());
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
    const tfjs = () => {
      const l = twin.trainStep(tfX, tfY, ADAMW, classWeights);
      const loss = l.dataSync()[0];
      l.dispose();
      gl.finish();
      return loss;
    };
    const first = { ours: ours(), tfjs: tfjs() };
    const gap = Math.abs(first.ours - first.tfjs) / Math.abs(first.tfjs);
    if (!(gap <= TOLERANCE)) throw new Error(`${name}: first-step loss differs: ours ${first.ours}, tfjs ${first.tfjs} (gap ${gap} > ${TOLERANCE})`);
    const load = loadavg()[0];
    const [o, t] = measureInterleaved([ours, tfjs], repeatsFor(config.name, TRAIN_BATCH, 'training'));
    const row = raceRow({
      name, kind: 'training', config: config.name, input: `${S}x${S}x3`, batch: TRAIN_BATCH, target: TARGET.training,
      measures: 'forward (batch statistics) + backward + AdamW update, loss read back; class-weighted per-pixel softmax cross-entropy (segmenterLoss)',
      agreement: { first_loss_ours: first.ours, first_loss_tfjs: first.tfjs, first_loss_gap: exp2(gap) },
      load_average: round(load, 2),
    }, o, t);
    rows.push(row);
    printRaceRow(row);
    runProfile(name, () => { ours(); });
  } finally {
    tf.dispose([tfX, tfY]);
    twin.dispose();
    optimizer.dispose();
    net.dispose();
    disposeSegmenterBatch(batch);
    generator.dispose();
  }
}

// ------------------------------------------------------------------ run
const started = performance.now();
const loadAtStart = loadavg();
const compact = SEGMENTER_CONFIGS.compact as SegmenterConfig;
inferenceRows(compact, compact.inputSize, [1, 4]);
if (!quick) inferenceRows(SEGMENTER_CONFIGS.paper as SegmenterConfig, PAPER_SIZE, [1]);
trainingRow();
const seconds = (performance.now() - started) / 1000;

printRaceTable(rows);
console.log(`\ntotal ${seconds.toFixed(0)} s; load average at start ${loadAtStart.map((v) => v.toFixed(2)).join(' ')}, at end ${loadavg().map((v) => v.toFixed(2)).join(' ')}; memory after: ${JSON.stringify(rt.memory())}`);

if (write) {
  const result = {
    date: new Date().toISOString(),
    machine: machineInfo(gl, loadAtStart),
    libraries: { ours: 'nbf-gl (this repository)', tfjs: 'tfjs-core + tfjs-backend-webgl 4.22.0 on the same headless-gl context' },
    settings: {
      adamw: ADAMW, tolerance: TOLERANCE, targets: TARGET, paper_input: PAPER_SIZE,
      statistic: 'median of interleaved timed runs after one warm-up; CPU = process CPU time (all threads)',
    },
    note: `The paper row runs at ${PAPER_SIZE}² (the paper's is 512²). The tfjs twin's resize gradient is the transpose of the half-pixel interpolation as two matmuls (tfjs-webgl's ResizeBilinearGrad ignores halfPixelCenters); its forward is tf.image.resizeBilinear.`,
    total_seconds: round(seconds, 0),
    rows,
  };
  writeBenchResult('segmenter.json', result);
}
if (profile && !quick) {
  writeBenchResult('segmenter-profile.json', profiles);
}
rt.destroy();
