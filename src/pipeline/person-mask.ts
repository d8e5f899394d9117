/**
 * A photo-trained person mask (BlazePose's segmentation output, docs/landmarks.md) joined with the
 * segmenter's part labels. The segmenter is trained on renders only and is weakest at telling the
 * person from the background (on validation renders its person IoU is about 64 %, BlazePose's mask
 * alone 84 %; docs/pipeline.md); it is better at which part a person pixel belongs to. So:
 *
 *   - the mask's box is where the segmenter looks (instead of its own first pass), and
 *   - each pixel is background where the mask says so; a mask pixel the segmenter left as background
 *     takes the part of the nearest labelled pixel (a breadth-first flood inside the mask, 4-connected).
 *
 * Plain CPU work on picture-size arrays, once per picture.
 */
import { NbfError } from '../runtime/errors.js';
import { pixelBox } from '../util/pixel-box.js';

/** Mask values at or above this count as the person. */
export const PERSON_MASK_THRESHOLD = 0.5;

/** The box [x0, y0, x1, y1] (picture pixels, x1/y1 exclusive) of the mask's person pixels, or null when fewer than `minPixels`. */
export function maskBox(mask: ArrayLike<number>, width: number, height: number, minPixels = 16): [number, number, number, number] | null {
  if (mask.length !== width * height) throw new NbfError(`person mask: ${mask.length} values for a ${width}×${height} picture`);
  const { box, count } = pixelBox(width, height, (i) => mask[i] >= PERSON_MASK_THRESHOLD);
  return count >= minPixels ? box : null;
}

/**
 * Part labels (0 background, 1..12) restricted to the mask and filling it: outside the mask → 0;
 * inside, a pixel labelled 0 takes the label of the nearest labelled mask pixel reachable inside the
 * mask (ties: the first reached). Mask pixels no labelled pixel can reach stay 0.
 */
export function fuseWithPersonMask(labels: ArrayLike<number>, mask: ArrayLike<number>, width: number, height: number): Uint8Array {
  const n = width * height;
  if (labels.length !== n) throw new NbfError(`person mask: ${labels.length} labels for a ${width}×${height} picture`);
  if (mask.length !== n) throw new NbfError(`person mask: ${mask.length} values for a ${width}×${height} picture`);
  const out = new Uint8Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) {
    if (!(mask[i] >= PERSON_MASK_THRESHOLD)) continue;
    out[i] = labels[i];
    if (labels[i] > 0) queue[tail++] = i;
  }
  // Breadth-first from every labelled person pixel at once: each unlabelled mask pixel takes the
  // label of the wave that reaches it first.
  for (let head = 0; head < tail; head++) {
    const i = queue[head];
    const x = i % width;
    const label = out[i];
    const visit = (j: number) => {
      if (out[j] !== 0 || !(mask[j] >= PERSON_MASK_THRESHOLD)) return;
      out[j] = label;
      queue[tail++] = j;
    };
    if (x > 0) visit(i - 1);
    if (x < width - 1) visit(i + 1);
    if (i >= width) visit(i - width);
    if (i < n - width) visit(i + width);
  }
  return out;
}
