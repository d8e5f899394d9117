/**
 * The segmentation network of src/nn/refinenet.ts (ResNet encoder + RefineNet or Light-Weight
 * RefineNet decoder + head) written independently with TensorFlow.js ops, for the agreement test
 * (test/segmenter-tfjs.test.ts) and the segmenter benchmark (bench/segmenter.ts). It is built from
 * our parameter and buffer values (SegmenterNetwork.params.readAll(), .buffers.readAll()), by our
 * names; the encoder, batch norm, gradients and Adam(W) are TfjsResNetModel's (tfjs-resnet.ts, the
 * fitter's twin shares them).
 *
 *   input     RGB in [0, 1] → x·2 − 1
 *   encoder   "encoder/…" as tfjs-resnet.ts: the 4 stage outputs, finest first
 *   decoder   from the coarsest stage down; every convolution HWIO, stride 1, 'same':
 *     light       per stage i (1-based): x = conv1×1 "decoder/block<i>/adapt" (no bias)
 *                 (+ the coarser block's output resized to x's size) → CRP (1×1) → except for the
 *                 finest, conv1×1 "decoder/block<i>/out" (no bias)
 *     refinenet   per stage: conv3×3 "decoder/adapt<i>" (biased); block i reads [adapted stage i,
 *                 block i+1's output] (the coarsest only its own): per path 2 RCUs
 *                 ("…/block<i>/path<p>/rcu<r>"), MRF (more than one path: "…/mrf/conv<p>" 3×3
 *                 biased, resized to the largest size, summed), CRP (3×3), RCU "…/out"
 *   RCU       y = x + conv2(ReLU(conv1(ReLU(x))))            conv1 biased, conv2 not, both 3×3
 *   CRP       x = ReLU(x); p = x; per stage s: p = conv<s>(maxPool 5×5 stride 1 'same'(p)); x = x + p
 *   head      conv3×3 "head" (biased) → classes at 1/4 → bilinear resize to the input size
 *
 * Resizing is bilinear with half-pixel centres (tf.image.resizeBilinear(x, size, false, true)).
 * tfjs-backend-webgl 4.22's ResizeBilinearGrad ignores halfPixelCenters (its backward program only
 * takes alignCorners), so the gradient it would give is that of the legacy mapping; in training the
 * twin runs the same forward kernel under tf.customGrad with the exact backward: the transpose of the
 * separable interpolation, dx = R_hᵀ·dy·R_w, as two matmuls (R: out × in, half-pixel weights as
 * TensorFlow's, edges clamped). Inference uses the plain kernel.
 *
 * Biased convolutions use tf.fused.conv2d (bias and the RCU's inner ReLU fused), as tfjs-layers does;
 * the encoder runs conv → tf.batchNorm at inference (the fitter's twin, not folded).
 *
 * Loss: per-pixel softmax cross-entropy, Σ_p w_{y_p}·ℓ_p / Σ_p w_{y_p} over the labelled pixels
 * (labels outside 0..K−1 count for nothing; without class weights w = 1): a one-hot of the labels
 * (computed per step, outside the gradient), tf.logSoftmax, sums.
 */
import type * as TfCore from '@tensorflow/tfjs-core';
import type { SegmenterConfig } from '../../src/nn/refinenet.js';
import { TfjsResNetModel, type AdamWSettings, type BatchStats, type NamedValues, type Tf } from './tfjs-resnet.js';

export { tfjsOnContext, type Tf, type AdamWSettings } from './tfjs-resnet.js';

/** Max-pool window of the chained residual pooling (stride 1, 'same'). */
const CRP_POOL = 5;

/** Row-stochastic half-pixel bilinear interpolation matrix [out, in] (TensorFlow's weights). */
export function halfPixelInterpolation(inSize: number, outSize: number): Float32Array {
  const r = new Float32Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    const src = (o + 0.5) * scale - 0.5;
    const f = Math.floor(src);
    const lower = Math.max(f, 0);
    const upper = Math.min(Math.ceil(src), inSize - 1);
    const lerp = src - f;
    r[o * inSize + lower] += 1 - lerp;
    r[o * inSize + upper] += lerp;
  }
  return r;
}

export class TfjsSegmenter extends TfjsResNetModel {
  /** Interpolation matrices [out, in] by "in→out" (kept until dispose). */
  private readonly interpolation = new Map<string, TfCore.Tensor2D>();

