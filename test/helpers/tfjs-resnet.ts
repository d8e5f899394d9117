/**
 * The fitting network of src/nn/fitter.ts (ResNet encoder of src/nn/resnet.ts + dense head + the
 * "mean/latent" buffer) written independently with TensorFlow.js ops, for the agreement test
 * (test/fitter-tfjs.test.ts) and the fitter benchmark (bench/fitter.ts). It is built from our
 * parameter and buffer values (FitterNetwork.params.readAll(), .buffers.readAll()), by our names:
 *
 *   encoder/stem/conv/weights                         HWIO, k×k stride s 'same', no bias
 *   encoder/stem/bn/scale|offset   (+ buffers …/bn/mean|variance)
 *   encoder/stage<S>/block<B>/{a,b[,c]}/conv/weights, …/bn/…   basic: a, b (3×3, stride on a);
 *                                                     bottleneck: a 1×1, b 3×3 (stride), c 1×1 (4·w)
 *   encoder/stage<S>/block<B>/shortcut/conv/weights, …/bn/…    where the stride or channels change
 *   head/weights [C, L], head/bias [L]; buffer mean/latent [L]
 *
 *   stem     conv → BN → ReLU → optional max-pool (window = stride = stemPool, 'same')
 *   block    ReLU(residual + shortcut); first block of every stage but the first has stride 2
 *   output   global average pool → dense → + mean/latent = latent [N, L]
 *
 * Inference (predict): tf.batchNorm with the running averages. Training (trainStep): batch
 * statistics (biased variance to normalise), the running averages moved as ours do
 * (μ_r ← m·μ_r + (1−m)·μ, σ²_r ← m·σ²_r + (1−m)·σ²·n/(n−1)), L1 loss on the latent, Adam written
 * out (the maths of shaders/optim_adam.glsl) with optional decoupled weight decay (AdamW).
 * There is no body model here (tfjs has none): the training comparison uses the L1-latent loss only.
 *
 * The encoder, batch norm, running averages, gradients and Adam live in TfjsResNetModel, which the
 * segmenter's twin (tfjs-refinenet.ts) shares; TfjsResNetFitter adds the pool and dense head.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { ResNetConfig } from '../../src/nn/resnet.js';
import type { AdamSettings, Tf } from './tfjs-small-resnet.js';

export { tfjsOnContext, type Tf, type AdamSettings } from './tfjs-small-resnet.js';

export interface TfjsFitterConfig {
  encoder: ResNetConfig;
  /** Head outputs L (FitterNetwork.latentSize). */
  latentSize: number;
}

/** Adam (coupled, as tfjs-small-resnet) or, with weightDecay, AdamW's decoupled decay. */
export interface AdamWSettings extends AdamSettings {
  /** Decoupled: w ← w·(1 − lr·λ) − lr·m̂/(√v̂ + ε). 0 or absent: plain Adam. */
  weightDecay?: number;
}

export interface NamedValues {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

let modelCounter = 0;

/**
 * What every tfjs twin of a network on our ResNet encoder shares: the variables by our parameter and
 * buffer names, conv → batch norm (training or running averages), the encoder's stage outputs,
 * the running-average update, the gradient of a loss with respect to every parameter, and Adam(W)
 * written out. TfjsResNetFitter (here) and TfjsSegmenter (tfjs-refinenet.ts) add their heads.
 */
export class TfjsResNetModel {
  /** Trainable variables by our parameter name. */
  readonly weights = new Map<string, TfCore.Variable>();
  /** Running averages (and other buffers) by our buffer name (not trained). */
  readonly buffers = new Map<string, TfCore.Variable>();
  private readonly moments = new Map<string, { m: TfCore.Variable; v: TfCore.Variable }>();
  private readonly prefix: string;
  protected readonly epsilon: number;
  protected readonly momentum: number;
  private step = 0;

  constructor(
    protected readonly tf: Tf,
    /** For messages and variable names: "fitter", "segmenter". */
    protected readonly kind: string,
    readonly encoderConfig: ResNetConfig,
    params: readonly NamedValues[],
    buffers: readonly NamedValues[],
  ) {
    // tfjs keeps variable names in one global registry: make ours unique per model.
    this.prefix = `${kind}${modelCounter++}:`;
    this.epsilon = encoderConfig.batchNorm?.epsilon ?? 1e-3;
    this.momentum = encoderConfig.batchNorm?.momentum ?? 0.99;
    for (const p of params) this.weights.set(p.name, tf.variable(tf.tensor(p.data, [...p.shape]), true, this.prefix + p.name));
    for (const b of buffers) this.buffers.set(b.name, tf.variable(tf.tensor(b.data, [...b.shape]), false, `${this.prefix}buffer/${b.name}`));
  }

