/**
 * Float64 CPU reference of conv2dBackwardInputByPhases (conv-backward.ts): the same phase
 * decomposition (phaseAxes), sub-filters (shaders/conv2d_backward_phase_filter.glsl), stride-1 convs
 * (conv2d.ref.ts) and interleave (shaders/conv2d_backward_interleave.glsl), step for step. The tests
 * check it, and the GPU path, against the transposed-convolution scatter (conv2d-transpose.ref.ts).
 */
import { conv2dRef } from '../../kernels/conv2d.ref.js';
import { phaseAxes, type ConvWindow } from './conv-backward.js';

/** dX [N, IH, IW, CI] of a stride-(sy, sx), dilation-1, ungrouped conv2d with filter w [KH, KW, CI, CO]. */
export function conv2dBackwardInputByPhasesRef(
  dy: ArrayLike<number>, dyShape: readonly number[],
  w: ArrayLike<number>, wShape: readonly number[],
  inputShape: readonly number[], window: ConvWindow,
): Float64Array {
  const [sy, sx] = window.strides;
  const [kh, kw, ci, co] = wShape;
  const [n, ih, iw] = inputShape;
  const rows = phaseAxes(ih, dyShape[1], kh, sy, window.padding[0]);
  const cols = phaseAxes(iw, dyShape[2], kw, sx, window.padding[2]);
  const dx = new Float64Array(n * ih * iw * ci);
  for (let py = 0; py < sy; py++) {
    for (let px = 0; px < sx; px++) {
      const r = rows[py];
      const c = cols[px];
      if (r.taps === 0 || c.taps === 0) continue;
      // out[jy, jx, o, i] = W[r.start + sy·(JY−1−jy), c.start + sx·(JX−1−jx), i, o]
      const filter = new Float64Array(r.taps * c.taps * co * ci);
      for (let jy = 0; jy < r.taps; jy++) {
        for (let jx = 0; jx < c.taps; jx++) {
          const ky = r.start + sy * (r.taps - 1 - jy);
          const kx = c.start + sx * (c.taps - 1 - jx);
          for (let o = 0; o < co; o++) {
            for (let i = 0; i < ci; i++) filter[((jy * c.taps + jx) * co + o) * ci + i] = w[((ky * kw + kx) * ci + i) * co + o];
          }
        }
      }
      const phase = conv2dRef(dy, dyShape, filter, [r.taps, c.taps, co, ci], { padding: [r.padBefore, r.padAfter, c.padBefore, c.padAfter] });
      const [, prow, pcol] = phase.shape;
      for (let b = 0; b < n; b++) {
        for (let u = 0; u < r.rows; u++) {
          for (let v = 0; v < c.rows; v++) {
            const from = ((b * prow + u + r.offset) * pcol + v + c.offset) * ci;
            const to = ((b * ih + sy * u + py) * iw + sx * v + px) * ci;
            for (let i = 0; i < ci; i++) dx[to + i] = phase.data[from + i];
          }
        }
      }
    }
  }
  return dx;
}
