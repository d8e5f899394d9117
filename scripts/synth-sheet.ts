/**
 * Contact sheet of synthetic training pictures for the docs: 16 RGB samples at 128², 4×4, written to
 * docs/synth-sheet.png. With the background photos of scripts/fetch-backgrounds.sh present (default
 * ~/.cache/nbf-gl/backgrounds, or --backgrounds DIR), 60 % of the people stand in front of photos;
 * else every backdrop is procedural. Prints the photos used and their licences (for attribution).
 *
 *   npm run render:synth-sheet [-- --backgrounds DIR] [-- --seed S] [-- --out FILE.png] [-- --close-up-rate R]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs, stringFlag } from '../src/cli/args.js';
import { encodePng } from '../src/io/image.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { BackgroundBank } from '../src/synth/backgrounds.js';
import { loadBackgroundBank } from '../src/synth/backgrounds-node.js';
import { disposeBatch, SynthGenerator } from '../src/synth/generate.js';

const COUNT = 16;
const COLUMNS = 4;
const SIZE = 128;
const GAP = 2;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), ['backgrounds', 'seed', 'out', 'close-up-rate']);
  const out = stringFlag(args, 'out') ?? 'docs/synth-sheet.png';
  const seed = Number(stringFlag(args, 'seed') ?? 1);
  const closeUpRate = Number(stringFlag(args, 'close-up-rate') ?? 0);
  if (!(closeUpRate >= 0 && closeUpRate <= 1)) throw new Error(`--close-up-rate must be in [0, 1], got ${stringFlag(args, 'close-up-rate')}`);
  const given = stringFlag(args, 'backgrounds');
  const dir = given ?? join(homedir(), '.cache', 'nbf-gl', 'backgrounds');
  if (given && !existsSync(dir)) throw new Error(`--backgrounds ${dir} does not exist (run scripts/fetch-backgrounds.sh ${dir})`);
  const modelPath = 'weights/nbf-open-body.nbfm';
  const model = decodeBodyModel(new Uint8Array(readFileSync(modelPath)), modelPath);
  const rt = createNodeContext();
  const bank = existsSync(dir) ? await loadBackgroundBank(rt, dir) : undefined;
  const generator = new SynthGenerator(rt, model, { backgrounds: bank });
  try {
    const batch = generator.generateBatch(COUNT, { size: SIZE, seed, ...(closeUpRate > 0 ? { closeUpRate } : {}) });
    const rgb = batch.inputs.rgb.readSync();
    const rows = Math.ceil(COUNT / COLUMNS);
    const W = COLUMNS * SIZE + (COLUMNS - 1) * GAP;
    const H = rows * SIZE + (rows - 1) * GAP;
    const data = new Uint8Array(W * H * 4).fill(255);
    for (let n = 0; n < COUNT; n++) {
      const ox = (n % COLUMNS) * (SIZE + GAP);
      const oy = Math.floor(n / COLUMNS) * (SIZE + GAP);
      for (let y = 0; y < SIZE; y++) {
        for (let x = 0; x < SIZE; x++) {
          const src = ((n * SIZE + y) * SIZE + x) * 3;
          const dst = ((oy + y) * W + ox + x) * 4;
          for (let k = 0; k < 3; k++) data[dst + k] = Math.round(Math.min(1, Math.max(0, rgb[src + k])) * 255);
        }
      }
    }
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, encodePng({ width: W, height: H, data }));
    const used = [...new Set(batch.photos.filter((p) => p.enabled).map((p) => bank!.names[p.photo]))].sort();
    disposeBatch(batch);
    console.log(`wrote ${out}: ${COUNT} samples at ${SIZE}², seed ${seed}, ${bank ? `${used.length} of ${bank.count} background photos from ${dir}` : 'procedural backgrounds (no photos found)'}`);
    if (bank && used.length) {
      const manifestPath = join(dir, 'manifest.json');
      const manifest = existsSync(manifestPath) ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { images: { file?: string; package: string; source: string; license: string; upstreamLicense?: string; author?: string; copyright: string }[] }) : { images: [] };
      for (const name of used) {
        const e = manifest.images.find((i) => i.file === name);
        console.log(e ? `  ${e.package}:${e.source} — ${e.author ?? e.copyright} — ${e.upstreamLicense ?? e.license}` : `  ${name}`);
      }
    }
  } finally {
    generator.dispose();
    bank?.dispose();
    rt.destroy();
  }
}

main().catch((e: unknown) => {
  console.error(`synth-sheet: ${(e as Error).message}`);
  process.exit(1);
});
