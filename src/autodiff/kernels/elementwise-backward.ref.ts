/** Float64 CPU references of the elementwise derivatives (unary_backward.glsl, binary_backward.glsl). */
import { signedPow } from '../../kernels/elementwise.ref.js';
import type { BinaryOp, UnaryOp } from '../../kernels/elementwise.js';
import { broadcastIndex, broadcastShapes } from '../../kernels/broadcast.js';
import { reduceToShapeRef } from './reduce-to-shape.ref.js';

export function unaryDerivativeRef(op: UnaryOp, x: number, alpha = 0, beta = 0): number {
  switch (op) {
    case 'relu': return x > 0 ? 1 : 0;
    case 'leakyRelu': return x >= 0 ? 1 : alpha;
    case 'elu': return x >= 0 ? 1 : alpha * Math.exp(x);
    case 'sigmoid': { const s = 1 / (1 + Math.exp(-x)); return s * (1 - s); }
    case 'tanh': { const t = Math.tanh(x); return 1 - t * t; }
    case 'exp': return Math.exp(x);
    case 'log': return 1 / x;
    case 'abs': return Math.sign(x);
    case 'sqrt': return 0.5 / Math.sqrt(x);
    case 'square': return 2 * x;
    case 'clamp': return x >= alpha && x <= beta ? 1 : 0;
    case 'neg': return -1;
    case 'identity': case 'addScalar': case 'subScalar': return 1;
    case 'rsubScalar': return -1;
    case 'mulScalar': return alpha;
    case 'divScalar': return 1 / alpha;
    case 'rdivScalar': return -alpha / (x * x);
    case 'powScalar': return alpha === 0 ? 0 : alpha * signedPow(x, alpha - 1);
    case 'maxScalar': return x > alpha ? 1 : 0;
    case 'minScalar': return x < alpha ? 1 : 0;
  }
}

export function unaryBackwardRef(op: UnaryOp, x: ArrayLike<number>, dy: ArrayLike<number>, alpha = 0, beta = 0): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = dy[i] * unaryDerivativeRef(op, x[i], alpha, beta);
  return out;
}

export function binaryPartialsRef(op: BinaryOp, a: number, b: number): [number, number] {
  switch (op) {
    case 'add': return [1, 1];
    case 'sub': return [1, -1];
    case 'mul': return [b, a];
    case 'div': return [1 / b, -a / (b * b)];
    case 'max': return a >= b ? [1, 0] : [0, 1];
    case 'min': return a <= b ? [1, 0] : [0, 1];
    case 'pow': return [b === 0 ? 0 : b * signedPow(a, b - 1), a > 0 ? signedPow(a, b) * Math.log(a) : 0];
    case 'squaredDifference': return [2 * (a - b), -2 * (a - b)];
  }
}

export function binaryBackwardRef(
  op: BinaryOp,
  a: ArrayLike<number>, aShape: readonly number[],
  b: ArrayLike<number>, bShape: readonly number[],
  dy: ArrayLike<number>,
): [Float64Array, Float64Array] {
  const shape = broadcastShapes(aShape, bShape);
  const ia = broadcastIndex(aShape, shape);
  const ib = broadcastIndex(bShape, shape);
  const da = new Float64Array(ia.length);
  const db = new Float64Array(ia.length);
  for (let i = 0; i < ia.length; i++) {
    const [pa, pb] = binaryPartialsRef(op, a[ia[i]], b[ib[i]]);
    da[i] = dy[i] * pa;
    db[i] = dy[i] * pb;
  }
  return [reduceToShapeRef(da, shape, aShape), reduceToShapeRef(db, shape, bShape)];
}
