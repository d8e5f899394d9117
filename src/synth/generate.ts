/**
 * Synthetic training data on the GPU: parameters drawn on the CPU from a seed (sampler.ts), uploaded
 * once; then the SMPL layer poses the bodies, the renderer rasterises them, and kernels make the part
 * maps, label maps, RGB pictures and augmentations — no readback between sampling, rendering and the
 * network. Every output is a runtime Tensor, ready as network input or target.
 *
 *   const generator = new SynthGenerator(runtime, model);
 *   const batch = generator.generateBatch(16, { size: 224, seed: 7, start: 0 });
 *   // batch.inputs.parts [16, 224, 224, 3], batch.targets.joints2d [16, 24, 2], ...
 *   disposeBatch(batch); generator.dispose();
 *
 * With a BackgroundBank (backgrounds.ts), a fraction of the examples (default 0.6) stand in front of a
 * crop of a real photograph instead of a procedural backdrop:
 *
 *   const bank = await loadBackgroundBank(runtime, dir);   // scripts/fetch-backgrounds.sh fills dir
 *   const generator = new SynthGenerator(runtime, model, { backgrounds: bank });
 *
 * Without one every picture is exactly what it was before banks existed.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { add, mul, rsubScalar } from '../kernels/elementwise.js';
import type { BodyModel } from '../smpl/types.js';
import { GpuBodyModel } from '../smpl/gpu/model.js';
import { smplForward } from '../smpl/gpu/layer.js';
import { MeshRenderer, MAX_IMAGE_SIZE } from '../render/renderer.js';
import { depthMap, partColourMap, partLabelMap } from '../render/maps.js';
import { checkGranularity, type Granularity } from '../render/parts.js';
import { APPEARANCE_SIZE, AUGMENT_SIZE, OCCLUDER_SIZE, packAppearance, packAugmentation, packOccluder } from './appearance.js';
import { sampleExample, type ExampleParams, type SamplerOptions } from './sampler.js';
import { absoluteRotations } from '../smpl/cpu-forward.js';
import { augmentImages, occluderMask, personOccluderMask, photoBackgrounds, shadePeople, type PhotoInputs } from './shade.js';
import { DEFAULT_PHOTO_FRACTION, NO_PHOTO, packPhotoBackground, PHOTO_SIZE, type BackgroundBank, type PhotoBackground } from './backgrounds.js';
import { Skeleton } from './skeleton.js';

export interface BatchOptions extends Omit<SamplerOptions, 'size'> {
  /** Image side in pixels (default 224). */
  size?: number;
  /** Run seed (default 0). Example i of a seed is the same in every batch that contains it. */
  seed?: number;
  /** Index of the batch's first example (default 0). */
  start?: number;
  /** Extra label / part-map granularities to render besides 12 (1, 3, 6, 24). */
  granularities?: readonly Granularity[];
  /** Colour scale and offset of the part maps (default 1, 0: palette values 0..255). */
  partScale?: number;
  partOffset?: number;
}

export interface SynthGeneratorOptions {
  /** Photos to put behind a fraction of the people (the caller owns and disposes the bank). */
  backgrounds?: BackgroundBank | null;
  /** Fraction of examples with a photo background when a bank is given (default 0.6). */
  photoFraction?: number;
}

/** What render() needs besides the examples to draw their photo backgrounds. */
export interface RenderOptions extends Pick<BatchOptions, 'partScale' | 'partOffset'> {
  /** Run seed of the examples (their photo draws come from (seed, example.index); default 0). */
  seed?: number;
  /** Photo backgrounds when the generator has a bank (default true; false: procedural only, e.g. the plain look). */
  photos?: boolean;
}

/** Columns of `targets.flags`. */
export const FLAG_COLUMNS = ['has3d', 'has2d', 'occluded', 'family'] as const;

