/**
 * Differentiable pooling and resizing (forward kernels: src/kernels/pool.ts, resize.ts).
 *   maxPool        forward with argmax; dX routes each window's gradient to its argmax pixel
 *                  (pool.ts maxPoolBackward, a gather)
 *   avgPool        pool.ts avgPoolBackward
 *   globalAvgPool  dX = dY broadcast over H·W, divided by H·W (no kernel of its own)
 *   resize         shaders/resize_backward.glsl (bilinear or nearest, same coordinate maps)
 */
import type { Tensor } from '../../runtime/tensor.js';
import {
  avgPool as avgPoolKernel, avgPoolBackward, globalAvgPool as globalAvgPoolKernel, maxPool as maxPoolKernel,
  maxPoolBackward, maxPoolWithArgmax, type PoolOptions,
} from '../../kernels/pool.js';
import { resizeBilinear as resizeBilinearKernel, resizeNearest as resizeNearestKernel, type ResizeOptions } from '../../kernels/resize.js';
import { unary } from '../../kernels/elementwise.js';
import { recordOp, willRecord } from '../tape.js';
import { broadcastTo } from '../kernels/reduce-to-shape.js';
import { resizeBackward } from '../kernels/resize-backward.js';

export function maxPool(x: Tensor, options: PoolOptions): Tensor {
  if (!willRecord([x])) return maxPoolKernel(x, options);
  const { output, argmax } = maxPoolWithArgmax(x, options);
  return recordOp('maxPool', [x], output, (dy) => [maxPoolBackward(dy, argmax, x.shape, options)], [argmax]);
}

export function avgPool(x: Tensor, options: PoolOptions): Tensor {
  const y = avgPoolKernel(x, options);
  return recordOp('avgPool', [x], y, (dy) => [avgPoolBackward(dy, x.shape, options)]);
}

/** Mean over H and W: [N, H, W, C] → [N, C]. */
export function globalAvgPool(x: Tensor): Tensor {
  const y = globalAvgPoolKernel(x);
  return recordOp('globalAvgPool', [x], y, (dy) => {
    const [n, h, w, c] = x.shape;
    const spread = broadcastTo(dy.runtime.view(dy, [n, 1, 1, c]), x.shape);
    return [unary('mulScalar', spread, 1 / (h * w))];
  });
}

export function resizeBilinear(x: Tensor, size: readonly [number, number], options: ResizeOptions = {}): Tensor {
  const y = resizeBilinearKernel(x, size, options);
  return recordOp('resizeBilinear', [x], y, (dy) => [resizeBackward('bilinear', dy, x.shape, options)]);
}

export function resizeNearest(x: Tensor, size: readonly [number, number], options: ResizeOptions = {}): Tensor {
  const y = resizeNearestKernel(x, size, options);
  return recordOp('resizeNearest', [x], y, (dy) => [resizeBackward('nearest', dy, x.shape, options)]);
}
