/**
 * A small ResNet (v1, basic blocks) for regression, and one training step with any optimizer.
 *
 *   stem       conv 3×3 (stride `stemStride`, default 2: like ResNet's stem, it halves the input
 *              before the first stage, where most of the arithmetic is) → batch norm → ReLU
 *   stage i    `blocksPerStage` basic blocks of stageChannels[i]; the first block of every stage but
 *              the first halves the resolution (stride 2)
 *   block      y = ReLU(bn2(conv2(ReLU(bn1(conv1(x))))) + shortcut(x)), convs 3×3 'same' without bias
 *              (the norm's offset makes one redundant); shortcut = x, or bn(conv 1×1 stride s (x))
 *              where the stride or the channel count changes
 *   head       global average pool → dense (bias) → `outputs` numbers
 *
 * The default (stages 32/64/128/256, 226 outputs) is the network bench/train.ts times: the fitting
 * network of NBF (ResNet-50 → 226 numbers) shrunk to what a 2-core CPU can train.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { valueAndGrad } from '../autodiff/tape.js';
import { add, relu } from '../autodiff/grads/elementwise.js';
import { globalAvgPool } from '../autodiff/grads/spatial.js';
import { l1Loss } from '../autodiff/grads/losses.js';
import type { Optimizer } from '../optim/optimizers.js';
import { ParamStore } from './params.js';
import { BatchNormLayer, Conv2dLayer, DenseLayer, type BatchNormLayerOptions, type ParamRecord } from './layers.js';

export interface SmallResNetConfig {
  /** Channels of the input images (NHWC). */
  inputChannels: number;
  /** Channels per residual stage (default [32, 64, 128, 256]). */
  stageChannels?: readonly number[];
  /** Channels of the stem convolution (default stageChannels[0]). */
  stemChannels?: number;
  /** Stride of the stem convolution (default 2). */
  stemStride?: number;
  /** Basic blocks per stage (default 1). */
  blocksPerStage?: number;
  /** Numbers the linear head predicts per image. */
  outputs: number;
  /** Seed of the weight initialisers (default 0). */
  seed?: number;
  batchNorm?: BatchNormLayerOptions;
}

/** conv → batch norm, the unit every block is made of. */
class ConvNorm {
  readonly conv: Conv2dLayer;
  readonly norm: BatchNormLayer;

  constructor(params: ParamStore, buffers: ParamStore, name: string, inChannels: number, outChannels: number, kernelSize: number, strides: number, bn?: BatchNormLayerOptions) {
    this.conv = new Conv2dLayer(params, `${name}/conv`, { inChannels, outChannels, kernelSize, strides, padding: 'same', bias: false });
    this.norm = new BatchNormLayer(params, buffers, `${name}/bn`, outChannels, bn);
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    return this.norm.apply(params, this.conv.apply(params, x), training);
  }
}

class BasicBlock {
  readonly first: ConvNorm;
  readonly second: ConvNorm;
  readonly projection: ConvNorm | undefined;

  constructor(params: ParamStore, buffers: ParamStore, name: string, inChannels: number, outChannels: number, strides: number, bn?: BatchNormLayerOptions) {
    this.first = new ConvNorm(params, buffers, `${name}/a`, inChannels, outChannels, 3, strides, bn);
    this.second = new ConvNorm(params, buffers, `${name}/b`, outChannels, outChannels, 3, 1, bn);
    this.projection = strides !== 1 || inChannels !== outChannels
      ? new ConvNorm(params, buffers, `${name}/shortcut`, inChannels, outChannels, 1, strides, bn)
      : undefined;
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    const residual = this.second.apply(params, relu(this.first.apply(params, x, training)), training);
    const shortcut = this.projection ? this.projection.apply(params, x, training) : x;
    return relu(add(residual, shortcut));
  }
}

export class SmallResNet {
  /** Trainable parameters (what valueAndGrad and the optimizer see). */
  readonly params: ParamStore;
  /** Batch-norm running averages (updated by training forward passes, used at inference). */
  readonly buffers: ParamStore;
  readonly config: Required<Omit<SmallResNetConfig, 'batchNorm'>> & { batchNorm: BatchNormLayerOptions };
  private readonly stem: ConvNorm;
  private readonly blocks: BasicBlock[] = [];
  private readonly head: DenseLayer;

