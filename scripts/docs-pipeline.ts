/**
 * The pictures of docs/pipeline.md and docs/segmenter.md: NBF's route (segmenter → fitting network →
 * refinement) through `nbf fit --route parts` and `--route both`, as a user runs them, on rendered validation people
 * (seed 900001, never drawn by training) and on the public-domain/CC0 photographs of
 * scripts/fetch-photos.sh (when fetched). Each row: the picture, then for each route the predicted
 * part map and the fitted body's parts over the picture.
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

/** Per picture: [picture, part map, body over the picture] through `nbf fit --route ROUTE`. */
async function rows(paths: string[], out: string, route: 'parts' | 'both'): Promise<Map<string, RgbaImage[]>> {
  const code = await main(['fit', ...paths, '--route', route, ...segmenterFlags, '--out', out]);
  if (code !== 0) console.log(`nbf fit --route ${route} exited with ${code}: pictures without a person are left out`);
  const result = new Map<string, RgbaImage[]>();
  for (const path of paths) {
    const fitted = join(out, basename(path, extname(path)));
    if (!existsSync(join(fitted, 'overlay.png'))) continue;
    const read = (p: string) => decodeImage(readFileSync(p), p);
    result.set(path, [tile(read(path), TILE), tile(read(join(fitted, 'parts.png')), TILE), tile(read(join(fitted, 'overlay.png')), TILE)]);
  }
  return result;
}

/**
 * One row per picture: the picture, then the part map and the body of `--route parts` (the segmenter
 * alone), then those of `--route both` (with BlazePose's person mask, sides and joints).
 */
async function routeRows(paths: string[], out: string): Promise<RgbaImage[][]> {
  const parts = await rows(paths, join(out, 'parts'), 'parts');
  const both = await rows(paths, join(out, 'both'), 'both');
  const blank = (): RgbaImage => ({ width: TILE, height: TILE, data: new Uint8Array(TILE * TILE * 4).fill(255) });
  return paths.filter((p) => parts.has(p) || both.has(p)).map((p) => {
    const a = parts.get(p);
    const b = both.get(p);
    return [(a ?? b)![0], ...(a ? a.slice(1) : [blank(), blank()]), ...(b ? b.slice(1) : [blank(), blank()])];
  });
}

writeFileSync('docs/pipeline-synthetic.jpg', jpeg.encode(sheet(await routeRows(synthetic, join(dir, 'fit-synthetic')), TILE) as never, 85).data);
console.log('docs/pipeline-synthetic.jpg');
if (photos.length) {
  writeFileSync('docs/pipeline-photos.jpg', jpeg.encode(sheet(await routeRows(photos, join(dir, 'fit-photos')), TILE) as never, 85).data);
  console.log('docs/pipeline-photos.jpg');
} else {
  console.log('no photos under out/photos (bash scripts/fetch-photos.sh); skipped the photo sheet');
}
