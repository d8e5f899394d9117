/**
 * Input gradients of resizeBilinear and resizeNearest (shaders/resize_backward.glsl), using the
 * forward kernels' exact coordinate maps (src/kernels/resize.ts coordinateMap). CPU reference:
 * resize-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { coordinateMap, resizeMode, type ResizeOptions } from '../../kernels/resize.js';

export function resizeBackward(kind: 'bilinear' | 'nearest', dy: Tensor, inputShape: readonly number[], options: ResizeOptions = {}): Tensor {
  const op = kind === 'bilinear' ? 'resizeBilinear backward' : 'resizeNearest backward';
  if (dy.rank !== 4 || inputShape.length !== 4 || dy.shape[0] !== inputShape[0] || dy.shape[3] !== inputShape[3]) {
    throw new ShapeError(`${op}: gradient [${dy.shape.join(', ')}] does not fit the input [${inputShape.join(', ')}] (NHWC, same N and C)`);
  }
  const mode = resizeMode(options, op);
  const [, h, w, c] = inputShape;
  const [, oh, ow] = dy.shape;
  return dy.runtime.run({
    kernel: 'resize_backward',
    defines: { KIND: kind === 'bilinear' ? 0 : 1 },
    inputs: { DY: dy },
    uniforms: {
      u_inSize: [h, w, c],
      u_outSize: [oh, ow],
      u_mapY: coordinateMap(kind, mode, h, oh),
      u_mapX: coordinateMap(kind, mode, w, ow),
    },
    outShape: inputShape,
  });
}
