/**
 * Batch statistics and running-average update of training-mode batch norm (the forward half of
 * src/autodiff/grads/norm.ts batchNormTraining; the normalisation itself is the inference kernel
 * shaders/batchnorm.glsl fed with these statistics). CPU references: batchnorm-training.ref.ts.
 * Pass structure: docs/kernels/batchnorm.md.
 *
 *   μ = mean over rows of x                 tree of reduce_rows passes (src/kernels/reduce.ts)
 *   σ² = mean over rows of (x − μ)²         batchnorm_variance.glsl (first pass, block of B rows),
 *                                           then reduce_rows passes over the partials
 *
 * Two passes over x rather than one pass computing Σx and Σx²: both read x twice (one output texel
 * holds 4 sums, so the 8 sums of 4 channels need two texels per block either way), and the two-pass
 * form has no E[x²] − μ² cancellation when |μ| ≫ σ.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { reduce, REDUCE_BLOCK } from './reduce.js';

/** x viewed as [rows, C] (rows = product of every dim but the last; a scalar is one row of 1). */
export function asRows(x: Tensor): Tensor {
  const channels = x.geometry.channels;
  return x.runtime.view(x, [x.geometry.rows, channels]);
}

/**
 * Sums the partials [.., P, C] over the P axis (axis `axis`) into `outShape`: a free view when P = 1,
 * else reduce_rows passes. Frees `partials`.
 */
export function sumPartials(partials: Tensor, axis: number, outShape: readonly number[]): Tensor {
  const rt = partials.runtime;
  try {
    if (partials.shape[axis] === 1) return rt.view(partials, outShape);
    const summed = reduce('sum', partials, axis);
    return summed.shape.join() === outShape.join() ? summed : viewAndFree(summed, outShape);
  } finally {
    partials.dispose();
  }
}

function viewAndFree(t: Tensor, shape: readonly number[]): Tensor {
  const v = t.runtime.view(t, shape);
  t.dispose();
  return v;
}

/** Per-channel batch mean and biased variance of x [..., C] over every dim but the last: two [C] tensors. */
export function batchNormStats(x: Tensor): { mean: Tensor; variance: Tensor } {
  const rt = x.runtime;
  const channels = x.geometry.channels;
  const rows = x.geometry.rows;
  const flat = asRows(x);
  let mean: Tensor | undefined;
  try {
    mean = reduce('mean', flat, 0);
    const partials = Math.ceil(rows / REDUCE_BLOCK);
    const squares = rt.run({
      kernel: 'batchnorm_variance',
      inputs: { X: flat, Mean: mean },
      uniforms: { u_channels: channels, u_reduceSize: rows, u_block: REDUCE_BLOCK, u_scale: 1 / rows },
      outShape: [partials, channels],
    });
    return { mean, variance: sumPartials(squares, 0, [channels]) };
  } catch (e) {
    mean?.dispose();
    throw e;
  } finally {
    flat.dispose();
  }
}

/**
 * New running average m · old + (1 − m) · k · batch ([C] tensors; k = `correction`, n/(n − 1) for the
 * unbiased running variance). A new tensor; `old` is left alone.
 */
export function batchNormRunningUpdate(old: Tensor, batch: Tensor, momentum: number, correction = 1): Tensor {
  if (old.runtime !== batch.runtime) throw new NbfError('batchNormRunningUpdate: the tensors live on different contexts');
  return old.runtime.run({
    kernel: 'batchnorm_running',
    inputs: { Old: old, Batch: batch },
    uniforms: { u_momentum: momentum, u_batchWeight: (1 - momentum) * correction },
    outShape: old.shape,
  });
}
