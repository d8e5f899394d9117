import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { CURVE_PALETTE, renderCurves, smooth, linearTicks, logTicks, formatTick, type CurvePanel, type Rgb } from '../src/train/curves.js';

const decode = (bytes: Uint8Array) => PNG.sync.read(Buffer.from(bytes));
const pixel = (png: PNG, x: number, y: number): Rgb => {
  const o = 4 * (y * png.width + x);
  return [png.data[o], png.data[o + 1], png.data[o + 2]];
};
/** Pixels of exactly `c`, as [x, y]. */
const pixelsOf = (png: PNG, c: Rgb) => {
  const out: [number, number][] = [];
  for (let y = 0; y < png.height; y++) for (let x = 0; x < png.width; x++) {
    const p = pixel(png, x, y);
    if (p[0] === c[0] && p[1] === c[1] && p[2] === c[2]) out.push([x, y]);
  }
  return out;
};
const darkIn = (png: PNG, x0: number, y0: number, x1: number, y1: number) => {
  let n = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (Math.max(...pixel(png, x, y)) < 100) n++;
  return n;
};
const RED: Rgb = [230, 10, 10];
// No name, so no legend swatch in RED outside the plot area.
const line = (points: [number, number][]): CurvePanel[] => [{ title: 'p', series: [{ name: '', colour: RED, points }] }];

describe('renderCurves', () => {
  it('encodes a PNG of the requested size on a white background', () => {
    const png = decode(renderCurves(line([[0, 0], [1, 1]]), { width: 320, height: 200 }));
    expect([png.width, png.height]).toEqual([320, 200]);
    expect(pixel(png, 0, png.height - 1)).toEqual([255, 255, 255]);
    expect(pixel(png, png.width - 1, 0)).toEqual([255, 255, 255]);
    expect(() => renderCurves([], { width: 0 })).toThrow(RangeError);
  });

  it('draws a rising line from bottom-left to top-right and a falling one the other way', () => {
    for (const rising of [true, false]) {
      const png = decode(renderCurves(line([[0, rising ? 0 : 1], [0.5, 0.5], [1, rising ? 1 : 0]]), { width: 400, height: 300 }));
      const red = pixelsOf(png, RED);
      const xs = red.map((p) => p[0]), ys = red.map((p) => p[1]);
      const [xMin, xMax, yMin, yMax] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
      expect(xMax - xMin).toBeGreaterThan(200); // spans most of the plot
      expect(yMax - yMin).toBeGreaterThan(150);
      // The left end of the line is at the bottom for a rising line (image y grows downwards), at the top otherwise.
      const leftYs = red.filter(([x]) => x <= xMin + 2).map((p) => p[1]);
      const rightYs = red.filter(([x]) => x >= xMax - 2).map((p) => p[1]);
      const bottomLeft = Math.min(...leftYs) > yMax - 10 && Math.max(...rightYs) < yMin + 10;
      const topLeft = Math.max(...leftYs) < yMin + 10 && Math.min(...rightYs) > yMax - 10;
      expect(rising ? bottomLeft : topLeft).toBe(true);
      // The 5 % y padding keeps the ends inside the frame: the frame (dark) lies just beyond both ends.
      expect(darkIn(png, xMin - 3, yMax + 1, xMin + 3, Math.min(png.height, yMax + 25))).toBeGreaterThan(0);
    }
  });

  it('uses the series colours, palette defaults included', () => {
    const png = decode(renderCurves([
      { title: 'loss', series: [{ name: 'train', colour: [10, 200, 30], points: [[0, 3], [10, 1]] }, { name: 'val', points: [[0, 2], [10, 2]] }] },
      { title: 'err', logY: true, series: [{ name: 'mpjpe', colour: [200, 30, 200], dashed: true, points: [[0, 100], [10, 10]] }] },
    ], { width: 500, height: 400 }));
    expect(pixelsOf(png, [10, 200, 30]).length).toBeGreaterThan(100);
    expect(pixelsOf(png, CURVE_PALETTE[1]).length).toBeGreaterThan(100); // series 1 without a colour
    expect(pixelsOf(png, [200, 30, 200]).length).toBeGreaterThan(100);
  });

  it('skips NaN and Infinity points, and handles empty series and single points', () => {
    const bytes = renderCurves([
      { title: 'nan', logY: true, series: [
        { name: 'a', colour: RED, points: [[0, 1], [1, NaN], [2, Infinity], [NaN, 3], [3, -1], [4, 0], [5, 4]] },
        { name: 'all bad', points: [[NaN, NaN], [Infinity, 1]] },
        { name: 'one', colour: [0, 0, 250], points: [[2, 2]] },
        { name: 'empty', points: [] },
      ] },
      { title: 'flat', series: [{ name: 'c', points: [[1, 5], [1, 5]] }] },
    ], { width: 300, height: 300 });
    const png = decode(bytes);
    expect(pixelsOf(png, RED).length).toBeGreaterThan(20);
    expect(pixelsOf(png, [0, 0, 250]).length).toBeGreaterThan(4);
  });

  it('renders an empty panel as axes only: a dark frame and no colour', () => {
    for (const series of [[], [{ name: '', points: [] }]]) {
      const png = decode(renderCurves([{ title: '', series }], { width: 240, height: 180 }));
      let dark = 0, coloured = 0;
      for (let i = 0; i < png.width * png.height; i++) {
        const [r, g, b] = [png.data[4 * i], png.data[4 * i + 1], png.data[4 * i + 2]];
        if (r !== g || g !== b) coloured++;
        if (r < 100) dark++;
      }
      expect(coloured).toBe(0);
      expect(dark).toBeGreaterThan(2 * (240 + 180) * 0.5);
    }
  });

  it('renders text: the figure title puts dark pixels in the title band', () => {
    const panels: CurvePanel[] = [{ title: '', series: [] }];
    const withTitle = decode(renderCurves(panels, { width: 300, height: 200, title: 'run 3: loss (x/y) 10%' }));
    const without = decode(renderCurves(panels, { width: 300, height: 200 }));
    expect(darkIn(withTitle, 0, 0, 300, 22)).toBeGreaterThan(60);
    expect(darkIn(without, 0, 0, 300, 4)).toBe(0);
  });
});

describe('helpers', () => {
  it('smooth is a trailing running mean over finite points', () => {
    expect(smooth([[0, 1], [1, 3], [2, NaN], [3, 5], [4, 7]], 2)).toEqual([[0, 1], [1, 2], [3, 4], [4, 6]]);
    expect(smooth([[0, 1], [1, 3]], 0)).toEqual([[0, 1], [1, 3]]);
    expect(smooth([], 5)).toEqual([]);
  });

  it('ticks and labels', () => {
    expect(linearTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(linearTicks(-0.05, 1.05, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(logTicks(-3, 1)).toEqual([0.001, 0.01, 0.1, 1, 10]);
    expect(logTicks(Math.log10(0.15), Math.log10(2.2))).toEqual([0.2, 0.5, 1, 2]);
    expect(logTicks(Math.log10(3), Math.log10(3.5)).length).toBeGreaterThanOrEqual(2);
    expect([0, 0.0015, 12.5, 25000, 1.5e6, 1e-5, -0.2].map(formatTick)).toEqual(['0', '0.0015', '12.5', '25k', '1.5M', '1e-5', '-0.2']);
  });
});
