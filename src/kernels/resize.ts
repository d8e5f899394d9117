/**
 * Image resizing with TensorFlow's semantics (shaders/resize_bilinear.glsl, shaders/resize_nearest.glsl).
 * CPU references: resize.ref.ts.
 *
 * Modes, as tf.image / tf.compat.v1.image:
 *   halfPixelCenters (default, TF2's tf.image.resize): pixel centres at +½, src = (o + ½)·in/out − ½
 *   alignCorners: corner pixels map onto corner pixels, src = o·(in − 1)/(out − 1)
 *   neither (TF1's default): src = o·in/out
 * The two flags cannot both be set (TF rejects that too).
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';

export interface ResizeOptions {
  /** Default false. */
  alignCorners?: boolean;
  /** Default true unless alignCorners is set (TF2's default). */
  halfPixelCenters?: boolean;
}

export type ResizeMode = 'halfPixel' | 'alignCorners' | 'legacy';

export function resizeMode(options: ResizeOptions, op: string): ResizeMode {
  const alignCorners = options.alignCorners ?? false;
  const halfPixelCenters = options.halfPixelCenters ?? !alignCorners;
  if (alignCorners && halfPixelCenters) {
    throw new NbfError(`${op}: alignCorners and halfPixelCenters cannot both be true (as in TensorFlow)`);
  }
  return alignCorners ? 'alignCorners' : halfPixelCenters ? 'halfPixel' : 'legacy';
}

/**
 * Source coordinate of output index o along one axis as the exact fraction (o·A + B) / D
 * (see the shaders' headers for the derivation per mode).
 */
export function coordinateMap(kind: 'bilinear' | 'nearest', mode: ResizeMode, inSize: number, outSize: number): [number, number, number] {
  // With one output pixel TF uses the in/out scale even when aligning corners (no division by 0).
  const effective = mode === 'alignCorners' && outSize === 1 ? 'legacy' : mode;
  if (effective === 'legacy') return [inSize, 0, outSize];
  if (effective === 'halfPixel') return kind === 'bilinear' ? [2 * inSize, inSize - outSize, 2 * outSize] : [2 * inSize, inSize, 2 * outSize];
  return kind === 'bilinear' ? [inSize - 1, 0, outSize - 1] : [2 * (inSize - 1), outSize - 1, 2 * (outSize - 1)];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function resize(kind: 'bilinear' | 'nearest', x: Tensor, size: readonly [number, number], options: ResizeOptions): Tensor {
  const op = kind === 'bilinear' ? 'resizeBilinear' : 'resizeNearest';
  if (x.rank !== 4) throw new ShapeError(`${op}: input must be NHWC [N, H, W, C], got ${fmt(x.shape)}`);
  if (!Array.isArray(size) || size.length !== 2 || !size.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ShapeError(`${op}: size must be [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  // Keeps o·A + B inside int32 in the shader.
  if (Math.max(...size, x.shape[1], x.shape[2]) > 16384) {
    throw new ShapeError(`${op}: sizes above 16384 are not supported (input ${fmt(x.shape)}, size ${fmt(size)})`);
  }
  const mode = resizeMode(options ?? {}, op);
  const [n, h, w, c] = x.shape;
  return x.runtime.run({
    kernel: kind === 'bilinear' ? 'resize_bilinear' : 'resize_nearest',
    inputs: { X: x },
    uniforms: {
      u_inSize: [h, w, c],
      u_outSize: [size[0], size[1]],
      u_mapY: coordinateMap(kind, mode, h, size[0]),
      u_mapX: coordinateMap(kind, mode, w, size[1]),
    },
    outShape: [n, size[0], size[1], c],
  });
}

/** Bilinear resize [N, H, W, C] → [N, outH, outW, C]. */
export function resizeBilinear(x: Tensor, size: readonly [number, number], options: ResizeOptions = {}): Tensor {
  return resize('bilinear', x, size, options);
}

/** Nearest-neighbour resize [N, H, W, C] → [N, outH, outW, C]. */
export function resizeNearest(x: Tensor, size: readonly [number, number], options: ResizeOptions = {}): Tensor {
  return resize('nearest', x, size, options);
}
