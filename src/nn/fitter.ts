/**
 * NBF's fitting network: a colour-coded 12-part map → body-model parameters → body (Omran et al. 2018,
 * ../shared/reference/nbf.md), with the body model inside the graph so 3D and 2D joint losses train it.
 *
 *   input     [N, S, S, C] by the configuration's input type (fitter-inputs.ts; default "parts12":
 *             the 12-part map in NBF's palette scaled x·2/255 − 1, partColourMap with
 *             FITTER_PART_SCALE, FITTER_PART_OFFSET, C = 3); C is the encoder's inputChannels
 *   encoder   ResNet (resnet.ts) → global average pool → [N, C]
 *   head      dense C → L = B + 24·9 + 3 (LATENT layout below), added to the training-set mean
 *             (buffers "mean/latent"): the network predicts offsets from the mean, as NBF
 *   latent    [β (B) | R_1..R_24 (9 each, row-major, GLOBAL rotations) | camera (3)]
 *   rotations each 3×3 projected onto the nearest proper rotation (det +1; the body layer's
 *             orthogonalise kernel: R = M(MᵀM)^−½, which is SVD's U·Vᵀ with the reflection fixed),
 *             then made parent-relative inside the body layer (frame 'absolute')
 *   camera    (c0, c1, c2) → translation t = (c1·t_z/k, c2·t_z/k, t_z), t_z = exp(c0), k = 2f/S:
 *             c1, c2 are where the origin of the body's frame lands in the image in [−1, 1]
 *             coordinates, c0 its log depth. Beyond NBF, which assumed the true depth (its 2D output
 *             divides by ~0 at inference): predicted joints project onto the picture.
 *   body      ad.smpl → vertices, joints (camera frame, m) and joints2d (pixels at S×S, NBF's
 *             perspective camera f = 5000·S/512 at the centre)
 *
 * Configurations: FITTER_CONFIGS.paper (ResNet-50 at 224², as NBF) and .compact (ours, trained here
 * and shipped in weights/). A FitterNetwork owns its parameters; the GpuBodyModel is the caller's.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { add, exp, mul, mulScalar } from '../autodiff/grads/elementwise.js';
import { concat, slice } from '../autodiff/grads/shape.js';
import { activeTape } from '../autodiff/tape.js';
import { smpl, type SmplOutputs } from '../smpl/gpu/differentiable.js';
import type { GpuBodyModel } from '../smpl/gpu/model.js';
import { nbfFocalLength } from '../synth/sampler.js';
import { ParamStore } from './params.js';
import { DenseLayer, type ParamRecord } from './layers.js';
import { RESNET_CONFIGS, ResNet, checkResNetConfig, type ResNetConfig } from './resnet.js';
import { checkFitterInputType, fitterInputChannels, fitterInputInfo, fitterInputType, type FitterInputType } from './fitter-inputs.js';

export const FITTER_JOINTS = 24;
export const CAMERA_LATENT = 3;
/** Part map colour scaling of the network input (NBF: x·2/255 − 1). */
export const FITTER_PART_SCALE = 2 / 255;
export const FITTER_PART_OFFSET = -1;
/** Normalised focal length 2f/S of NBF's camera (f = 5000 px at 512): the same at every size. */
export const NORMALISED_FOCAL = (2 * 5000) / 512;

export interface FitterConfig {
  /** A name for reports ("compact", "paper", …). */
  name: string;
  /** Side of the square input part map. */
  inputSize: number;
  /** Shape coefficients predicted (NBF: 10). */
  shapeCount: number;
  encoder: ResNetConfig;
  /**
   * What the network reads (fitter-inputs.ts); absent: "parts12" (every file before input types).
   * encoder.inputChannels must be its channel count (fitterConfigWithInput sets both).
   */
  input?: FitterInputType;
  /** Scale of the head's initial weights (small: the first predictions are the mean). */
  headInitScale?: number;
}

export const FITTER_CONFIGS = {
  /** NBF's network: ResNet-50 v1 at 224², 2048 → 229 (NBF's 226 plus the camera). Not trained here. */
  paper: { name: 'paper', inputSize: 224, shapeCount: 10, encoder: { ...RESNET_CONFIGS.resnet50, batchNorm: { epsilon: 1e-3 } } },
  /**
   * Ours, trained here: a narrow ResNet-10 of basic blocks at 64² (docs/fitter.md: how it was
   * chosen). The stem is 3×3 stride 1 followed by a 2×2 max-pool, so limbs 2–3 pixels wide survive it.
   */
  compact: {
    name: 'compact', inputSize: 64, shapeCount: 10,
    encoder: { block: 'basic', blocks: [1, 1, 1, 1], widths: [32, 64, 128, 256], inputChannels: 3, stemChannels: 32, stemKernel: 3, stemStride: 1, stemPool: 2, batchNorm: { epsilon: 1e-3 } },
  },
} as const satisfies Record<string, FitterConfig>;