export interface SynthBatch {
  size: number;
  inputs: {
    /** [N, S, S, 3] NBF 12-part colour map (palette values · partScale + partOffset). */
    parts: Tensor;
    /** [N, S, S, 3] RGB picture in [0, 1]. */
    rgb: Tensor;
    /** [N, S, S, 1] 12-part class per pixel (0 background). */
    labels: Tensor;
    /** [N, S, S, 1] depth of the visible body in metres, 0 for background and occluders. */
    depth: Tensor;
    /** Other granularities asked for: class map [N, S, S, 1] and colour map [N, S, S, 3]. */
    variants: Partial<Record<Granularity, { labels: Tensor; parts: Tensor }>>;
  };
  targets: {
    /** [N, B] shape coefficients. */
    betas: Tensor;
    /** [N, 72] parent-relative axis-angle (index 0: global orientation, camera frame). */
    pose: Tensor;
    /** [N, 24, 9] absolute (global) rotation matrices, row-major — NBF's regression target. */
    rotations: Tensor;
    /** [N, 24, 3] posed joints, camera frame, metres (translation included). */
    joints3d: Tensor;
    /** [N, 24, 2] projected joints, pixels, origin top-left. */
    joints2d: Tensor;
    /** [N, 3] translation (metres). */
    trans: Tensor;
    /** [N, 4] camera (fx, fy, cx, cy) in pixels. */
    camera: Tensor;
    /** [N, 4] per-example flags, columns FLAG_COLUMNS: has 3D labels, has 2D labels, occluded, pose family index. */
    flags: Tensor;
  };
  /** The CPU-side parameters of each example (for metadata files and debugging). */
  examples: ExampleParams[];
  /** Each example's photo background (enabled false: procedural backdrop; all false without a bank). */
  photos: PhotoBackground[];
}

export class SynthGenerator {
  readonly skeleton: Skeleton;
  readonly gpuModel: GpuBodyModel;
  readonly renderer: MeshRenderer;
  private disposed = false;
  private bank: BackgroundBank | null = null;
  private photoFraction = DEFAULT_PHOTO_FRACTION;
  /** The template's rest joints (24·3): garments and hair are placed relative to them. */
  private readonly templateJoints: Float32Array;

  constructor(readonly runtime: Runtime, readonly model: BodyModel, options: SynthGeneratorOptions = {}) {
    this.setBackgrounds(options.backgrounds ?? null, options.photoFraction);
    this.skeleton = new Skeleton(model);
    this.templateJoints = Float32Array.from(this.skeleton.restJoints(new Float64Array(this.skeleton.shapeCount)));
    this.gpuModel = GpuBodyModel.upload(runtime, model);
    try {
      this.renderer = new MeshRenderer(runtime, model);
    } catch (e) {
      this.gpuModel.dispose();
      throw e;
    }
  }

  /** Sets (or, with null, removes) the photo bank and the fraction of examples that use it. */
  setBackgrounds(bank: BackgroundBank | null, photoFraction = DEFAULT_PHOTO_FRACTION): void {
    if (!(photoFraction >= 0 && photoFraction <= 1)) throw new NbfError(`SynthGenerator: photoFraction ${photoFraction} must be in [0, 1]`);
    this.bank = bank;
    this.photoFraction = photoFraction;
  }

  get backgrounds(): BackgroundBank | null {
    return this.bank;
  }

  /** CPU parameters of examples start..start+n−1 of a seed. */
  sample(n: number, options: BatchOptions = {}): ExampleParams[] {
    const size = options.size ?? 224;
    const seed = options.seed ?? 0;
    const start = options.start ?? 0;
    return Array.from({ length: n }, (_, i) => sampleExample(this.skeleton, seed, start + i, { ...options, size }));
  }

