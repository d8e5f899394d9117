/**
 * The pictures of docs/pipeline.md and docs/segmenter.md: NBF's route (segmenter → fitting network →
 * refinement) through `nbf fit --route parts`, as a user runs it, on rendered validation people
 * (seed 900001, never drawn by training) and on the public-domain/CC0 photographs of
 * scripts/fetch-photos.sh (when fetched). Each row: the picture, the predicted part map, the fitted
 * body's parts over the picture.
 *
 *   node scripts/with-display.mjs node --import tsx scripts/docs-pipeline.ts [--segmenter FILE.nbfw]
 *
 * Writes docs/pipeline-synthetic.jpg and docs/pipeline-photos.jpg.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { main } from '../src/cli/main.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { decodeImage, encodePng, rgbFloatsToImage, type RgbaImage } from '../src/io/image.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { sheet, tile } from './contact-sheet.js';

const TILE = 224;
const segmenterIndex = process.argv.indexOf('--segmenter');
const segmenterFlags = segmenterIndex > 0 ? ['--segmenter', process.argv[segmenterIndex + 1]] : [];
const dir = 'out/docs-pipeline';
mkdirSync(dir, { recursive: true });

// Rendered validation people, written as PNGs for the CLI.
const synthetic: string[] = [];
{
  const rt = createNodeContext();
  const generator = new SynthGenerator(rt, loadOpenBodyModel());
  const size = 256;
  const batch = generator.generateBatch(4, { size, seed: 900001 });
  const rgb = batch.inputs.rgb.readSync();
  disposeBatch(batch);
  generator.dispose();
  rt.destroy();
  for (let n = 0; n < 4; n++) {
    const path = join(dir, `synthetic-${n}.png`);
    writeFileSync(path, encodePng(rgbFloatsToImage(rgb, size, size, n * size * size)));
    synthetic.push(path);
  }
}
const photos = ['out/photos/astronaut.png', 'out/photos/camera.png'].filter(existsSync);

async function rows(paths: string[], out: string): Promise<RgbaImage[][]> {
  const code = await main(['fit', ...paths, '--route', 'parts', ...segmenterFlags, '--out', out]);
  if (code !== 0) console.log(`nbf fit exited with ${code}: pictures without a person are left out`);
  const result: RgbaImage[][] = [];
  for (const path of paths) {
    const fitted = join(out, basename(path, extname(path)));
    if (!existsSync(join(fitted, 'overlay.png'))) continue;
    const read = (p: string) => decodeImage(readFileSync(p), p);
    result.push([tile(read(path), TILE), tile(read(join(fitted, 'parts.png')), TILE), tile(read(join(fitted, 'overlay.png')), TILE)]);
  }
  return result;
}

const syntheticRows = await rows(synthetic, join(dir, 'fit-synthetic'));
// Two pictures per row: picture, parts, body | picture, parts, body.
const pair = (r: RgbaImage[][]) => Array.from({ length: Math.ceil(r.length / 2) }, (_, i) => [...r[2 * i], ...(r[2 * i + 1] ?? [])]);
writeFileSync('docs/pipeline-synthetic.jpg', jpeg.encode(sheet(pair(syntheticRows), TILE) as never, 85).data);
console.log('docs/pipeline-synthetic.jpg');
if (photos.length) {
  writeFileSync('docs/pipeline-photos.jpg', jpeg.encode(sheet(pair(await rows(photos, join(dir, 'fit-photos'))), TILE) as never, 85).data);
  console.log('docs/pipeline-photos.jpg');
} else {
  console.log('no photos under out/photos (bash scripts/fetch-photos.sh); skipped the photo sheet');
}
