/** Float64 CPU reference of matmul (src/kernels/matmul.ts, shaders/matmul.glsl). */
import { planMatmul } from './matmul.js';
import { activateRef, resolveActivation, type Activation } from './activation.js';

export interface MatmulRefOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  bias?: ArrayLike<number>;
  activation?: Activation;
}

export interface MatmulRefResult {
  data: Float64Array;
  shape: number[];
  /**
   * Per output element, Σ_k |a'·b'| + |bias| before the activation: the scale of float32 rounding in
   * the sum, so tests can bound the error of a long accumulation per element.
   */
  magnitude: Float64Array;
}

export function matmulRef(
  a: ArrayLike<number>, aShape: readonly number[],
  b: ArrayLike<number>, bShape: readonly number[],
  options: MatmulRefOptions = {},
): MatmulRefResult {
  const { transposeA = false, transposeB = false, bias } = options;
  const plan = planMatmul(aShape, bShape, { transposeA, transposeB, biasShape: bias ? [bias.length] : undefined });
  const act = resolveActivation(options.activation, 'matmulRef');
  const { M, K, N, outShape } = plan;
  const batches = outShape.slice(0, -2).reduce((p, d) => p * d, 1);
  const data = new Float64Array(batches * M * N);
  const magnitude = new Float64Array(batches * M * N);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const outBatch = outShape.slice(0, -2);
  for (let bi = 0; bi < batches; bi++) {
    const aOff = broadcastMatrixIndex(bi, outBatch, aBatch) * M * K;
    const bOff = broadcastMatrixIndex(bi, outBatch, bBatch) * K * N;
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let sum = bias ? bias[n] : 0;
        let mag = bias ? Math.abs(bias[n]) : 0;
        for (let k = 0; k < K; k++) {
          const av = a[aOff + (transposeA ? k * M + m : m * K + k)];
          const bv = b[bOff + (transposeB ? n * K + k : k * N + n)];
          sum += av * bv;
          mag += Math.abs(av * bv);
        }
        const o = (bi * M + m) * N + n;
        data[o] = activateRef(act, sum);
        magnitude[o] = mag;
      }
    }
  }
  return { data, shape: outShape, magnitude };
}

/** Flat matrix index into an input batch shape for output batch index `flat` (right-aligned broadcast). */
function broadcastMatrixIndex(flat: number, outBatch: readonly number[], inBatch: readonly number[]): number {
  let index = 0;
  let stride = 1;
  let rest = flat;
  for (let i = outBatch.length - 1; i >= 0; i--) {
    const coord = rest % outBatch[i];
    rest = Math.floor(rest / outBatch[i]);
    const j = i - (outBatch.length - inBatch.length);
    if (j < 0) continue;
    if (inBatch[j] !== 1) index += coord * stride;
    stride *= inBatch[j];
  }
  return index;
}

/**
 * Largest error of `got` against a float64 reference, per element relative to
 * max(|want|, magnitude, floor): a float32 sum of many terms is accurate to a multiple of ε·Σ|terms|,
 * not of ε·|sum| (terms can cancel). Used by the matmul and conv2d tests. NaN where the reference is
 * finite counts as Infinity.
 */
export function maxScaledError(got: ArrayLike<number>, want: ArrayLike<number>, magnitude: ArrayLike<number>, floor = 1): { error: number; at: number } {
  let error = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    const e = Number.isFinite(diff) ? diff / Math.max(Math.abs(want[i]), magnitude[i], floor) : Infinity;
    if (!(e <= error)) { error = e; at = i; }
  }
  return { error, at };
}
