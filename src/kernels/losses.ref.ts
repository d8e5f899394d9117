/** Float64 CPU reference of the loss kernels (src/kernels/losses.ts). */
import type { LossKind } from './losses.js';

export interface LossRefOptions {
  weights?: ArrayLike<number>;
  beta?: number;
}

/** The weighted-mean loss of `pred` (shape `shape`) against `target`, as the GPU kernels define it. */
export function lossRef(kind: LossKind, pred: ArrayLike<number>, target: ArrayLike<number>, shape: readonly number[], options: LossRefOptions = {}): number {
  const channels = shape.length ? shape[shape.length - 1] : 1;
  const rows = pred.length / channels;
  const beta = options.beta ?? 1;
  const examples = shape.length >= 2 ? shape[0] : 1;
  const rowsPerExample = rows / examples;
  let num = 0;
  let den = 0;
  for (let r = 0; r < rows; r++) {
    const w = options.weights ? options.weights[Math.floor(r / rowsPerExample)] : 1;
    let term = 0;
    let count = 1;
    if (kind === 'softmaxCrossEntropy') {
      const k = Math.floor(target[r] + 0.5);
      if (k < 0 || k >= channels) continue;
      let m = -Infinity;
      for (let c = 0; c < channels; c++) m = Math.max(m, pred[r * channels + c]);
      let s = 0;
      for (let c = 0; c < channels; c++) s += Math.exp(pred[r * channels + c] - m);
      term = m + Math.log(s) - pred[r * channels + k];
    } else {
      for (let c = 0; c < channels; c++) {
        const d = pred[r * channels + c] - target[r * channels + c];
        const a = Math.abs(d);
        if (kind === 'l1') term += a;
        else if (kind === 'l2' || kind === 'euclidean') term += d * d;
        else term += a < beta ? (0.5 * d * d) / beta : a - 0.5 * beta;
      }
      if (kind === 'euclidean') term = Math.sqrt(term);
      else count = channels;
    }
    num += w * term;
    den += w * count;
  }
  return den > 0 ? num / den : 0;
}
