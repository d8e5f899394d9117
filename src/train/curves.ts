/**
 * Training curves as PNG: a small, dependency-free line-chart renderer (beyond pngjs for encoding).
 * Panels sit one above the other (a two-column grid from four panels on); each has a frame, light grid,
 * numeric tick labels in a built-in 5×7 bitmap font, a legend on its right and the x label ("step"
 * unless the panel names another).
 * Non-finite points (and y ≤ 0 on a log axis) are skipped; lines join the remaining points in order.
 */
import { PNG } from 'pngjs';

export type Rgb = [r: number, g: number, b: number];
export interface CurveSeries {
  name: string;
  colour?: Rgb;
  points: [x: number, y: number][];
  /** Dashed line (e.g. a flat baseline). */
  dashed?: boolean;
  /** Line thickness in pixels (default 2; 1 suits a noisy raw curve drawn under its smoothed version). */
  lineWidth?: number;
}
export interface CurvePanel {
  title: string;
  yLabel?: string;
  /** Label under the x axis (default "step"). */
  xLabel?: string;
  logY?: boolean;
  series: CurveSeries[];
}
export interface RenderCurvesOptions { width?: number; height?: number; title?: string }

/** Default colours, in series order within a panel. */
export const CURVE_PALETTE: readonly Rgb[] = [
  [31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
];

/** Trailing running mean over the last `window` finite points; non-finite points are dropped. */
export function smooth(points: readonly (readonly [number, number])[], window: number): [number, number][] {
  const w = Math.max(1, Math.floor(Number.isFinite(window) ? window : 1));
  const good = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const out: [number, number][] = [];
  let sum = 0;
  for (let i = 0; i < good.length; i++) {
    sum += good[i][1];
    if (i >= w) sum -= good[i - w][1];
    out.push([good[i][0], sum / Math.min(i + 1, w)]);
  }
  return out;
}

// 5×7 glyphs: 7 rows of 5 bits (bit 4 = leftmost column), two hex digits per row, in GLYPH_CHARS order.
const GLYPH_CHARS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-()%:/ +_,=?';
const GLYPH_ROWS =
  '0e11131519110e040c040404040e0e11010204081f1f02040201110e02060a121f02021f101e0101110e0608101e11110e1f010204080808' +
  '0e11110e11110e0e11110f01020c0e1111111f11111e11111e11111e0e11101010110e1c12111111121c1f10101e10101f1f10101e101010' +
  '0e11101711110f1111111f1111110e04040404040e0702020202120c111214181412111010101010101f111b151511111111111915131111' +
  '0e11111111110e1e11111e1010100e11111115120d1e11111e1412110f10100e01011e1f0404040404041111111111110e11111111110a04' +
  '1111111515150a11110a040a11111111110a0404041f01020408101f00000e010f110f1010161911111e00000e1010110e01010d1311110f' +
  '00000e111f100e0609081c080808000f11110f010e1010161911111104000c0404040e0200060202120c101012141814120c04040404040e' +
  '00001a151511110000161911111100000e1111110e00001e111e101000000d130f01010000161910101000000e100e011e08081c08080906' +
  '0000111111130d00001111110a040000111115150a0000110a040a11000011110f010e00001f0204081f00000000000c0c0000001f000000' +
  '020408080804020804020202040818190204081303000c0c000c0c0000010204081000000000000000000004041f0404000000000000001f' +
  '000000000c040800001f001f00000e110102040004';

const glyph = (ch: string): number[] => {
  let i = GLYPH_CHARS.indexOf(ch);
  if (i < 0) i = GLYPH_CHARS.indexOf('?');
  return Array.from({ length: 7 }, (_, r) => parseInt(GLYPH_ROWS.substr((7 * i + r) * 2, 2), 16));
};
/** Width in pixels of `s` in the built-in 5×7 font (6 pixels a character) at `scale`. */
export const textWidth = (s: string, scale = 1) => (s.length ? s.length * 6 - 1 : 0) * scale;

export const INK: Rgb = [20, 20, 20];
const GRID: Rgb = [228, 228, 228];

/** A white RGBA PNG to draw on: pixels, lines, text in the built-in font (also used by the segmenter's confusion matrix). */
export class Canvas {
  clip = { x0: 0, y0: 0, x1: 0, y1: 0 };
  constructor(readonly png: PNG) { png.data.fill(255); this.noClip(); }
  noClip() { this.clip = { x0: 0, y0: 0, x1: this.png.width - 1, y1: this.png.height - 1 }; }
  set(x: number, y: number, c: Rgb) {
    const { x0, y0, x1, y1 } = this.clip;
    if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) return;
    const o = 4 * (y * this.png.width + x);
    for (let k = 0; k < 3; k++) this.png.data[o + k] = Math.max(0, Math.min(255, Math.round(c[k] || 0)));
    this.png.data[o + 3] = 255;
  }
  /** Bresenham line; `width` draws a square brush; `dash` = [on, off] pixels. */
  line(ax: number, ay: number, bx: number, by: number, c: Rgb, width = 1, dash?: [number, number]) {
    if (![ax, ay, bx, by].every(Number.isFinite)) return;
    // Liang–Barsky clip to the clip rectangle (grown by the brush), so far-off points cost nothing.
    const m = width, { x0: cx0, y0: cy0, x1: cx1, y1: cy1 } = this.clip, ddx = bx - ax, ddy = by - ay;
    let t0 = 0, t1 = 1;
    for (const [p, q] of [[-ddx, ax - cx0 + m], [ddx, cx1 + m - ax], [-ddy, ay - cy0 + m], [ddy, cy1 + m - ay]]) {
      if (p === 0) { if (q < 0) return; continue; }
      const t = q / p;
      if (p < 0) t0 = Math.max(t0, t); else t1 = Math.min(t1, t);
      if (t0 > t1) return;
    }
    [ax, ay, bx, by] = [ax + t0 * ddx, ay + t0 * ddy, ax + t1 * ddx, ay + t1 * ddy];
    let x = Math.round(ax), y = Math.round(ay);
    const x1 = Math.round(bx), y1 = Math.round(by);
    const dx = Math.abs(x1 - x), dy = -Math.abs(y1 - y), sx = x < x1 ? 1 : -1, sy = y < y1 ? 1 : -1;
    const off = Math.floor((width - 1) / 2);
    let err = dx + dy;
    for (let n = 0; ; n++) {
      if (!dash || n % (dash[0] + dash[1]) < dash[0]) {
        for (let i = 0; i < width; i++) for (let j = 0; j < width; j++) this.set(x - off + i, y - off + j, c);
      }
      if (x === x1 && y === y1) break;
      const e2 = 2 * err;
      if (e2 >= dy) { err += dy; x += sx; }
      if (e2 <= dx) { err += dx; y += sy; }
    }
  }
  /** Text with its top-left corner at (x, y); `vertical` reads bottom to top, (x, y) then being the bottom-left. */
  text(s: string, x: number, y: number, c: Rgb, scale = 1, vertical = false) {
    x = Math.round(x); y = Math.round(y);
    for (let n = 0; n < s.length; n++) {
      const rows = glyph(s[n]);
      for (let r = 0; r < 7; r++) for (let col = 0; col < 5; col++) {
        if (!((rows[r] >> (4 - col)) & 1)) continue;
        for (let i = 0; i < scale; i++) for (let j = 0; j < scale; j++) {
          const u = (n * 6 + col) * scale + i, v = r * scale + j;
          if (vertical) this.set(x + v, y - u, c); else this.set(x + u, y + v, c);
        }
      }
    }
  }
}

