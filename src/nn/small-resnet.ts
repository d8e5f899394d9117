/**
 * A small ResNet (v1, basic blocks; resnet.ts) for regression, and one training step with any optimizer.
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
import { l1Loss } from '../autodiff/grads/losses.js';
import type { Optimizer } from '../optim/optimizers.js';
import { ParamStore } from './params.js';
import { DenseLayer, type BatchNormLayerOptions, type ParamRecord } from './layers.js';
import { ResNet } from './resnet.js';

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

export class SmallResNet {
  /** Trainable parameters (what valueAndGrad and the optimizer see). */
  readonly params: ParamStore;
  /** Batch-norm running averages (updated by training forward passes, used at inference). */
  readonly buffers: ParamStore;
  readonly config: Required<Omit<SmallResNetConfig, 'batchNorm'>> & { batchNorm: BatchNormLayerOptions };
  private readonly encoder: ResNet;
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
      this.encoder = new ResNet(this.params, this.buffers, {
        block: 'basic', blocks: stageChannels.map(() => c.blocksPerStage), widths: stageChannels, inputChannels: c.inputChannels,
        stemChannels: c.stemChannels, stemKernel: 3, stemStride: c.stemStride, stemPool: 0, batchNorm: c.batchNorm,
      });
      const channels = this.encoder.outChannels;
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
    return this.head.apply(params, this.encoder.features(params, images, options.training));
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
