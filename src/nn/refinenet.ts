/**
 * NBF's first stage: a RefineNet (Lin et al. 2017) that labels every pixel of a picture with one of
 * 12 body parts or background — 13 classes (Omran et al. 2018, ../shared/reference/nbf.md). The
 * encoder is the ResNet module (resnet.ts, written once); this file holds the decoder blocks, the two
 * decoders, the network, its loss and the label read-out.
 *
 *   input     RGB in [0, 1], NHWC [N, H, W, 3]; scaled inside the network to x·2 − 1
 *             (SEGMENTER_INPUT_SCALE, SEGMENTER_INPUT_OFFSET). H and W: multiples of the encoder's
 *             stride (32); the configuration's inputSize is the size it is trained at, but the network
 *             is fully convolutional and runs at any such size.
 *   encoder   ResNet v1 → the 4 stage outputs (ResNet.forwardFeatures), at 1/4 … 1/32 of the input
 *   decoder   'refinenet' (the original, as NBF) or 'light' (Light-Weight RefineNet, Nekrasov et al.
 *             2018), coarsest stage first, each block fusing the next finer encoder stage
 *   head      3×3 conv (with bias) → classes logits at 1/4, bilinear ×4 to the input:
 *             logits [N, H, W, classes]
 *
 * Blocks (each owns no tensors: parameters by name in a ParamRecord, as layers.ts):
 *   RCU  residual conv unit          y = x + conv3×3(ReLU(conv3×3(ReLU(x))))        (1st conv biased)
 *   MRF  multi-resolution fusion     each path conv3×3 (biased) to the smallest width among them,
 *                                    bilinearly resized to the largest resolution, summed
 *   CRP  chained residual pooling    x = ReLU(x); p = x; n times: p = conv(maxpool5×5 s1 'same'(p));
 *                                    x = x + p                      (convs without bias; 3×3 in
 *                                    RefineNet, 1×1 in Light-Weight RefineNet)
 *   RefineNetBlock     per input path 2 RCUs → MRF (more than one path) → CRP → 1 RCU
 *   LightRefineBlock   1×1 adapter of the encoder stage (+ the coarser block's output, resized) →
 *                      CRP (1×1) → optional 1×1 output conv to the next finer block's width
 *
 * Decoders:
 *   refinenet  per stage a 3×3 adapter conv (biased) to widths[i]; the coarsest stage's block has
 *              one path, every other block two: [adapted stage i, output of block i+1] (4-cascaded
 *              RefineNet; the block's output width is the smaller of its paths')
 *   light      per stage a LightRefineBlock of width widths[i]; block i+1's output conv maps it to
 *              widths[i]
 *
 * Resizing uses TF2's half-pixel centres (ad.resizeBilinear's default). No dropout, no batch norm in
 * the decoder (as both papers). Parameter names: "encoder/…" (resnet.ts), "decoder/adapt4/weights",
 * "decoder/block3/path2/rcu1/conv1/weights", "decoder/block1/crp/conv4/weights", "head/weights", …
 *
 * Loss: segmenterLoss — mean per-pixel softmax cross-entropy (labels 0..classes−1 stored as floats,
 * others ignored), optionally class-weighted (Σ w_y·ℓ / Σ w_y over labelled pixels, PyTorch's
 * convention). Read-out: predictLabels — argmax over classes.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { add, addScalar, mulScalar, relu } from '../autodiff/grads/elementwise.js';
import { maxPool, resizeBilinear } from '../autodiff/grads/spatial.js';
import { concat, reshape } from '../autodiff/grads/shape.js';
import { softmaxCrossEntropy } from '../autodiff/grads/losses.js';
import { argmax } from '../kernels/argmax.js';
import { tableLookup } from '../kernels/table-lookup.js';
import { reshape as reshapeKernel } from '../kernels/reshape.js';
import { mirrorWidth } from '../kernels/mirror.js';
import { slice } from '../kernels/slice.js';
import { NBF_MIRRORED_PARTS, NBF_PARTS, SMPL_MIRRORED_JOINTS } from '../smpl/types.js';
import { ParamStore, type Initializer } from './params.js';
import { Conv2dLayer, type ParamRecord } from './layers.js';
import { RESNET_CONFIGS, ResNet, checkResNetConfig, resnetStride, type ResNetConfig } from './resnet.js';

/** Background + NBF's 12 body parts. */
export const SEGMENTER_CLASSES = 13;
/** The network reads RGB in [0, 1] and scales it to x·SCALE + OFFSET = [−1, 1] itself. */
export const SEGMENTER_INPUT_SCALE = 2;
export const SEGMENTER_INPUT_OFFSET = -1;
/** Max-pool window of the chained residual pooling (stride 1, 'same'). */
export const CRP_POOL_SIZE = 5;

