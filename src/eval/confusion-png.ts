/**
 * A segmenter's confusion matrix as a picture (`nbf eval segmenter --confusion`): row-normalised,
 * rows and columns labelled with the class names and palette colours, per-class IoU beside it.
 * Drawn with the training curves' canvas and 5×7 font (src/train/curves.ts); Node-side (pngjs).
 */
import { PNG } from 'pngjs';
import { NbfError } from '../runtime/errors.js';
import { NBF_PARTS } from '../smpl/types.js';
import { Canvas, INK, textWidth, type Rgb } from '../train/curves.js';
import { confusionMetrics, rowNormalise } from './segmenter-eval.js';

/**
 * The row-normalised confusion matrix as a PNG: one cell per (truth, prediction) pair shaded white
 * → dark blue by its share of the row, the percentage written in it; rows and columns labelled with
 * the class names (columns read bottom to top) and the class's palette colour; per-row IoU on the
 * right. Drawn with the curves' canvas and 5×7 font.
 */
export function confusionPng(confusion: ArrayLike<number>, options: { names?: readonly string[]; palette?: readonly (readonly number[])[]; title?: string } = {}): Uint8Array {
  const K = Math.round(Math.sqrt(confusion.length));
  if (K * K !== confusion.length || K < 1) throw new NbfError(`confusionPng: ${confusion.length} entries is not a square matrix`);
  const names = options.names ?? Array.from({ length: K }, (_, k) => `class ${k}`);
  const palette = options.palette ?? NBF_PARTS.map((p) => p.rgb);
  const norm = rowNormalise(confusion, K);
  const iou = confusionMetrics(confusion, K).perClassIoU;
  const cell = 34;
  const label = (k: number) => `${k} ${names[k] ?? ''}`;
  const labelW = Math.max(...Array.from({ length: K }, (_, k) => textWidth(label(k)))) + 8;
  const swatch = 8;
  const titleH = options.title ? 24 : 6;
  const left = 24 + labelW + swatch + 4;
  const top = titleH + 16 + labelW + swatch + 4;
  const iouW = 70;
  const width = left + K * cell + iouW + 10;
  const height = top + K * cell + 20;
  const cv = new Canvas(new PNG({ width, height }));
  const fill = (x0: number, y0: number, w: number, h: number, c: Rgb) => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) cv.set(x, y, c);
  };
  if (options.title) cv.text(options.title, (width - textWidth(options.title, 2)) / 2, 5, INK, 2);
  cv.text('prediction', left + (K * cell - textWidth('prediction')) / 2, titleH + 2, INK);
  cv.text('truth', 6, top + (K * cell + textWidth('truth')) / 2, INK, 1, true);
  cv.text('IoU', left + K * cell + 8, top - 12, INK);
  for (let k = 0; k < K; k++) {
    const rgb = (palette[k] ?? [128, 128, 128]) as unknown as Rgb;
    // Row label and swatch.
    const ry = top + k * cell;
    cv.text(label(k), 20, ry + cell / 2 - 3, INK);
    fill(left - swatch - 4, ry + cell / 2 - swatch / 2, swatch, swatch, rgb);
    // Column label (vertical, reading upwards, ending just above the swatch) and swatch.
    const cx = left + k * cell;
    cv.text(label(k), cx + cell / 2 - 3, top - swatch - 8, INK, 1, true);
    fill(cx + cell / 2 - swatch / 2, top - swatch - 4, swatch, swatch, rgb);
    const v = iou[k];
    cv.text(Number.isNaN(v) ? '-' : `${(v * 100).toFixed(1)}%`, left + K * cell + 8, ry + cell / 2 - 3, INK);
  }
  for (let t = 0; t < K; t++) {
    for (let p = 0; p < K; p++) {
      const v = norm[t * K + p];
      const shade: Rgb = [255 - v * (255 - 8), 255 - v * (255 - 48), 255 - v * (255 - 107)];
      const x0 = left + p * cell;
      const y0 = top + t * cell;
      fill(x0, y0, cell, cell, shade);
      if (v > 0) {
        const text = v >= 0.995 ? '100' : v < 0.005 ? '0' : String(Math.round(v * 100));
        cv.text(text, x0 + (cell - textWidth(text)) / 2, y0 + cell / 2 - 3, v > 0.5 ? [255, 255, 255] : INK);
      }
    }
  }
  // Grid and frame.
  const grid: Rgb = [200, 200, 200];
  for (let k = 0; k <= K; k++) {
    cv.line(left + k * cell, top, left + k * cell, top + K * cell, k === 0 || k === K ? INK : grid);
    cv.line(left, top + k * cell, left + K * cell, top + k * cell, k === 0 || k === K ? INK : grid);
  }
  // The diagonal's cells outlined.
  for (let k = 0; k < K; k++) {
    const x0 = left + k * cell;
    const y0 = top + k * cell;
    cv.line(x0, y0, x0 + cell, y0, INK);
    cv.line(x0, y0 + cell, x0 + cell, y0 + cell, INK);
    cv.line(x0, y0, x0, y0 + cell, INK);
    cv.line(x0 + cell, y0, x0 + cell, y0 + cell, INK);
  }
  return PNG.sync.write(cv.png);
}
