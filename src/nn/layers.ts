/**
 * Trainable layers built from the differentiable ops (src/autodiff/grads/*): convolution, batch
 * normalisation (batch statistics while training, running averages at inference), dense.
 *
 * A layer owns no tensors. At construction it creates its parameters in a ParamStore under
 * `<name>/<part>` names (e.g. "stage2/conv1/weights"); `apply()` takes the parameter tensors as a
 * plain record — the one valueAndGrad hands to the loss function — so the same layer code runs on the
 * tape while training and plainly at inference. Non-trainable state (batch-norm running averages)
 * lives in a second store, `buffers`, which the optimizer never sees but checkpoints can save.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { conv2d, matmul } from '../autodiff/grads/linear.js';
import { batchNormTraining, type RunningStats } from '../autodiff/grads/norm.js';
import { batchNorm } from '../kernels/batchnorm.js';
import type { Conv2dPadding } from '../kernels/conv2d.js';
import type { Activation } from '../kernels/activation.js';
import type { Initializer, ParamStore } from './params.js';

/** Parameter tensors by name, as valueAndGrad passes them (a ParamStore's toRecord() at inference). */
export type ParamRecord = Readonly<Record<string, Tensor>>;

/** Looks a parameter up, naming the layer when the record lacks it (e.g. a model/params mix-up). */
export function requireParam(params: ParamRecord, name: string, layer: string): Tensor {
  const t = params[name];
  if (!t) throw new NbfError(`${layer}: no parameter "${name}" in the record passed to apply() (have ${Object.keys(params).length} parameters)`);
  return t;
}

function checkPositiveInt(value: number, what: string, layer: string): void {
  if (!Number.isInteger(value) || value < 1) throw new NbfError(`${layer}: ${what} must be a positive integer, got ${value}`);
}

export interface Conv2dLayerOptions {
  inChannels: number;
  outChannels: number;
  /** Square kernel side (default 3). */
  kernelSize?: number;
  strides?: number;
  /** Default 'same' (TensorFlow convention, as tfjs). */
  padding?: Conv2dPadding;
  /** Add a bias (default true). Leave it out before a batch norm: the norm's offset cancels it. */
  bias?: boolean;
  /** Fused when nothing is recorded; a separate differentiable op on the tape. */
  activation?: Activation;
  /** Default 'he' (ReLU networks). */
  init?: Initializer;
}

/** conv2d with HWIO weights [k, k, in, out] and an optional bias [out]. */
export class Conv2dLayer {
  readonly weightName: string;
  readonly biasName: string | undefined;
  readonly kernelSize: number;
  readonly strides: number;
  readonly padding: Conv2dPadding;

  constructor(store: ParamStore, readonly name: string, readonly options: Conv2dLayerOptions) {
    this.kernelSize = options.kernelSize ?? 3;
    this.strides = options.strides ?? 1;
    this.padding = options.padding ?? 'same';
    checkPositiveInt(options.inChannels, 'inChannels', name);
    checkPositiveInt(options.outChannels, 'outChannels', name);
    checkPositiveInt(this.kernelSize, 'kernelSize', name);
    checkPositiveInt(this.strides, 'strides', name);
    this.weightName = `${name}/weights`;
    store.create(this.weightName, [this.kernelSize, this.kernelSize, options.inChannels, options.outChannels], options.init ?? 'he');
    this.biasName = options.bias === false ? undefined : `${name}/bias`;
    if (this.biasName) store.create(this.biasName, [options.outChannels], 'zeros');
  }

  apply(params: ParamRecord, x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[3] !== this.options.inChannels) {
      throw new ShapeError(`${this.name}: input must be NHWC with ${this.options.inChannels} channels, got [${x.shape.join(', ')}]`);
    }
    return conv2d(x, requireParam(params, this.weightName, this.name), {
      strides: this.strides,
      padding: this.padding,
      bias: this.biasName ? requireParam(params, this.biasName, this.name) : undefined,
      activation: this.options.activation,
    });
  }
}