  protected w(name: string): TfCore.Tensor {
    const v = this.weights.get(name);
    if (!v) throw new Error(`tfjs ${this.kind}: no parameter "${name}"`);
    return v;
  }

  protected b(name: string): TfCore.Variable {
    const v = this.buffers.get(name);
    if (!v) throw new Error(`tfjs ${this.kind}: no buffer "${name}"`);
    return v;
  }

  /**
   * conv (no bias, 'same') → batch norm. Training: the batch's statistics, pushed to `stats` (kept,
   * for the running-average update after the step). Inference: tf.batchNorm with the running averages.
   */
  protected convNorm(x: TfCore.Tensor4D, name: string, strides: number, training: boolean, stats: BatchStats[] | null): TfCore.Tensor4D {
    const tf = this.tf;
    const z = tf.conv2d(x, this.w(`${name}/conv/weights`) as TfCore.Tensor4D, strides, 'same');
    const scale = this.w(`${name}/bn/scale`) as TfCore.Tensor1D;
    const offset = this.w(`${name}/bn/offset`) as TfCore.Tensor1D;
    if (!training) {
      return tf.batchNorm(z, this.b(`${name}/bn/mean`) as TfCore.Tensor1D, this.b(`${name}/bn/variance`) as TfCore.Tensor1D, offset, scale, this.epsilon);
    }
    const { mean, variance } = tf.moments(z, [0, 1, 2]);
    if (stats) stats.push({ name, mean: tf.keep(mean), variance: tf.keep(variance), rows: z.shape[0] * z.shape[1] * z.shape[2] });
    const normalised = tf.mul(tf.sub(z, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    return tf.add(tf.mul(normalised, scale), offset) as TfCore.Tensor4D;
  }

  /** The encoder (parameters "encoder/…"): images [N, H, W, C] → every stage's output, finest first. */
  protected encoderFeatures(images: TfCore.Tensor4D, training: boolean, stats: BatchStats[] | null): TfCore.Tensor4D[] {
    const tf = this.tf;
    const c = this.encoderConfig;
    const cn = (x: TfCore.Tensor4D, name: string, strides: number) => this.convNorm(x, `encoder/${name}`, strides, training, stats);
    let x = tf.relu(cn(images, 'stem', c.stemStride));
    if (c.stemPool > 0) x = tf.maxPool(x, c.stemPool, c.stemPool, 'same');
    let channels = c.stemChannels;
    const outputs: TfCore.Tensor4D[] = [];
    c.blocks.forEach((count, s) => {
      const width = c.widths[s];
      const out = c.block === 'bottleneck' ? 4 * width : width;
      for (let b = 0; b < count; b++) {
        const strides = s > 0 && b === 0 ? 2 : 1;
        const name = `stage${s + 1}/block${b + 1}`;
        let residual: TfCore.Tensor4D;
        if (c.block === 'basic') {
          residual = cn(tf.relu(cn(x, `${name}/a`, strides)), `${name}/b`, 1);
        } else {
          const reduced = tf.relu(cn(x, `${name}/a`, 1));
          const spatial = tf.relu(cn(reduced, `${name}/b`, strides));
          residual = cn(spatial, `${name}/c`, 1);
        }
        const shortcut = strides !== 1 || channels !== out ? cn(x, `${name}/shortcut`, strides) : x;
        x = tf.relu(tf.add(residual, shortcut)) as TfCore.Tensor4D;
        channels = out;
      }
      outputs.push(x);
    });
    return outputs;
  }

  /**
   * `loss(stats)` (a scalar built with training-mode batch norm that records its statistics in
   * `stats`) and its gradient for every parameter, by our name; then moves the running averages as
   * our BatchNormLayer does.
   */
  protected gradients(loss: (stats: BatchStats[]) => TfCore.Scalar): { loss: TfCore.Scalar; grads: Map<string, TfCore.Tensor> } {
    const tf = this.tf;
    const names = [...this.weights.keys()];
    const list = names.map((n) => this.weights.get(n)!);
    const stats: BatchStats[] = [];
    try {
      const { value, grads } = tf.variableGrads(() => loss(stats), list);
      this.updateRunning(stats);
      return { loss: value, grads: new Map(names.map((n, i) => [n, grads[list[i].name]])) };
    } finally {
      for (const s of stats) tf.dispose([s.mean, s.variance]);
    }
  }

  private updateRunning(stats: readonly BatchStats[]): void {
    const tf = this.tf;
    const m = this.momentum;
    tf.tidy(() => {
      for (const s of stats) {
        const mean = this.b(`${s.name}/bn/mean`);
        const variance = this.b(`${s.name}/bn/variance`);
        mean.assign(tf.add(tf.mul(mean, m), tf.mul(s.mean, 1 - m)));
        variance.assign(tf.add(tf.mul(variance, m), tf.mul(s.variance, ((1 - m) * s.rows) / (s.rows - 1))));
      }
    });
  }

  /**
   * One Adam update (AdamW when adam.weightDecay > 0) of every parameter from `grads`, written out
   * (the maths of shaders/optim_adam.glsl):
   *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,
   *   w ← w·(1 − lr·λ) − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
   * Disposes the gradients.
   */
  applyAdam(grads: Map<string, TfCore.Tensor>, adam: AdamWSettings): void {
    const tf = this.tf;
    this.step++;
    const correction1 = 1 - adam.beta1 ** this.step;
    const correction2 = 1 - adam.beta2 ** this.step;
    const decay = 1 - adam.lr * (adam.weightDecay ?? 0);
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const w = this.weights.get(name)!;
        const { m, v } = this.moment(name, w);
        const m1 = tf.add(tf.mul(m, adam.beta1), tf.mul(g, 1 - adam.beta1));
        const v1 = tf.add(tf.mul(v, adam.beta2), tf.mul(tf.square(g), 1 - adam.beta2));
        const update = tf.div(tf.mul(tf.div(m1, correction1), adam.lr), tf.add(tf.sqrt(tf.div(v1, correction2)), adam.epsilon));
        w.assign(tf.sub(decay === 1 ? w : tf.mul(w, decay), update));
        m.assign(m1);
        v.assign(v1);
      }
    });
    tf.dispose([...grads.values()]);
  }

