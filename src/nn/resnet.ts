/**
 * ResNet v1 (He et al. 2016) from the trainable layers of layers.ts: basic and bottleneck blocks,
 * batch norm, any widths, depths and input size. One class; each named network is a configuration
 * (RESNET_CONFIGS), the way torchvision writes resnet50 = ResNet(Bottleneck, [3, 4, 6, 3]).
 *
 *   stem     conv k×k stride s (no bias) → batch norm → ReLU → optional max-pool
 *            (ResNet-50 in NBF: 7×7 stride 2, 64 channels, then a 2×2 stride-2 max-pool)
 *   stage i  blocks[i] blocks of width widths[i]; the first block of every stage but the first halves
 *            the resolution (stride 2)
 *   basic    y = ReLU(bn(conv3×3(ReLU(bn(conv3×3 s(x))))) + shortcut(x))            out = width
 *   bottleneck
 *            y = ReLU(bn(conv1×1(ReLU(bn(conv3×3 s(ReLU(bn(conv1×1(x))))))) + shortcut(x))
 *                                                                          out = 4·width
 *            The stride sits on the 3×3 convolution (as TF-slim's resnet_v1, which NBF used, and
 *            torchvision's "v1.5"): a strided 1×1 would skip three pixels of every four.
 *   shortcut x, or bn(conv1×1 stride s (x)) where the stride or the channel count changes
 *   output   the last stage's feature map; `features()` adds the global average pool → [N, C]
 *
 * Convolutions are 'same' (TensorFlow's convention); none has a bias, since the norm's offset makes
 * one redundant. Parameter names: "<prefix>stem/conv/weights", "<prefix>stage2/block1/a/bn/scale", …
 *
 * Inference with `{ foldBatchNorm: true }` (FoldedResNet): every batch norm folded into its
 * convolution, w' = w·γ/√(var+ε) per output channel and bias b' = β − mean·γ/√(var+ε), so a
 * conv → BN → ReLU is one convolution with fused bias and ReLU; the folded weights (and their packed
 * layout, conv2d's cacheWeights) are computed once and kept until a tensor they came from is replaced.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { add, relu } from '../autodiff/grads/elementwise.js';
import { globalAvgPool, maxPool } from '../autodiff/grads/spatial.js';
import { activeTape } from '../autodiff/tape.js';
import { conv2d } from '../kernels/conv2d.js';
import { foldBatchNorm } from '../kernels/batchnorm.js';
import type { ParamStore } from './params.js';
import { BatchNormLayer, Conv2dLayer, requireParam, type BatchNormLayerOptions, type ParamRecord } from './layers.js';

export type BlockKind = 'basic' | 'bottleneck';

export interface ResNetConfig {
  block: BlockKind;
  /** Blocks per stage, e.g. [3, 4, 6, 3] for ResNet-50. */
  blocks: readonly number[];
  /** Width of each stage (a bottleneck stage outputs 4× its width). */
  widths: readonly number[];
  /** Channels of the input images (NHWC). */
  inputChannels: number;
  stemChannels: number;
  stemKernel: number;
  stemStride: number;
  /** Max-pool after the stem: window and stride (0 = none). */
  stemPool: number;
  batchNorm?: BatchNormLayerOptions;
}

/** Named encoders. ResNet-18/34/50/101 as published; "compact" variants are ours. */
export const RESNET_CONFIGS = {
  resnet18: { block: 'basic', blocks: [2, 2, 2, 2], widths: [64, 128, 256, 512], inputChannels: 3, stemChannels: 64, stemKernel: 7, stemStride: 2, stemPool: 2 },
  resnet34: { block: 'basic', blocks: [3, 4, 6, 3], widths: [64, 128, 256, 512], inputChannels: 3, stemChannels: 64, stemKernel: 7, stemStride: 2, stemPool: 2 },
  resnet50: { block: 'bottleneck', blocks: [3, 4, 6, 3], widths: [64, 128, 256, 512], inputChannels: 3, stemChannels: 64, stemKernel: 7, stemStride: 2, stemPool: 2 },
  resnet101: { block: 'bottleneck', blocks: [3, 4, 23, 3], widths: [64, 128, 256, 512], inputChannels: 3, stemChannels: 64, stemKernel: 7, stemStride: 2, stemPool: 2 },
} as const satisfies Record<string, ResNetConfig>;

