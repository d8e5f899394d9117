/**
 * The pictures of docs/landmarks.md: BlazePose (through our runtime) on the two public-domain/CC0
 * photographs of scripts/fetch-photos.sh and on rendered synthetic people, drawn as overlays side by
 * side, written as JPEG.
 *
 *   bash scripts/fetch-photos.sh && node scripts/with-display.mjs node --import tsx scripts/docs-landmarks.ts
 *
 * Writes docs/landmarks-photos.jpg (rows: lite without the detector, then lite, full and heavy with
 * it, where fetched) and docs/landmarks-synthetic.jpg; then the photo route's bodies
 * (docs/fit-photos.jpg: the fitted body's parts over each photo; rows with the landmark network and
 * without it).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { main } from '../src/cli/main.js';
import { decodeImage, rgbFloatsToImage } from '../src/io/image.js';
import jpeg from 'jpeg-js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { readImageFile } from '../src/io/image-file.js';
import type { RgbaImage } from '../src/io/image.js';
import { createPoseLandmarker, blazePoseModelPath, BLAZEPOSE_VARIANTS } from '../src/landmarks/model-files.js';
import { drawLandmarks } from '../src/landmarks/draw.js';
import { sheet as sheetOf, tile as tileOf } from './contact-sheet.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';

const TILE = 256;

const tile = (image: RgbaImage) => tileOf(image, TILE);
const sheet = (rows: RgbaImage[][]) => sheetOf(rows, TILE);

const rt = createNodeContext();
const photos = ['out/photos/astronaut.png', 'out/photos/camera.png'].filter(existsSync);
const variants = BLAZEPOSE_VARIANTS.filter((v) => blazePoseModelPath(v));
if (photos.length) {
  const rows: RgbaImage[][] = [];
  const rowsSpec: { variant: (typeof variants)[number]; detector: boolean }[] = [{ variant: 'lite', detector: false }, ...variants.map((variant) => ({ variant, detector: true }))];
  for (const { variant, detector } of rowsSpec) {
    const landmarker = createPoseLandmarker(rt, { variant, detector });
    const row: RgbaImage[] = [];
    for (const path of photos) {
      const image = await readImageFile(path);
      const pose = landmarker.detect(image);
      console.log(`${variant}${detector ? ' + detector' : ', whole picture'} ${path}: score ${pose.score.toFixed(2)}, ${pose.keypoints.filter((p) => p[2] >= 0.5).length}/33 visible, ${pose.timings.networkMs.toFixed(0)} ms network`);
      row.push(tile(drawLandmarks(image, pose)));
    }
    rows.push(row);
    landmarker.dispose();
  }
  writeFileSync('docs/landmarks-photos.jpg', jpeg.encode(sheet(rows) as never, 85).data);
  console.log(`docs/landmarks-photos.jpg: rows ${rowsSpec.map((r) => `${r.variant}${r.detector ? ' + detector' : ' (whole picture)'}`).join(', ')}`);
} else {
  console.log('no photos under out/photos (bash scripts/fetch-photos.sh); skipped the photo sheet');
}

const generator = new SynthGenerator(rt, loadOpenBodyModel());
const batch = generator.generateBatch(8, { size: TILE, seed: 7 });
const rgb = batch.inputs.rgb.readSync();
disposeBatch(batch);
generator.dispose();
const landmarker = createPoseLandmarker(rt);
const tiles: RgbaImage[] = [];
for (let n = 0; n < 8; n++) {
  const image = rgbFloatsToImage(rgb, TILE, TILE, n * TILE * TILE);
  try {
    tiles.push(drawLandmarks(image, landmarker.detect(image)));
  } catch {
    tiles.push(image); // no person found: the picture as it is
  }
}
landmarker.dispose();
writeFileSync('docs/landmarks-synthetic.jpg', jpeg.encode(sheet([tiles.slice(0, 4), tiles.slice(4)]) as never, 85).data);
console.log('docs/landmarks-synthetic.jpg');
rt.destroy();

if (photos.length) {
  // The photo route end to end, through the CLI as a user runs it: with the landmark network (the
  // default), then without it (--no-network: 8 facing starts, 300 steps).
  const rows: RgbaImage[][] = [];
  for (const [out, flags] of [['out/docs-fit', []], ['out/docs-fit-no-network', ['--no-network']]] as const) {
    const code = await main(['fit', ...photos, '--out', out, ...flags]);
    if (code !== 0) throw new Error(`nbf fit exited with ${code}`);
    rows.push(photos.map((path) => tile(decodeImage(readFileSync(`${out}/${basename(path, extname(path))}/overlay.png`), path))));
  }
  writeFileSync('docs/fit-photos.jpg', jpeg.encode(sheet(rows) as never, 85).data);
  console.log('docs/fit-photos.jpg: rows with the landmark network, then without (--no-network)');
}