export interface BatchNormLayerOptions {
  /** Added to the variance (Keras' default 1e-3). */
  epsilon?: number;
  /** Weight of the old running average per training step (Keras' default 0.99). */
  momentum?: number;
}

/**
 * Batch normalisation over the last dimension with a learnt scale γ ("<name>/scale", ones) and offset
 * β ("<name>/offset", zeros). Training: the batch's own statistics, and the running averages in
 * `buffers` ("<name>/mean", "<name>/variance") move toward them. Inference: the running averages.
 */
export class BatchNormLayer {
  readonly scaleName: string;
  readonly offsetName: string;
  readonly meanName: string;
  readonly varianceName: string;
  readonly epsilon: number;
  readonly momentum: number;

  constructor(store: ParamStore, private readonly buffers: ParamStore, readonly name: string, readonly channels: number, options: BatchNormLayerOptions = {}) {
    checkPositiveInt(channels, 'channels', name);
    this.epsilon = options.epsilon ?? 1e-3;
    this.momentum = options.momentum ?? 0.99;
    this.scaleName = `${name}/scale`;
    this.offsetName = `${name}/offset`;
    this.meanName = `${name}/mean`;
    this.varianceName = `${name}/variance`;
    store.create(this.scaleName, [channels], 'ones');
    store.create(this.offsetName, [channels], 'zeros');
    buffers.create(this.meanName, [channels], 'zeros');
    buffers.create(this.varianceName, [channels], 'ones');
  }

  apply(params: ParamRecord, x: Tensor, training: boolean): Tensor {
    if (x.shape[x.rank - 1] !== this.channels) {
      throw new ShapeError(`${this.name}: input must have ${this.channels} channels last, got [${x.shape.join(', ')}]`);
    }
    const scale = requireParam(params, this.scaleName, this.name);
    const offset = requireParam(params, this.offsetName, this.name);
    if (!training) {
      return batchNorm(x, { mean: this.buffers.get(this.meanName), variance: this.buffers.get(this.varianceName), scale, offset, epsilon: this.epsilon });
    }
    const running: RunningStats = { mean: this.buffers.get(this.meanName), variance: this.buffers.get(this.varianceName) };
    const y = batchNormTraining(x, { scale, offset, epsilon: this.epsilon, momentum: this.momentum, running });
    // batchNormTraining freed the old averages and put new (kept) tensors in `running`; the store's
    // set() takes them over (its dispose of the old tensor is a no-op the second time).
    this.buffers.set(this.meanName, running.mean);
    this.buffers.set(this.varianceName, running.variance);
    return y;
  }
}

export interface DenseLayerOptions {
  inFeatures: number;
  outFeatures: number;
  bias?: boolean;
  activation?: Activation;
  /** Default 'xavier'. */
  init?: Initializer;
}

/** x [..., in] · W [in, out] + b [out]. */
export class DenseLayer {
  readonly weightName: string;
  readonly biasName: string | undefined;

  constructor(store: ParamStore, readonly name: string, readonly options: DenseLayerOptions) {
    checkPositiveInt(options.inFeatures, 'inFeatures', name);
    checkPositiveInt(options.outFeatures, 'outFeatures', name);
    this.weightName = `${name}/weights`;
    store.create(this.weightName, [options.inFeatures, options.outFeatures], options.init ?? 'xavier');
    this.biasName = options.bias === false ? undefined : `${name}/bias`;
    if (this.biasName) store.create(this.biasName, [options.outFeatures], 'zeros');
  }

  /** `cacheWeights`: the weights are a constant parameter; their packed layout is cached (matmul's cacheB). */
  apply(params: ParamRecord, x: Tensor, options: { cacheWeights?: boolean } = {}): Tensor {
    if (x.shape[x.rank - 1] !== this.options.inFeatures) {
      throw new ShapeError(`${this.name}: input must have ${this.options.inFeatures} features last, got [${x.shape.join(', ')}]`);
    }
    return matmul(x, requireParam(params, this.weightName, this.name), {
      bias: this.biasName ? requireParam(params, this.biasName, this.name) : undefined,
      activation: this.options.activation,
      cacheB: options.cacheWeights,
    });
  }
}
