/**
 * Training benchmark: samples per second of one full training step (forward, backward, Adam update)
 * of the SmallResNet (src/nn/small-resnet.ts: stem + 4 residual stages 32/64/128/256, global pool,
 * linear head of 226 outputs, L1 loss, Adam) at 64² and 128² input, batch 16, ours against the same
 * network in TensorFlow.js WebGL (test/helpers/tfjs-small-resnet.ts) on the SAME headless-gl context
 * in one process, from the same initial weights on the same batch.
 *
 *   node scripts/with-display.mjs node --import tsx bench/train.ts [--quick] [--profile] [--only=64]
 *
 * Before timing, the first step's loss must agree between the two (a wrong network would be timed
 * otherwise). Steps are then interleaved ours/tfjs (machine noise hits both) and each is timed until
 * its loss is read back and gl.finish() returns. Reports the median over the timed steps.
 *   --quick    64² only, 1 warm-up and 3 timed steps (smoke test; writes nothing unless --write)
 *   --profile  afterwards, one step of ours per size with gl.finish() around every kernel draw:
 *              time per kernel and per (kernel, input shapes, output shape), printed and written to
 *              bench/results/train-profile.json
 * Full runs write bench/results/train.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tensor } from '../src/runtime/tensor.js';
import { SmallResNet, trainStep } from '../src/nn/small-resnet.js';
import { adam } from '../src/optim/optimizers.js';
import { Rng } from '../src/util/random.js';
import { TfjsSmallResNet } from '../test/helpers/tfjs-small-resnet.js';
import { median, profileKernels, round, sharedContext, time } from './shared.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const profile = args.includes('--profile');
const only = args.find((a) => a.startsWith('--only='))?.slice('--only='.length);
const write = args.includes('--write') || (!quick && !only);
const warmups = quick ? 1 : 2;
const timedSteps = quick ? 3 : 5;
const sizes = (quick ? [64] : [64, 128]).filter((s) => !only || String(s) === only);
const BATCH = 16;
const OUTPUTS = 226;
const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const EPSILON = 1e-3;

// ------------------------------------------------------------------ one context, two libraries
const { gl, rt, tf } = await sharedContext();

interface Setup {
  ours(): number;
  tfjs(): number;
  model: SmallResNet;
  images: Tensor;
  targets: Tensor;
  dispose(): void;
}

function setup(size: number): Setup {
  const rng = new Rng(size);
  const model = new SmallResNet(rt, { inputChannels: 3, outputs: OUTPUTS, seed: 11, batchNorm: { epsilon: EPSILON } });
  const c = model.config;
  const twin = new TfjsSmallResNet(tf, { ...c, epsilon: EPSILON }, model.params.readAll());
  const imageShape = [BATCH, size, size, 3] as const;
  const imageData = rng.uniformArray(BATCH * size * size * 3, -1, 1);
  const targetData = rng.uniformArray(BATCH * OUTPUTS, -1, 1);
  const images = rt.keep(rt.tensor(imageData, imageShape));
  const targets = rt.keep(rt.tensor(targetData, [BATCH, OUTPUTS]));
  const tfImages = tf.tensor4d(imageData, [...imageShape]);
  const tfTargets = tf.tensor2d(targetData, [BATCH, OUTPUTS]);
  const optimizer = adam(ADAM);
  return {
    model,
    images,
    targets,
    ours() {
      const loss = trainStep(model, optimizer, images, targets);
      const value = loss.readSync()[0];
      loss.dispose();
      gl.finish();
      return value;
    },
    tfjs() {
      const loss = twin.trainStep(tfImages, tfTargets, ADAM);
      const value = loss.dataSync()[0];
      loss.dispose();
      gl.finish();
      return value;
    },
    dispose() {
      model.dispose();
      optimizer.dispose();
      images.dispose();
      targets.dispose();
      twin.dispose();
      tfImages.dispose();
      tfTargets.dispose();
    },
  };
}


// ------------------------------------------------------------------ per-kernel profile

// ------------------------------------------------------------------ measure
interface Result {
  name: string;
  ours_samples_per_s: number;
  tfjs_samples_per_s: number;
  ratio: number;
  ours_step_ms: number;
  tfjs_step_ms: number;
  /** Median CPU ms per step over all threads of the process, and the ratio of those. */
  ours_cpu_ms: number;
  tfjs_cpu_ms: number;
  cpu_ratio: number;
  /** 1-minute load average when the row started (2 cores: above 2, others compete). */
  load_average: number;
  timed_steps: number;
  first_loss_ours: number;
  first_loss_tfjs: number;
}

