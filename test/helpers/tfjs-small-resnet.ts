/**
 * The SmallResNet of src/nn/small-resnet.ts written independently with TensorFlow.js ops, trained with
 * tf.variableGrads and Adam written out by hand (the maths of shaders/optim_adam.glsl, stated below),
 * for the loss-curve check (test/train-tfjs.test.ts) and the training benchmark (bench/train.ts).
 * It reads the same parameter names, so it starts from exactly our initial weights.
 */
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as TfCore from '@tensorflow/tfjs-core';
import type * as TfWebgl from '@tensorflow/tfjs-backend-webgl';
import type * as TfConverter from '@tensorflow/tfjs-converter';

export type Tf = typeof TfCore;

/** The architecture, as SmallResNet resolves it. */
export interface TfjsResNetConfig {
  inputChannels: number;
  stageChannels: readonly number[];
  stemChannels: number;
  stemStride: number;
  blocksPerStage: number;
  outputs: number;
  epsilon: number;
}

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

const TFJS_VERSION = '4.22.0';

/**
 * tfjs-core with its gradients registered, plus the WebGL backend and the graph-model converter
 * (which must share this one copy of tfjs-core), as one module.
 *
 * Why a bundle: Node loads tfjs-core's CommonJS build, which leaves out the gradient functions (the
 * union package @tensorflow/tfjs registers them from tfjs-core/dist/register_all_gradients.js, an ES
 * module with extension-less imports that Node cannot load). esbuild bundles core, gradients and the
 * WebGL backend from their ES sources into one CommonJS file (one copy of tfjs, ~3 s, cached under
 * node_modules/.cache), which we require.
 */
function loadTfjsWithGradients(): Tf & { webgl: typeof TfWebgl; converter: typeof TfConverter } {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const bundle = join(root, 'node_modules', '.cache', 'nbf-gl', `tfjs-${TFJS_VERSION}-webgl-gradients-converter.cjs`);
  const require = createRequire(import.meta.url);
  if (!existsSync(bundle)) {
    const installed = (require('@tensorflow/tfjs-core/package.json') as { version: string }).version;
    if (installed !== TFJS_VERSION) throw new Error(`tfjs-core ${installed} is installed; this helper expects ${TFJS_VERSION}`);
    const esbuild = require('esbuild') as typeof import('esbuild');
    const result = esbuild.buildSync({
      stdin: {
        contents: [
          "export * from '@tensorflow/tfjs-core';",
          "import '@tensorflow/tfjs-core/dist/register_all_gradients';",
          "export * as webgl from '@tensorflow/tfjs-backend-webgl';",
          "export * as converter from '@tensorflow/tfjs-converter';",
        ].join('\n'),
        resolveDir: root,
        loader: 'js',
      },
      bundle: true,
      format: 'cjs',
      platform: 'node',
      mainFields: ['module', 'main'],
      write: false,
      logLevel: 'error',
    });
    // Written under a temporary name and renamed: another process may be requiring the same file.
    mkdirSync(dirname(bundle), { recursive: true });
    const partial = `${bundle}.${process.pid}.tmp`;
    writeFileSync(partial, result.outputFiles[0].contents);
    renameSync(partial, bundle);
  }
  return require(bundle);
}

/**
 * tfjs on an existing WebGL2 context: the headless-gl context our Runtime uses, so both libraries
 * run in one process on one llvmpipe device. Returns the tfjs module.
 */
export async function tfjsOnContext(gl: WebGL2RenderingContext): Promise<Tf & { converter: typeof TfConverter }> {
  const tf = loadTfjsWithGradients();
  const webgl = tf.webgl;
  webgl.setWebGLContext(2, gl);
  if (tf.findBackendFactory('webgl')) tf.removeBackend('webgl');
  tf.registerBackend('webgl', () => new webgl.MathBackendWebGL(new webgl.GPGPUContext(gl)), 10);
  if (!(await tf.setBackend('webgl'))) throw new Error('tfjs could not start its webgl backend on the given context');
  if (tf.env().getNumber('WEBGL_VERSION') !== 2) throw new Error('tfjs did not pick WebGL2');
  if (!tf.getGradient('Conv2D') || !tf.getGradient('Mean')) throw new Error('tfjs gradients are not registered');
  return tf;
}

let modelCounter = 0;

export class TfjsSmallResNet {
  /** Trainable variables by our parameter name. */
  readonly weights = new Map<string, TfCore.Variable>();
  private readonly moments = new Map<string, { m: TfCore.Variable; v: TfCore.Variable }>();
  private step = 0;

