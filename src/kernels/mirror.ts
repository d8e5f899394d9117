/**
 * mirrorWidth(x, order): NHWC maps mirrored left–right, out[n, y, x, c] = x[n, y, W − 1 − x, order[c]]
 * (shaders/mirror_width.glsl). `order` reorders the channels (a permutation of 0..C−1; default
 * none): mirroring a picture of a person swaps the sides of whatever names a side, so the twin
 * channels swap with it. Mirroring twice with the same swap of pairs gives x back.
 * Not differentiable (test-time use: the segmenter's mirrored second look). CPU reference: mirror.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { formatShape } from './transpose.js';

/** The most channels mirrorWidth reorders (the shader's uniform array). */
export const MIRROR_MAX_CHANNELS = 64;

export function mirrorWidth(x: Tensor, order?: readonly number[]): Tensor {
  if (x.rank !== 4) throw new ShapeError(`mirrorWidth: x must be [N, H, W, C], got ${formatShape(x.shape)}`);
  const [, , W, C] = x.shape;
  if (C > MIRROR_MAX_CHANNELS) throw new ShapeError(`mirrorWidth: at most ${MIRROR_MAX_CHANNELS} channels (the shader's order array), got ${C} in ${formatShape(x.shape)}`);
  const identity = Array.from({ length: C }, (_, c) => c);
  if (order !== undefined) {
    if (order.length !== C) throw new ShapeError(`mirrorWidth: the channel order has ${order.length} entries for ${C} channels of ${formatShape(x.shape)}`);
    const seen = new Set<number>();
    for (const c of order) {
      if (!Number.isInteger(c) || c < 0 || c >= C || seen.has(c)) throw new NbfError(`mirrorWidth: the channel order must be a permutation of 0..${C - 1}, got [${order.join(', ')}]`);
      seen.add(c);
    }
  }
  const u_order = new Array<number>(MIRROR_MAX_CHANNELS).fill(0);
  (order ?? identity).forEach((c, i) => { u_order[i] = c; });
  return x.runtime.run({
    kernel: 'mirror_width',
    inputs: { X: x },
    uniforms: { u_width: W, u_channels: C, u_order },
    outShape: x.shape,
  });
}