const EXPANSION: Record<BlockKind, number> = { basic: 1, bottleneck: 4 };

/** A convolution's inference weights with its batch norm folded in (ConvNorm.fold). */
export interface FoldedConv {
  weights: Tensor;
  bias: Tensor;
}

/** conv (no bias) → batch norm, the unit every block is made of. */
export class ConvNorm {
  readonly conv: Conv2dLayer;
  readonly norm: BatchNormLayer;

  constructor(params: ParamStore, private readonly buffers: ParamStore, name: string, inChannels: number, outChannels: number, kernelSize: number, strides: number, bn?: BatchNormLayerOptions) {
    this.conv = new Conv2dLayer(params, `${name}/conv`, { inChannels, outChannels, kernelSize, strides, padding: 'same', bias: false });
    this.norm = new BatchNormLayer(params, buffers, `${name}/bn`, outChannels, bn);
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    return this.norm.apply(params, this.conv.apply(params, x), training);
  }

  /** Names of the trainable parameters the folded form depends on: weights, γ, β. */
  get paramNames(): [string, string, string] {
    return [this.conv.weightName, this.norm.scaleName, this.norm.offsetName];
  }

  /** The tensors the folded form is computed from: weights, γ, β (from `params`), running mean, variance. */
  foldSources(params: ParamRecord): Tensor[] {
    const [w, scale, offset] = this.paramNames.map((n) => requireParam(params, n, this.conv.name));
    return [w, scale, offset, this.buffers.get(this.norm.meanName), this.buffers.get(this.norm.varianceName)];
  }

  /** w·γ/√(var+ε) (per output channel) and β − mean·γ/√(var+ε) from foldSources() (new tensors). */
  fold(sources: readonly Tensor[]): FoldedConv {
    const [w, scale, offset, mean, variance] = sources;
    return foldBatchNorm(w, null, { mean, variance, scale, offset, epsilon: this.norm.epsilon });
  }

  /** Inference through folded weights: one convolution with fused bias, residual (a block's
   *  shortcut, added before the activation) and activation (packed weights cached). */
  applyFolded(folded: FoldedConv, x: Tensor, activation: 'relu' | 'none', residual?: Tensor): Tensor {
    return conv2d(x, folded.weights, { strides: this.conv.strides, padding: this.conv.padding, bias: folded.bias, activation, residual, cacheWeights: true });
  }
}

/**
 * A ResNet's inference weights: every ConvNorm's batch norm folded into its convolution, computed
 * once from one set of parameter and buffer tensors. Tensors are immutable and training or loading
 * replaces them, so it stays valid while those very tensors live, and frees itself as soon as one of
 * them is disposed.
 */
export class FoldedResNet {
  private readonly folded = new Map<ConvNorm, FoldedConv>();
  private readonly sources: Tensor[] = [];
  private readonly cancels: (() => void)[] = [];
  private released = false;