/**
 * Initial weights of every decoder and head convolution: PyTorch's default, uniform ±1/√fanIn
 * (kaiming_uniform with a = √5), as the published RefineNet and Light-Weight RefineNet code. He's
 * initialisation would double the variance at every convolution of the residual sums (CRP, RCU) and
 * the cascade would start with logits in the thousands; with this one each branch starts small.
 */
export function decoderInit(kernelSize: number, inChannels: number): Initializer {
  const bound = 1 / Math.sqrt(kernelSize * kernelSize * inChannels);
  return { kind: 'uniform', lo: -bound, hi: bound };
}

function conv(params: ParamStore, name: string, inChannels: number, outChannels: number, kernelSize: number, bias: boolean): Conv2dLayer {
  return new Conv2dLayer(params, name, { inChannels, outChannels, kernelSize, bias, init: decoderInit(kernelSize, inChannels) });
}

const describe = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function checkChannels(x: Tensor, channels: number, what: string): void {
  if (x.rank !== 4 || x.shape[3] !== channels) throw new ShapeError(`${what}: input must be NHWC with ${channels} channels, got ${describe(x.shape)}`);
}

// ─── Blocks ────────────────────────────────────────────────────────────────────────────────────

/** RCU: y = x + conv3×3(ReLU(conv3×3(ReLU(x)))), width preserved. */
export class ResidualConvUnit {
  readonly first: Conv2dLayer;
  readonly second: Conv2dLayer;

  constructor(params: ParamStore, readonly name: string, readonly channels: number) {
    this.first = conv(params, `${name}/conv1`, channels, channels, 3, true);
    this.second = conv(params, `${name}/conv2`, channels, channels, 3, false);
  }

  apply(params: ParamRecord, x: Tensor): Tensor {
    checkChannels(x, this.channels, this.name);
    return add(x, this.second.apply(params, relu(this.first.apply(params, relu(x)))));
  }
}

/**
 * MRF: each input path conv3×3 to the smallest width among the paths, resized (bilinear) to the
 * largest height and width among them, summed. Inputs in the order of `inputs` (channels per path).
 */
export class MultiResolutionFusion {
  readonly convs: Conv2dLayer[];
  readonly outChannels: number;

  constructor(params: ParamStore, readonly name: string, readonly inputs: readonly number[]) {
    if (inputs.length < 1) throw new NbfError(`${name}: a fusion needs at least one input path`);
    this.outChannels = Math.min(...inputs);
    this.convs = inputs.map((c, i) => conv(params, `${name}/conv${i + 1}`, c, this.outChannels, 3, true));
  }

  apply(params: ParamRecord, xs: readonly Tensor[]): Tensor {
    if (xs.length !== this.inputs.length) throw new NbfError(`${this.name}: expected ${this.inputs.length} input paths, got ${xs.length}`);
    xs.forEach((x, i) => checkChannels(x, this.inputs[i], `${this.name} path ${i + 1}`));
    const N = xs[0].shape[0];
    if (xs.some((x) => x.shape[0] !== N)) throw new ShapeError(`${this.name}: paths differ in batch size: ${xs.map((x) => describe(x.shape)).join(', ')}`);
    const H = Math.max(...xs.map((x) => x.shape[1]));
    const W = Math.max(...xs.map((x) => x.shape[2]));
    let sum: Tensor | undefined;
    xs.forEach((x, i) => {
      let y = this.convs[i].apply(params, x);
      if (y.shape[1] !== H || y.shape[2] !== W) y = resizeBilinear(y, [H, W]);
      sum = sum ? add(sum, y) : y;
    });
    return sum!;
  }
}

/**
 * The CRP's CRP_POOL_SIZE² max pool (stride 1, 'same') as a 1×K pass then a K×1 pass. A max is
 * separable, so the values are the same, and so is where the gradient goes: the first maximum in
 * row-major window order (the pool kernel's tie rule) is the first row holding the maximum and, in
 * it, the first column — what the row pass then the column pass pick. 2K reads per output instead of
 * K², forward and backward: the 5×5 pools were a sixth of a segmenter training step.
 */
