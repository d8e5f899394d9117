/**
 * The landmarks drawn over the picture (CPU, RGBA): the person mask as a tint, bones as lines, joints
 * as dots; the person's left in orange, right in blue, centre in white, as pose tools usually colour
 * them. Line width and dot size scale with the picture so overlays read at any size.
 */
import type { RgbaImage } from '../io/image.js';
import { BLAZEPOSE_SKELETON, type PoseLandmarks } from './blazepose.js';

type Rgb = readonly [number, number, number];
const LEFT: Rgb = [255, 140, 0];
const RIGHT: Rgb = [30, 144, 255];
const CENTRE: Rgb = [255, 255, 255];
const MASK: Rgb = [60, 220, 120];

/** Side of landmark k: BlazePose numbers its left points odd (1–31 excl. 0) and right even from 11 on; the face follows its own order. */
function sideOf(k: number): Rgb {
  if (k === 0) return CENTRE;
  if (k <= 10) return [1, 2, 3, 7, 9].includes(k) ? LEFT : RIGHT;
  return k % 2 === 1 ? LEFT : RIGHT;
}

function blend(out: Uint8Array | Uint8ClampedArray, i: number, c: Rgb, a: number) {
  for (let ch = 0; ch < 3; ch++) out[4 * i + ch] = Math.round(out[4 * i + ch] * (1 - a) + c[ch] * a);
}

function disc(img: RgbaImage, x: number, y: number, r: number, c: Rgb) {
  for (let py = Math.floor(y - r); py <= Math.ceil(y + r); py++) {
    if (py < 0 || py >= img.height) continue;
    for (let px = Math.floor(x - r); px <= Math.ceil(x + r); px++) {
      if (px < 0 || px >= img.width) continue;
      const d = Math.hypot(px + 0.5 - x, py + 0.5 - y);
      if (d <= r) blend(img.data, py * img.width + px, c, Math.min(1, r - d + 0.5));
    }
  }
}

function line(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, r: number, c: Rgb) {
  const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0) / Math.max(0.5, r / 2)) + 1;
  for (let s = 0; s <= steps; s++) disc(img, x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, r, c);
}

/** A copy of `image` with the landmarks (visibility ≥ minVisibility) and mask drawn on it. */
export function drawLandmarks(image: RgbaImage, pose: PoseLandmarks, minVisibility = 0.5): RgbaImage {
  const out: RgbaImage = { width: image.width, height: image.height, data: Uint8Array.from(image.data) };
  for (let i = 0; i < out.width * out.height; i++) {
    out.data[4 * i + 3] = 255;
    if (pose.mask.length) {
      const m = pose.mask[i];
      if (m > 0.5) blend(out.data, i, MASK, 0.35 * Math.min(1, (m - 0.5) * 4));
    }
  }
  const scale = Math.max(out.width, out.height) / 512;
  const seen = (k: number) => pose.keypoints[k][2] >= minVisibility;
  for (const [a, b] of BLAZEPOSE_SKELETON) {
    if (!seen(a) || !seen(b)) continue;
    const colour = sideOf(a) === sideOf(b) ? sideOf(a) : CENTRE;
    line(out, pose.keypoints[a][0], pose.keypoints[a][1], pose.keypoints[b][0], pose.keypoints[b][1], 1.5 * Math.max(1, scale), colour);
  }
  pose.keypoints.forEach((p, k) => {
    if (!seen(k)) return;
    disc(out, p[0], p[1], 3.5 * Math.max(1, scale), [20, 20, 20]);
    disc(out, p[0], p[1], 2.5 * Math.max(1, scale), sideOf(k));
  });
  return out;
}

/** The mask as an 8-bit greyscale-looking RGBA picture. */
export function maskImage(pose: PoseLandmarks): RgbaImage {
  const data = new Uint8Array(pose.width * pose.height * 4);
  for (let i = 0; i < pose.width * pose.height; i++) {
    const v = Math.round(Math.min(1, Math.max(0, pose.mask[i])) * 255);
    data[4 * i] = data[4 * i + 1] = data[4 * i + 2] = v;
    data[4 * i + 3] = 255;
  }
  return { width: pose.width, height: pose.height, data };
}
