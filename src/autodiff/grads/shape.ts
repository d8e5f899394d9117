/**
 * Differentiable data movement (forward kernels: src/kernels/reshape.ts, transpose.ts, slice.ts,
 * pad.ts, concat.ts). Each gradient is the inverse movement, so no new kernels are needed:
 *   reshape → reshape back · transpose → inverse permutation · slice → zero-pad to the input
 *   pad → slice out the interior · concat → one slice per input
 */
import type { Tensor } from '../../runtime/tensor.js';
import { reshape as reshapeKernel } from '../../kernels/reshape.js';
import { transpose as transposeKernel, resolvePerm, normalizeAxis } from '../../kernels/transpose.js';
import { slice as sliceKernel, sliceShape } from '../../kernels/slice.js';
import { pad as padKernel } from '../../kernels/pad.js';
import { concat as concatKernel } from '../../kernels/concat.js';
import { recordOp } from '../tape.js';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const y = reshapeKernel(x, shape);
  return recordOp('reshape', [x], y, (dy) => [reshapeKernel(dy, x.shape)]);
}

export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const resolved = resolvePerm(x.shape, perm);
  const y = transposeKernel(x, resolved);
  const inverse = new Array<number>(resolved.length);
  resolved.forEach((p, k) => (inverse[p] = k));
  return recordOp('transpose', [x], y, (dy) => [transposeKernel(dy, inverse)]);
}

export function slice(x: Tensor, begin: readonly number[], size: readonly number[]): Tensor {
  const y = sliceKernel(x, begin, size);
  const outShape = sliceShape(x.shape, begin, size);
  return recordOp('slice', [x], y, (dy) => [padKernel(dy, x.shape.map((d, i) => [begin[i], d - begin[i] - outShape[i]] as [number, number]))]);
}

export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const y = padKernel(x, paddings, value);
  return recordOp('pad', [x], y, (dy) => [sliceKernel(dy, paddings.map((p) => p[0]), x.shape)]);
}

export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const y = concatKernel(tensors, axis);
  const a = normalizeAxis(axis, y.shape, 'concat');
  return recordOp('concat', tensors, y, (dy, needs) => {
    let offset = 0;
    return tensors.map((t, i) => {
      const begin = y.shape.map((_, d) => (d === a ? offset : 0));
      offset += t.shape[a];
      return needs[i] ? sliceKernel(dy, begin, t.shape) : null;
    });
  });
}
