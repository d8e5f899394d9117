/**
 * Part granularities of the rendered label maps (NBF's granularity experiment: 1, 3, 6, 12, 24 parts)
 * and their colour palettes. Every granularity is a lookup from the per-pixel SMPL skinning part
 * (0..23) to a class, except 12, which uses the body model's own per-vertex 12-part labels (NBF's
 * classes; our open model carries hand-made ones, a user's SMPL file derived ones).
 *
 * Class 0 is always the background. The 12-part palette is NBF's, exactly (NBF_PARTS); the others
 * are ours (documented in docs/synth.md).
 */
import { NbfError } from '../runtime/errors.js';
import { NBF_PARTS } from '../smpl/types.js';

export type Granularity = 1 | 3 | 6 | 12 | 24;
export const GRANULARITIES: readonly Granularity[] = [1, 3, 6, 12, 24];

/** Classes (background included) of each granularity. */
export function classCount(g: Granularity): number {
  return g + 1;
}

/**
 * SMPL skinning part (0..23) → 6-part class: 1 head, 2 torso (pelvis, spine, neck, collars — the
 * shoulders belong to the torso here), 3 right arm, 4 left arm, 5 right leg, 6 left leg.
 */
const PARTS24_TO_6 = [2, 6, 5, 2, 6, 5, 2, 6, 5, 2, 6, 5, 2, 2, 2, 1, 4, 3, 4, 3, 4, 3, 4, 3];

/** SMPL skinning part → 3-part class: 1 head and neck, 2 torso and arms, 3 legs. */
const PARTS24_TO_3 = [2, 3, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 1, 2, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2];

/**
 * Lookup table (25 entries, index = skinning part + 1, entry 0 = background) for a granularity other
 * than 12. 24 parts: class = part + 1; 1 part (silhouette): every body pixel is class 1.
 */
export function partTable(g: Granularity): Int32Array {
  const table = new Int32Array(25);
  for (let p = 0; p < 24; p++) {
    table[p + 1] = g === 24 ? p + 1 : g === 6 ? PARTS24_TO_6[p] : g === 3 ? PARTS24_TO_3[p] : g === 1 ? 1 : 0;
  }
  if (g === 12) throw new NbfError('partTable: 12 parts come from the model\'s own per-vertex labels, not a table');
  return table;
}

export function checkGranularity(g: number): Granularity {
  if (!(GRANULARITIES as readonly number[]).includes(g)) {
    throw new NbfError(`part granularity ${g} is not one of ${GRANULARITIES.join(', ')}`);
  }
  return g as Granularity;
}

/** HSV (h in degrees, s and v in [0, 1]) → 8-bit RGB. */
function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const c = v * s;
  const hp = (((h % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] = hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = v - c;
  return [Math.round(255 * (r + m)), Math.round(255 * (g + m)), Math.round(255 * (b + m))];
}

/** Class → 8-bit RGB for a granularity (index 0 = background, black). */
export function partPalette(g: Granularity): readonly (readonly [number, number, number])[] {
  switch (g) {
    case 12:
      return NBF_PARTS.map((p) => [p.rgb[0], p.rgb[1], p.rgb[2]] as const);
    case 1:
      return [[0, 0, 0], [255, 255, 255]];
    case 3:
      return [[0, 0, 0], [98, 255, 255], [255, 159, 255], [213, 95, 0]];
    case 6:
      return [[0, 0, 0], [98, 255, 255], [255, 159, 255], [0, 134, 167], [0, 68, 215], [41, 128, 0], [213, 95, 0]];
    case 24:
      // Golden-angle hues with alternating brightness: neighbouring parts get distinct colours.
      return [[0, 0, 0], ...Array.from({ length: 24 }, (_, k) => hsvToRgb(k * 137.508, 0.8, k % 2 ? 0.65 : 1))];
  }
}

/** The renderer's per-vertex label code: 1 + skinning part + 32·12-part class (0 = background). */
export function encodeVertexLabel(part24: number, part12: number): number {
  return 1 + part24 + 32 * part12;
}

/** Class of a label code at a granularity (the CPU mirror of shaders/render_labels.glsl). */
export function classOfCode(code: number, g: Granularity): number {
  if (code === 0) return 0;
  const part24 = (code - 1) & 31;
  const part12 = (code - 1) >> 5;
  if (g === 12) return part12;
  let table = tableCache.get(g);
  if (!table) tableCache.set(g, (table = partTable(g)));
  return table[part24 + 1];
}
const tableCache = new Map<Granularity, Int32Array>();
