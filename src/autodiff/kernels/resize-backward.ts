/**
 * Input gradients of resizeBilinear and resizeNearest (shaders/resize_backward.glsl), using the
 * forward kernels' exact coordinate maps (src/kernels/resize.ts coordinateMap). CPU reference:
 * resize-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { coordinateMap, resizeMode, type ResizeOptions } from '../../kernels/resize.js';
import { FLOAT_INDEX_LIMIT } from '../../kernels/float-index.js';

export function resizeBackward(kind: 'bilinear' | 'nearest', dy: Tensor, inputShape: readonly number[], options: ResizeOptions = {}): Tensor {
  const op = kind === 'bilinear' ? 'resizeBilinear backward' : 'resizeNearest backward';
  if (dy.rank !== 4 || inputShape.length !== 4 || dy.shape[0] !== inputShape[0] || dy.shape[3] !== inputShape[3]) {
    throw new ShapeError(`${op}: gradient [${dy.shape.join(', ')}] does not fit the input [${inputShape.join(', ')}] (NHWC, same N and C)`);
  }
  const mode = resizeMode(options, op);
  const [, h, w, c] = inputShape;
  const [, oh, ow] = dy.shape;
  const mapY = coordinateMap(kind, mode, h, oh);
  const mapX = coordinateMap(kind, mode, w, ow);
  // lib/divmod's float decode while every index it divides is exact in float32: the input's texels,
  // o·A + B of the coordinate maps, and the (i ± 1)·D − B of the output runs.
  const mapLimit = ([a, b, d]: readonly number[], outSize: number, inSize: number) => Math.max(outSize * a, (inSize + 1) * d) + Math.abs(b);
  const largest = Math.max(inputShape[0] * h * w * Math.ceil(c / 4), mapLimit(mapY, oh, h), mapLimit(mapX, ow, w));
  return dy.runtime.run({
    kernel: 'resize_backward',
    defines: { KIND: kind === 'bilinear' ? 0 : 1, FLOAT_DIVMOD: largest < FLOAT_INDEX_LIMIT },
    inputs: { DY: dy },
    uniforms: {
      u_inSize: [h, w, c],
      u_outSize: [oh, ow],
      u_mapY: mapY,
      u_mapX: mapX,
    },
    outShape: inputShape,
  });
}