export function crpMaxPool(x: Tensor): Tensor {
  const rows = maxPool(x, { size: [1, CRP_POOL_SIZE], strides: 1, padding: 'same' });
  return maxPool(rows, { size: [CRP_POOL_SIZE, 1], strides: 1, padding: 'same' });
}

export interface ChainedResidualPoolingOptions {
  /** Pool → conv stages (default 4, as NBF and Light-Weight RefineNet). */
  stages?: number;
  /** 3 (RefineNet) or 1 (Light-Weight RefineNet). */
  kernelSize: number;
}

/** CRP: x = ReLU(x); p = x; repeat: p = conv(maxpool5×5 stride 1 'same'(p)); x = x + p. */
export class ChainedResidualPooling {
  readonly convs: Conv2dLayer[];

  constructor(params: ParamStore, readonly name: string, readonly channels: number, options: ChainedResidualPoolingOptions) {
    const stages = options.stages ?? 4;
    if (!Number.isInteger(stages) || stages < 1) throw new NbfError(`${name}: stages must be a positive integer, got ${stages}`);
    this.convs = Array.from({ length: stages }, (_, i) => conv(params, `${name}/conv${i + 1}`, channels, channels, options.kernelSize, false));
  }

  apply(params: ParamRecord, input: Tensor): Tensor {
    checkChannels(input, this.channels, this.name);
    let x = relu(input);
    let path = x;
    for (const conv of this.convs) {
      path = conv.apply(params, crpMaxPool(path));
      x = add(x, path);
    }
    return x;
  }
}

/**
 * The original RefineNet block: per input path 2 RCUs (at the path's width) → MRF to the smallest
 * width and the largest resolution (only with more than one path) → CRP (3×3) → 1 RCU.
 */
export class RefineNetBlock {
  readonly paths: ResidualConvUnit[][];
  readonly fusion: MultiResolutionFusion | undefined;
  readonly pooling: ChainedResidualPooling;
  readonly output: ResidualConvUnit;
  readonly outChannels: number;

  constructor(params: ParamStore, readonly name: string, readonly inputs: readonly number[], options: { crpStages?: number } = {}) {
    if (inputs.length < 1) throw new NbfError(`${name}: a RefineNet block needs at least one input path`);
    this.paths = inputs.map((c, p) => [1, 2].map((r) => new ResidualConvUnit(params, `${name}/path${p + 1}/rcu${r}`, c)));
    this.fusion = inputs.length > 1 ? new MultiResolutionFusion(params, `${name}/mrf`, inputs) : undefined;
    this.outChannels = Math.min(...inputs);
    this.pooling = new ChainedResidualPooling(params, `${name}/crp`, this.outChannels, { stages: options.crpStages, kernelSize: 3 });
    this.output = new ResidualConvUnit(params, `${name}/out`, this.outChannels);
  }

  apply(params: ParamRecord, xs: readonly Tensor[]): Tensor {
    if (xs.length !== this.inputs.length) throw new NbfError(`${this.name}: expected ${this.inputs.length} input paths, got ${xs.length}`);
    const refined = xs.map((x, p) => this.paths[p].reduce((y, rcu) => rcu.apply(params, y), x));
    const fused = this.fusion ? this.fusion.apply(params, refined) : refined[0];
    return this.output.apply(params, this.pooling.apply(params, fused));
  }
}

export interface LightRefineBlockOptions {
  /** Channels of the encoder stage it adapts. */
  inChannels: number;
  /** Width of the block (adapter output, CRP). */
  width: number;
  /** Whether a coarser block's output (with `width` channels) is added. */
  coarser: boolean;
  /** A 1×1 output conv to this many channels (the next finer block's width); none for the finest. */
  outChannels?: number;
  crpStages?: number;
}

/**
 * Light-Weight RefineNet block: x = conv1×1(stage) [+ resize(coarser)] → CRP (1×1 convs) →
 * [conv1×1 to the next block's width]. No RCUs; no biases (as Nekrasov et al.).
 */
export class LightRefineBlock {
  readonly adapter: Conv2dLayer;
  readonly pooling: ChainedResidualPooling;
  readonly output: Conv2dLayer | undefined;
  readonly outChannels: number;

