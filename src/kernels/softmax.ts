/**
 * softmax(x, axis) and logSoftmax(x, axis), numerically stable (the max is subtracted before exp).
 * Short axes run one fused kernel (shaders/softmax.glsl), whose fragments each read the whole axis
 * twice; longer axes compose tree reductions (reduce.ts) with broadcasting elementwise ops, so no
 * fragment loops over a long axis. CPU reference: softmax.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { normalizeAxis, product } from './transpose.js';
import { reduce } from './reduce.js';
import { exp, log, sub, div } from './elementwise.js';

/**
 * Longest axes the fused kernel takes. A fused fragment reads 2·⌈L/4⌉ + 1 texels on the channel axis
 * and 2·L + 1 on other axes, against ~8 texel reads per element for the five composed passes; measured
 * crossovers on llvmpipe (2^19 elements): L ≈ 40 on the channel axis, L ≈ 10 on other axes.
 */
export const SOFTMAX_FUSED_MAX_CHANNELS = 32;
export const SOFTMAX_FUSED_MAX_OTHER = 8;

function softmaxImpl(x: Tensor, axis: number, takeLog: boolean, op: string): Tensor {
  const a = normalizeAxis(axis, x.shape, op);
  const rank = x.rank;
  const length = x.shape[a];
  const fusedMax = a === rank - 1 ? SOFTMAX_FUSED_MAX_CHANNELS : SOFTMAX_FUSED_MAX_OTHER;
  if (length > fusedMax) return composedSoftmax(x, a, takeLog);
  return x.runtime.run({
    kernel: 'softmax',
    defines: { LOG: takeLog, AXIS_LAST: a === rank - 1 },
    inputs: { X: x },
    uniforms: {
      u_channels: x.geometry.channels,
      u_axisSize: length,
      u_inner: a === rank - 1 ? 1 : product(x.shape, a + 1, rank - 1),
    },
    outShape: x.shape,
  });
}

/** m = max, d = x − m, s = Σ exp(d): softmax = exp(d) / s, logSoftmax = d − log s. */
function composedSoftmax(x: Tensor, axis: number, takeLog: boolean): Tensor {
  return x.runtime.scope(() => {
    const shifted = sub(x, reduce('max', x, axis, true));
    const e = exp(shifted);
    const total = reduce('sum', e, axis, true);
    return takeLog ? sub(shifted, log(total)) : div(e, total);
  });
}

/** exp(x_i − m) / Σ_j exp(x_j − m) along `axis` (default −1, the last). */
export function softmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl(x, axis, false, 'softmax');
}

/** x_i − m − log Σ_j exp(x_j − m) along `axis` (default −1, the last). */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return softmaxImpl(x, axis, true, 'logSoftmax');
}