  /** Renders examples start..start+n−1 of a seed into GPU tensors (see SynthBatch). */
  generateBatch(n: number, options: BatchOptions = {}): SynthBatch {
    if (this.disposed) throw new NbfError('SynthGenerator: used after dispose()');
    if (!Number.isInteger(n) || n < 1) throw new NbfError(`generateBatch: batch size ${n} must be a positive integer`);
    const size = options.size ?? 224;
    if (!Number.isInteger(size) || size < 8 || size > MAX_IMAGE_SIZE) throw new NbfError(`generateBatch: image size ${size} must be an integer in 8..${MAX_IMAGE_SIZE}`);
    const extra = (options.granularities ?? []).map((g) => checkGranularity(g)).filter((g) => g !== 12);
    // The plain look (appearance: false) keeps its plain backdrop.
    return this.render(this.sample(n, options), size, extra, { ...options, seed: options.seed ?? 0, photos: options.appearance ?? true });
  }

  /**
   * Renders already drawn examples (all of one image size). With a bank, example e's photo background is
   * the one of (options.seed, e.index), as generateBatch draws it.
   */
  render(examples: ExampleParams[], size: number, granularities: readonly Granularity[] = [], options: RenderOptions = {}): SynthBatch {
    const rt = this.runtime;
    const N = examples.length;
    const bank = options.photos === false ? null : this.bank;
    const photos = examples.map((e): PhotoBackground => (bank ? bank.sample(options.seed ?? 0, e.index, this.photoFraction) : { ...NO_PHOTO, centre: [0, 0] }));
    const usePhotos = bank !== null && photos.some((p) => p.enabled);
    const photoParams = new Float32Array(N * PHOTO_SIZE);
    if (bank) photos.forEach((p, i) => packPhotoBackground(p, bank.tileSize, photoParams, i * PHOTO_SIZE));
    const B = this.skeleton.shapeCount;
    const betas = new Float32Array(N * B);
    const pose = new Float32Array(N * 72);
    const trans = new Float32Array(N * 3);
    const camera = new Float32Array(N * 4);
    const rotations = new Float32Array(N * 24 * 9);
    const flags = new Float32Array(N * 4);
    const appearance = new Float32Array(N * APPEARANCE_SIZE);
    const augmentation = new Float32Array(N * AUGMENT_SIZE);
    const occluder = new Float32Array(N * OCCLUDER_SIZE);
    examples.forEach((e, i) => {
      betas.set(e.betas, i * B);
      pose.set(e.pose, i * 72);
      trans.set(e.trans, i * 3);
      camera.set(e.camera, i * 4);
      rotations.set(absoluteRotations(e.pose, this.skeleton.parents), i * 216);
      flags.set([1, 1, e.occluder.enabled || e.other ? 1 : 0, e.familyIndex], i * 4);
      packAppearance(e.appearance, appearance, i * APPEARANCE_SIZE);
      packAugmentation(e.augmentation, augmentation, i * AUGMENT_SIZE);
      packOccluder(e.occluder, occluder, i * OCCLUDER_SIZE);
    });
    const scale = options.partScale ?? 1;
    const offset = options.partOffset ?? 0;
    const tensors = rt.scope(() => {
      const targets = {
        betas: rt.tensor(betas, [N, B]),
        pose: rt.tensor(pose, [N, 72]),
        rotations: rt.tensor(rotations, [N, 24, 9]),
        trans: rt.tensor(trans, [N, 3]),
        camera: rt.tensor(camera, [N, 4]),
        flags: rt.tensor(flags, [N, 4]),
      };
      const body = smplForward(this.gpuModel, {
        betas: targets.betas,
        pose: targets.pose,
        trans: targets.trans,
        camera: { type: 'perspective', params: targets.camera },
      });
      const { gbuffer: drawn, surface } = this.renderer.renderLayers(body.vertices, targets.camera, { width: size, height: size });
      const mask = occluderMask(rt.tensor(occluder, [N, OCCLUDER_SIZE]), size, size);
      // A second person, where one is drawn: its visible pixels (personMask) hide the main body.
      const other = examples.some((e) => e.other) ? this.renderOthers(examples, targets.camera, size) : null;
      const personMask = other ? personOccluderMask(drawn, other.gbuffer, mask) : null;
      // Occluded pixels are background in every map: the G-buffer is cleared under the occluders.
      const gbuffer = mul(drawn, rsubScalar(personMask ? add(mask, personMask) : mask, 1));
      const labels = partLabelMap(gbuffer, 12);
      const variants: SynthBatch['inputs']['variants'] = {};
      for (const g of granularities) {
        const l = partLabelMap(gbuffer, g);
        variants[g] = { labels: l, parts: partColourMap(l, g, { scale, offset }) };
      }
      let photo: PhotoInputs | undefined;
      if (usePhotos) {
        const params = rt.tensor(photoParams, [N, PHOTO_SIZE]);
        photo = { background: photoBackgrounds(bank.atlas, params, size, size), params };
      }
      const restJoints = rt.tensor(this.templateJoints, [24, 3]);
      // With second persons, appearance rows N..2N−1 are theirs (shaded where personMask is 1).
      const looks = other ? rt.tensor(Float32Array.from([...appearance, ...other.appearance]), [2 * N, APPEARANCE_SIZE]) : rt.tensor(appearance, [N, APPEARANCE_SIZE]);
      const shaded = shadePeople(gbuffer, surface, mask, looks, restJoints, photo, other && personMask ? { gbuffer: other.gbuffer, surface: other.surface, mask: personMask } : undefined);
      return {
        inputs: {
          parts: partColourMap(labels, 12, { scale, offset }),
          rgb: augmentImages(shaded, rt.tensor(augmentation, [N, AUGMENT_SIZE])),
          labels,
          depth: depthMap(gbuffer),
          variants,
        },
        targets: { ...targets, joints3d: body.joints, joints2d: body.joints2d as Tensor },
      };
    });
    return { size, ...tensors, examples, photos };
  }