  constructor(params: ParamStore, readonly name: string, readonly options: LightRefineBlockOptions) {
    this.adapter = conv(params, `${name}/adapt`, options.inChannels, options.width, 1, false);
    this.pooling = new ChainedResidualPooling(params, `${name}/crp`, options.width, { stages: options.crpStages, kernelSize: 1 });
    this.output = options.outChannels === undefined ? undefined
      : conv(params, `${name}/out`, options.width, options.outChannels, 1, false);
    this.outChannels = options.outChannels ?? options.width;
  }

  apply(params: ParamRecord, stage: Tensor, coarser?: Tensor): Tensor {
    if (this.options.coarser !== (coarser !== undefined)) {
      throw new NbfError(`${this.name}: ${this.options.coarser ? 'needs' : 'takes no'} coarser input`);
    }
    let x = this.adapter.apply(params, stage);
    if (coarser) {
      checkChannels(coarser, this.options.width, `${this.name} coarser input`);
      if (coarser.shape[0] !== x.shape[0]) throw new ShapeError(`${this.name}: batch of the coarser input ${describe(coarser.shape)} differs from ${describe(stage.shape)}`);
      const [H, W] = [x.shape[1], x.shape[2]];
      x = add(x, coarser.shape[1] === H && coarser.shape[2] === W ? coarser : resizeBilinear(coarser, [H, W]));
    }
    x = this.pooling.apply(params, x);
    return this.output ? this.output.apply(params, x) : x;
  }
}

// ─── Decoders ──────────────────────────────────────────────────────────────────────────────────

export type DecoderKind = 'refinenet' | 'light';

export interface DecoderConfig {
  kind: DecoderKind;
  /** Width per encoder stage, finest first (the paper: 256, 256, 256 and 512 for the coarsest). */
  widths: readonly number[];
  /** Pool → conv stages of every CRP (NBF: 4). */
  crpStages: number;
}

/** Encoder stage outputs (finest first) → a feature map at the finest stage's resolution. */
export interface SegmentationDecoder {
  readonly outChannels: number;
  apply(params: ParamRecord, features: readonly Tensor[]): Tensor;
}

function checkFeatures(features: readonly Tensor[], channels: readonly number[], what: string): void {
  if (features.length !== channels.length) throw new NbfError(`${what}: expected ${channels.length} encoder stages, got ${features.length}`);
  features.forEach((f, i) => checkChannels(f, channels[i], `${what} stage ${i + 1}`));
}

/** 4-cascaded RefineNet: 3×3 adapters, then RefineNetBlocks from the coarsest stage down. */
export class RefineNetDecoder implements SegmentationDecoder {
  readonly adapters: Conv2dLayer[];
  /** blocks[i] refines stage i (finest first). */
  readonly blocks: RefineNetBlock[];
  readonly outChannels: number;

  constructor(params: ParamStore, readonly name: string, readonly stageChannels: readonly number[], config: DecoderConfig) {
    const L = stageChannels.length;
    this.adapters = stageChannels.map((c, i) => conv(params, `${name}/adapt${i + 1}`, c, config.widths[i], 3, true));
    const blocks: RefineNetBlock[] = new Array(L);
    for (let i = L - 1; i >= 0; i--) {
      const inputs = i === L - 1 ? [config.widths[i]] : [config.widths[i], blocks[i + 1].outChannels];
      blocks[i] = new RefineNetBlock(params, `${name}/block${i + 1}`, inputs, { crpStages: config.crpStages });
    }
    this.blocks = blocks;
    this.outChannels = blocks[0].outChannels;
  }

  apply(params: ParamRecord, features: readonly Tensor[]): Tensor {
    checkFeatures(features, this.stageChannels, this.name);
    let y: Tensor | undefined;
    for (let i = features.length - 1; i >= 0; i--) {
      const adapted = this.adapters[i].apply(params, features[i]);
      y = this.blocks[i].apply(params, y ? [adapted, y] : [adapted]);
    }
    return y!;
  }
}

/** Light-Weight RefineNet: LightRefineBlocks from the coarsest stage down. */
export class LightRefineNetDecoder implements SegmentationDecoder {
  /** blocks[i] refines stage i (finest first). */
  readonly blocks: LightRefineBlock[];
  readonly outChannels: number;

