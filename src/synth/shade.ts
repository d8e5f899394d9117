/**
 * GPU kernels of the synthetic-image pipeline: occluder masks (shaders/synth_occluder.glsl), shading
 * of people and backgrounds (synth_shade.glsl) and photometric augmentations (synth_augment.glsl).
 * CPU references: synth.ref.ts. Parameter layouts: appearance.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { APPEARANCE_SIZE, AUGMENT_SIZE, OCCLUDER_SIZE } from './appearance.js';

function shapeText(t: Tensor): string {
  return `[${t.shape.join(', ')}]`;
}

function expectShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeError(`${what} should be [${shape.join(', ')}], got ${shapeText(t)}`);
  }
}

/** Occluder masks [N, H, W, 1] (1 inside the occluder) from packed occluder parameters [N, 8]. */
export function occluderMask(params: Tensor, height: number, width: number): Tensor {
  if (params.shape.length !== 2 || params.shape[1] !== OCCLUDER_SIZE) throw new ShapeError(`occluderMask: params should be [N, ${OCCLUDER_SIZE}], got ${shapeText(params)}`);
  const N = params.shape[0];
  return params.runtime.run({
    kernel: 'synth_occluder',
    inputs: { Params: params },
    uniforms: { u_width: width, u_height: height },
    outShape: [N, height, width, 1],
  });
}

/** RGB images [N, H, W, 3] in [0, 1] of people (G-buffer) in front of backgrounds, with occluders. */
export function shadePeople(gbuffer: Tensor, occluder: Tensor, appearance: Tensor, joints: Tensor, camera: Tensor): Tensor {
  if (gbuffer.shape.length !== 4 || gbuffer.shape[3] !== 4) throw new ShapeError(`shadePeople: the G-buffer should be [N, H, W, 4], got ${shapeText(gbuffer)}`);
  const [N, H, W] = gbuffer.shape;
  expectShape(occluder, [N, H, W, 1], 'shadePeople: the occluder mask');
  expectShape(appearance, [N, APPEARANCE_SIZE], 'shadePeople: appearance');
  expectShape(joints, [N, 24, 3], 'shadePeople: joints');
  expectShape(camera, [N, 4], 'shadePeople: camera');
  return gbuffer.runtime.run({
    kernel: 'synth_shade',
    inputs: { GBuffer: gbuffer, Occluder: occluder, Appearance: appearance, Joints: joints, Camera: camera },
    uniforms: { u_width: W, u_height: H },
    outShape: [N, H, W, 3],
  });
}

/** Blur, colour jitter and noise per example: images [N, H, W, 3], params [N, 8] (appearance.ts). */
export function augmentImages(images: Tensor, params: Tensor): Tensor {
  if (images.shape.length !== 4 || images.shape[3] !== 3) throw new ShapeError(`augmentImages: images should be [N, H, W, 3], got ${shapeText(images)}`);
  const [N, H, W] = images.shape;
  expectShape(params, [N, AUGMENT_SIZE], 'augmentImages: params');
  return images.runtime.run({
    kernel: 'synth_augment',
    inputs: { Image: images, Params: params },
    uniforms: { u_width: W, u_height: H },
    outShape: [N, H, W, 3],
  });
}
