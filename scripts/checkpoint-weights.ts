/**
 * A training run's checkpoint (checkpoint.nbfp) → a weights file (.nbfw, float16) of the network as it
 * stands, to evaluate a run while it trains (`nbf eval`, scripts/eval-*.ts) without waiting for its
 * last.nbfw (fitter and segmenter runs alike; the run's config.json names the network):
 *
 *   node scripts/with-display.mjs node --import tsx scripts/checkpoint-weights.ts RUN_DIR OUT.nbfw
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeContext } from '../src/runtime/node-context.js';
import { FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { SegmenterNetwork, type SegmenterConfig } from '../src/nn/refinenet.js';
import { decodeParamFile } from '../src/nn/param-format.js';
import { encodeFitterWeights, encodeSegmenterWeights } from '../src/nn/weights-file.js';
import { CHECKPOINT_FILE, CONFIG_FILE } from '../src/train/training-run.js';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: checkpoint-weights.ts RUN_DIR OUT.nbfw');
  process.exit(2);
}
for (const f of [CONFIG_FILE, CHECKPOINT_FILE]) {
  if (!existsSync(join(dir, f))) {
    console.error(`checkpoint-weights: ${join(dir, f)}: no such file (not a run folder of nbf train)`);
    process.exit(1);
  }
}
const config = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8')).config as FitterConfig | SegmenterConfig;
const file = decodeParamFile(readFileSync(join(dir, CHECKPOINT_FILE)), join(dir, CHECKPOINT_FILE));
const meta = file.meta as { step: number; extra: { buffers: { name: string; shape: number[]; data: number[] }[] } };
const rt = createNodeContext();
try {
  const segmenter = 'classes' in config;
  const net = segmenter ? new SegmenterNetwork(rt, config as SegmenterConfig) : new FitterNetwork(rt, config as FitterConfig);
  try {
    net.params.assign(file.entries.filter((e) => e.name.startsWith('param/')).map((e) => ({ ...e, name: e.name.slice('param/'.length) })), 'checkpoint');
    net.buffers.assign(meta.extra.buffers.map((b) => ({ name: b.name, shape: b.shape, data: Float32Array.from(b.data) })), 'checkpoint (buffers)');
    const info = { info: { step: meta.step, from: join(dir, CHECKPOINT_FILE) } };
    writeFileSync(out, segmenter ? encodeSegmenterWeights(net as SegmenterNetwork, info) : encodeFitterWeights(net as FitterNetwork, info));
    console.log(`${out}: the ${segmenter ? 'segmenter' : 'fitter'} of ${dir} at step ${meta.step}`);
  } finally {
    net.dispose();
  }
} finally {
  rt.destroy();
}
