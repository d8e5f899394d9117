/** Float64 CPU references of softmax and logSoftmax along one axis. */
import { normalizeAxis } from './transpose.js';

function alongAxis(
  x: ArrayLike<number>, shape: readonly number[], axis: number, op: string,
  fn: (values: number[]) => number[],
): Float64Array {
  const a = normalizeAxis(axis, shape, op);
  const length = shape[a];
  const inner = shape.slice(a + 1).reduce((p, d) => p * d, 1);
  const outer = shape.slice(0, a).reduce((p, d) => p * d, 1);
  const out = new Float64Array(x.length);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const index = (j: number) => (o * length + j) * inner + i;
      const values = Array.from({ length }, (_, j) => x[index(j)]);
      fn(values).forEach((v, j) => (out[index(j)] = v));
    }
  }
  return out;
}

function logSumExp(values: number[]): { m: number; logSum: number } {
  const m = Math.max(...values);
  return { m, logSum: Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0)) };
}

export function softmaxRef(x: ArrayLike<number>, shape: readonly number[], axis = -1): Float64Array {
  return alongAxis(x, shape, axis, 'softmax', (values) => {
    const { m, logSum } = logSumExp(values);
    return values.map((v) => Math.exp(v - m - logSum));
  });
}

export function logSoftmaxRef(x: ArrayLike<number>, shape: readonly number[], axis = -1): Float64Array {
  return alongAxis(x, shape, axis, 'logSoftmax', (values) => {
    const { m, logSum } = logSumExp(values);
    return values.map((v) => v - m - logSum);
  });
}