  constructor(tf: Tf, readonly config: SegmenterConfig, params: readonly NamedValues[], buffers: readonly NamedValues[]) {
    super(tf, 'segmenter', config.encoder, params, buffers);
  }

  /** Convolution "<name>/weights" (HWIO, stride 1, 'same'), with "<name>/bias" when biased. */
  private conv(x: TfCore.Tensor4D, name: string, bias: boolean, activation: 'relu' | 'linear' = 'linear'): TfCore.Tensor4D {
    const tf = this.tf;
    const filter = this.w(`${name}/weights`) as TfCore.Tensor4D;
    if (bias) return tf.fused.conv2d({ x, filter, strides: 1, pad: 'same', bias: this.w(`${name}/bias`), activation });
    const y = tf.conv2d(x, filter, 1, 'same');
    return activation === 'relu' ? tf.relu(y) : y;
  }

  private matrix(inSize: number, outSize: number): TfCore.Tensor2D {
    const key = `${inSize}→${outSize}`;
    let m = this.interpolation.get(key);
    if (!m) {
      m = this.tf.keep(this.tf.tensor2d(halfPixelInterpolation(inSize, outSize), [outSize, inSize]));
      this.interpolation.set(key, m);
    }
    return m;
  }

  /** dy [N, H, W, C] → dx [N, h, w, C] = the transpose of the half-pixel resize h×w → H×W. */
  private resizeTranspose(dy: TfCore.Tensor4D, h: number, w: number): TfCore.Tensor4D {
    const tf = this.tf;
    const [N, H, W, C] = dy.shape;
    let t: TfCore.Tensor = tf.transpose(dy, [0, 1, 3, 2]); // [N, H, C, W]
    t = tf.matMul(tf.reshape(t, [N * H * C, W]), this.matrix(w, W)); // [N·H·C, w]
    t = tf.transpose(tf.reshape(t, [N, H, C, w]), [0, 2, 3, 1]); // [N, C, w, H]
    t = tf.matMul(tf.reshape(t, [N * C * w, H]), this.matrix(h, H)); // [N·C·w, h]
    return tf.transpose(tf.reshape(t, [N, C, w, h]), [0, 3, 2, 1]) as TfCore.Tensor4D;
  }

  /** Bilinear resize, half-pixel centres; in training with the exact backward (see the header). */
  private resize(x: TfCore.Tensor4D, size: [number, number], training: boolean): TfCore.Tensor4D {
    const tf = this.tf;
    const [, h, w] = x.shape;
    if (h === size[0] && w === size[1]) return x;
    if (!training) return tf.image.resizeBilinear(x, size, false, true);
    const op = tf.customGrad((...args: (TfCore.Tensor | TfCore.GradSaveFunc)[]) => ({
      value: tf.image.resizeBilinear(args[0] as TfCore.Tensor4D, size, false, true),
      gradFunc: (dy: TfCore.Tensor) => this.resizeTranspose(dy as TfCore.Tensor4D, h, w),
    }));
    return op(x) as TfCore.Tensor4D;
  }

  private crp(input: TfCore.Tensor4D, name: string): TfCore.Tensor4D {
    const tf = this.tf;
    let x = tf.relu(input);
    let path = x;
    for (let s = 1; s <= this.config.decoder.crpStages; s++) {
      path = this.conv(tf.maxPool(path, CRP_POOL, 1, 'same'), `${name}/conv${s}`, false);
      x = tf.add(x, path);
    }
    return x;
  }

  private rcu(x: TfCore.Tensor4D, name: string): TfCore.Tensor4D {
    const tf = this.tf;
    return tf.add(x, this.conv(this.conv(tf.relu(x), `${name}/conv1`, true, 'relu'), `${name}/conv2`, false));
  }

  private refineNetBlock(xs: TfCore.Tensor4D[], name: string, training: boolean): TfCore.Tensor4D {
    const tf = this.tf;
    const refined = xs.map((x, p) => this.rcu(this.rcu(x, `${name}/path${p + 1}/rcu1`), `${name}/path${p + 1}/rcu2`));
    let fused = refined[0];
    if (refined.length > 1) {
      const H = Math.max(...refined.map((x) => x.shape[1]));
      const W = Math.max(...refined.map((x) => x.shape[2]));
      const paths = refined.map((x, p) => this.resize(this.conv(x, `${name}/mrf/conv${p + 1}`, true), [H, W], training));
      fused = tf.addN(paths);
    }
    return this.rcu(this.crp(fused, `${name}/crp`), `${name}/out`);
  }