  constructor(params: ParamStore, readonly name: string, readonly stageChannels: readonly number[], config: DecoderConfig) {
    const L = stageChannels.length;
    this.blocks = stageChannels.map((c, i) => new LightRefineBlock(params, `${name}/block${i + 1}`, {
      inChannels: c, width: config.widths[i], coarser: i < L - 1, outChannels: i > 0 ? config.widths[i - 1] : undefined, crpStages: config.crpStages,
    }));
    this.outChannels = this.blocks[0].outChannels;
  }

  apply(params: ParamRecord, features: readonly Tensor[]): Tensor {
    checkFeatures(features, this.stageChannels, this.name);
    let y: Tensor | undefined;
    for (let i = features.length - 1; i >= 0; i--) y = this.blocks[i].apply(params, features[i], y);
    return y!;
  }
}

// ─── Configurations ────────────────────────────────────────────────────────────────────────────

export interface SegmenterConfig {
  /** A name for reports ("compact", "paper", …). */
  name: string;
  /** Side of the square pictures it is trained at (a multiple of the encoder's stride, 32). */
  inputSize: number;
  /** Output classes (NBF: 13, background + 12 parts). */
  classes: number;
  encoder: ResNetConfig;
  decoder: DecoderConfig;
  /**
   * What it reads beside the picture (absent or 'rgb': the picture alone; encoder.inputChannels 3).
   * 'rgb+landmarks': also a landmark detector's 24 joint heatmaps (nn/landmark-heatmaps.ts, the
   * landmark fitter's input at the segmenter's size: BlazePose's 18 joints, each scaled by its
   * visibility; all zero where no person was found), concatenated after the picture's 3 channels
   * (encoder.inputChannels 27). Where the arms and legs are and which is left comes from a network
   * trained on photos; the segmenter keeps the outline and the part boundaries.
   */
  input?: SegmenterInput;
}

export const SEGMENTER_INPUTS = ['rgb', 'rgb+landmarks'] as const;
export type SegmenterInput = (typeof SEGMENTER_INPUTS)[number];
/** Heatmap channels of the 'rgb+landmarks' input (the body model's 24 joints; 6 of them always zero). */
export const SEGMENTER_LANDMARK_CHANNELS = 24;

/** Whether a configuration reads landmark heatmaps beside the picture. */
export function segmenterReadsLandmarks(config: { input?: SegmenterInput }): boolean {
  return config.input === 'rgb+landmarks';
}

/** The encoder's input channels for an input kind: 3, or 27 with the landmark heatmaps. */
export function segmenterInputChannels(input: SegmenterInput = 'rgb'): number {
  return input === 'rgb+landmarks' ? 3 + SEGMENTER_LANDMARK_CHANNELS : 3;
}

export const SEGMENTER_CONFIGS = {
  /**
   * NBF's: 4-cascaded RefineNet on ResNet-101 at 512², decoder widths 512 (coarsest) and 256,
   * logits at 1/4 (128²) resized to 512². Not trained here.
   */
  paper: {
    name: 'paper', inputSize: 512, classes: SEGMENTER_CLASSES,
    encoder: { ...RESNET_CONFIGS.resnet101, batchNorm: { epsilon: 1e-3 } },
    decoder: { kind: 'refinenet', widths: [256, 256, 256, 512], crpStages: 4 },
  },
  /**
   * Ours: Light-Weight RefineNet (width 64) on a narrow ResNet-10 of basic blocks (the compact
   * fitter's encoder, but a 3×3 stride-2 stem before the 2×2 max-pool: stages at 1/4 … 1/32).
   */
  compact: {
    name: 'compact', inputSize: 128, classes: SEGMENTER_CLASSES,
    encoder: { block: 'basic', blocks: [1, 1, 1, 1], widths: [32, 64, 128, 256], inputChannels: 3, stemChannels: 32, stemKernel: 3, stemStride: 2, stemPool: 2, batchNorm: { epsilon: 1e-3 } },
    decoder: { kind: 'light', widths: [64, 64, 64, 64], crpStages: 4 },
  },
} as const satisfies Record<string, SegmenterConfig>;

export type SegmenterConfigName = keyof typeof SEGMENTER_CONFIGS;

