/**
 * Differentiable elementwise ops: the forward kernels of src/kernels/elementwise.ts, recorded on the
 * active tape with their backward kernels (src/autodiff/kernels/elementwise-backward.ts), plus the
 * broadcast/sum pair and free reshapes. Without an active tape they are the plain kernels.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { binary, unary, type BinaryOp, type UnaryOp } from '../../kernels/elementwise.js';
import { recordOp } from '../tape.js';
import { binaryBackward, unaryBackward } from '../kernels/elementwise-backward.js';
import { broadcastTo as broadcastToKernel, reduceToShape, sumToShape } from '../kernels/reduce-to-shape.js';

/** Unary ops whose derivative is 1 everywhere: their gradient is dY itself. */
const PASS_THROUGH_UNARY: ReadonlySet<UnaryOp> = new Set(['identity', 'addScalar', 'subScalar']);

/**
 * A unary op with its scalar parameters (see UNARY_OPS), recorded with dX = dY·f'(X); where f' = 1
 * the gradient is dY itself, no draw (the tape gives an aliased gradient a view of its own).
 */
export function unaryOp(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const y = unary(op, x, alpha, beta);
  if (PASS_THROUGH_UNARY.has(op)) return recordOp(op, [x], y, (dy) => [dy]);
  return recordOp(op, [x], y, (dy) => [unaryBackward(op, x, dy, alpha, beta)]);
}

/**
 * A broadcasting binary op, recorded with both partial gradients summed back to the input shapes.
 * The partials of a + b are dY for both and of a − b dY for a: those are dY itself (summed over the
 * broadcast dims where an input was broadcast), so that a sum of loss terms or a residual connection
 * costs no copy of dY in backward — only b of a − b needs its draw, a negation. An input that depends
 * on no parameter gets no gradient (no sum over broadcast dims, no negation).
 */
export function binaryOp(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const y = binary(op, a, b);
  if (op === 'add') return recordOp(op, [a, b], y, (dy, needs) => [needs[0] ? sumToShape(dy, a.shape) : null, needs[1] ? sumToShape(dy, b.shape) : null]);
  if (op === 'sub') return recordOp(op, [a, b], y, (dy, needs) => [needs[0] ? sumToShape(dy, a.shape) : null, needs[1] ? sumToShape(unary('neg', dy), b.shape) : null]);
  return recordOp(op, [a, b], y, (dy, needs) => binaryBackward(op, a, b, dy, needs));
}

/** Sum of x over the dims along which `shape` broadcasts to x's shape; [] sums everything. */
export function sumTo(x: Tensor, shape: readonly number[]): Tensor {
  const y = reduceToShape(x, shape);
  return recordOp('sumTo', [x], y, (dy) => [broadcastToKernel(dy, x.shape)]);
}

/** x broadcast (numpy rules) to `shape`. */
export function broadcastTo(x: Tensor, shape: readonly number[]): Tensor {
  const y = broadcastToKernel(x, shape);
  return recordOp('broadcastTo', [x], y, (dy) => [reduceToShape(dy, x.shape)]);
}

/** Sum of every element: a scalar (shape []). */
export function sum(x: Tensor): Tensor {
  return sumTo(x, []);
}

/** Mean of every element: a scalar (shape []). */
export function mean(x: Tensor): Tensor {
  return unaryOp('mulScalar', sum(x), 1 / x.size);
}

/** A reshape that keeps the last dimension (free: same texture); its gradient is the reverse view. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const y = x.runtime.view(x, shape);
  return recordOp('view', [x], y, (dy) => [dy.runtime.view(dy, x.shape)]);
}

export const relu = (x: Tensor) => unaryOp('relu', x);
export const leakyRelu = (x: Tensor, alpha = 0.2) => unaryOp('leakyRelu', x, alpha);
export const elu = (x: Tensor, alpha = 1) => unaryOp('elu', x, alpha);
export const sigmoid = (x: Tensor) => unaryOp('sigmoid', x);
export const tanh = (x: Tensor) => unaryOp('tanh', x);
export const exp = (x: Tensor) => unaryOp('exp', x);
export const log = (x: Tensor) => unaryOp('log', x);
export const abs = (x: Tensor) => unaryOp('abs', x);
export const sqrt = (x: Tensor) => unaryOp('sqrt', x);
export const square = (x: Tensor) => unaryOp('square', x);
export const neg = (x: Tensor) => unaryOp('neg', x);
export const clamp = (x: Tensor, lo: number, hi: number) => unaryOp('clamp', x, lo, hi);
export const addScalar = (x: Tensor, s: number) => unaryOp('addScalar', x, s);
export const subScalar = (x: Tensor, s: number) => unaryOp('subScalar', x, s);
export const rsubScalar = (x: Tensor, s: number) => unaryOp('rsubScalar', x, s);
export const mulScalar = (x: Tensor, s: number) => unaryOp('mulScalar', x, s);
export const divScalar = (x: Tensor, s: number) => unaryOp('divScalar', x, s);
export const rdivScalar = (x: Tensor, s: number) => unaryOp('rdivScalar', x, s);
export const powScalar = (x: Tensor, s: number) => unaryOp('powScalar', x, s);
export const maxScalar = (x: Tensor, s: number) => unaryOp('maxScalar', x, s);
export const minScalar = (x: Tensor, s: number) => unaryOp('minScalar', x, s);
export const add = (a: Tensor, b: Tensor) => binaryOp('add', a, b);
export const sub = (a: Tensor, b: Tensor) => binaryOp('sub', a, b);
export const mul = (a: Tensor, b: Tensor) => binaryOp('mul', a, b);
export const div = (a: Tensor, b: Tensor) => binaryOp('div', a, b);
export const maximum = (a: Tensor, b: Tensor) => binaryOp('max', a, b);
export const minimum = (a: Tensor, b: Tensor) => binaryOp('min', a, b);
export const pow = (a: Tensor, b: Tensor) => binaryOp('pow', a, b);
export const squaredDifference = (a: Tensor, b: Tensor) => binaryOp('squaredDifference', a, b);