export type FitterConfigName = keyof typeof FITTER_CONFIGS;

/** Numbers the head predicts: B + 24·9 + 3. */
export function latentSize(config: Pick<FitterConfig, 'shapeCount'>): number {
  return config.shapeCount + FITTER_JOINTS * 9 + CAMERA_LATENT;
}

export function checkFitterConfig(c: FitterConfig, what = 'fitter config'): void {
  if (!c || typeof c !== 'object') throw new NbfError(`${what}: not an object`);
  if (typeof c.name !== 'string') throw new NbfError(`${what}: name must be a string`);
  if (!Number.isInteger(c.inputSize) || c.inputSize < 8 || c.inputSize > 1024) throw new NbfError(`${what}: inputSize must be an integer in 8..1024, got ${c.inputSize}`);
  if (!Number.isInteger(c.shapeCount) || c.shapeCount < 0 || c.shapeCount > 300) throw new NbfError(`${what}: shapeCount must be an integer in 0..300, got ${c.shapeCount}`);
  checkResNetConfig(c.encoder, `${what}: encoder`);
  const input = checkFitterInputType(fitterInputType(c), `${what}: input`);
  const channels = fitterInputChannels(input);
  if (c.encoder.inputChannels !== channels) {
    throw new NbfError(`${what}: input "${input}" (${fitterInputInfo(input).description}) has ${channels} channels, but the encoder's inputChannels is ${c.encoder.inputChannels}`);
  }
}

/**
 * The configuration reading another input type: `input` set and the encoder's inputChannels made
 * to match (the rest of the network unchanged). "parts12" is recorded explicitly too.
 */
export function fitterConfigWithInput(config: FitterConfig, input: FitterInputType): FitterConfig {
  checkFitterInputType(input, `fitter "${config.name}": input`);
  const c = structuredClone(config) as FitterConfig;
  c.input = input;
  c.encoder = { ...c.encoder, inputChannels: fitterInputChannels(input) };
  return c;
}

/** NBF's camera at S×S: (f, f, S/2, S/2). */
export function fitterCamera(size: number): [number, number, number, number] {
  const f = nbfFocalLength(size);
  return [f, f, size / 2, size / 2];
}

/** The camera part of the latent vector for a translation (inverse of the network's decoding). */
export function cameraLatent(trans: ArrayLike<number>, offset = 0): [number, number, number] {
  const z = trans[offset + 2];
  if (!(z > 0)) throw new NbfError(`cameraLatent: translation z must be > 0 (in front of the camera), got ${z}`);
  return [Math.log(z), (trans[offset] * NORMALISED_FOCAL) / z, (trans[offset + 1] * NORMALISED_FOCAL) / z];
}

/** Translation of a camera latent (CPU twin of the network's decoding). */
export function translationOfLatent(c: ArrayLike<number>, offset = 0): [number, number, number] {
  const z = Math.exp(c[offset]);
  return [(c[offset + 1] * z) / NORMALISED_FOCAL, (c[offset + 2] * z) / NORMALISED_FOCAL, z];
}

export interface FitterPrediction {
  /** [N, L] latent parameters (mean + offsets): what the parameter loss compares. */
  latent: Tensor;
  /** [N, B] shape coefficients. */
  betas: Tensor;
  /** [N, 216] global rotation matrices as predicted (before orthogonalisation). */
  rotations: Tensor;
  /** [N, 3] translation (m, camera frame). */
  trans: Tensor;
}

export class FitterNetwork {
  readonly config: FitterConfig;
  /** Trainable parameters. */
  readonly params: ParamStore;
  /** Batch-norm running averages and "mean/latent" (the training-set mean the head offsets). */
  readonly buffers: ParamStore;
  readonly encoder: ResNet;
  readonly head: DenseLayer;
  readonly latentSize: number;
  /** What the network reads (its configuration's input, default parts12). */
  readonly input: FitterInputType;