/** Nice linear ticks (1, 2, 5 × 10^k steps) inside [lo, hi], about `target` of them. */
export function linearTicks(lo: number, hi: number, target = 5): number[] {
  const span = hi - lo;
  if (!Number.isFinite(span) || span <= 0) return Number.isFinite(lo) ? [lo] : [];
  const raw = span / Math.max(1, target), mag = 10 ** Math.floor(Math.log10(raw)), norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const out: number[] = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + step * 1e-9 && out.length < 100; i++) out.push(+(i * step).toPrecision(12));
  return out;
}

/** Ticks (as values) for a log axis spanning [10^a, 10^b]: decades, then 1-2-5 or 1…9 multiples, else linear. */
export function logTicks(a: number, b: number): number[] {
  if (!(Number.isFinite(a) && Number.isFinite(b)) || b <= a) return Number.isFinite(a) ? [10 ** a] : [];
  if (b - a >= 2) {
    const step = Math.max(1, Math.ceil((b - a) / 6)), out: number[] = [];
    for (let k = Math.ceil(a - 1e-9); k <= b + 1e-9; k++) if (k % step === 0) out.push(+(10 ** k).toPrecision(12));
    if (out.length >= 2) return out;
  }
  const mults = b - a >= 1 ? [1, 2, 5] : [1, 2, 3, 4, 5, 6, 7, 8, 9], out: number[] = [];
  for (let k = Math.floor(a); k <= Math.ceil(b); k++) for (const m of mults) {
    const v = +(m * 10 ** k).toPrecision(12), l = Math.log10(v);
    if (l >= a - 1e-9 && l <= b + 1e-9) out.push(v);
  }
  return out.length >= 3 ? out : linearTicks(10 ** a, 10 ** b, 4).filter((v) => v > 0);
}