  /** Adam's moments of a parameter, zeros on first use (inference-only twins never allocate them). */
  private moment(name: string, like: TfCore.Variable): { m: TfCore.Variable; v: TfCore.Variable } {
    let e = this.moments.get(name);
    if (!e) {
      const tf = this.tf;
      e = {
        m: tf.variable(tf.zerosLike(like), false, `${this.prefix}${name}/adam_m`),
        v: tf.variable(tf.zerosLike(like), false, `${this.prefix}${name}/adam_v`),
      };
      this.moments.set(name, e);
    }
    return e;
  }

  /** Current values of the buffers (running averages, …) by name. */
  readBuffers(): Map<string, Float32Array> {
    return new Map([...this.buffers].map(([n, v]) => [n, v.dataSync() as Float32Array]));
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    for (const { m, v } of this.moments.values()) { m.dispose(); v.dispose(); }
    this.weights.clear();
    this.buffers.clear();
    this.moments.clear();
  }
}

export class TfjsResNetFitter extends TfjsResNetModel {
  constructor(tf: Tf, readonly config: TfjsFitterConfig, params: readonly NamedValues[], buffers: readonly NamedValues[]) {
    super(tf, 'fitter', config.encoder, params, buffers);
  }

  /** images [N, H, W, C] → latent [N, L]. */
  forward(images: TfCore.Tensor4D, training: boolean, stats: BatchStats[] | null = null): TfCore.Tensor2D {
    const tf = this.tf;
    const stages = this.encoderFeatures(images, training, stats);
    const pooled = tf.mean(stages[stages.length - 1], [1, 2]) as TfCore.Tensor2D;
    const offsets = tf.add(tf.matMul(pooled, this.w('head/weights') as TfCore.Tensor2D), this.w('head/bias'));
    return tf.add(offsets, this.b('mean/latent')) as TfCore.Tensor2D;
  }

  /** Inference (running averages): latent [N, L]; the caller disposes it. */
  predict(images: TfCore.Tensor4D): TfCore.Tensor2D {
    return this.tf.tidy(() => this.forward(images, false));
  }

  /**
   * L1 loss of the latent against `targets` with training-mode batch norm, and the gradient of every
   * parameter by our name. Moves the running averages as our BatchNormLayer does.
   */
  lossAndGrads(images: TfCore.Tensor4D, targets: TfCore.Tensor2D): { loss: TfCore.Scalar; grads: Map<string, TfCore.Tensor> } {
    const tf = this.tf;
    return this.gradients((stats) => tf.mean(tf.abs(tf.sub(this.forward(images, true, stats), targets))) as TfCore.Scalar);
  }

  /**
   * One step of L1-latent loss + Adam (AdamW when adam.weightDecay > 0; applyAdam has the maths).
   * Returns the loss before the update (a scalar the caller disposes).
   */
  trainStep(images: TfCore.Tensor4D, targets: TfCore.Tensor2D, adam: AdamWSettings): TfCore.Scalar {
    const { loss, grads } = this.lossAndGrads(images, targets);
    this.applyAdam(grads, adam);
    return loss;
  }
}

export interface BatchStats {
  name: string;
  mean: TfCore.Tensor;
  variance: TfCore.Tensor;
  rows: number;
}
