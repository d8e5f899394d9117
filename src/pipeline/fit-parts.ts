/**
 * The fitting stage: a 12-part class map → the body, through the fitting network (src/nn/fitter.ts);
 * for a network that reads them too (input parts12+landmarks), a detector's joints in the same crop.
 *
 *   crop       square crop around the person, resized to the network input (part-map.ts)
 *   network    part colours (x·2/255 − 1) → latent → β, global rotations (orthogonalised), translation
 *   body       the body model posed with them: vertices, joints (camera frame, m)
 *   back       2D joints mapped from network pixels to image pixels; the pose as SMPL's parent-
 *              relative axis-angle (72 numbers); the crop's camera in image pixels
 *
 * Runs in the browser and in Node alike (no file access here).
 */
import type { Tensor } from '../runtime/tensor.js';
import { partColourMap } from '../render/maps.js';
import { orthogonalise } from '../smpl/gpu/kernels.js';
import { absoluteToRelative } from '../smpl/cpu-forward.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import { FITTER_JOINTS, FITTER_PART_OFFSET, FITTER_PART_SCALE, type FitterNetwork } from '../nn/fitter.js';
import { concat } from '../kernels/concat.js';
import { NBF_MIRRORED_PARTS, SMPL_MIRRORED_JOINTS } from '../smpl/types.js';
import { cropCamera, cropPerson, cropToImage, wholeImageCrop, type ClassMap, type PersonCrop } from './part-map.js';
import { NbfError } from '../runtime/errors.js';
import { fitterInputInfo, fitterInputType } from '../nn/fitter-inputs.js';
import { squareJointHeatmaps } from '../nn/landmark-heatmaps.js';
import { mirrorWidth } from '../kernels/mirror.js';
import type { BodyJointTargets } from '../landmarks/to-body-joints.js';

/** A square crop of the picture as the network saw it (part-map.ts): corner and side in picture pixels, network side. */
export type CropFrame = Pick<PersonCrop, 'x0' | 'y0' | 'side' | 'size'>;

export interface BodyFit<C extends CropFrame = PersonCrop> {
  betas: number[];
  /** 72 parent-relative axis-angle numbers (SMPL's θ; joint 0 in the camera frame). */
  pose: number[];
  /** Translation (m, camera frame: x right, y down, z forward). */
  trans: number[];
  /** [24·3] joints, camera frame, metres. */
  joints3d: Float32Array;
  /** [24·2] joints in image pixels. */
  joints2d: Float32Array;
  /** [V·3] vertices, camera frame, metres. */
  vertices: Float32Array;
  /** (fx, fy, cx, cy) of the camera the 3D result is in, in image pixels. */
  camera: [number, number, number, number];
  crop: C;
}

export interface FitPartMapOptions {
  /**
   * 'person' (default): a square crop around the person, who fills 80 % of it; 'image': the whole
   * (square) map, for maps already framed as the training renders (the 3D result is then in the
   * image's own NBF camera).
   */
  framing?: 'person' | 'image';
  /**
   * Also read the map mirrored left–right (twin parts swapped) and average the two answers
   * (unmirrorLatent). Default off.
   */
  mirror?: boolean;
  /**
   * A landmark detector's joints in the map's pixels (BlazePose's through to-body-joints.ts), for a
   * network that reads them beside the map (input parts12+landmarks): drawn as heatmaps in the map's
   * crop. Without them (null: the detector found no one) the heatmaps are zero, as for the tenth of
   * its training examples without joints. A network that reads the map alone ignores them.
   */
  joints?: BodyJointTargets | null;
}

/** The fitting network on a 12-part class map (and, for a network that reads them, a detector's joints). */
export function fitPartMap(net: FitterNetwork, model: GpuBodyModel, map: ClassMap, options: FitPartMapOptions = {}): BodyFit {
  const rt = net.runtime;
  const S = net.config.inputSize;
  const input = fitterInputType(net.config);
  const info = fitterInputInfo(input);
  if (info.parts !== 12 || (info.joints && !info.detected)) {
    throw new NbfError(`part-map fit: this fitting network reads "${input}" (${info.description}), not a 12-part map (parts12) or one with a detector's joints (parts12+landmarks)`);
  }
  const crop = options.framing === 'image' ? wholeImageCrop(map, S) : cropPerson(map, S);
  const colours = (labels: ArrayLike<number>) => partColourMap(rt.tensor(labels, [1, S, S, 1]), 12, { scale: FITTER_PART_SCALE, offset: FITTER_PART_OFFSET });
  return rt.scope(() => {
    let parts = colours(crop.labels);
    let mirrored = options.mirror ? colours(mirroredLabels(crop.labels, S)) : undefined;
    if (info.detected) {
      const heat = squareJointHeatmaps(rt, options.joints ?? null, crop.x0, crop.y0, crop.side, S);
      parts = concat([parts, heat], 3);
      if (mirrored) mirrored = concat([mirrored, mirrorWidth(heat, SMPL_MIRRORED_JOINTS)], 3);
    }
    return fitterAnswer(net, model, parts, crop, mirrored);
  });
}

