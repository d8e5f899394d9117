/**
 * GPU kernels of the synthetic-image pipeline: occluder masks (shaders/synth_occluder.glsl), masks of
 * second persons drawn as occluders (synth_person_occluder.glsl), photo
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
 * Where a second person drawn as an occluder shows [N, H, W, 1] (1 or 0): its G-buffer `other` covers
 * the pixel, no box occluder (`occluder` [N, H, W, 1]) is there, and the main body (`main`) is absent
 * or farther (shaders/synth_person_occluder.glsl).
 */
export function personOccluderMask(main: Tensor, other: Tensor, occluder: Tensor): Tensor {
  if (main.shape.length !== 4 || main.shape[3] !== 4) throw new ShapeError(`personOccluderMask: the G-buffer should be [N, H, W, 4], got ${shapeText(main)}`);
  const [N, H, W] = main.shape;
  expectShape(other, [N, H, W, 4], 'personOccluderMask: the other G-buffer');
  expectShape(occluder, [N, H, W, 1], 'personOccluderMask: the occluder mask');
  return main.runtime.run({
    kernel: 'synth_person_occluder',
    inputs: { Main: main, Other: other, Occluder: occluder },
    outShape: [N, H, W, 1],
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

/**
 * A second person for shadePeople: its G-buffer and surface buffer [N, H, W, 4] and where it shows
 * [N, H, W, 1] (personOccluderMask).
 */
export interface OtherPersonInputs {
  gbuffer: Tensor;
  surface: Tensor;
  mask: Tensor;
}

/** Photo backgrounds for shadePeople: the images [N, H, W, 3] and their parameters [N, 8] (column 0: enabled). */
export interface PhotoInputs {
  background: Tensor;
  params: Tensor;
}

/**
 * RGB images [N, H, W, 3] in [0, 1] of people in front of backgrounds, with occluders: `gbuffer` and
 * `surface` [N, H, W, 4] (MeshRenderer.renderLayers), occluder masks [N, H, W, 1], packed appearance
 * [N, 80] (appearance.ts), `restJoints` [24, 3] the template's joints (garments and hair are placed
 * relative to them). With `photo`, background pixels of the examples whose photo row is enabled are
 * the photo background. With `other`, pixels under its mask show the second person, with appearance
 * row N + n (`appearance` is then [2N, 80]: the main looks, then the second persons').
 */
export function shadePeople(gbuffer: Tensor, surface: Tensor, occluder: Tensor, appearance: Tensor, restJoints: Tensor, photo?: PhotoInputs | null, other?: OtherPersonInputs): Tensor {
  if (gbuffer.shape.length !== 4 || gbuffer.shape[3] !== 4) throw new ShapeError(`shadePeople: the G-buffer should be [N, H, W, 4], got ${shapeText(gbuffer)}`);
  const [N, H, W] = gbuffer.shape;
  expectShape(surface, [N, H, W, 4], 'shadePeople: the surface buffer');
  expectShape(occluder, [N, H, W, 1], 'shadePeople: the occluder mask');
  expectShape(appearance, [other ? 2 * N : N, APPEARANCE_SIZE], 'shadePeople: appearance');
  expectShape(restJoints, [24, 3], 'shadePeople: rest joints');
  const inputs: Record<string, Tensor> = { GBuffer: gbuffer, Surface: surface, Occluder: occluder, Appearance: appearance, RestJoints: restJoints };
  const defines: Record<string, number> = {};
  if (other) {
    expectShape(other.gbuffer, [N, H, W, 4], 'shadePeople: the other G-buffer');
    expectShape(other.surface, [N, H, W, 4], 'shadePeople: the other surface buffer');
    expectShape(other.mask, [N, H, W, 1], 'shadePeople: the other person mask');
    Object.assign(inputs, { OtherGBuffer: other.gbuffer, OtherSurface: other.surface, PersonMask: other.mask });
    defines.OTHER_PERSON = 1;
  }
  if (photo) {
    expectShape(photo.background, [N, H, W, 3], 'shadePeople: the photo background');
    expectShape(photo.params, [N, PHOTO_SIZE], 'shadePeople: photo params');
    inputs.Background = photo.background;
    inputs.Photo = photo.params;
    defines.PHOTO_BACKGROUND = 1;
  }
  return gbuffer.runtime.run({
    kernel: 'synth_shade',
    // Each option is a define, so pictures without it run the program without its fetches.
    ...(Object.keys(defines).length ? { defines } : {}),
    inputs,
    uniforms: { u_width: W, u_height: H, u_batch: N },
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