/** Checks a configuration, naming the first bad field. */
export function checkSegmenterConfig(c: SegmenterConfig, what = 'segmenter config'): void {
  if (!c || typeof c !== 'object') throw new NbfError(`${what}: not an object`);
  if (typeof c.name !== 'string') throw new NbfError(`${what}: name must be a string`);
  if (!Number.isInteger(c.classes) || c.classes < 2 || c.classes > 256) throw new NbfError(`${what}: classes must be an integer in 2..256, got ${c.classes}`);
  if (!c.encoder || typeof c.encoder !== 'object') throw new NbfError(`${what}: encoder must be a ResNet configuration`);
  checkResNetConfig(c.encoder, `${what}: encoder`);
  if (c.input !== undefined && !(SEGMENTER_INPUTS as readonly string[]).includes(c.input)) {
    throw new NbfError(`${what}: input must be one of ${SEGMENTER_INPUTS.join(', ')}, got ${JSON.stringify(c.input)}`);
  }
  const channels = segmenterInputChannels(c.input);
  if (c.encoder.inputChannels !== channels) {
    throw new NbfError(`${what}: input "${c.input ?? 'rgb'}" needs encoder.inputChannels ${channels}${channels === 3 ? ' (RGB pictures)' : ' (RGB + 24 landmark heatmaps)'}, got ${c.encoder.inputChannels}`);
  }
  const stride = resnetStride(c.encoder);
  if (!Number.isInteger(c.inputSize) || c.inputSize < stride || c.inputSize > 2048 || c.inputSize % stride !== 0) {
    throw new NbfError(`${what}: inputSize must be a multiple of the encoder's stride ${stride} in ${stride}..2048, got ${c.inputSize}`);
  }
  const d = c.decoder;
  if (!d || typeof d !== 'object') throw new NbfError(`${what}: decoder must be an object`);
  if (d.kind !== 'refinenet' && d.kind !== 'light') throw new NbfError(`${what}: decoder.kind must be 'refinenet' or 'light', got ${JSON.stringify(d.kind)}`);
  if (!Array.isArray(d.widths) || d.widths.length !== c.encoder.blocks.length) {
    throw new NbfError(`${what}: decoder.widths (${Array.isArray(d.widths) ? d.widths.length : String(d.widths)}) must have one entry per encoder stage (${c.encoder.blocks.length})`);
  }
  d.widths.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 1 || w > 4096) throw new NbfError(`${what}: decoder.widths[${i}] must be an integer in 1..4096, got ${w}`);
  });
  if (!Number.isInteger(d.crpStages) || d.crpStages < 1 || d.crpStages > 8) throw new NbfError(`${what}: decoder.crpStages must be an integer in 1..8, got ${d.crpStages}`);
}

/**
 * A configuration reading another input: `input` set ('rgb' leaves the field out, as every
 * configuration before inputs did) and the encoder's input channels following it.
 */
export function segmenterConfigWithInput(config: SegmenterConfig, input: SegmenterInput): SegmenterConfig {
  const { input: _previous, ...rest } = structuredClone(config) as SegmenterConfig;
  return { ...rest, ...(input === 'rgb' ? {} : { input }), encoder: { ...rest.encoder, inputChannels: segmenterInputChannels(input) } };
}

/**
 * Looks a named configuration up ("compact", "paper"), optionally at another input size or reading
 * another input (the encoder's input channels follow it).
 */
export function segmenterConfig(name: string, overrides: { inputSize?: number; input?: SegmenterInput } = {}): SegmenterConfig {
  const c = (SEGMENTER_CONFIGS as Record<string, SegmenterConfig>)[name];
  if (!c) throw new NbfError(`unknown segmenter configuration "${name}" (known: ${Object.keys(SEGMENTER_CONFIGS).join(', ')})`);
  const { input, ...sized } = overrides;
  let config = { ...(structuredClone(c) as SegmenterConfig), ...sized };
  if (input !== undefined) config = segmenterConfigWithInput(config, input);
  checkSegmenterConfig(config, `segmenter "${name}"`);
  return config;
}

// ─── Network ───────────────────────────────────────────────────────────────────────────────────

export class SegmenterNetwork {
  readonly config: SegmenterConfig;
  /** Trainable parameters. */
  readonly params: ParamStore;
  /** Batch-norm running averages of the encoder. */
  readonly buffers: ParamStore;
  readonly encoder: ResNet;
  readonly decoder: SegmentationDecoder;
  readonly head: Conv2dLayer;
  /** Input to encoder stride (32). */
  readonly stride: number;

