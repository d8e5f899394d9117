/**
 * Preview pictures of a body model (default: our open model) with the CPU rasteriser: front and side
 * views at β = 0 and β = ±2 on the first three components, and a few poses, flat-shaded in NBF's
 * 12-part colours. Writes one PNG per view and a contact sheet.
 *
 *   node --import tsx scripts/render-body.ts --out DIR [--model FILE.nbfm] [--sheet FILE.png]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { parseArgs, stringFlag } from '../src/cli/args.js';
import { smplForward } from '../src/smpl/cpu-forward.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { elbowsAndKneesBentPose } from '../src/smpl/open-model/build.js';
import { blit, rasterise } from '../src/smpl/open-model/raster.js';
import { NBF_PARTS, type BodyModel } from '../src/smpl/types.js';

const USAGE = 'usage: render-body.ts --out DIR [--model FILE.nbfm] [--sheet FILE.png]';

function parseOptions(): { outDir: string; modelPath: string; sheetPath: string } {
  try {
    const args = parseArgs(process.argv.slice(2), ['out', 'model', 'sheet']);
    const outDir = stringFlag(args, 'out');
    if (!outDir) throw new Error('--out DIR is required');
    return { outDir, modelPath: stringFlag(args, 'model') ?? 'weights/nbf-open-body.nbfm', sheetPath: stringFlag(args, 'sheet') ?? join(outDir, 'sheet.png') };
  } catch (e) {
    console.error(`render-body: ${(e as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const { outDir, modelPath, sheetPath } = parseOptions();
const model: BodyModel = decodeBodyModel(new Uint8Array(readFileSync(modelPath)), modelPath);

/** Axis-angle helpers (joint indices in SMPL order). */
function pose(entries: Array<[joint: number, x: number, y: number, z: number]>): Float64Array {
  const p = new Float64Array(72);
  for (const [j, x, y, z] of entries) p.set([x, y, z], 3 * j);
  return p;
}
const deg = Math.PI / 180;
const armsDown = 72 * deg;
const POSES: Record<string, Float64Array> = {
  'arms-raised': pose([[16, 0, 0, 70 * deg], [17, 0, 0, -70 * deg]]),
  walking: pose([
    [1, -28 * deg, 0, 0], [4, 12 * deg, 0, 0], [2, 18 * deg, 0, 0], [5, 28 * deg, 0, 0], [8, -10 * deg, 0, 0],
    [16, 0, 25 * deg, -armsDown], [17, 0, 25 * deg, armsDown], [18, 0, -20 * deg, 0], [19, 0, 30 * deg, 0],
  ]),
  sitting: pose([
    [1, -90 * deg, 0, 0], [2, -90 * deg, 0, 0], [4, 90 * deg, 0, 0], [5, 90 * deg, 0, 0],
    [16, 0, 0, -armsDown], [17, 0, 0, armsDown], [18, 0, -50 * deg, 0], [19, 0, 50 * deg, 0],
  ]),
  'elbows-knees-90': elbowsAndKneesBentPose(),
};

interface Shot {
  name: string;
  betas?: number[];
  pose?: Float64Array;
}
const shots: Shot[] = [{ name: 'beta0' }];
for (let b = 0; b < Math.min(3, model.shapeCount); b++) {
  for (const s of [-2, 2]) {
    const betas = new Array(model.shapeCount).fill(0);
    betas[b] = s;
    shots.push({ name: `beta${b + 1}${s > 0 ? 'plus' : 'minus'}2`, betas });
  }
}
for (const [name, p] of Object.entries(POSES)) shots.push({ name, pose: p });

// Face colour: the NBF part of the face's majority vertex label (first vertex on a three-way tie).
const F = model.faces.length / 3;
const faceRgb = new Float64Array(F * 3);
for (let f = 0; f < F; f++) {
  const [a, b, c] = [0, 1, 2].map((k) => model.parts12[model.faces[3 * f + k]]);
  const part = b === c ? b : a;
  faceRgb.set(NBF_PARTS[part].rgb, 3 * f);
}

const TILE_W = 220;
const TILE_H = 260;
const METRES_PER_PIXEL = 0.0086;
const views = [
  { suffix: 'front', yaw: 0 },
  { suffix: 'side', yaw: Math.PI / 2 },
];
mkdirSync(outDir, { recursive: true });
const tiles: Uint8Array[] = [];
const savePng = (path: string, rgba: Uint8Array, width: number, height: number): void => {
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba);
  writeFileSync(path, PNG.sync.write(png, { colorType: 2 }));
};
for (const shot of shots) {
  const { vertices } = smplForward(model, { betas: shot.betas, pose: shot.pose });
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < vertices.length; i++) {
    lo[i % 3] = Math.min(lo[i % 3], vertices[i]);
    hi[i % 3] = Math.max(hi[i % 3], vertices[i]);
  }
  const centre: [number, number, number] = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  for (const view of views) {
    const rgba = rasterise(vertices, model.faces, faceRgb, { width: TILE_W, height: TILE_H, yaw: view.yaw, centre, metresPerPixel: METRES_PER_PIXEL });
    savePng(join(outDir, `${shot.name}-${view.suffix}.png`), rgba, TILE_W, TILE_H);
    tiles.push(rgba);
  }
}
const columns = 8;
const rows = Math.ceil(tiles.length / columns);
const sheet = new Uint8Array(columns * TILE_W * rows * TILE_H * 4).fill(255);
tiles.forEach((tile, i) => blit(sheet, columns * TILE_W, tile, TILE_W, TILE_H, (i % columns) * TILE_W, Math.floor(i / columns) * TILE_H));
savePng(sheetPath, sheet, columns * TILE_W, rows * TILE_H);
console.log(`wrote ${tiles.length} views to ${outDir} and the contact sheet ${sheetPath} (shots: ${shots.map((s) => s.name).join(', ')})`);