  constructor(
    private readonly tf: Tf,
    readonly config: TfjsResNetConfig,
    initial: readonly { name: string; shape: readonly number[]; data: Float32Array }[],
  ) {
    // tfjs keeps variable names in one global registry: make ours unique per model.
    const prefix = `m${modelCounter++}:`;
    for (const p of initial) {
      this.weights.set(p.name, tf.variable(tf.tensor(p.data, [...p.shape]), true, prefix + p.name));
      this.moments.set(p.name, {
        m: tf.variable(tf.zeros([...p.shape]), false, `${prefix}${p.name}/adam_m`),
        v: tf.variable(tf.zeros([...p.shape]), false, `${prefix}${p.name}/adam_v`),
      });
    }
  }

  private w(name: string): TfCore.Tensor {
    const v = this.weights.get(name);
    if (!v) throw new Error(`tfjs model: no parameter "${name}"`);
    return v;
  }

  /** conv (no bias, 'same') → batch norm with the batch's statistics. */
  private convNorm(x: TfCore.Tensor4D, name: string, strides: number): TfCore.Tensor4D {
    const tf = this.tf;
    const z = tf.conv2d(x, this.w(`${name}/conv/weights`) as TfCore.Tensor4D, strides, 'same');
    const { mean, variance } = tf.moments(z, [0, 1, 2]);
    const normalised = tf.mul(tf.sub(z, mean), tf.rsqrt(tf.add(variance, this.config.epsilon)));
    return tf.add(tf.mul(normalised, this.w(`${name}/bn/scale`)), this.w(`${name}/bn/offset`)) as TfCore.Tensor4D;
  }

  /** images [N, H, W, C] → [N, outputs], training-mode batch norm. */
  forward(images: TfCore.Tensor4D): TfCore.Tensor2D {
    const tf = this.tf;
    const c = this.config;
    let x = tf.relu(this.convNorm(images, 'stem', c.stemStride));
    let channels = c.stemChannels;
    c.stageChannels.forEach((out, s) => {
      for (let b = 0; b < c.blocksPerStage; b++) {
        const strides = s > 0 && b === 0 ? 2 : 1;
        const name = `stage${s + 1}/block${b + 1}`;
        const residual = this.convNorm(tf.relu(this.convNorm(x, `${name}/a`, strides)), `${name}/b`, 1);
        const shortcut = strides !== 1 || channels !== out ? this.convNorm(x, `${name}/shortcut`, strides) : x;
        x = tf.relu(tf.add(residual, shortcut)) as TfCore.Tensor4D;
        channels = out;
      }
    });
    const pooled = tf.mean(x, [1, 2]) as TfCore.Tensor2D;
    return tf.add(tf.matMul(pooled, this.w('head/weights') as TfCore.Tensor2D), this.w('head/bias')) as TfCore.Tensor2D;
  }

  /** L1 loss of the batch and its gradient for every parameter, by our parameter name. */
  lossAndGrads(images: TfCore.Tensor4D, targets: TfCore.Tensor2D): { loss: TfCore.Scalar; grads: Map<string, TfCore.Tensor> } {
    const tf = this.tf;
    const names = [...this.weights.keys()];
    const list = names.map((n) => this.weights.get(n)!);
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.abs(tf.sub(this.forward(images), targets))) as TfCore.Scalar, list);
    return { loss: value, grads: new Map(names.map((n, i) => [n, grads[list[i].name]])) };
  }

  /**
   * One step of L1 loss + Adam (coupled, no decay), written out:
   *   m ← β1·m + (1 − β1)·g,  v ← β2·v + (1 − β2)·g²,  w ← w − lr·(m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
   * Returns the loss before the update (a scalar the caller disposes).
   */
  trainStep(images: TfCore.Tensor4D, targets: TfCore.Tensor2D, adam: AdamSettings): TfCore.Scalar {
    const tf = this.tf;
    const { loss, grads } = this.lossAndGrads(images, targets);
    this.step++;
    const correction1 = 1 - adam.beta1 ** this.step;
    const correction2 = 1 - adam.beta2 ** this.step;
    tf.tidy(() => {
      for (const [name, g] of grads) {
        const w = this.weights.get(name)!;
        const { m, v } = this.moments.get(name)!;
        const m1 = tf.add(tf.mul(m, adam.beta1), tf.mul(g, 1 - adam.beta1));
        const v1 = tf.add(tf.mul(v, adam.beta2), tf.mul(tf.square(g), 1 - adam.beta2));
        const update = tf.div(tf.mul(tf.div(m1, correction1), adam.lr), tf.add(tf.sqrt(tf.div(v1, correction2)), adam.epsilon));
        w.assign(tf.sub(w, update));
        m.assign(m1);
        v.assign(v1);
      }
    });
    tf.dispose([...grads.values()]);
    return loss;
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    for (const { m, v } of this.moments.values()) { m.dispose(); v.dispose(); }
    this.weights.clear();
    this.moments.clear();
  }
}
