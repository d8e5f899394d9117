/**
 * A picture of any size → NBF's 13-class map at the picture's size, with a trained segmenter
 * (`nbf segment`). Pure CPU around one network call, so it serves Node and the browser alike:
 *
 *   1. letterbox: the whole picture, centred in a square of its longer side (black bars), resampled
 *      to the network's input S×S (cropPicture: bilinear, box-averaged when shrinking)
 *   2. the network's labels at S×S (argmax of the logits, batch norm folded)
 *   3. back to the picture: each picture pixel takes the class with the largest bilinear weight
 *      among the 4 nearest network pixels (a bilinear vote: smooth edges, never a class that is not
 *      there)
 *
 * A segmenter that reads landmarks (config.input 'rgb+landmarks') also gets the person's joints as
 * a detector gave them (`joints`: BlazePose's through landmarks/to-body-joints.ts, picture pixels),
 * drawn as heatmaps in the square it reads (nn/landmark-heatmaps.ts); without them, none (zeros:
 * no person found by the detector), which it was trained to read too.
 *
 * Images of the result: parts (NBF's palette), labels (the class index in the red channel, 0..12)
 * and an overlay of the parts on the dimmed picture.
 */
import type { RgbaImage } from '../io/image.js';
import { NbfError } from '../runtime/errors.js';
import type { SegmenterNetwork } from '../nn/refinenet.js';
import { cropPicture, wholePictureRoi, type Roi } from '../landmarks/roi.js';
import { NBF_PARTS } from '../smpl/types.js';
import { NoPersonError } from '../landmarks/blazepose.js';
import { pixelBox } from '../util/pixel-box.js';
import { squareJointHeatmaps } from '../nn/landmark-heatmaps.js';

/** A detector's joints in picture pixels: 24 × 2 (the body model's joints) and 24 visibilities (0: none). */
export interface DetectedJointsInPicture {
  joints2d: ArrayLike<number>;
  visibility: ArrayLike<number>;
}

/** Heatmaps [1, S, S, 24] of picture-pixel joints seen through the square `roi` at side S (visibility 0 or no position: none). */
export function jointHeatmapsInRoi(net: SegmenterNetwork, joints: DetectedJointsInPicture, roi: Roi, S: number) {
  return squareJointHeatmaps(net.runtime, joints, roi.cx - roi.size / 2, roi.cy - roi.size / 2, roi.size, S);
}

/**
 * Whether segmentPicture (and with it segmentPerson, the pipeline and `nbf segment`) reads each
 * picture twice by default, as it is and mirrored, and averages the segmenter's two answers
 * (SegmenterNetwork.inferLogits; docs/segmenter.md, "Two looks").
 */
export const SEGMENTER_MIRROR = true;

export interface PictureSegmentation {
  width: number;
  height: number;
  /** Class per picture pixel, row-major (0 background, 1..12 NBF's parts). */
  labels: Uint8Array;
  /** The network's input side and its labels there (S×S). */
  inputSize: number;
  inputLabels: Uint8Array;
  /** The square of the picture the network saw. */
  roi: Roi;
  networkMs: number;
}

/**
 * Segments a picture. `size`: the network's input side (default the configuration's, the size it was
 * trained at; any multiple of the encoder's stride works). `joints`: a detector's joints, for a
 * segmenter that reads landmarks (ignored by one that does not). `mirror` (default SEGMENTER_MIRROR):
 * the network also reads the mirrored picture and the two looks' logits are averaged
 * (SegmenterNetwork.inferLogits).
 */
export function segmentPicture(net: SegmenterNetwork, image: RgbaImage, options: { size?: number; roi?: Roi; joints?: DetectedJointsInPicture | null; mirror?: boolean } = {}): PictureSegmentation {
  const S = options.size ?? net.config.inputSize;
  if (!Number.isInteger(S) || S < net.stride || S % net.stride !== 0) throw new NbfError(`segmentPicture: the input size must be a multiple of ${net.stride}, got ${S}`);
  const { width, height } = image;
  if (!(width > 0 && height > 0)) throw new NbfError(`segmentPicture: empty picture (${width}×${height})`);
  const roi = options.roi ?? wholePictureRoi(width, height);
  const crop = cropPicture(image, roi, S);
  const rt = net.runtime;
  const t0 = performance.now();
  const joints = net.readsLandmarks ? options.joints : null;
  const out = rt.scope(() => net.predict(rt.tensor(crop, [1, S, S, 3]), joints ? jointHeatmapsInRoi(net, joints, roi, S) : undefined, { mirror: options.mirror ?? SEGMENTER_MIRROR }).readSync());
  const networkMs = performance.now() - t0;
  const inputLabels = Uint8Array.from(out);
  return { width, height, labels: labelsToPicture(inputLabels, S, roi, width, height, net.config.classes), inputSize: S, inputLabels, roi, networkMs };
}

/**
 * An S×S label map seen through an axis-aligned square `roi` of the picture → labels per picture
 * pixel: the class with the largest total bilinear weight among the 4 nearest map pixels (ties to
 * the lower class). Pixels outside the square are background.
 */
