/**
 * Elementwise kernels: unary maps (shaders/unary.glsl) and broadcasting binary ops
 * (shaders/binary.glsl). CPU references: elementwise.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { broadcastOperandUniforms, broadcastShapes } from './broadcast.js';
import { NbfError } from '../runtime/errors.js';

export const UNARY_OPS = {
  relu: 0, leakyRelu: 1, elu: 2, sigmoid: 3, tanh: 4, exp: 5, log: 6, abs: 7, sqrt: 8, square: 9,
  clamp: 10, neg: 11, identity: 12, addScalar: 13, subScalar: 14, rsubScalar: 15, mulScalar: 16,
  divScalar: 17, rdivScalar: 18, powScalar: 19, maxScalar: 20, minScalar: 21,
} as const;
export type UnaryOp = keyof typeof UNARY_OPS;

export const BINARY_OPS = { add: 0, sub: 1, mul: 2, div: 3, max: 4, min: 5, pow: 6, squaredDifference: 7 } as const;
export type BinaryOp = keyof typeof BINARY_OPS;

/** Applies a unary op; `alpha`/`beta` are the op's scalar parameters (slope, bounds, operand). */
export function unary(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const code = UNARY_OPS[op];
  if (code === undefined) throw new NbfError(`unknown unary op "${String(op)}"`);
  return x.runtime.run({
    kernel: 'unary',
    defines: { OP: code },
    inputs: { X: x },
    uniforms: { u_alpha: alpha, u_beta: beta, u_channels: x.geometry.channels },
    outShape: x.shape,
  });
}

/** Applies a binary op with numpy broadcasting. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const code = BINARY_OPS[op];
  if (code === undefined) throw new NbfError(`unknown binary op "${String(op)}"`);
  if (a.runtime !== b.runtime) throw new NbfError(`${op}: the two tensors live on different contexts`);
  const outShape = broadcastShapes(a.shape, b.shape, op);
  const same = sameShape(a.shape, outShape) && sameShape(b.shape, outShape);
  return a.runtime.run({
    kernel: 'binary',
    defines: { OP: code, BROADCAST: !same },
    inputs: { A: a, B: b },
    uniforms: broadcastOperandUniforms(a, b, outShape),
    outShape,
  });
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

// Named forms, as users call them.
export const relu = (x: Tensor) => unary('relu', x);
export const leakyRelu = (x: Tensor, alpha = 0.2) => unary('leakyRelu', x, alpha);
export const elu = (x: Tensor, alpha = 1) => unary('elu', x, alpha);
export const sigmoid = (x: Tensor) => unary('sigmoid', x);
export const tanh = (x: Tensor) => unary('tanh', x);
export const exp = (x: Tensor) => unary('exp', x);
export const log = (x: Tensor) => unary('log', x);
export const abs = (x: Tensor) => unary('abs', x);
export const sqrt = (x: Tensor) => unary('sqrt', x);
export const square = (x: Tensor) => unary('square', x);
export const neg = (x: Tensor) => unary('neg', x);
export const clamp = (x: Tensor, lo: number, hi: number) => unary('clamp', x, lo, hi);
export const add = (a: Tensor, b: Tensor) => binary('add', a, b);
export const sub = (a: Tensor, b: Tensor) => binary('sub', a, b);
export const mul = (a: Tensor, b: Tensor) => binary('mul', a, b);
export const div = (a: Tensor, b: Tensor) => binary('div', a, b);
export const maximum = (a: Tensor, b: Tensor) => binary('max', a, b);
export const minimum = (a: Tensor, b: Tensor) => binary('min', a, b);
export const pow = (a: Tensor, b: Tensor) => binary('pow', a, b);
export const squaredDifference = (a: Tensor, b: Tensor) => binary('squaredDifference', a, b);
export const addScalar = (x: Tensor, s: number) => unary('addScalar', x, s);
export const subScalar = (x: Tensor, s: number) => unary('subScalar', x, s);
export const rsubScalar = (x: Tensor, s: number) => unary('rsubScalar', x, s);
export const mulScalar = (x: Tensor, s: number) => unary('mulScalar', x, s);
export const divScalar = (x: Tensor, s: number) => unary('divScalar', x, s);
export const rdivScalar = (x: Tensor, s: number) => unary('rdivScalar', x, s);
export const powScalar = (x: Tensor, s: number) => unary('powScalar', x, s);
export const maxScalar = (x: Tensor, s: number) => unary('maxScalar', x, s);
export const minScalar = (x: Tensor, s: number) => unary('minScalar', x, s);
