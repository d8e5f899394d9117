/**
 * Backward of training-mode batch norm (src/autodiff/grads/norm.ts batchNormTraining):
 *   sums:  Σdy and Σdy·x̂ per channel in one tree (shaders/batchnorm_backward_reduce.glsl writes the
 *          first-pass partials of both, stacked [2, P, C]; reduce_rows passes sum them to [2, C])
 *   dx:    γ · rstd · (dy − Σdy/M − x̂ · Σdy·x̂/M)   (shaders/batchnorm_backward.glsl, one pass)
 *   dγ = Σdy·x̂ (row 1 of the sums), dβ = Σdy (row 0)
 * with x̂ = (x − μ) · rstd, rstd = 1/sqrt(σ² + ε), M rows. CPU reference: batchnorm-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { REDUCE_BLOCK } from '../../kernels/reduce.js';
import { asRows, sumPartials } from '../../kernels/batchnorm-training.js';
import { slice } from '../../kernels/slice.js';

/** What the forward saved: the batch mean and biased variance [C], and ε. */
export interface BatchNormSaved {
  mean: Tensor;
  variance: Tensor;
  epsilon: number;
}

function checkShapes(op: string, dy: Tensor, x: Tensor, saved: BatchNormSaved): void {
  const channels = x.geometry.channels;
  if (dy.shape.join() !== x.shape.join()) {
    throw new ShapeError(`${op}: gradient [${dy.shape.join(', ')}] does not match the input [${x.shape.join(', ')}]`);
  }
  for (const [name, t] of [['mean', saved.mean], ['variance', saved.variance]] as const) {
    if (t.rank !== 1 || t.shape[0] !== channels) throw new ShapeError(`${op}: ${name} must have shape [${channels}], got [${t.shape.join(', ')}]`);
  }
}

/** Per-channel Σdy (row 0) and Σdy·x̂ (row 1) over the rows of dy, x [..., C]: a [2, C] tensor. */
export function batchNormBackwardSums(dy: Tensor, x: Tensor, saved: BatchNormSaved): Tensor {
  checkShapes('batchNorm backward sums', dy, x, saved);
  const rt = x.runtime;
  const channels = x.geometry.channels;
  const rows = x.geometry.rows;
  const partials = Math.ceil(rows / REDUCE_BLOCK);
  const dyRows = asRows(dy);
  const xRows = asRows(x);
  try {
    const first = rt.run({
      kernel: 'batchnorm_backward_reduce',
      inputs: { DY: dyRows, X: xRows, Mean: saved.mean, Variance: saved.variance },
      uniforms: { u_channels: channels, u_reduceSize: rows, u_partials: partials, u_block: REDUCE_BLOCK, u_epsilon: saved.epsilon },
      outShape: [2, partials, channels],
    });
    return sumPartials(first, 1, [2, channels]);
  } finally {
    dyRows.dispose();
    xRows.dispose();
  }
}

/** dx = γ · rstd · (dy − Σdy/M − x̂ · Σdy·x̂/M), x's shape; `sums` from batchNormBackwardSums. */
export function batchNormBackwardInput(dy: Tensor, x: Tensor, saved: BatchNormSaved, sums: Tensor, scale?: Tensor): Tensor {
  checkShapes('batchNorm backward', dy, x, saved);
  const channels = x.geometry.channels;
  if (sums.shape.join() !== `2,${channels}`) throw new ShapeError(`batchNorm backward: sums must have shape [2, ${channels}], got [${sums.shape.join(', ')}]`);
  const inputs: Record<string, Tensor> = { DY: dy, X: x, Mean: saved.mean, Variance: saved.variance, Sums: sums };
  if (scale) inputs.Scale = scale;
  return x.runtime.run({
    kernel: 'batchnorm_backward',
    defines: { HAS_SCALE: scale !== undefined },
    inputs,
    uniforms: { u_channels: channels, u_epsilon: saved.epsilon, u_invRows: 1 / x.geometry.rows },
    outShape: x.shape,
  });
}

/** Row `which` (0: Σdy = dβ, 1: Σdy·x̂ = dγ) of the [2, C] sums, as a new [C] tensor. */
export function batchNormSumsRow(sums: Tensor, which: 0 | 1): Tensor {
  const channels = sums.shape[1];
  const row = slice(sums, [which, 0], [1, channels]);
  const out = sums.runtime.view(row, [channels]);
  row.dispose();
  return out;
}
