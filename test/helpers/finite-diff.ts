/**
 * Central finite differences of float64 CPU references, to check backward kernels:
 * ∂L/∂x_i ≈ (L(x + h·e_i) − L(x − h·e_i)) / 2h with L(x) = Σ_j seed_j · f(x)_j.
 * The reference is float64, so h can be small (1e-6 relative) and the truncation error O(h²) is far
 * below the 1e-3 bound the GPU gradients are held to.
 */
import type { Runtime } from '../../src/runtime/runtime.js';
import type { Tensor } from '../../src/runtime/tensor.js';
import { valueAndGrad } from '../../src/autodiff/tape.js';
import { Rng } from '../../src/util/random.js';
import { expectTensorClose } from './compare.js';

export type RefFn = (inputs: Float64Array[]) => ArrayLike<number>;

/** Numeric gradient of Σ seed·f(inputs) with respect to input `which`. */
export function numericGradient(f: RefFn, inputs: readonly ArrayLike<number>[], which: number, seed?: ArrayLike<number>, step = 1e-6): Float64Array {
  const xs = inputs.map((x) => Float64Array.from(x));
  const x = xs[which];
  const grad = new Float64Array(x.length);
  const weigh = (out: ArrayLike<number>): number => {
    let s = 0;
    for (let j = 0; j < out.length; j++) s += (seed ? seed[j] : 1) * out[j];
    return s;
  };
  for (let i = 0; i < x.length; i++) {
    const saved = x[i];
    const h = step * Math.max(1, Math.abs(saved));
    x[i] = saved + h;
    const up = weigh(f(xs));
    x[i] = saved - h;
    const down = weigh(f(xs));
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

/** Numeric gradients with respect to every input listed in `which` (all by default). */
export function numericGradients(f: RefFn, inputs: readonly ArrayLike<number>[], seed?: ArrayLike<number>, which?: readonly number[]): Float64Array[] {
  return (which ?? inputs.map((_, i) => i)).map((i) => numericGradient(f, inputs, i, seed));
}

const seedRng = new Rng(4242);

export interface GradientCheckOptions {
  /** Relative error bound for the gradients (floor 1). Default 1e-3. */
  tol?: number;
  /** Bound for the forward value against the reference (floor 1). Default 1e-5. */
  valueTol?: number;
  /** Inputs whose gradients are checked (default all); the others are constants, not parameters. */
  check?: readonly number[];
}

/**
 * Runs `gpu` on the inputs under valueAndGrad, seeding a non-scalar output with random values, and
 * checks the value against `ref` and each checked input's gradient against central differences of
 * `ref` (the seed-weighted sum).
 */
export function checkGradients(
  rt: Runtime,
  gpu: (xs: Tensor[]) => Tensor,
  ref: RefFn,
  inputs: readonly Float32Array[],
  shapes: readonly (readonly number[])[],
  options: GradientCheckOptions = {},
): void {
  const check = options.check ?? inputs.map((_, i) => i);
  rt.scope(() => {
    const xs = inputs.map((x, i) => rt.tensor(x, shapes[i]));
    const outShape = rt.scope(() => [...gpu(xs).shape]);
    const size = outShape.reduce((p, d) => p * d, 1);
    const seedData = size === 1 ? undefined : seedRng.uniformArray(size, -1, 1);
    const seed = seedData ? rt.tensor(seedData, outShape) : undefined;
    const params = check.map((i) => xs[i]);
    const { value, grads } = valueAndGrad((ps: Tensor[]) => gpu(xs.map((x, i) => (check.includes(i) ? ps[check.indexOf(i)] : x))))(params, seed);
    expectTensorClose(value, ref(inputs.map((x) => Float64Array.from(x))), outShape, options.valueTol ?? 1e-5);
    const want = numericGradients(ref, inputs, seedData, check);
    grads.forEach((g, k) => {
      try {
        expectTensorClose(g, want[k], shapes[check[k]], options.tol ?? 1e-3);
      } catch (e) {
        throw new Error(`gradient of input ${check[k]} [${shapes[check[k]].join(', ')}]: ${(e as Error).message}`);
      }
    });
  });
}