const results: Result[] = [];
const profiles: Record<string, unknown> = {};
const started = performance.now();
for (const size of sizes) {
  const s = setup(size);
  try {
    // Same first loss (same weights, same batch), and every program compiled by the warm-up steps.
    const firstOurs = s.ours();
    const firstTfjs = s.tfjs();
    const gap = Math.abs(firstOurs - firstTfjs) / Math.abs(firstTfjs);
    if (!(gap <= 1e-4)) throw new Error(`${size}²: first-step loss differs: ours ${firstOurs}, tfjs ${firstTfjs}`);
    for (let i = 1; i < warmups; i++) { s.ours(); s.tfjs(); }
    const load = loadavg()[0];
    const ours: number[] = [];
    const theirs: number[] = [];
    const oursCpu: number[] = [];
    const theirsCpu: number[] = [];
    for (let i = 0; i < timedSteps; i++) {
      const o = time(s.ours);
      const t = time(s.tfjs);
      ours.push(o.wall);
      oursCpu.push(o.cpu);
      theirs.push(t.wall);
      theirsCpu.push(t.cpu);
    }
    const oursMs = median(ours);
    const tfjsMs = median(theirs);
    const row: Result = {
      name: `small resnet ${size}x${size} batch ${BATCH}`,
      ours_samples_per_s: round((BATCH * 1000) / oursMs),
      tfjs_samples_per_s: round((BATCH * 1000) / tfjsMs),
      ratio: round(tfjsMs / oursMs, 3),
      ours_step_ms: round(oursMs, 1),
      tfjs_step_ms: round(tfjsMs, 1),
      ours_cpu_ms: round(median(oursCpu), 0),
      tfjs_cpu_ms: round(median(theirsCpu), 0),
      cpu_ratio: round(median(theirsCpu) / median(oursCpu), 3),
      load_average: round(load, 2),
      timed_steps: timedSteps,
      first_loss_ours: firstOurs,
      first_loss_tfjs: firstTfjs,
    };
    results.push(row);
    console.log(`${row.name}: ours ${row.ours_samples_per_s} samples/s (${row.ours_step_ms} ms/step), tfjs ${row.tfjs_samples_per_s} samples/s (${row.tfjs_step_ms} ms/step), ratio ${row.ratio}`);
    console.log(`  CPU ms/step ours ${row.ours_cpu_ms}, tfjs ${row.tfjs_cpu_ms} (ratio ${row.cpu_ratio}); load average ${row.load_average}`);
    console.log(`  steps ms ours [${ours.map((v) => v.toFixed(0)).join(' ')}] tfjs [${theirs.map((v) => v.toFixed(0)).join(' ')}]`);
    if (profile) {
      const p = profileKernels(rt, gl, () => { s.ours(); });
      profiles[`${size}`] = p;
      console.log(`  profile ${size}²: step ${p.totalMs} ms, of which in kernels ${p.kernelMs} ms`);
      for (const e of p.byKernel.slice(0, 15)) console.log(`    ${e.ms.toFixed(1).padStart(8)} ms (CPU ${e.cpuMs.toFixed(0).padStart(6)} ms) ${String(e.calls).padStart(5)}× ${e.key}`);
      console.log('    top (kernel, input shapes, output shape):');
      for (const e of p.byShape.slice(0, 25)) console.log(`    ${e.ms.toFixed(1).padStart(8)} ms (CPU ${e.cpuMs.toFixed(0).padStart(6)} ms) ${String(e.calls).padStart(5)}× ${e.key}`);
    }
  } finally {
    s.dispose();
  }
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s; memory after: ${JSON.stringify(rt.memory())}`);

const here = dirname(fileURLToPath(import.meta.url));
if (write) {
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'train.json'), JSON.stringify(results, null, 2) + '\n');
  console.log('wrote bench/results/train.json');
}
if (profile) {
  mkdirSync(join(here, 'results'), { recursive: true });
  writeFileSync(join(here, 'results', 'train-profile.json'), JSON.stringify(profiles, null, 2) + '\n');
  console.log('wrote bench/results/train-profile.json');
}
rt.destroy();