  /**
   * G-buffers and surface buffers [N, S, S, 4] of the examples' second persons, and their packed looks;
   * an example without one gets a body beyond the far plane (nothing drawn).
   */
  private renderOthers(examples: ExampleParams[], camera: Tensor, size: number): { gbuffer: Tensor; surface: Tensor; appearance: Float32Array } {
    const rt = this.runtime;
    const N = examples.length;
    const B = this.skeleton.shapeCount;
    const betas = new Float32Array(N * B);
    const pose = new Float32Array(N * 72);
    const trans = new Float32Array(N * 3);
    const appearance = new Float32Array(N * APPEARANCE_SIZE);
    examples.forEach((e, i) => {
      if (e.other) {
        betas.set(e.other.betas, i * B);
        pose.set(e.other.pose, i * 72);
        trans.set(e.other.trans, i * 3);
        packAppearance(e.other.appearance, appearance, i * APPEARANCE_SIZE);
      } else {
        trans[i * 3 + 2] = 1e4; // far beyond the far plane (1000 m): clipped away
      }
    });
    const body = smplForward(this.gpuModel, { betas: rt.tensor(betas, [N, B]), pose: rt.tensor(pose, [N, 72]), trans: rt.tensor(trans, [N, 3]) });
    return { ...this.renderer.renderLayers(body.vertices, camera, { width: size, height: size }), appearance };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.renderer.dispose();
    this.gpuModel.dispose();
  }
}

/** generateBatch(n, options) with the generator in the options. */
export function generateBatch(n: number, options: BatchOptions & { generator: SynthGenerator }): SynthBatch {
  return options.generator.generateBatch(n, options);
}

/** Frees every tensor of a batch. */
export function disposeBatch(batch: SynthBatch): void {
  const { inputs, targets } = batch;
  for (const t of [inputs.parts, inputs.rgb, inputs.labels, inputs.depth, ...Object.values(targets)]) t.dispose();
  for (const v of Object.values(inputs.variants)) {
    v?.labels.dispose();
    v?.parts.dispose();
  }
}
