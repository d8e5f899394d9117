/** Float64 CPU references of the pooling kernels (shaders/pool.glsl, shaders/pool_global.glsl). */
import { toPair, windowGeometry, type PoolOptions } from './pool.js';

export interface PoolRefResult {
  data: Float64Array;
  shape: number[];
  /** Window-local index ky·KW + kx of the first maximum (max pooling only). */
  argmax?: Float64Array;
}

/** Max or average pooling of row-major NHWC data, padded positions ignored (TF semantics). */
export function poolRef(mode: 'max' | 'avg', x: ArrayLike<number>, shape: readonly number[], options: PoolOptions): PoolRefResult {
  const [n, h, w, c] = shape;
  const size = toPair(options.size, 1, 'size', 'poolRef');
  const strides = options.strides === undefined ? size : toPair(options.strides, 1, 'strides', 'poolRef');
  const geo = windowGeometry(h, w, size, strides, [1, 1], options.padding ?? 'valid', 'poolRef');
  const oh = geo.outHeight;
  const ow = geo.outWidth;
  const data = new Float64Array(n * oh * ow * c);
  const argmax = new Float64Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ch = 0; ch < c; ch++) {
          let sum = 0;
          let count = 0;
          let best = -Infinity;
          let bestAt = -1;
          for (let ky = 0; ky < size[0]; ky++) {
            const y = oy * strides[0] - geo.padTop + ky;
            if (y < 0 || y >= h) continue;
            for (let kx = 0; kx < size[1]; kx++) {
              const xx = ox * strides[1] - geo.padLeft + kx;
              if (xx < 0 || xx >= w) continue;
              const v = x[((b * h + y) * w + xx) * c + ch];
              sum += v;
              count++;
              if (bestAt < 0 || v > best) {
                best = v;
                bestAt = ky * size[1] + kx;
              }
            }
          }
          const o = ((b * oh + oy) * ow + ox) * c + ch;
          data[o] = mode === 'max' ? best : sum / count;
          argmax[o] = bestAt;
        }
      }
    }
  }
  const result: PoolRefResult = { data, shape: [n, oh, ow, c] };
  if (mode === 'max') result.argmax = argmax;
  return result;
}

/** Mean over H and W of row-major NHWC data: [N, H, W, C] → [N, C]. */
export function globalAvgPoolRef(x: ArrayLike<number>, shape: readonly number[]): { data: Float64Array; shape: number[] } {
  const [n, h, w, c] = shape;
  const data = new Float64Array(n * c);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < h * w; p++) {
      for (let ch = 0; ch < c; ch++) data[b * c + ch] += x[(b * h * w + p) * c + ch];
    }
  }
  for (let i = 0; i < data.length; i++) data[i] /= h * w;
  return { data, shape: [n, c] };
}

/**
 * Gradients of the pools with respect to their input, in float64, written as scatters (each window
 * sends its gradient back to its pixels); the GPU gathers, so the two formulations check each other.
 * Max pooling routes each window's gradient to its first maximum, as maxPoolWithArgmax reports it.
 */
export function poolBackwardRef(
  mode: 'max' | 'avg',
  x: ArrayLike<number>,
  shape: readonly number[],
  dy: ArrayLike<number>,
  options: PoolOptions,
): Float64Array {
  const [n, h, w, c] = shape;
  const size = toPair(options.size, 1, 'size', 'poolBackwardRef');
  const strides = options.strides === undefined ? size : toPair(options.strides, 1, 'strides', 'poolBackwardRef');
  const geo = windowGeometry(h, w, size, strides, [1, 1], options.padding ?? 'valid', 'poolBackwardRef');
  const forward = poolRef('max', x, shape, options);
  const dx = new Float64Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < geo.outHeight; oy++) {
      for (let ox = 0; ox < geo.outWidth; ox++) {
        const y0 = oy * strides[0] - geo.padTop;
        const x0 = ox * strides[1] - geo.padLeft;
        const rows = Math.min(y0 + size[0], h) - Math.max(y0, 0);
        const cols = Math.min(x0 + size[1], w) - Math.max(x0, 0);
        for (let ch = 0; ch < c; ch++) {
          const o = ((b * geo.outHeight + oy) * geo.outWidth + ox) * c + ch;
          if (mode === 'max') {
            const k = forward.argmax![o];
            const y = y0 + Math.floor(k / size[1]);
            const xx = x0 + (k % size[1]);
            dx[((b * h + y) * w + xx) * c + ch] += dy[o];
            continue;
          }
          for (let y = Math.max(y0, 0); y < Math.min(y0 + size[0], h); y++) {
            for (let xx = Math.max(x0, 0); xx < Math.min(x0 + size[1], w); xx++) {
              dx[((b * h + y) * w + xx) * c + ch] += dy[o] / (rows * cols);
            }
          }
        }
      }
    }
  }
  return dx;
}