  constructor(readonly runtime: Runtime, config: SegmenterConfig, options: { seed?: number } = {}) {
    checkSegmenterConfig(config);
    this.config = structuredClone(config) as SegmenterConfig;
    this.stride = resnetStride(config.encoder);
    this.params = new ParamStore(runtime, { seed: options.seed ?? 0 });
    this.buffers = new ParamStore(runtime, { seed: options.seed ?? 0 });
    try {
      this.encoder = new ResNet(this.params, this.buffers, config.encoder, 'encoder/');
      const stages = this.encoder.stageChannels;
      this.decoder = config.decoder.kind === 'refinenet'
        ? new RefineNetDecoder(this.params, 'decoder', stages, config.decoder)
        : new LightRefineNetDecoder(this.params, 'decoder', stages, config.decoder);
      this.head = conv(this.params, 'head', this.decoder.outChannels, config.classes, 3, true);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Whether it reads landmark heatmaps beside the picture (config.input 'rgb+landmarks'). */
  get readsLandmarks(): boolean {
    return segmenterReadsLandmarks(this.config);
  }

  /**
   * images [N, H, W, 3] RGB in [0, 1] (H, W multiples of the stride) → logits [N, H, W, classes].
   * A network that reads landmarks takes them as `landmarks` [N, H, W, 24] (nn/landmark-heatmaps.ts;
   * omitted: none found, all zero); one that does not refuses them.
   * At inference (training false) the encoder runs with batch norm folded into its convolutions
   * when `params` is this network's own record (ResNetForwardOptions); `{ folded: false }` runs the
   * plain path.
   */
  forward(params: ParamRecord, images: Tensor, training: boolean, options: { folded?: boolean; landmarks?: Tensor } = {}): Tensor {
    if (images.rank !== 4 || images.shape[3] !== 3) throw new ShapeError(`segmenter "${this.config.name}": pictures must be [N, H, W, 3], got ${describe(images.shape)}`);
    const [N, H, W] = images.shape;
    if (H % this.stride !== 0 || W % this.stride !== 0) {
      throw new ShapeError(`segmenter "${this.config.name}": picture height and width must be multiples of ${this.stride}, got ${describe(images.shape)}`);
    }
    const picture = addScalar(mulScalar(images, SEGMENTER_INPUT_SCALE), SEGMENTER_INPUT_OFFSET);
    let x = picture;
    if (this.readsLandmarks) {
      const L = SEGMENTER_LANDMARK_CHANNELS;
      const heat = options.landmarks ?? this.runtime.fill([N, H, W, L], 0);
      if (heat.rank !== 4 || heat.shape[0] !== N || heat.shape[1] !== H || heat.shape[2] !== W || heat.shape[3] !== L) {
        throw new ShapeError(`segmenter "${this.config.name}": landmark heatmaps must be [${N}, ${H}, ${W}, ${L}] for pictures ${describe(images.shape)}, got ${describe(heat.shape)}`);
      }
      x = concat([picture, heat], 3);
    } else if (options.landmarks) {
      throw new NbfError(`segmenter "${this.config.name}" reads the picture alone (input "rgb"); it was given landmark heatmaps`);
    }
    const features = this.encoder.forwardFeatures(params, x, training, { foldBatchNorm: !training && (options.folded ?? true) });
    const logits = this.head.apply(params, this.decoder.apply(params, features));
    return resizeBilinear(logits, [H, W]);
  }

  /**
   * Logits [N, H, W, classes] at inference with this network's own parameters (`landmarks` as
   * forward's). `mirror`: the network also reads the mirrored picture (and mirrored joints), in
   * the same batch, and the answer is the mean of both looks' logits, the second mirrored back with
   * the twin parts swapped — a test-time augmentation: the network was trained on bodies facing
   * every way, and two looks at a limb disagree less often than one is wrong (docs/segmenter.md).
   */
  inferLogits(images: Tensor, landmarks?: Tensor, options: { mirror?: boolean } = {}): Tensor {
    const record = this.params.toRecord();
    if (!options.mirror) return this.forward(record, images, false, { landmarks });
    if (this.config.classes !== NBF_PARTS.length) throw new NbfError(`segmenter "${this.config.name}": mirroring needs NBF's ${NBF_PARTS.length} classes (their sides), it has ${this.config.classes}`);
    return this.runtime.scope(() => {
      const N = images.shape[0];
      const both = concat([images, mirrorWidth(images)], 0);
      const heat = landmarks && this.readsLandmarks ? concat([landmarks, mirrorWidth(landmarks, SMPL_MIRRORED_JOINTS)], 0) : landmarks;
      const logits = this.forward(record, both, false, { landmarks: heat });
      const direct = slice(logits, [0, 0, 0, 0], [N, -1, -1, -1]);
      const mirroredBack = mirrorWidth(slice(logits, [N, 0, 0, 0], [N, -1, -1, -1]), NBF_MIRRORED_PARTS);
      return mulScalar(add(direct, mirroredBack), 0.5);
    });
  }

  /**
   * Labels [N, H, W, 1] (argmax of the logits) with this network's own parameters, at inference
   * (`landmarks` and `mirror` as inferLogits').
   */
  predict(images: Tensor, landmarks?: Tensor, options: { mirror?: boolean } = {}): Tensor {
    return this.runtime.scope(() => predictLabels(this.inferLogits(images, landmarks, options)));
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

// ─── Loss and read-out ─────────────────────────────────────────────────────────────────────────

export interface SegmenterLossOptions {
  /** One weight per class (≥ 0, finite, not all 0): Σ w_y·ℓ / Σ w_y over the labelled pixels. */
  classWeights?: ArrayLike<number>;
}

function checkLabels(logits: Tensor, labels: Tensor, what: string): void {
  if (logits.rank !== 4) throw new ShapeError(`${what}: logits must be [N, H, W, classes], got ${describe(logits.shape)}`);
  const [N, H, W] = logits.shape;
  const ok = (labels.rank === 4 && labels.shape[3] === 1) || labels.rank === 3;
  if (!ok || labels.shape[0] !== N || labels.shape[1] !== H || labels.shape[2] !== W) {
    throw new ShapeError(`${what}: labels must be [${N}, ${H}, ${W}, 1] (or [${N}, ${H}, ${W}]) for logits ${describe(logits.shape)}, got ${describe(labels.shape)}`);
  }
}

/**
 * Per-pixel weights [P, 1] (P = labels.size) = classWeights[label], 0 for labels outside
 * [0, classes). Not differentiable (labels and weights get no gradient): one table lookup per pixel.
 */
export function pixelClassWeights(labels: Tensor, classWeights: ArrayLike<number>): Tensor {
  return labels.runtime.scope(() => tableLookup(reshapeKernel(labels, [labels.size, 1]), classWeights));
}

/**
 * Mean per-pixel softmax cross-entropy of logits [N, H, W, K] against labels [N, H, W, 1] (class
 * indices 0..K−1 as floats; any other value is ignored: neither loss nor count). With class weights:
 * Σ_p w_{y_p}·ℓ_p / Σ_p w_{y_p}. A scalar []; differentiable in the logits.
 */
export function segmenterLoss(logits: Tensor, labels: Tensor, options: SegmenterLossOptions = {}): Tensor {
  checkLabels(logits, labels, 'segmenterLoss');
  const cw = options.classWeights;
  if (!cw) return softmaxCrossEntropy(logits, labels);
  const K = logits.shape[3];
  if (cw.length !== K) throw new ShapeError(`segmenterLoss: ${cw.length} class weights for ${K} classes`);
  let positive = false;
  for (let k = 0; k < K; k++) {
    if (!Number.isFinite(cw[k]) || cw[k] < 0) throw new NbfError(`segmenterLoss: class weight ${k} must be finite and ≥ 0, got ${cw[k]}`);
    if (cw[k] > 0) positive = true;
  }
  if (!positive) throw new NbfError('segmenterLoss: every class weight is 0');
  const P = labels.size;
  const weights = pixelClassWeights(labels, cw);
  // One row per pixel, so the loss's per-example weights are per-pixel weights (reshape is a view).
  return softmaxCrossEntropy(reshape(logits, [P, K]), labels, { weights });
}

/** Labels [N, H, W, 1] (class indices as floats) of logits [N, H, W, K]: argmax over classes, ties to the lower. */
export function predictLabels(logits: Tensor): Tensor {
  if (logits.rank !== 4) throw new ShapeError(`predictLabels: logits must be [N, H, W, classes], got ${describe(logits.shape)}`);
  const [N, H, W] = logits.shape;
  const rt = logits.runtime;
  return rt.scope(() => reshapeKernel(argmax(logits, -1), [N, H, W, 1]));
}
