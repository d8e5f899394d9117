/**
 * GPU kernels of the synthetic-image pipeline: occluder masks (shaders/synth_occluder.glsl), photo
 * backgrounds (synth_background.glsl), shading of people and backgrounds (synth_shade.glsl) and
 * photometric augmentations (synth_augment.glsl). CPU references: synth.ref.ts. Parameter layouts:
 * appearance.ts, backgrounds.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { APPEARANCE_SIZE, AUGMENT_SIZE, OCCLUDER_SIZE } from './appearance.js';
import { PHOTO_SIZE } from './backgrounds.js';

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

/**
 * Photo backgrounds [N, H, W, 3] in [0, 1]: per example a bilinear resampling of a crop of one tile of
 * `atlas` [M, T, T, 3], by packed photo parameters [N, 8] (backgrounds.ts); 0 where a row is disabled.
 */
export function photoBackgrounds(atlas: Tensor, params: Tensor, height: number, width: number): Tensor {
  if (atlas.shape.length !== 4 || atlas.shape[1] !== atlas.shape[2] || atlas.shape[3] !== 3) throw new ShapeError(`photoBackgrounds: the atlas should be [M, T, T, 3], got ${shapeText(atlas)}`);
  if (params.shape.length !== 2 || params.shape[1] !== PHOTO_SIZE) throw new ShapeError(`photoBackgrounds: params should be [N, ${PHOTO_SIZE}], got ${shapeText(params)}`);
  return atlas.runtime.run({
    kernel: 'synth_background',
    inputs: { Atlas: atlas, Params: params },
    uniforms: { u_width: width, u_height: height, u_tile: atlas.shape[1] },
    outShape: [params.shape[0], height, width, 3],
  });
}

/** Photo backgrounds for shadePeople: the images [N, H, W, 3] and their parameters [N, 8] (column 0: enabled). */
export interface PhotoInputs {
  background: Tensor;
  params: Tensor;
}

/**
 * RGB images [N, H, W, 3] in [0, 1] of people (G-buffer) in front of backgrounds, with occluders. With
 * `photo`, background pixels of the examples whose photo row is enabled are the photo background.
 */
export function shadePeople(gbuffer: Tensor, occluder: Tensor, appearance: Tensor, joints: Tensor, camera: Tensor, photo?: PhotoInputs): Tensor {
  if (gbuffer.shape.length !== 4 || gbuffer.shape[3] !== 4) throw new ShapeError(`shadePeople: the G-buffer should be [N, H, W, 4], got ${shapeText(gbuffer)}`);
  const [N, H, W] = gbuffer.shape;
  expectShape(occluder, [N, H, W, 1], 'shadePeople: the occluder mask');
  expectShape(appearance, [N, APPEARANCE_SIZE], 'shadePeople: appearance');
  expectShape(joints, [N, 24, 3], 'shadePeople: joints');
  expectShape(camera, [N, 4], 'shadePeople: camera');
  const inputs: Record<string, Tensor> = { GBuffer: gbuffer, Occluder: occluder, Appearance: appearance, Joints: joints, Camera: camera };
  if (photo) {
    expectShape(photo.background, [N, H, W, 3], 'shadePeople: the photo background');
    expectShape(photo.params, [N, PHOTO_SIZE], 'shadePeople: photo params');
    inputs.Background = photo.background;
    inputs.Photo = photo.params;
  }
  return gbuffer.runtime.run({
    kernel: 'synth_shade',
    // Without photos: the program as it always was (no define), so those pictures stay bit-identical.
    ...(photo ? { defines: { PHOTO_BACKGROUND: 1 } } : {}),
    inputs,
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
