/**
 * Backward kernels of the elementwise ops: shaders/unary_backward.glsl (dX = dY·f'(X)) and
 * shaders/binary_backward.glsl (the partials of a broadcasting binary op, one draw each). CPU references: elementwise-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { BINARY_OPS, UNARY_OPS, type BinaryOp, type UnaryOp } from '../../kernels/elementwise.js';
import { broadcastOperandUniforms, broadcastShapes } from '../../kernels/broadcast.js';
import { sumToShape } from './reduce-to-shape.js';

function describe(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** dX = dY · f'(X) for unary op `op` with the forward's scalar parameters. */
export function unaryBackward(op: UnaryOp, x: Tensor, dy: Tensor, alpha = 0, beta = 0): Tensor {
  const code = UNARY_OPS[op];
  if (code === undefined) throw new NbfError(`unknown unary op "${String(op)}"`);
  if (!sameShape(x.shape, dy.shape)) {
    throw new ShapeError(`${op} backward: dy has shape ${describe(dy.shape)} but x has ${describe(x.shape)}`);
  }
  return x.runtime.run({
    kernel: 'unary_backward',
    defines: { OP: code },
    inputs: { X: x, DY: dy },
    uniforms: { u_alpha: alpha, u_beta: beta, u_channels: x.geometry.channels },
    outShape: x.shape,
  });
}

/**
 * Gradients of both inputs of `a ∘ b` given dY (the broadcast output's shape), each summed back to
 * its input's shape. `needs` leaves out (null, no draw) the partial of an input that needs none.
 */
export function binaryBackward(op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor): [Tensor, Tensor];
export function binaryBackward(op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor, needs: readonly boolean[]): [Tensor | null, Tensor | null];
export function binaryBackward(op: BinaryOp, a: Tensor, b: Tensor, dy: Tensor, needs: readonly boolean[] = [true, true]): [Tensor | null, Tensor | null] {
  const code = BINARY_OPS[op];
  if (code === undefined) throw new NbfError(`unknown binary op "${String(op)}"`);
  const outShape = broadcastShapes(a.shape, b.shape, `${op} backward`);
  if (!sameShape(outShape, dy.shape)) {
    throw new ShapeError(`${op} backward: dy has shape ${describe(dy.shape)} but the output has ${describe(outShape)}`);
  }
  const rt = a.runtime;
  const partial = (which: 0 | 1): Tensor => rt.run({
    kernel: 'binary_backward',
    defines: { OP: code },
    inputs: { A: a, B: b, DY: dy },
    uniforms: { ...broadcastOperandUniforms(a, b, outShape), u_output: which },
    outShape,
  });
  // Two draws of one program (multiple render targets fail in headless-gl 9.0.0-rc.10).
  const reduced = (which: 0 | 1, shape: readonly number[]): Tensor | null => {
    if (!needs[which]) return null;
    const full = partial(which);
    const g = sumToShape(full, shape);
    if (g !== full) full.dispose();
    return g;
  };
  return [reduced(0, a.shape), reduced(1, b.shape)];
}