/** Short tick label: 0.0015, 12.5, 25k, 1.5M, 1e-5. */
export function formatTick(v: number): string {
  if (!Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a < 1e-3 || a >= 1e9) { const [m, e] = v.toExponential(2).split('e'); return `${+m}e${+e}`; }
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(4)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(4)}k`;
  return String(+v.toPrecision(6));
}

/** Renders the panels as PNG file bytes (white background, RGBA 8-bit). */
export function renderCurves(panels: readonly CurvePanel[], options: RenderCurvesOptions = {}): Uint8Array {
  const cols = panels.length > 3 ? 2 : 1, rows = Math.max(1, Math.ceil(panels.length / cols));
  const titleH = options.title ? 26 : 4;
  const width = options.width ?? 800, height = options.height ?? titleH + rows * 260;
  for (const [k, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 16384) throw new RangeError(`renderCurves: ${k} must be an integer in [1, 16384], got ${v}`);
  }
  const cv = new Canvas(new PNG({ width, height }));
  if (options.title) cv.text(options.title, (width - textWidth(options.title, 2)) / 2, 6, INK, 2);
  const cellW = Math.floor(width / cols), cellH = Math.floor((height - titleH) / rows);
  panels.forEach((panel, i) => drawPanel(cv, panel, (i % cols) * cellW, titleH + Math.floor(i / cols) * cellH, cellW, cellH));
  return PNG.sync.write(cv.png);
}

/** Draws one panel into the cell (cx, cy, cw, ch) of a canvas (renderCurves' panels; other plots reuse it). */
export function drawPanel(cv: Canvas, panel: CurvePanel, cx: number, cy: number, cw: number, ch: number) {
  const ty = (y: number) => (panel.logY ? (y > 0 ? Math.log10(y) : NaN) : y);
  const series = panel.series.map((s, i) => ({
    ...s, colour: s.colour ?? CURVE_PALETTE[i % CURVE_PALETTE.length],
    pts: s.points.map(([x, y]) => [x, ty(y)] as [number, number]).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)),
  }));
  const all = series.flatMap((s) => s.pts);
  const range = (vals: number[], pad: number, fallback: [number, number]): [number, number] => {
    if (!vals.length) return fallback;
    let lo = Infinity, hi = -Infinity;
    for (const v of vals) { if (v < lo) lo = v; if (v > hi) hi = v; }
    if (hi - lo <= 0) { const d = panel.logY && pad ? 0.5 : Math.abs(lo) * 0.1 || 1; lo -= d; hi += d; }
    const p = (hi - lo) * pad;
    return Number.isFinite(hi - lo + p) ? [lo - p, hi + p] : fallback;
  };
  const [x0, x1] = range(all.map((p) => p[0]), 0, [0, 1]);
  const [y0, y1] = range(all.map((p) => p[1]), 0.05, [0, 1]);
  const yTicks = panel.logY ? logTicks(y0, y1) : linearTicks(y0, y1, 5);
  const yLabels = yTicks.map(formatTick);
  const named = series.filter((s) => s.name);
  const legW = named.length ? Math.min(Math.floor(cw * 0.4), 30 + 6 * Math.max(...named.map((s) => s.name.length))) : 0;
  const left = cx + (panel.yLabel ? 14 : 4) + Math.max(0, ...yLabels.map((l) => textWidth(l))) + 8;
  const right = Math.max(left + 1, cx + cw - legW - 12), top = cy + 20, bottom = Math.max(top + 1, cy + ch - 32);
  const px = (x: number) => left + ((x - x0) / (x1 - x0)) * (right - left);
  const py = (y: number) => bottom - ((y - y0) / (y1 - y0)) * (bottom - top);

  cv.text(panel.title, (left + right - textWidth(panel.title)) / 2, cy + 6, INK);
  // Grid, ticks and labels.
  let lastY = Infinity;
  yTicks.forEach((v, i) => {
    const y = Math.round(py(panel.logY ? Math.log10(v) : v));
    if (y < top || y > bottom) return;
    cv.line(left + 1, y, right - 1, y, GRID);
    cv.line(left - 4, y, left - 1, y, INK);
    if (lastY - y >= 10) { cv.text(yLabels[i], left - 6 - textWidth(yLabels[i]), y - 3, INK); lastY = y; }
  });
  let lastX = -Infinity;
  for (const v of linearTicks(x0, x1, Math.max(2, Math.floor((right - left) / 90)))) {
    const x = Math.round(px(v)), label = formatTick(v), lw = textWidth(label);
    if (x < left || x > right) continue;
    cv.line(x, top + 1, x, bottom - 1, GRID);
    cv.line(x, bottom + 1, x, bottom + 4, INK);
    if (x - lw / 2 > lastX + 6) { cv.text(label, x - lw / 2, bottom + 7, INK); lastX = x + lw / 2; }
  }
  const xLabel = panel.xLabel ?? 'step';
  cv.text(xLabel, (left + right - textWidth(xLabel)) / 2, bottom + 19, INK);
  if (panel.yLabel) cv.text(panel.yLabel, cx + 3, (top + bottom + textWidth(panel.yLabel)) / 2, INK, 1, true);
  // Series, clipped to the plot area.
  cv.clip = { x0: left + 1, y0: top + 1, x1: right - 1, y1: bottom - 1 };
  for (const s of series) {
    const w = Math.max(1, Math.min(8, Math.round(s.lineWidth ?? 2))), dash: [number, number] | undefined = s.dashed ? [8, 5] : undefined;
    if (s.pts.length === 1) cv.line(px(s.pts[0][0]), py(s.pts[0][1]), px(s.pts[0][0]), py(s.pts[0][1]), s.colour, w + 2);
    for (let k = 1; k < s.pts.length; k++) cv.line(px(s.pts[k - 1][0]), py(s.pts[k - 1][1]), px(s.pts[k][0]), py(s.pts[k][1]), s.colour, w, dash);
  }
  cv.noClip();
  // Frame and legend.
  cv.line(left, top, right, top, INK); cv.line(left, bottom, right, bottom, INK);
  cv.line(left, top, left, bottom, INK); cv.line(right, top, right, bottom, INK);
  const maxChars = Math.max(0, Math.floor((legW - 30) / 6));
  named.forEach((s, k) => {
    const y = top + 6 + k * 12;
    if (y + 4 > cy + ch) return;
    cv.line(right + 10, y, right + 24, y, s.colour, 2, s.dashed ? [4, 3] : undefined);
    cv.text(s.name.length > maxChars ? s.name.slice(0, Math.max(0, maxChars - 1)) + '.' : s.name, right + 30, y - 3, INK);
  });
}
