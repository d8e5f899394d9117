/**
 * Measures what an experiment run costs on this machine, to size the sample budget of
 * experiments/*.json (docs/experiments.md, "Budget"): training samples/s of the experiments' network
 * for a few input types (the stem's input channels and the rendering differ), and evaluation
 * examples/s (what validations and the test set cost). Then prints the hours every experiment file
 * needs at those rates.
 *
 *   node scripts/with-display.mjs node --import tsx scripts/experiment-budget.ts [--steps N] [--inputs a,b]
 *
 * Steps 0–4 of each input are warm-up (shader compilation, texture pool) and not timed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { SynthGenerator } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { fitterConfig, fitterConfigWithInput, FitterNetwork } from '../src/nn/fitter.js';
import { checkFitterInputType, type FitterInputType } from '../src/nn/fitter-inputs.js';
import { trainFitter } from '../src/train/fitter-trainer.js';
import { evaluateFitter } from '../src/eval/fitter-eval.js';
import { meanLatent } from '../src/train/fitter-data.js';
import { experimentPaths, listExperiments, loadExperimentConfig } from '../src/experiments/runner.js';

const argv = process.argv.slice(2);
const flag = (k: string) => {
  const i = argv.indexOf(`--${k}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const steps = Number(flag('steps') ?? 25);
const inputs = (flag('inputs') ?? 'parts12,rgb,joints,parts12+joints').split(',').map((s) => checkFitterInputType(s, '--inputs'));
const WARM = 5;

const rt = createNodeContext();
const generator = new SynthGenerator(rt, loadOpenBodyModel());
const root = mkdtempSync(join(tmpdir(), 'nbf-budget-'));
const base = fitterConfig('compact');
const rates = new Map<FitterInputType, number>();
try {
  for (const input of inputs) {
    let t0 = 0;
    let t1 = 0;
    await trainFitter(rt, generator, {
      config: fitterConfigWithInput(base, input), out: join(root, input.replace('+', '-')), steps, batch: 16, meanCount: 64, valCount: 8,
      validateAtStart: false, valEverySteps: 1_000_000, log: () => {},
      progress: (p) => {
        if (p.step === WARM) t0 = performance.now();
        if (p.step === steps) t1 = performance.now();
      },
    });
    const rate = ((steps - WARM) * 16) / ((t1 - t0) / 1000);
    rates.set(input, rate);
    console.log(`train  ${input.padEnd(15)} ${rate.toFixed(1)} samples/s (steps ${WARM}–${steps}, batch 16)`);
  }
  const m0 = performance.now();
  const net = new FitterNetwork(rt, base, { meanLatent: meanLatent(generator, { size: 64, shapeCount: 10, seed: 1, count: 512 }) });
  const meanRate = 512 / ((performance.now() - m0) / 1000);
  console.log(`mean   latent          ${meanRate.toFixed(0)} examples/s (sampling on the CPU)`);
  evaluateFitter(rt, net, generator, { seed: 5, count: 32, batch: 32 });
  const e0 = performance.now();
  evaluateFitter(rt, net, generator, { seed: 6, count: 128, batch: 32 });
  const evalRate = 128 / ((performance.now() - e0) / 1000);
  net.dispose();
  console.log(`eval   parts12         ${evalRate.toFixed(1)} examples/s (128 examples, batch 32, vertices included)`);

  const slowest = Math.min(...rates.values());
  let total = 0;
  for (const name of listExperiments('experiments')) {
    const c = loadExperimentConfig(experimentPaths().configDir, name);
    let hours = 0;
    for (const run of c.runs) {
      const evals = c.test.count * (1 + c.evaluate.corrupt.filter((s) => s > 0).length);
      if (run.fromRun || run.weights) {
        hours += evals / evalRate / 3600;
        continue;
      }
      const rate = rates.get(run.input) ?? rates.get('parts12') ?? slowest;
      hours += (c.samples / rate + (c.validation.times + 1) * c.validation.count / evalRate + evals / evalRate + c.meanCount / meanRate) / 3600;
    }
    total += hours;
    console.log(`budget ${name.padEnd(24)} ${c.runs.length} runs × ${c.samples} samples: ≈ ${hours.toFixed(2)} h at these rates`);
  }
  console.log(`budget all experiments: ≈ ${total.toFixed(2)} h`);
} finally {
  rmSync(root, { recursive: true, force: true });
  generator.dispose();
  rt.destroy();
}
