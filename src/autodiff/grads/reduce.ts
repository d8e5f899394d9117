/**
 * Differentiable reductions and softmax (forward kernels: src/kernels/reduce.ts, softmax.ts).
 *   sum / mean  dX = dY (reshaped to keepDims) broadcast back, ÷ count for mean
 *   max / min   dX = [X == Y]·dY / #ties (shaders/reduce_backward.glsl, ties split evenly)
 *   softmax     dX = Y ⊙ (dY − Σ_axis dY ⊙ Y)
 *   logSoftmax  dX = dY − exp(Y) ⊙ Σ_axis dY
 * The softmax backward is a composition of the reduction and broadcasting elementwise kernels: the
 * axis sums it needs are exactly what those kernels do, with no extra pass over the data.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { reduce as reduceKernel, reducedShape, type Axes, type ReduceOp } from '../../kernels/reduce.js';
import { softmax as softmaxKernel, logSoftmax as logSoftmaxKernel } from '../../kernels/softmax.js';
import { reshape as reshapeKernel } from '../../kernels/reshape.js';
import { normalizeAxes, normalizeAxis } from '../../kernels/transpose.js';
import { binary, unary } from '../../kernels/elementwise.js';
import { rowStrides, leadingDims } from '../../kernels/broadcast.js';
import { recordOp } from '../tape.js';
import { broadcastTo } from '../kernels/reduce-to-shape.js';

/** [X == Y] (mode 0) or [X == Y]·dY/count (mode 1), Y etc. in keepDims shape. */
function tieKernel(x: Tensor, y: Tensor, dy?: Tensor, count?: Tensor): Tensor {
  const { strides, splat } = rowStrides(y.shape, x.shape);
  const inputs: Record<string, Tensor> = dy && count ? { X: x, Y: y, DY: dy, COUNT: count } : { X: x, Y: y };
  return x.runtime.run({
    kernel: 'reduce_backward',
    defines: { MODE: dy ? 1 : 0 },
    inputs,
    uniforms: {
      u_channels: x.geometry.channels,
      u_outDims: leadingDims(x.shape),
      u_yRowStrides: strides,
      u_yTexelsPerRow: y.geometry.texelsPerRow,
      u_ySplat: splat,
    },
    outShape: x.shape,
  });
}

/** Reduces x over `axes` (all when omitted) with op; keepDims leaves reduced dims as 1. */
export function reduce(op: ReduceOp, x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const y = reduceKernel(op, x, axes, keepDims);
  const resolved = normalizeAxes(axes, x.shape, op);
  const kept = reducedShape(x.shape, resolved, true);
  return recordOp(op, [x], y, (dy) => {
    const dyKept = reshapeKernel(dy, kept);
    if (op === 'sum' || op === 'mean') {
      const spread = broadcastTo(dyKept, x.shape);
      const count = resolved.reduce((n, a) => n * x.shape[a], 1);
      return [op === 'mean' ? unary('mulScalar', spread, 1 / count) : spread];
    }
    const yKept = reshapeKernel(y, kept);
    const ties = reduceKernel('sum', tieKernel(x, yKept), resolved, true);
    return [tieKernel(x, yKept, dyKept, ties)];
  });
}

export const sum = (x: Tensor, axes?: Axes, keepDims = false) => reduce('sum', x, axes, keepDims);
export const mean = (x: Tensor, axes?: Axes, keepDims = false) => reduce('mean', x, axes, keepDims);
export const max = (x: Tensor, axes?: Axes, keepDims = false) => reduce('max', x, axes, keepDims);
export const min = (x: Tensor, axes?: Axes, keepDims = false) => reduce('min', x, axes, keepDims);

export function softmax(x: Tensor, axis = -1): Tensor {
  const y = softmaxKernel(x, axis);
  const a = normalizeAxis(axis, x.shape, 'softmax');
  return recordOp('softmax', [x], y, (dy) => {
    const dot = reduceKernel('sum', binary('mul', dy, y), a, true);
    return [binary('mul', y, binary('sub', dy, dot))];
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const y = logSoftmaxKernel(x, axis);
  const a = normalizeAxis(axis, x.shape, 'logSoftmax');
  return recordOp('logSoftmax', [x], y, (dy) => {
    const total = reduceKernel('sum', dy, a, true);
    return [binary('sub', dy, binary('mul', unary('exp', y), total))];
  });
}