/** An S×S class map mirrored left–right, each twin part swapped (NBF_MIRRORED_PARTS). */
export function mirroredLabels(labels: ArrayLike<number>, S: number): Float32Array {
  const out = new Float32Array(S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const k = labels[y * S + (S - 1 - x)];
      out[y * S + x] = NBF_MIRRORED_PARTS[k] ?? k;
    }
  }
  return out;
}

/**
 * A fitter latent [β, 24 global rotation matrices, camera (log z, x·f/z, y·f/z)] of a mirrored
 * picture → the latent of the picture as it was: the mirror M = diag(−1, 1, 1) of the camera frame
 * turns joint j's rotation R into M·R'·M of its twin's (SMPL_MIRRORED_JOINTS: the entries with one
 * index 0 change sign) and the camera's x; β stays (the body model is left–right symmetric).
 */
export function unmirrorLatent(latent: ArrayLike<number>, shapeCount: number): Float32Array {
  const out = Float32Array.from(latent);
  for (let j = 0; j < FITTER_JOINTS; j++) {
    const from = shapeCount + 9 * SMPL_MIRRORED_JOINTS[j];
    const to = shapeCount + 9 * j;
    for (let r = 0; r < 3; r++) {
      for (let c = 0; c < 3; c++) out[to + 3 * r + c] = ((r === 0) !== (c === 0) ? -1 : 1) * latent[from + 3 * r + c];
    }
  }
  const camera = shapeCount + 9 * FITTER_JOINTS;
  out[camera + 1] = -latent[camera + 1];
  return out;
}

/**
 * The fitting network's answer to one input [1, S, S, C] (whatever it reads) drawn from a square crop
 * of the picture: its body, with the 2D joints and the camera in the picture's pixels.
 */
export function fitterAnswer<C extends CropFrame>(net: FitterNetwork, model: GpuBodyModel, input: Tensor, crop: C, mirroredInput?: Tensor): BodyFit<C> {
  const rt = net.runtime;
  const out = rt.scope(() => {
    let p = net.forward(net.params.toRecord(), mirroredInput ? concat([input, mirroredInput], 0) : input, false);
    if (mirroredInput) {
      // Two looks in one batch: the mean of the latent and the mirrored look's, mirrored back.
      const [L, B] = [net.latentSize, net.config.shapeCount];
      const both = p.latent.readSync();
      const back = unmirrorLatent(both.subarray(L, 2 * L), B);
      p = net.decode(rt.tensor(Float32Array.from(back, (v, i) => 0.5 * (both[i] + v)), [1, L]));
    }
    const body = net.body(model, p);
    return {
      betas: p.betas.readSync(),
      trans: p.trans.readSync(),
      rotations: orthogonalise(p.rotations, FITTER_JOINTS).readSync(),
      joints3d: body.joints.readSync(),
      joints2d: (body.joints2d as Tensor).readSync(),
      vertices: body.vertices.readSync(),
    };
  });
  const joints2d = new Float32Array(FITTER_JOINTS * 2);
  for (let j = 0; j < FITTER_JOINTS; j++) {
    const [u, v] = cropToImage(crop, out.joints2d[2 * j], out.joints2d[2 * j + 1]);
    joints2d[2 * j] = u;
    joints2d[2 * j + 1] = v;
  }
  return {
    betas: Array.from(out.betas),
    pose: Array.from(absoluteToRelative(out.rotations, model.parents)),
    trans: Array.from(out.trans),
    joints3d: out.joints3d,
    joints2d,
    vertices: out.vertices,
    camera: cropCamera(crop),
    crop,
  };
}