  constructor(runtime: Runtime, units: readonly ConvNorm[], params: ParamRecord) {
    try {
      for (const unit of units) {
        const sources = unit.foldSources(params);
        const f = runtime.scope(() => unit.fold(sources));
        this.folded.set(unit, { weights: runtime.keep(f.weights), bias: runtime.keep(f.bias) });
        this.sources.push(...sources);
      }
      for (const t of new Set(this.sources)) this.cancels.push(runtime.onDispose(t, () => this.release()));
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Whether it was built from exactly these tensors (in ResNet's unit order) and is still alive. */
  matches(sources: readonly Tensor[]): boolean {
    return !this.released && sources.length === this.sources.length && sources.every((t, i) => t === this.sources[i]);
  }

  get(unit: ConvNorm): FoldedConv {
    const f = this.folded.get(unit);
    if (!f || this.released) throw new NbfError('FoldedResNet: no folded weights for this unit (released, or another network\'s)');
    return f;
  }

  /** Frees the folded weights (and, through their disposal, their cached packed forms). Safe twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    for (const cancel of this.cancels) cancel();
    this.cancels.length = 0;
    for (const f of this.folded.values()) {
      f.weights.dispose();
      f.bias.dispose();
    }
    this.folded.clear();
  }
}

export interface ResidualBlock {
  readonly outChannels: number;
  /** Every ConvNorm of the block (the folded inference path folds each). */
  readonly units: readonly ConvNorm[];
  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor;
  /** Inference with batch norm folded into the convolutions. */
  applyFolded(folded: FoldedResNet, x: Tensor): Tensor;
}

function shortcut(params: ParamStore, buffers: ParamStore, name: string, inChannels: number, outChannels: number, strides: number, bn?: BatchNormLayerOptions): ConvNorm | undefined {
  return strides !== 1 || inChannels !== outChannels ? new ConvNorm(params, buffers, `${name}/shortcut`, inChannels, outChannels, 1, strides, bn) : undefined;
}

export class BasicBlock implements ResidualBlock {
  readonly first: ConvNorm;
  readonly second: ConvNorm;
  readonly projection: ConvNorm | undefined;
  readonly outChannels: number;

  constructor(params: ParamStore, buffers: ParamStore, name: string, inChannels: number, width: number, strides: number, bn?: BatchNormLayerOptions) {
    this.outChannels = width;
    this.first = new ConvNorm(params, buffers, `${name}/a`, inChannels, width, 3, strides, bn);
    this.second = new ConvNorm(params, buffers, `${name}/b`, width, width, 3, 1, bn);
    this.projection = shortcut(params, buffers, name, inChannels, width, strides, bn);
  }

  get units(): ConvNorm[] {
    return this.projection ? [this.first, this.second, this.projection] : [this.first, this.second];
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    const residual = this.second.apply(params, relu(this.first.apply(params, x, training)), training);
    return relu(add(residual, this.projection ? this.projection.apply(params, x, training) : x));
  }

  applyFolded(folded: FoldedResNet, x: Tensor): Tensor {
    const h = this.first.applyFolded(folded.get(this.first), x, 'relu');
    const shortcut = this.projection ? this.projection.applyFolded(folded.get(this.projection), x, 'none') : x;
    return this.second.applyFolded(folded.get(this.second), h, 'relu', shortcut); // ReLU(conv(h) + shortcut) in one pass
  }
}

export class BottleneckBlock implements ResidualBlock {
  readonly reduce: ConvNorm;
  readonly spatial: ConvNorm;
  readonly expand: ConvNorm;
  readonly projection: ConvNorm | undefined;
  readonly outChannels: number;

  constructor(params: ParamStore, buffers: ParamStore, name: string, inChannels: number, width: number, strides: number, bn?: BatchNormLayerOptions) {
    this.outChannels = width * EXPANSION.bottleneck;
    this.reduce = new ConvNorm(params, buffers, `${name}/a`, inChannels, width, 1, 1, bn);
    this.spatial = new ConvNorm(params, buffers, `${name}/b`, width, width, 3, strides, bn);
    this.expand = new ConvNorm(params, buffers, `${name}/c`, width, this.outChannels, 1, 1, bn);
    this.projection = shortcut(params, buffers, name, inChannels, this.outChannels, strides, bn);
  }

  get units(): ConvNorm[] {
    const main = [this.reduce, this.spatial, this.expand];
    return this.projection ? [...main, this.projection] : main;
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    let y = relu(this.reduce.apply(params, x, training));
    y = relu(this.spatial.apply(params, y, training));
    y = this.expand.apply(params, y, training);
    return relu(add(y, this.projection ? this.projection.apply(params, x, training) : x));
  }

  applyFolded(folded: FoldedResNet, x: Tensor): Tensor {
    let y = this.reduce.applyFolded(folded.get(this.reduce), x, 'relu');
    y = this.spatial.applyFolded(folded.get(this.spatial), y, 'relu');
    const shortcut = this.projection ? this.projection.applyFolded(folded.get(this.projection), x, 'none') : x;
    return this.expand.applyFolded(folded.get(this.expand), y, 'relu', shortcut);
  }
}

/** Checks a configuration, naming the first bad field. */
export function checkResNetConfig(c: ResNetConfig, what = 'ResNet'): void {
  if (c.block !== 'basic' && c.block !== 'bottleneck') throw new NbfError(`${what}: block must be 'basic' or 'bottleneck', got ${JSON.stringify(c.block)}`);
  if (!Array.isArray(c.blocks) || c.blocks.length === 0) throw new NbfError(`${what}: blocks must list at least one stage`);
  if (!Array.isArray(c.widths) || c.widths.length !== c.blocks.length) throw new NbfError(`${what}: widths (${c.widths?.length}) and blocks (${c.blocks.length}) must have one entry per stage`);
  const ints: [string, number, number][] = [
    ['inputChannels', c.inputChannels, 1], ['stemChannels', c.stemChannels, 1], ['stemKernel', c.stemKernel, 1], ['stemStride', c.stemStride, 1], ['stemPool', c.stemPool, 0],
    ...c.blocks.map((b, i) => [`blocks[${i}]`, b, 1] as [string, number, number]),
    ...c.widths.map((w, i) => [`widths[${i}]`, w, 1] as [string, number, number]),
  ];
  for (const [name, v, min] of ints) {
    if (!Number.isInteger(v) || v < min) throw new NbfError(`${what}: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
}

/** Spatial downsampling from the input to the last stage's feature map. */
export function resnetStride(c: ResNetConfig): number {
  return c.stemStride * Math.max(1, c.stemPool) * 2 ** (c.blocks.length - 1);
}

export interface ResNetForwardOptions {
  /**
   * At inference (training = false), run with every batch norm folded into its convolution
   * (FoldedResNet, cached in the network). Used only when `params` holds the parameter store's own
   * tensors and no tape is recording (the fold is not differentiable); otherwise the unfolded path
   * runs. The cache holds a copy of the weights until a parameter or buffer it came from is
   * replaced or disposed, or releaseInference(). Default false.
   */
  foldBatchNorm?: boolean;
}

export class ResNet {
  readonly config: ResNetConfig;
  readonly outChannels: number;
  private readonly stem: ConvNorm;
  private readonly stages: ResidualBlock[][] = [];
  private inference: FoldedResNet | undefined;

  /** Creates the parameters in `params` (trainable) and `buffers` (running averages), names prefixed. */
  constructor(private readonly params: ParamStore, buffers: ParamStore, config: ResNetConfig, prefix = '') {
    checkResNetConfig(config);
    this.config = { ...config, blocks: [...config.blocks], widths: [...config.widths] };
    const bn = config.batchNorm;
    this.stem = new ConvNorm(params, buffers, `${prefix}stem`, config.inputChannels, config.stemChannels, config.stemKernel, config.stemStride, bn);
    let channels = config.stemChannels;
    config.blocks.forEach((count, s) => {
      const stage: ResidualBlock[] = [];
      for (let b = 0; b < count; b++) {
        const strides = s > 0 && b === 0 ? 2 : 1;
        const name = `${prefix}stage${s + 1}/block${b + 1}`;
        const block = config.block === 'basic'
          ? new BasicBlock(params, buffers, name, channels, config.widths[s], strides, bn)
          : new BottleneckBlock(params, buffers, name, channels, config.widths[s], strides, bn);
        stage.push(block);
        channels = block.outChannels;
      }
      this.stages.push(stage);
    });
    this.outChannels = channels;
  }

  /** images [N, H, W, inputChannels] → the last stage's features [N, H/stride, W/stride, outChannels]. */
  forward(params: ParamRecord, images: Tensor, training: boolean, options: ResNetForwardOptions = {}): Tensor {
    const stages = this.forwardFeatures(params, images, training, options);
    return stages[stages.length - 1];
  }

  /**
   * Every stage's output, finest first (what a segmentation decoder reads: stage i at
   * stemStride·stemPool·2^i of the input); the last is forward()'s result.
   */
  forwardFeatures(params: ParamRecord, images: Tensor, training: boolean, options: ResNetForwardOptions = {}): Tensor[] {
    if (images.rank !== 4 || images.shape[3] !== this.config.inputChannels) {
      throw new ShapeError(`ResNet: images must be [N, H, W, ${this.config.inputChannels}], got [${images.shape.join(', ')}]`);
    }
    if (training && images.shape[0] * images.shape[1] * images.shape[2] < 2) {
      throw new ShapeError(`ResNet: training batch statistics need more than one pixel per batch; got images [${images.shape.join(', ')}]`);
    }
    const folded = !training && options.foldBatchNorm ? this.prepareInference(params) : undefined;
    const pool = this.config.stemPool;
    const outputs: Tensor[] = [];
    if (folded) {
      let y = this.stem.applyFolded(folded.get(this.stem), images, 'relu');
      if (pool > 0) y = maxPool(y, { size: pool, strides: pool, padding: 'same' });
      for (const stage of this.stages) {
        for (const block of stage) y = block.applyFolded(folded, y);
        outputs.push(y);
      }
      return outputs;
    }
    let x = relu(this.stem.apply(params, images, training));
    if (pool > 0) x = maxPool(x, { size: pool, strides: pool, padding: 'same' });
    for (const stage of this.stages) {
      for (const block of stage) x = block.apply(params, x, training);
      outputs.push(x);
    }
    return outputs;
  }

  /** Output channels of each stage, finest first (a bottleneck stage gives 4× its width). */
  get stageChannels(): number[] {
    return this.stages.map((stage) => stage[stage.length - 1].outChannels);
  }

  /** Globally average-pooled features [N, outChannels]. */
  features(params: ParamRecord, images: Tensor, training: boolean, options: ResNetForwardOptions = {}): Tensor {
    return globalAvgPool(this.forward(params, images, training, options));
  }

  /** Every ConvNorm, stem first. */
  get units(): ConvNorm[] {
    return [this.stem, ...this.stages.flatMap((stage) => stage.flatMap((block) => [...block.units]))];
  }

  /** Whether `params` holds the parameter store's own tensors for every parameter the fold reads. */
  isOwnRecord(params: ParamRecord): boolean {
    return this.units.every((u) => u.paramNames.every((n) => params[n] !== undefined && this.params.has(n) && params[n] === this.params.get(n)));
  }

  /**
   * The folded inference weights for `params` (built now, or the cached ones if built from the same
   * tensors); undefined when a tape is recording or `params` is not the store's own record — the
   * folded path does not apply then (see ResNetForwardOptions).
   */
  prepareInference(params: ParamRecord): FoldedResNet | undefined {
    if (activeTape() || !this.isOwnRecord(params)) return undefined;
    const units = this.units;
    const sources = units.flatMap((u) => u.foldSources(params));
    if (this.inference?.matches(sources)) return this.inference;
    this.releaseInference();
    this.inference = new FoldedResNet(this.params.runtime, units, params);
    return this.inference;
  }

  /** Frees the cached folded inference weights now (they also go when a tensor they came from does). */
  releaseInference(): void {
    this.inference?.release();
    this.inference = undefined;
  }
}
