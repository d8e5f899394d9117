#!/usr/bin/env node
// How well `nbf fit`'s 2D joints agree with independent photo-trained pose networks, against how well
// those agree with each other: the mean distance (picture pixels) over the 6 arm joints (shoulders,
// elbows, wrists) per picture, for every pair of sources. The peers' outputs come from
// ../shared/tools/peer-pose (MoveNet Thunder and BlazePose heavy on TF.js WASM, outside the product).
//
//   node scripts/peer-agreement.mjs --movenet M.json --blazepose B.json NAME=FIT_DIR [NAME=FIT_DIR ...]
//
// FIT_DIR is an `nbf fit --out` folder: FIT_DIR/<picture id>/params.json (joints2d, SMPL order) and,
// for the first one, landmarks.json (our BlazePose's keypoints, the model its params.json names) are read.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) throw new Error(`give --${name} FILE.json`);
  return JSON.parse(readFileSync(process.argv[i + 1], 'utf8'));
};
const movenet = arg('movenet');
const blazepose = arg('blazepose');
const fits = process.argv.slice(2).filter((a) => a.includes('=') && !a.startsWith('--')).map((a) => a.split('='));
if (!fits.length) throw new Error('give at least one NAME=FIT_DIR');

// Arm joints (left/right shoulder, elbow, wrist) in each source's numbering.
const ARMS = { coco: [5, 6, 7, 8, 9, 10], blazepose: [11, 12, 13, 14, 15, 16], smpl: [16, 17, 18, 19, 20, 21] };
const arms = (points, which) => ARMS[which].map((k) => points[k].slice(0, 2));

const ids = movenet.map((e) => e.id);
const sources = new Map();
sources.set('MoveNet', Object.fromEntries(movenet.map((e) => [e.id, arms(e.keypoints, 'coco')])));
sources.set('BlazePose heavy (tfjs)', Object.fromEntries(blazepose.map((e) => [e.id, arms(e.keypoints, 'blazepose')])));
const [, firstDir] = fits[0];
if (ids.every((id) => existsSync(join(firstDir, id, 'landmarks.json')))) {
  const model = JSON.parse(readFileSync(join(firstDir, ids[0], 'params.json'), 'utf8')).landmarkModel ?? 'blazepose-lite';
  sources.set(`our landmarks (${model} + detector)`, Object.fromEntries(ids.map((id) => [id, arms(JSON.parse(readFileSync(join(firstDir, id, 'landmarks.json'), 'utf8')).keypoints, 'blazepose')])));
}
for (const [name, dir] of fits) {
  sources.set(`nbf fit ${name}`, Object.fromEntries(ids.map((id) => [id, arms(JSON.parse(readFileSync(join(dir, id, 'params.json'), 'utf8')).joints2d, 'smpl')])));
}

const distance = (a, b) => a.reduce((s, p, k) => s + Math.hypot(p[0] - b[k][0], p[1] - b[k][1]), 0) / a.length;
const names = [...sources.keys()];
console.log(`| pair | ${ids.join(' | ')} |`);
console.log(`|---|${ids.map(() => '---').join('|')}|`);
for (let i = 0; i < names.length; i++) {
  for (let j = i + 1; j < names.length; j++) {
    const a = sources.get(names[i]);
    const b = sources.get(names[j]);
    console.log(`| ${names[i]} vs ${names[j]} | ${ids.map((id) => `${distance(a[id], b[id]).toFixed(0)} px`).join(' | ')} |`);
  }
}
