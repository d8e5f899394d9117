/**
 * Left or right, decided by BlazePose's landmarks. Our segmenter finds arms and legs long before it
 * can tell which is which: it must read the facing from a few pixels of face, and its confusion
 * matrix puts 30–40 % of every limb on its twin (docs/segmenter.md). BlazePose, trained on photos,
 * tells left from right well. So every pixel the segmenter labels as one of a twin pair of limbs
 * (NBF_SIDE_PAIRS) takes the side whose landmark bone is nearer in the picture:
 *
 *   label(p) = left  if dist(p, left bone chain) ≤ dist(p, right bone chain), else right
 *
 * with each chain a polyline through BlazePose landmarks (picture pixels): upper arm shoulder →
 * elbow, lower arm + hand elbow → wrist → index finger, upper leg hip → knee, lower leg + foot knee →
 * ankle → toes. Which limb type a pixel is (arm or leg, upper or lower) stays the segmenter's.
 * Plain CPU work on the picture-size labels, once per picture.
 */
import { NbfError } from '../runtime/errors.js';

interface LimbPair {
  left: number;
  right: number;
  leftChain: readonly number[];
  rightChain: readonly number[];
}

/** NBF's twin limbs (class indices, src/smpl/types.ts) and BlazePose landmark chains of each side. */
export const LIMB_LANDMARK_CHAINS: readonly LimbPair[] = [
  { left: 9, right: 4, leftChain: [11, 13], rightChain: [12, 14] }, // upper arms
  { left: 3, right: 10, leftChain: [13, 15, 19], rightChain: [14, 16, 20] }, // lower arms + hands
  { left: 5, right: 6, leftChain: [23, 25], rightChain: [24, 26] }, // upper legs
  { left: 11, right: 12, leftChain: [25, 27, 31], rightChain: [26, 28, 32] }, // lower legs + feet
];

/** Squared distance from (x, y) to the polyline through `points`. */
function polylineDistance2(x: number, y: number, points: readonly (readonly number[])[]): number {
  let best = Infinity;
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = points[i];
    const [bx, by] = points[i + 1];
    const dx = bx - ax;
    const dy = by - ay;
    const len2 = dx * dx + dy * dy;
    const t = len2 > 0 ? Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / len2)) : 0;
    const ex = ax + t * dx - x;
    const ey = ay + t * dy - y;
    best = Math.min(best, ex * ex + ey * ey);
  }
  return best;
}

/**
 * The labels with every twin-limb pixel given the side of the nearer landmark bone (see the header).
 * `keypoints`: BlazePose's 33 × [x, y, visibility] in the same picture's pixels.
 */
export function sidesFromLandmarks(labels: ArrayLike<number>, width: number, height: number, keypoints: readonly (readonly number[])[]): Uint8Array {
  if (labels.length !== width * height) throw new NbfError(`landmark sides: ${labels.length} labels for a ${width}×${height} picture`);
  if (keypoints.length < 33) throw new NbfError(`landmark sides: ${keypoints.length} landmarks, BlazePose has 33`);
  const out = Uint8Array.from(labels);
  const pairOf = new Int8Array(256).fill(-1);
  LIMB_LANDMARK_CHAINS.forEach((p, i) => { pairOf[p.left] = i; pairOf[p.right] = i; });
  const chains = LIMB_LANDMARK_CHAINS.map((p) => ({ left: p.leftChain.map((k) => keypoints[k]), right: p.rightChain.map((k) => keypoints[k]) }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const pair = pairOf[out[i]];
      if (pair < 0) continue;
      const c = chains[pair];
      const px = x + 0.5;
      const py = y + 0.5;
      out[i] = polylineDistance2(px, py, c.left) <= polylineDistance2(px, py, c.right) ? LIMB_LANDMARK_CHAINS[pair].left : LIMB_LANDMARK_CHAINS[pair].right;
    }
  }
  return out;
}