export function labelsToPicture(map: ArrayLike<number>, S: number, roi: Roi, width: number, height: number, classes: number): Uint8Array {
  if (roi.angle !== 0) throw new NbfError('labelsToPicture: only an unrotated square is supported');
  const out = new Uint8Array(width * height);
  const votes = new Float64Array(classes);
  const x0 = roi.cx - roi.size / 2;
  const y0 = roi.cy - roi.size / 2;
  const k = S / roi.size;
  for (let y = 0; y < height; y++) {
    const fv = (y + 0.5 - y0) * k - 0.5;
    if (fv < -0.5 || fv > S - 0.5) continue;
    const v0 = Math.max(0, Math.min(S - 1, Math.floor(fv)));
    const v1 = Math.min(S - 1, v0 + 1);
    const tv = Math.max(0, Math.min(1, fv - v0));
    for (let x = 0; x < width; x++) {
      const fu = (x + 0.5 - x0) * k - 0.5;
      if (fu < -0.5 || fu > S - 0.5) continue;
      const u0 = Math.max(0, Math.min(S - 1, Math.floor(fu)));
      const u1 = Math.min(S - 1, u0 + 1);
      const tu = Math.max(0, Math.min(1, fu - u0));
      const a = map[v0 * S + u0], b = map[v0 * S + u1], c = map[v1 * S + u0], d = map[v1 * S + u1];
      if (a === b && a === c && a === d) {
        out[y * width + x] = a;
        continue;
      }
      votes.fill(0);
      votes[a] += (1 - tu) * (1 - tv);
      votes[b] += tu * (1 - tv);
      votes[c] += (1 - tu) * tv;
      votes[d] += tu * tv;
      let best = 0;
      for (let j = 1; j < classes; j++) if (votes[j] > votes[best]) best = j;
      out[y * width + x] = best;
    }
  }
  return out;
}

/** Share of the first pass's pixels that must be foreground for a person to count as found. */
export const MIN_PERSON_SHARE = 0.002;
/** Fraction of the second pass's square the person's box fills (the training renders': about 0.8). */
export const PERSON_FILL_SEGMENT = 0.8;

export interface PersonSegmentation extends PictureSegmentation {
  /** The person's box in the first pass (picture pixels: x0, y0, x1, y1). */
  box: [number, number, number, number];
  /** The first pass over the whole picture (null when the caller gave the person's box). */
  first: PictureSegmentation | null;
  /** Where the box came from: the segmenter's first pass, or the caller (e.g. BlazePose's person mask). */
  boxFrom: 'segmenter' | 'given';
}

/**
 * Finds the person and segments them at the scale the segmenter was trained at: a first pass over
 * the whole picture (letterboxed) gives the foreground's box — or the caller gives the box
 * (`personBox`, e.g. BlazePose's person mask; then there is no first pass); a second pass reads a
 * square around it in which the person fills PERSON_FILL_SEGMENT of the side, as in the training
 * renders. Throws NoPersonError when the first pass finds (almost) no foreground.
 */
export function segmentPerson(net: SegmenterNetwork, image: RgbaImage, options: { size?: number; personBox?: readonly [number, number, number, number]; joints?: DetectedJointsInPicture | null; mirror?: boolean } = {}): PersonSegmentation {
  const { width, height } = image;
  let first: PictureSegmentation | null = null;
  let box: [number, number, number, number];
  if (options.personBox) {
    // The caller found the person (a photo-trained detector is surer of it than our segmenter).
    box = [...options.personBox];
    if (!box.every(Number.isFinite) || !(box[2] > box[0] && box[3] > box[1])) throw new NbfError(`segmentPerson: person box [${box.join(', ')}] is empty`);
  } else {
    first = segmentPicture(net, image, { size: options.size, joints: options.joints, mirror: options.mirror });
    const labels = first.labels;
    const found = pixelBox(width, height, (i) => labels[i] !== 0);
    if (!found.box || found.count < Math.max(16, MIN_PERSON_SHARE * width * height)) {
      throw new NoPersonError(`no person found: the segmenter labels ${found.count} of ${width * height} pixels as a body part`);
    }
    box = found.box;
  }
  const [x0, y0, x1, y1] = box;
  const roi: Roi = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, size: Math.max(x1 - x0, y1 - y0) / PERSON_FILL_SEGMENT, angle: 0 };
  const second = segmentPicture(net, image, { size: options.size, roi, joints: options.joints, mirror: options.mirror });
  return { ...second, networkMs: (first?.networkMs ?? 0) + second.networkMs, box, first, boxFrom: first ? 'segmenter' : 'given' };
}

/** The labels in NBF's palette (opaque RGBA). */
export function partsImage(labels: ArrayLike<number>, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const rgb = NBF_PARTS[labels[i]]?.rgb ?? [255, 255, 255];
    data[4 * i] = rgb[0];
    data[4 * i + 1] = rgb[1];
    data[4 * i + 2] = rgb[2];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/** The class index in the red channel (0..12), green and blue 0, opaque. */
export function labelIndexImage(labels: ArrayLike<number>, width: number, height: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data[4 * i] = labels[i];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

/** The parts over the picture: 65 % palette colour on the person, the picture at half brightness elsewhere. */
export function segmentationOverlay(image: RgbaImage, labels: ArrayLike<number>): RgbaImage {
  const { width, height } = image;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const alpha = image.data[4 * i + 3] / 255;
    const rgb = labels[i] > 0 ? NBF_PARTS[labels[i]]?.rgb : undefined;
    for (let c = 0; c < 3; c++) {
      const under = image.data[4 * i + c] * alpha;
      data[4 * i + c] = Math.round(rgb ? 0.65 * rgb[c] + 0.35 * under : 0.5 * under);
    }
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}
