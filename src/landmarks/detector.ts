/**
 * BlazePose's person detector (MediaPipe pose_detection, TF.js graph model blazepose-detector.json):
 * an SSD on the whole picture letterboxed into 224², RGB scaled to [−1, 1]. It reads the face and
 * body together and predicts, per anchor, a score logit, a box and 4 keypoints; keypoint 0 is the
 * middle of the hips and keypoint 1 a point whose distance from it is the radius of a circle around
 * the whole body, even when the hips or legs are outside the picture. Those two points give the
 * landmark network its crop (alignmentRoi), as in MediaPipe — which a crop from the visible pixels
 * alone cannot do for a portrait or a half-body photo.
 *
 * Output [1, 2254, 13] per anchor: [score logit, box cx, cy, w, h, kp0 x, y, kp1 x, y, kp2 x, y,
 * kp3 x, y], coordinates in input pixels relative to the anchor's centre. Anchors: SSD layers of
 * strides 8, 16, 32, 32, 32 over 224², two anchors per cell, fixed size (MediaPipe's
 * SsdAnchorsCalculator options for this model): 28²·2 + 14²·2 + 3·7²·2 = 2254.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { RgbaImage } from '../io/image.js';
import type { GraphModel } from '../graph/graph-model.js';
import { NbfError } from '../runtime/errors.js';
import { alignmentRoi, cropPicture, cropToPicture, wholePictureRoi, type Roi } from './roi.js';

export const DETECTOR_INPUT = 224;
const STRIDES = [8, 16, 32, 32, 32];
const VALUES = 13;

/** Anchor centres in input pixels, in the detector's output order. */
export function detectorAnchors(size = DETECTOR_INPUT): Float32Array {
  const centres: number[] = [];
  let layer = 0;
  while (layer < STRIDES.length) {
    // Consecutive layers of the same stride share their cells (anchors interleave per cell).
    let last = layer;
    while (last + 1 < STRIDES.length && STRIDES[last + 1] === STRIDES[layer]) last++;
    const perCell = 2 * (last - layer + 1);
    const cells = Math.ceil(size / STRIDES[layer]);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let k = 0; k < perCell; k++) centres.push(((x + 0.5) / cells) * size, ((y + 0.5) / cells) * size);
      }
    }
    layer = last + 1;
  }
  return Float32Array.from(centres);
}

export interface PersonDetection {
  /** Probability (sigmoid of the best anchor's logit). */
  score: number;
  /** The crop for the landmark network, picture pixels. */
  roi: Roi;
  /** Hip centre and body-circle point, picture pixels. */
  hips: [number, number];
  circle: [number, number];
}

export class PersonDetector {
  private readonly anchors = detectorAnchors();

  private constructor(readonly runtime: Runtime, readonly model: GraphModel) {}

  static fromModel(rt: Runtime, model: GraphModel): PersonDetector {
    const input = model.inputs[0];
    if (model.inputs.length !== 1 || input.shape[1] !== DETECTOR_INPUT || input.shape[2] !== DETECTOR_INPUT || model.outputNames.length !== 1) {
      throw new NbfError(`${model.source}: not a BlazePose person detector (needs one 224×224×3 input and one output)`);
    }
    return new PersonDetector(rt, model);
  }

  /** The most confident person, or null when no anchor scores at least `minScore` (default 0.5). */
  detect(image: RgbaImage, minScore = 0.5): PersonDetection | null {
    const rt = this.runtime;
    const square = wholePictureRoi(image.width, image.height);
    const crop = cropPicture(image, square, DETECTOR_INPUT, 2, -1);
    const raw = rt.scope(() => rt.readSync(Object.values(this.model.execute(rt.tensor(crop, [1, DETECTOR_INPUT, DETECTOR_INPUT, 3])))[0]));
    const count = this.anchors.length / 2;
    if (raw.length !== count * VALUES) throw new NbfError(`${this.model.source}: output has ${raw.length} values, expected ${count} anchors × ${VALUES}`);
    let best = 0;
    for (let a = 1; a < count; a++) if (raw[a * VALUES] > raw[best * VALUES]) best = a;
    const score = 1 / (1 + Math.exp(-Math.max(-100, Math.min(100, raw[best * VALUES]))));
    if (score < minScore) return null;
    const ax = this.anchors[2 * best];
    const ay = this.anchors[2 * best + 1];
    const point = (k: number): [number, number] => cropToPicture(square, DETECTOR_INPUT, ax + raw[best * VALUES + 5 + 2 * k], ay + raw[best * VALUES + 6 + 2 * k]);
    const hips = point(0);
    const circle = point(1);
    return { score, roi: alignmentRoi(hips, circle), hips, circle };
  }

  dispose(): void {
    this.model.dispose();
  }
}