  private decode(features: TfCore.Tensor4D[], training: boolean): TfCore.Tensor4D {
    const tf = this.tf;
    const L = features.length;
    let y: TfCore.Tensor4D | undefined;
    for (let i = L - 1; i >= 0; i--) {
      if (this.config.decoder.kind === 'light') {
        const name = `decoder/block${i + 1}`;
        let x = this.conv(features[i], `${name}/adapt`, false);
        if (y) x = tf.add(x, this.resize(y, [x.shape[1], x.shape[2]], training));
        x = this.crp(x, `${name}/crp`);
        y = i > 0 ? this.conv(x, `${name}/out`, false) : x;
      } else {
        const adapted = this.conv(features[i], `decoder/adapt${i + 1}`, true);
        y = this.refineNetBlock(y ? [adapted, y] : [adapted], `decoder/block${i + 1}`, training);
      }
    }
    return y!;
  }

  /** images [N, H, W, 3] in [0, 1] → logits [N, H, W, classes]. */
  forward(images: TfCore.Tensor4D, training: boolean, stats: BatchStats[] | null = null): TfCore.Tensor4D {
    const tf = this.tf;
    const [, H, W] = images.shape;
    const x = tf.sub(tf.mul(images, 2), 1) as TfCore.Tensor4D;
    const features = this.encoderFeatures(x, training, stats);
    const logits = this.conv(this.decode(features, training), 'head', true);
    return this.resize(logits, [H, W], training);
  }

  /** Inference (running averages): logits; the caller disposes them. */
  predict(images: TfCore.Tensor4D): TfCore.Tensor4D {
    return this.tf.tidy(() => this.forward(images, false));
  }

  /** Training-mode logits (batch statistics; the running averages are not moved). */
  forwardTraining(images: TfCore.Tensor4D): TfCore.Tensor4D {
    return this.tf.tidy(() => this.forward(images, true));
  }

  /** One-hot [P, K] of labels (any shape, P values; out-of-range → zeros) and pixel weights [P, 1]. */
  private pixelTargets(labels: TfCore.Tensor, classWeights?: ArrayLike<number>): { onehot: TfCore.Tensor2D; weights: TfCore.Tensor2D } {
    const tf = this.tf;
    const K = this.config.classes;
    return tf.tidy(() => {
      const onehot = tf.oneHot(tf.cast(tf.reshape(labels, [-1]), 'int32') as TfCore.Tensor1D, K, 1, 0, 'float32') as TfCore.Tensor2D;
      const weights: TfCore.Tensor2D = classWeights
        ? tf.matMul(onehot, tf.tensor2d(Float32Array.from(classWeights), [K, 1]))
        : tf.sum(onehot, 1, true);
      return { onehot, weights };
    });
  }

  /**
   * Class-weighted per-pixel softmax cross-entropy (see the header) of the training-mode forward,
   * and the gradient of every parameter by our name; moves the running averages.
   */
  lossAndGrads(images: TfCore.Tensor4D, labels: TfCore.Tensor, classWeights?: ArrayLike<number>): { loss: TfCore.Scalar; grads: Map<string, TfCore.Tensor> } {
    const tf = this.tf;
    const K = this.config.classes;
    const { onehot, weights } = this.pixelTargets(labels, classWeights);
    try {
      return this.gradients((stats) => {
        const logits = tf.reshape(this.forward(images, true, stats), [-1, K]);
        const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1, true));
        return tf.div(tf.sum(tf.mul(nll, weights)), tf.sum(weights)) as TfCore.Scalar;
      });
    } finally {
      tf.dispose([onehot, weights]);
    }
  }

  /** One step of the loss + Adam(W) (TfjsResNetModel.applyAdam). Returns the loss before the update. */
  trainStep(images: TfCore.Tensor4D, labels: TfCore.Tensor, adam: AdamWSettings, classWeights?: ArrayLike<number>): TfCore.Scalar {
    const { loss, grads } = this.lossAndGrads(images, labels, classWeights);
    this.applyAdam(grads, adam);
    return loss;
  }

  override dispose(): void {
    for (const m of this.interpolation.values()) m.dispose();
    this.interpolation.clear();
    super.dispose();
  }
}
