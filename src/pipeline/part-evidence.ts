/**
 * What a 12-part map says about where each body part is, in the form the refinement reads
 * (refine.ts, the part terms): on a grid of at most `maxSide` cells across the picture, padded by a
 * margin so that vertices projected outside the picture still feel a pull back,
 *
 *   field    [H, W, 12] Euclidean distance (in cells) from every cell to the nearest cell of each part
 *            (0 inside the part) — read at a part's projected vertices (vertices → pixels)
 *   samples  up to `samplesPerPart` cells of each part (x, y, part − 1) spread evenly over the part —
 *            each should have a projected vertex of its part nearby (pixels → vertices)
 *
 * The two halves make a per-part chamfer distance: the first pulls every vertex into its part, the
 * second makes the parts cover all of their pixels. A part with fewer than `minCells` cells is
 * treated as unseen (its vertices get no distance term). Plain CPU work, once per picture.
 *
 * With `mergeSides`, each left part and its right twin (NBF_SIDE_PAIRS) count as one part: the field and
 * samples sit under the pair's first label, the second is unseen, and the refinement gives both limbs'
 * vertices the pair's evidence (`sideOf`). A segmenter often knows where the arms and legs are but
 * not which is which (it must tell the facing from a small face); a refinement that trusted the sides
 * would twist a right body into a wrong one.
 */
import { NbfError } from '../runtime/errors.js';
import type { ClassMap } from './part-map.js';
import { NBF_SIDE_PAIRS } from '../smpl/types.js';

export const PART_COUNT = 12;

/** The label a part's evidence sits under: its own, or with merged sides the pair's first label. */
export function evidenceLabel(label: number, mergeSides: boolean): number {
  if (!mergeSides) return label;
  for (const [a, b] of NBF_SIDE_PAIRS) if (label === b) return a;
  return label;
}

export interface PartEvidenceOptions {
  /** Grid cells across the picture's longer side (default 128; never more than its pixels). */
  maxSide?: number;
  /** Cells of padding on every side (default 16). */
  margin?: number;
  /** Sampled cells per part (default 64). */
  samplesPerPart?: number;
  /** Parts with fewer cells count as unseen (default 4). */
  minCells?: number;
  /** Left and right limbs as one part each (see the header; default false). */
  mergeSides?: boolean;
}

export interface PartEvidence {
  /** Picture pixels per grid cell. */
  scale: number;
  margin: number;
  /** Grid size with the margins. */
  width: number;
  height: number;
  /** Cells across the picture's longer side (the unit of the loss). */
  side: number;
  /** [height, width, 12] distances in cells. */
  field: Float32Array;
  /** Cells of each part (index part − 1). */
  cells: Int32Array;
  /** Per part: seen (≥ minCells cells). */
  seen: boolean[];
  /** S × 3: x, y (grid coordinates, cell centres), part − 1. */
  samples: Float32Array;
  /** Left and right limbs merged (options.mergeSides): a vertex of part p reads evidenceLabel(p). */
  mergeSides: boolean;
}

/**
 * Squared distance transform of one line (Felzenszwalb and Huttenlocher's lower envelope of
 * parabolas): d[q] = min_p (q − p)² + f[p]. `f` uses a large finite number for "no part here".
 */
function distanceTransform1d(f: Float64Array, n: number, d: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = 0;
  v[0] = 0;
  z[0] = -Infinity;
  z[1] = Infinity;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= z[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (z[k + 1] < q) k++;
    d[q] = (q - v[k]) * (q - v[k]) + f[v[k]];
  }
}

/** Euclidean distance (cells) to the nearest set cell of a [h, w] mask, written into channel c of out. */
function distanceToMask(mask: Uint8Array, w: number, h: number, out: Float32Array, c: number): void {
  const FAR = 1e12;
  const n = Math.max(w, h);
  const f = new Float64Array(n);
  const d = new Float64Array(n);
  const v = new Int32Array(n);
  const z = new Float64Array(n + 1);
  const grid = new Float64Array(w * h);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = mask[y * w + x] ? 0 : FAR;
    distanceTransform1d(f, h, d, v, z);
    for (let y = 0; y < h; y++) grid[y * w + x] = d[y];
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = grid[y * w + x];
    distanceTransform1d(f, w, d, v, z);
    for (let x = 0; x < w; x++) out[(y * w + x) * PART_COUNT + c] = Math.sqrt(Math.min(d[x], FAR));
  }
}

export function partEvidence(map: ClassMap, options: PartEvidenceOptions = {}): PartEvidence {
  const { width: W, height: H, labels } = map;
  if (!(W > 0 && H > 0) || labels.length !== W * H) throw new NbfError(`part evidence: ${labels.length} labels for a ${W}×${H} map`);
  const maxSide = options.maxSide ?? 128;
  const margin = options.margin ?? 16;
  const perPart = options.samplesPerPart ?? 64;
  const minCells = options.minCells ?? 4;
  const mergeSides = options.mergeSides ?? false;
  const scale = Math.max(1, Math.max(W, H) / maxSide);
  const gw = Math.ceil(W / scale);
  const gh = Math.ceil(H / scale);
  const width = gw + 2 * margin;
  const height = gh + 2 * margin;
  // Each cell takes the class of the picture pixel at its centre.
  const cellClass = new Uint8Array(width * height);
  for (let y = 0; y < gh; y++) {
    const py = Math.min(H - 1, Math.floor((y + 0.5) * scale));
    for (let x = 0; x < gw; x++) {
      const px = Math.min(W - 1, Math.floor((x + 0.5) * scale));
      cellClass[(y + margin) * width + x + margin] = evidenceLabel(labels[py * W + px], mergeSides);
    }
  }
  const field = new Float32Array(width * height * PART_COUNT);
  const cells = new Int32Array(PART_COUNT);
  const seen: boolean[] = [];
  const samples: number[] = [];
  const mask = new Uint8Array(width * height);
  for (let p = 0; p < PART_COUNT; p++) {
    const members: number[] = [];
    for (let i = 0; i < mask.length; i++) {
      mask[i] = cellClass[i] === p + 1 ? 1 : 0;
      if (mask[i]) members.push(i);
    }
    cells[p] = members.length;
    seen.push(members.length >= minCells);
    if (!seen[p]) continue; // field stays 0: the part's vertices are not pulled anywhere
    distanceToMask(mask, width, height, field, p);
    const n = Math.min(perPart, members.length);
    for (let s = 0; s < n; s++) {
      const i = members[Math.floor(((s + 0.5) * members.length) / n)];
      samples.push((i % width) + 0.5, Math.floor(i / width) + 0.5, p);
    }
  }
  if (!seen.some(Boolean)) throw new NbfError('part evidence: the part map shows no body part');
  return { scale, margin, width, height, side: Math.max(gw, gh), field, cells, seen, samples: Float32Array.from(samples), mergeSides };
}

/** A picture pixel coordinate → grid coordinate (both continuous, pixel edges at integers). */
export function pictureToGrid(e: Pick<PartEvidence, 'scale' | 'margin'>, u: number): number {
  return u / e.scale + e.margin;
}