  constructor(readonly runtime: Runtime, config: FitterConfig, options: { seed?: number; meanLatent?: ArrayLike<number> } = {}) {
    checkFitterConfig(config);
    this.config = structuredClone(config) as FitterConfig;
    this.latentSize = latentSize(config);
    this.input = fitterInputType(config);
    this.params = new ParamStore(runtime, { seed: options.seed ?? 0 });
    this.buffers = new ParamStore(runtime, { seed: options.seed ?? 0 });
    try {
      this.encoder = new ResNet(this.params, this.buffers, config.encoder, 'encoder/');
      const s = config.headInitScale ?? 1e-3;
      this.head = new DenseLayer(this.params, 'head', { inFeatures: this.encoder.outChannels, outFeatures: this.latentSize, init: { kind: 'uniform', lo: -s, hi: s } });
      const mean = this.buffers.create('mean/latent', [this.latentSize], 'zeros');
      if (options.meanLatent) this.setMeanLatent(options.meanLatent);
      void mean;
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Replaces the mean the head's offsets are added to. */
  setMeanLatent(values: ArrayLike<number>): void {
    if (values.length !== this.latentSize) throw new ShapeError(`fitter: mean latent has ${values.length} values, expected ${this.latentSize}`);
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) throw new NbfError(`fitter: mean latent value ${i} is not finite (${values[i]})`);
    this.buffers.set('mean/latent', this.runtime.tensor(Float32Array.from(values), [this.latentSize]));
  }

  /**
   * parts [N, S, S, C] (the input of the configuration's type, e.g. a scaled part map) → latent and
   * its decoded parts. At inference with this network's own parameters (`this.params.toRecord()`)
   * and no tape recording, the encoder runs with batch norm folded into its convolutions and the
   * packed weights cached (ResNetForwardOptions; the cache lives until the parameters or buffers are
   * replaced or disposed); `{ folded: false }` runs the plain path (batch norm as its own pass).
   */
  forward(params: ParamRecord, parts: Tensor, training: boolean, options: { folded?: boolean } = {}): FitterPrediction {
    const S = this.config.inputSize;
    const C = this.config.encoder.inputChannels;
    if (parts.rank !== 4 || parts.shape[1] !== S || parts.shape[2] !== S || parts.shape[3] !== C) {
      throw new ShapeError(`fitter "${this.config.name}" reads ${fitterInputInfo(this.input).description} (input "${this.input}"): inputs must be [N, ${S}, ${S}, ${C}], got [${parts.shape.join(', ')}]`);
    }
    const folded = !training && (options.folded ?? true);
    const features = this.encoder.features(params, parts, training, { foldBatchNorm: folded });
    const ownHead = folded && !activeTape() && this.params.has(this.head.weightName) && params[this.head.weightName] === this.params.get(this.head.weightName);
    return this.decode(add(this.head.apply(params, features, { cacheWeights: ownHead }), this.buffers.get('mean/latent')));
  }

  /** Splits a latent [N, L] into β, rotations and the translation (differentiable). */
  decode(latent: Tensor): FitterPrediction {
    if (latent.rank !== 2 || latent.shape[1] !== this.latentSize) throw new ShapeError(`fitter: latent must be [N, ${this.latentSize}], got [${latent.shape.join(', ')}]`);
    const N = latent.shape[0];
    const B = this.config.shapeCount;
    const betas = slice(latent, [0, 0], [N, B]);
    const rotations = slice(latent, [0, B], [N, FITTER_JOINTS * 9]);
    const camera = slice(latent, [0, B + FITTER_JOINTS * 9], [N, CAMERA_LATENT]);
    const z = exp(slice(camera, [0, 0], [N, 1]));
    const x = mulScalar(mul(slice(camera, [0, 1], [N, 1]), z), 1 / NORMALISED_FOCAL);
    const y = mulScalar(mul(slice(camera, [0, 2], [N, 1]), z), 1 / NORMALISED_FOCAL);
    return { latent, betas, rotations, trans: concat([x, y, z], 1) };
  }

  /** The body of a prediction: vertices, joints, and joints2d in pixels at the network's input size. */
  body(model: GpuBodyModel, prediction: FitterPrediction): SmplOutputs {
    if (model.shapeCount !== this.config.shapeCount) {
      throw new ShapeError(`fitter "${this.config.name}" predicts ${this.config.shapeCount} shape coefficients but the body model "${model.source.name}" has ${model.shapeCount}`);
    }
    if (model.jointCount !== FITTER_JOINTS) throw new ShapeError(`fitter: the body model "${model.source.name}" has ${model.jointCount} joints; the fitter predicts ${FITTER_JOINTS}`);
    const N = prediction.latent.shape[0];
    const cam = fitterCamera(this.config.inputSize);
    const camera = this.runtime.tensor(Float32Array.from({ length: N * 4 }, (_, i) => cam[i % 4]), [N, 4]);
    return smpl(model, {
      betas: prediction.betas,
      rotations: prediction.rotations,
      frame: 'absolute',
      orthogonalise: true,
      trans: prediction.trans,
      camera: { type: 'perspective', params: camera },
    });
  }

  /** Parameters and buffers together (what a weights file holds). */
  namedTensors(): { name: string; shape: number[]; data: Float32Array }[] {
    return [...this.params.readAll(), ...this.buffers.readAll().map((e) => ({ ...e, name: `buffer/${e.name}` }))];
  }

  dispose(): void {
    this.encoder?.releaseInference();
    this.params.dispose();
    this.buffers.dispose();
  }
}

/** Looks a named configuration up ("compact", "paper"). */
export function fitterConfig(name: string): FitterConfig {
  const c = (FITTER_CONFIGS as Record<string, FitterConfig>)[name];
  if (!c) throw new NbfError(`unknown fitter configuration "${name}" (known: ${Object.keys(FITTER_CONFIGS).join(', ')})`);
  return structuredClone(c) as FitterConfig;
}
