/**
 * The experiments' plots as PNG (docs/experiments/NAME.png), drawn with the curve renderer's canvas
 * and font (src/train/curves.ts): line panels (error against a number: parts, % of 3D labels, mIoU
 * of the input maps) reuse its drawPanel; bar panels (error per run) are drawn here — grouped bars,
 * one colour per metric, the value above each bar, category names under them (turned upright when
 * they do not fit).
 */
import { PNG } from 'pngjs';
import { Canvas, CURVE_PALETTE, drawPanel, formatTick, INK, linearTicks, textWidth, type CurvePanel, type Rgb } from '../train/curves.js';

export interface BarPanel {
  title: string;
  yLabel?: string;
  categories: string[];
  /** One series per metric; values per category (null: no result yet). */
  series: { name: string; values: (number | null)[]; colour?: Rgb }[];
}

export type ExperimentPanel = ({ kind: 'line' } & CurvePanel) | ({ kind: 'bars' } & BarPanel);

const GRID: Rgb = [228, 228, 228];

function fillRect(cv: Canvas, x0: number, y0: number, x1: number, y1: number, c: Rgb) {
  for (let y = Math.round(Math.min(y0, y1)); y <= Math.round(Math.max(y0, y1)); y++) {
    for (let x = Math.round(Math.min(x0, x1)); x <= Math.round(Math.max(x0, x1)); x++) cv.set(x, y, c);
  }
}

function drawBars(cv: Canvas, p: BarPanel, cx: number, cy: number, cw: number, ch: number) {
  const values = p.series.flatMap((s) => s.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const hi = values.length ? Math.max(...values) * 1.15 : 1;
  const ticks = linearTicks(0, hi, 5);
  const labels = ticks.map(formatTick);
  const MAX_CHARS = 24;
  const names = p.categories.map((c) => (c.length > MAX_CHARS ? c.slice(0, MAX_CHARS - 1) + '.' : c));
  const longest = Math.max(0, ...names.map((c) => textWidth(c)));
  const slot = (cw - 120) / Math.max(1, p.categories.length);
  const upright = longest > slot - 4;
  const legW = Math.min(Math.floor(cw * 0.3), 30 + 6 * Math.max(0, ...p.series.map((s) => s.name.length)));
  const left = cx + (p.yLabel ? 14 : 4) + Math.max(0, ...labels.map((l) => textWidth(l))) + 8;
  const right = cx + cw - legW - 12;
  const top = cy + 20;
  const bottom = cy + ch - (upright ? longest + 12 : 24);
  const py = (v: number) => bottom - (v / hi) * (bottom - top);
  cv.text(p.title, (left + right - textWidth(p.title)) / 2, cy + 6, INK);
  for (let i = 0; i < ticks.length; i++) {
    const y = Math.round(py(ticks[i]));
    if (y < top) continue;
    cv.line(left + 1, y, right - 1, y, GRID);
    cv.line(left - 4, y, left - 1, y, INK);
    cv.text(labels[i], left - 6 - textWidth(labels[i]), y - 3, INK);
  }
  if (p.yLabel) cv.text(p.yLabel, cx + 3, (top + bottom + textWidth(p.yLabel)) / 2, INK, 1, true);
  const n = p.categories.length;
  const group = (right - left) / Math.max(1, n);
  const barW = Math.max(2, Math.floor((group * 0.8) / Math.max(1, p.series.length)));
  names.forEach((name, k) => {
    const g0 = left + k * group + group * 0.1;
    p.series.forEach((s, j) => {
      const v = s.values[k];
      const x0 = g0 + j * barW;
      const colour = s.colour ?? CURVE_PALETTE[j % CURVE_PALETTE.length];
      if (v === null || !Number.isFinite(v)) {
        cv.text('-', x0 + barW / 2 - 2, bottom - 10, INK);
        return;
      }
      fillRect(cv, x0, py(v), x0 + barW - 2, bottom - 1, colour);
      const label = formatTick(+v.toPrecision(3));
      if (textWidth(label) <= barW + 6) cv.text(label, x0 + (barW - 2 - textWidth(label)) / 2, py(v) - 9, INK);
    });
    const mid = left + (k + 0.5) * group;
    if (upright) cv.text(name, mid - 3, bottom + 6 + textWidth(name), INK, 1, true);
    else cv.text(name, mid - textWidth(name) / 2, bottom + 7, INK);
  });
  cv.line(left, top, right, top, INK);
  cv.line(left, bottom, right, bottom, INK);
  cv.line(left, top, left, bottom, INK);
  cv.line(right, top, right, bottom, INK);
  p.series.forEach((s, k) => {
    const y = top + 6 + k * 12;
    fillRect(cv, right + 10, y - 3, right + 22, y + 3, s.colour ?? CURVE_PALETTE[k % CURVE_PALETTE.length]);
    cv.text(s.name, right + 28, y - 3, INK);
  });
}

/** The panels side by side (two columns from two panels on) as PNG file bytes. */
export function renderExperimentPlot(panels: readonly ExperimentPanel[], title: string, options: { width?: number } = {}): Uint8Array {
  const cols = panels.length > 1 ? 2 : 1;
  const rows = Math.max(1, Math.ceil(panels.length / cols));
  const width = options.width ?? (cols === 2 ? 1100 : 700);
  const titleH = 26;
  const cellH = 360;
  const height = titleH + rows * cellH;
  const cv = new Canvas(new PNG({ width, height }));
  cv.text(title, (width - textWidth(title, 2)) / 2, 6, INK, 2);
  const cellW = Math.floor(width / cols);
  panels.forEach((p, i) => {
    const x = (i % cols) * cellW;
    const y = titleH + Math.floor(i / cols) * cellH;
    if (p.kind === 'bars') drawBars(cv, p, x, y, cellW, cellH);
    else drawPanel(cv, p, x, y, cellW, cellH);
  });
  return PNG.sync.write(cv.png);
}
