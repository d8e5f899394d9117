/** Float64 CPU references of the elementwise kernels (shaders/unary.glsl, shaders/binary.glsl). */
import { broadcastIndex, broadcastShapes } from './broadcast.js';
import type { BinaryOp, UnaryOp } from './elementwise.js';

export function signedPow(x: number, y: number): number {
  if (y === 0) return 1;
  if (x >= 0) return Math.pow(x, y);
  if (!Number.isInteger(y)) return NaN;
  const r = Math.pow(-x, y);
  return y % 2 === 0 ? r : -r;
}

export function unaryScalarRef(op: UnaryOp, x: number, alpha = 0, beta = 0): number {
  switch (op) {
    case 'relu': return Math.max(x, 0);
    case 'leakyRelu': return x >= 0 ? x : alpha * x;
    case 'elu': return x >= 0 ? x : alpha * (Math.exp(x) - 1);
    case 'sigmoid': return 1 / (1 + Math.exp(-x));
    case 'tanh': return Math.tanh(x);
    case 'exp': return Math.exp(x);
    case 'log': return Math.log(x);
    case 'abs': return Math.abs(x);
    case 'sqrt': return Math.sqrt(x);
    case 'square': return x * x;
    case 'clamp': return Math.min(Math.max(x, alpha), beta);
    case 'neg': return -x;
    case 'identity': return x;
    case 'addScalar': return x + alpha;
    case 'subScalar': return x - alpha;
    case 'rsubScalar': return alpha - x;
    case 'mulScalar': return x * alpha;
    case 'divScalar': return x / alpha;
    case 'rdivScalar': return alpha / x;
    case 'powScalar': return signedPow(x, alpha);
    case 'maxScalar': return Math.max(x, alpha);
    case 'minScalar': return Math.min(x, alpha);
  }
}

export function unaryRef(op: UnaryOp, x: ArrayLike<number>, alpha = 0, beta = 0): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = unaryScalarRef(op, x[i], alpha, beta);
  return out;
}

export function binaryScalarRef(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case 'add': return a + b;
    case 'sub': return a - b;
    case 'mul': return a * b;
    case 'div': return a / b;
    case 'max': return Math.max(a, b);
    case 'min': return Math.min(a, b);
    case 'pow': return signedPow(a, b);
    case 'squaredDifference': return (a - b) * (a - b);
  }
}

export function binaryRef(
  op: BinaryOp,
  a: ArrayLike<number>, aShape: readonly number[],
  b: ArrayLike<number>, bShape: readonly number[],
): { data: Float64Array; shape: number[] } {
  const shape = broadcastShapes(aShape, bShape);
  const ia = broadcastIndex(aShape, shape);
  const ib = broadcastIndex(bShape, shape);
  const data = new Float64Array(ia.length);
  for (let i = 0; i < data.length; i++) data[i] = binaryScalarRef(op, a[ia[i]], b[ib[i]]);
  return { data, shape };
}