  constructor(readonly runtime: Runtime, config: SmallResNetConfig) {
    const stageChannels = [...(config.stageChannels ?? [32, 64, 128, 256])];
    if (stageChannels.length === 0) throw new NbfError('SmallResNet: stageChannels must list at least one stage');
    this.config = {
      inputChannels: config.inputChannels,
      stageChannels,
      stemChannels: config.stemChannels ?? stageChannels[0],
      stemStride: config.stemStride ?? 2,
      blocksPerStage: config.blocksPerStage ?? 1,
      outputs: config.outputs,
      seed: config.seed ?? 0,
      batchNorm: config.batchNorm ?? {},
    };
    const c = this.config;
    for (const [what, v] of [['inputChannels', c.inputChannels], ['stemChannels', c.stemChannels], ['stemStride', c.stemStride], ['blocksPerStage', c.blocksPerStage], ['outputs', c.outputs], ...stageChannels.map((s, i) => [`stageChannels[${i}]`, s] as const)] as const) {
      if (!Number.isInteger(v) || v < 1) throw new NbfError(`SmallResNet: ${what} must be a positive integer, got ${v}`);
    }
    this.params = new ParamStore(runtime, { seed: c.seed });
    this.buffers = new ParamStore(runtime, { seed: c.seed });
    try {
      this.stem = new ConvNorm(this.params, this.buffers, 'stem', c.inputChannels, c.stemChannels, 3, c.stemStride, c.batchNorm);
      let channels = c.stemChannels;
      stageChannels.forEach((stageOut, s) => {
        for (let b = 0; b < c.blocksPerStage; b++) {
          const strides = s > 0 && b === 0 ? 2 : 1;
          this.blocks.push(new BasicBlock(this.params, this.buffers, `stage${s + 1}/block${b + 1}`, channels, stageOut, strides, c.batchNorm));
          channels = stageOut;
        }
      });
      this.head = new DenseLayer(this.params, 'head', { inFeatures: channels, outFeatures: c.outputs });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * images [N, H, W, inputChannels] → [N, outputs]. `params` is the record valueAndGrad passes (or
   * `this.params.toRecord()`); `training` picks batch statistics (and updates the running averages)
   * over the running averages.
   */
  forward(params: ParamRecord, images: Tensor, options: { training: boolean }): Tensor {
    if (images.rank !== 4 || images.shape[3] !== this.config.inputChannels) {
      throw new ShapeError(`SmallResNet: images must be [N, H, W, ${this.config.inputChannels}], got [${images.shape.join(', ')}]`);
    }
    if (options.training && images.shape[0] * images.shape[1] * images.shape[2] < 2) {
      throw new ShapeError(`SmallResNet: training batch statistics need more than one pixel per batch; got images [${images.shape.join(', ')}]`);
    }
    let x = relu(this.stem.apply(params, images, options.training));
    for (const block of this.blocks) x = block.apply(params, x, options.training);
    return this.head.apply(params, globalAvgPool(x));
  }

  /** Inference with the running averages; the caller owns the result. */
  predict(images: Tensor): Tensor {
    return this.runtime.scope(() => this.forward(this.params.toRecord(), images, { training: false }));
  }

  /** Frees parameters and buffers. */
  dispose(): void {
    this.params.dispose();
    this.buffers.dispose();
  }
}

export type LossFn = (prediction: Tensor, target: Tensor) => Tensor;

/**
 * One optimisation step: loss(model(images), targets) on the tape, gradients, optimizer update of
 * model.params. Returns the loss before the update (a scalar the caller owns and may read back, or
 * dispose unread to keep the GPU queue full). Default loss: L1, as NBF.
 */
export function trainStep(model: SmallResNet, optimizer: Optimizer, images: Tensor, targets: Tensor, loss: LossFn = l1Loss): Tensor {
  const { value, grads } = valueAndGrad((params: ParamRecord) => loss(model.forward(params, images, { training: true }), targets))(model.params.toRecord());
  try {
    optimizer.step(model.params, grads);
  } catch (e) {
    value.dispose();
    throw e;
  } finally {
    for (const g of Object.values(grads)) g.dispose();
  }
  return value;
}
