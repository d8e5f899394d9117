/**
 * The person mask joined with the segmenter's labels (src/pipeline/person-mask.ts): gating, the
 * flood fill of unlabelled mask pixels from the nearest labelled one, the mask's box, bad sizes.
 */
import { describe, expect, it } from 'vitest';
import { fuseWithPersonMask, maskBox, PERSON_MASK_THRESHOLD } from '../src/pipeline/person-mask.js';
import { Rng } from '../src/util/random.js';

/** Brute force: the label of the nearest labelled pixel by 4-connected path length inside the mask. */
function referenceFuse(labels: Uint8Array, mask: Float32Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  const inMask = (i: number) => mask[i] >= PERSON_MASK_THRESHOLD;
  // Path distance from every labelled mask pixel (breadth-first per source), keep the nearest; ties
  // may go either way, so the reference returns the set of nearest labels via the distance.
  const dist = new Float64Array(w * h).fill(Infinity);
  const best = new Array<Set<number>>(w * h);
  for (let s = 0; s < w * h; s++) {
    if (!inMask(s) || labels[s] === 0) continue;
    const d = new Int32Array(w * h).fill(-1);
    const q = [s];
    d[s] = 0;
    for (let k = 0; k < q.length; k++) {
      const i = q[k];
      const x = i % w;
      const y = Math.floor(i / w);
      for (const [nx, ny] of [[x - 1, y], [x + 1, y], [x, y - 1], [x, y + 1]]) {
        if (nx < 0 || ny < 0 || nx >= w || ny >= h) continue;
        const j = ny * w + nx;
        if (d[j] >= 0 || !inMask(j) || labels[j] !== 0) continue; // the wave stops at other labelled pixels
        d[j] = d[i] + 1;
        q.push(j);
      }
    }
    for (let i = 0; i < w * h; i++) {
      if (d[i] < 0) continue;
      if (d[i] < dist[i]) { dist[i] = d[i]; best[i] = new Set([labels[s]]); } else if (d[i] === dist[i]) best[i].add(labels[s]);
    }
  }
  for (let i = 0; i < w * h; i++) out[i] = Number.isFinite(dist[i]) && best[i].size === 1 ? [...best[i]][0] : 255;
  return out;
}

describe('person mask + part labels', () => {
  it('background outside the mask; inside, unlabelled pixels take the nearest part (brute force on random maps)', () => {
    const rng = new Rng(12);
    for (const [w, h] of [[13, 9], [7, 17], [21, 21]]) {
      const labels = Uint8Array.from({ length: w * h }, () => (rng.next() < 0.15 ? 1 + Math.floor(rng.next() * 12) : 0));
      const mask = Float32Array.from({ length: w * h }, () => (rng.next() < 0.75 ? 0.5 + 0.5 * rng.next() : 0.49 * rng.next()));
      const got = fuseWithPersonMask(labels, mask, w, h);
      const want = referenceFuse(labels, mask, w, h);
      for (let i = 0; i < w * h; i++) {
        if (mask[i] < PERSON_MASK_THRESHOLD) expect(got[i]).toBe(0);
        else if (labels[i] > 0) expect(got[i]).toBe(labels[i]);
        else if (want[i] !== 255) expect(got[i], `pixel ${i} of ${w}×${h}`).toBe(want[i]);
        else if (want[i] === 255 && got[i] !== 0) expect(got[i]).toBeGreaterThan(0); // a tie: either nearest label
      }
      // Mask pixels cut off from every labelled pixel stay background.
      for (let i = 0; i < w * h; i++) if (mask[i] >= PERSON_MASK_THRESHOLD && labels[i] === 0 && want[i] === 0) expect(got[i]).toBe(0);
    }
  });

  it('a whole person: gated and filled', () => {
    const w = 10;
    const h = 6;
    const labels = new Uint8Array(w * h);
    const mask = new Float32Array(w * h);
    for (let y = 1; y < 5; y++) for (let x = 2; x < 8; x++) mask[y * w + x] = 0.9;
    labels[2 * w + 3] = 2; // torso, left
    labels[2 * w + 6] = 1; // head, right
    labels[0] = 5; // a false positive outside the mask
    const out = fuseWithPersonMask(labels, mask, w, h);
    expect(out[0]).toBe(0);
    expect(out[1 * w + 2]).toBe(2);
    expect(out[4 * w + 2]).toBe(2);
    expect(out[4 * w + 7]).toBe(1);
    expect(out.filter((l) => l > 0).length).toBe(24);
    expect(maskBox(mask, w, h, 1)).toEqual([2, 1, 8, 5]);
    expect(maskBox(new Float32Array(w * h), w, h)).toBeNull();
  });

  it('names mismatched sizes', () => {
    expect(() => fuseWithPersonMask(new Uint8Array(5), new Float32Array(6), 2, 3)).toThrow(/5 labels for a 2×3 picture/);
    expect(() => fuseWithPersonMask(new Uint8Array(6), new Float32Array(5), 2, 3)).toThrow(/5 values for a 2×3 picture/);
    expect(() => maskBox(new Float32Array(5), 2, 3)).toThrow(/5 values for a 2×3 picture/);
  });
});
