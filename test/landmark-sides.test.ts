/**
 * Left and right limbs from BlazePose's bones (src/pipeline/landmark-sides.ts): each twin-limb pixel
 * takes the side of the nearer bone chain, against a brute-force reference; other classes stay.
 */
import { describe, expect, it } from 'vitest';
import { LIMB_LANDMARK_CHAINS, sidesFromLandmarks } from '../src/pipeline/landmark-sides.js';
import { NBF_SIDE_PAIRS } from '../src/smpl/types.js';
import { Rng } from '../src/util/random.js';

/** Distance from a point to a segment, by sampling the segment densely (an independent reference). */
function sampledDistance(x: number, y: number, chain: number[][]): number {
  let best = Infinity;
  for (let i = 0; i + 1 < chain.length; i++) {
    for (let s = 0; s <= 2000; s++) {
      const t = s / 2000;
      best = Math.min(best, Math.hypot(chain[i][0] + t * (chain[i + 1][0] - chain[i][0]) - x, chain[i][1] + t * (chain[i + 1][1] - chain[i][1]) - y));
    }
  }
  return best;
}

describe('sidesFromLandmarks', () => {
  it('the chains cover every twin pair once, each with its own side first', () => {
    const pairs = LIMB_LANDMARK_CHAINS.map((p) => [p.left, p.right].sort((a, b) => a - b).join('-')).sort();
    expect(pairs).toEqual(NBF_SIDE_PAIRS.map((p) => [...p].sort((a, b) => a - b).join('-')).sort());
    // BlazePose's left landmarks have odd indices from 11 on, the right ones even.
    for (const p of LIMB_LANDMARK_CHAINS) {
      expect(p.leftChain.every((k) => k % 2 === 1)).toBe(true);
      expect(p.rightChain.every((k) => k % 2 === 0)).toBe(true);
    }
  });

  it('each twin-limb pixel takes the side of the nearer bone; other pixels are unchanged (random maps)', () => {
    const rng = new Rng(3);
    for (const [w, h] of [[31, 23], [17, 40]]) {
      const keypoints = Array.from({ length: 33 }, () => [rng.uniform(0, w), rng.uniform(0, h), rng.next()]);
      const labels = Uint8Array.from({ length: w * h }, () => Math.floor(rng.next() * 13));
      const out = sidesFromLandmarks(labels, w, h, keypoints);
      for (let i = 0; i < w * h; i++) {
        const pair = LIMB_LANDMARK_CHAINS.find((p) => p.left === labels[i] || p.right === labels[i]);
        if (!pair) {
          expect(out[i]).toBe(labels[i]);
          continue;
        }
        const x = (i % w) + 0.5;
        const y = Math.floor(i / w) + 0.5;
        const dl = sampledDistance(x, y, pair.leftChain.map((k) => keypoints[k]));
        const dr = sampledDistance(x, y, pair.rightChain.map((k) => keypoints[k]));
        if (Math.abs(dl - dr) < 1e-2) continue; // too close to call for the sampled reference
        expect(out[i], `pixel ${i}`).toBe(dl < dr ? pair.left : pair.right);
      }
    }
  });

  it('names bad input', () => {
    const kp = Array.from({ length: 33 }, () => [0, 0, 1]);
    expect(() => sidesFromLandmarks(new Uint8Array(5), 2, 3, kp)).toThrow(/5 labels for a 2×3 picture/);
    expect(() => sidesFromLandmarks(new Uint8Array(6), 2, 3, kp.slice(0, 17))).toThrow(/17 landmarks, BlazePose has 33/);
  });
});
