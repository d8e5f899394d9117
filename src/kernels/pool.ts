/**
 * 2D pooling over NHWC activations: max, average, max with argmax routing (shaders/pool.glsl) and
 * global average pooling (shaders/pool_global.glsl). CPU references: pool.ref.ts.
 *
 * Also home of the sliding-window geometry (padding modes, output sizes) shared with the transposed
 * convolution, following TensorFlow's rules so weights and shapes port one to one.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { checkShape } from '../runtime/layout.js';
import { FLOAT_INDEX_LIMIT } from './float-index.js';

/** 'same' and 'valid' as in TensorFlow; a number pads all four sides; [top, bottom, left, right]. */
export type Padding = 'same' | 'valid' | number | readonly [number, number, number, number];
/** One value for both spatial axes, or [height, width]. */
export type Pair = number | readonly [number, number];

export interface WindowGeometry {
  outHeight: number;
  outWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
}

/** Reads a Pair option as [height, width] positive integers, naming the option in errors. */
export function toPair(value: Pair | undefined, fallback: number, name: string, op: string): [number, number] {
  let pair: [number, number];
  if (value === undefined) pair = [fallback, fallback];
  else if (typeof value === 'number') pair = [value, value];
  else if (Array.isArray(value) && value.length === 2) pair = [value[0], value[1]];
  else throw new ShapeError(`${op}: ${name} must be a number or [height, width], got ${JSON.stringify(value)}`);
  if (!pair.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ShapeError(`${op}: ${name} must be positive integers, got [${pair.join(', ')}]`);
  }
  return pair;
}

/** Output length of a window sweep along one axis with explicit padding (TF's floor rule). */
function sweepLength(input: number, effectiveWindow: number, stride: number, padBefore: number, padAfter: number): number {
  return Math.floor((input + padBefore + padAfter - effectiveWindow) / stride) + 1;
}

/**
 * Geometry of a window (kernel size `window`, `strides`, `dilations`) slid over an input of
 * `inHeight × inWidth`: output size and the padding on each side. 'same' follows TensorFlow: output
 * ceil(in / stride), total padding max((out − 1)·stride + effective window − in, 0), the odd pixel at
 * the bottom/right.
 */
export function windowGeometry(
  inHeight: number,
  inWidth: number,
  window: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number],
  padding: Padding,
  op: string,
): WindowGeometry {
  const effH = (window[0] - 1) * dilations[0] + 1;
  const effW = (window[1] - 1) * dilations[1] + 1;
  let pads: [number, number, number, number];
  if (padding === 'same') {
    const outH = Math.ceil(inHeight / strides[0]);
    const outW = Math.ceil(inWidth / strides[1]);
    const totalH = Math.max((outH - 1) * strides[0] + effH - inHeight, 0);
    const totalW = Math.max((outW - 1) * strides[1] + effW - inWidth, 0);
    pads = [Math.floor(totalH / 2), totalH - Math.floor(totalH / 2), Math.floor(totalW / 2), totalW - Math.floor(totalW / 2)];
  } else if (padding === 'valid') {
    pads = [0, 0, 0, 0];
  } else if (typeof padding === 'number') {
    pads = [padding, padding, padding, padding];
  } else if (Array.isArray(padding) && padding.length === 4) {
    pads = [padding[0], padding[1], padding[2], padding[3]];
  } else {
    throw new ShapeError(`${op}: padding must be 'same', 'valid', a number or [top, bottom, left, right]; got ${JSON.stringify(padding)}`);
  }
  if (!pads.every((p) => Number.isInteger(p) && p >= 0)) {
    throw new ShapeError(`${op}: padding must be non-negative integers, got [${pads.join(', ')}]`);
  }
  const outHeight = sweepLength(inHeight, effH, strides[0], pads[0], pads[1]);
  const outWidth = sweepLength(inWidth, effW, strides[1], pads[2], pads[3]);
  if (outHeight < 1 || outWidth < 1) {
    throw new ShapeError(
      `${op}: a ${effH}×${effW} window (after dilation) does not fit the ${inHeight}×${inWidth} input with padding [${pads.join(', ')}]`,
    );
  }
  return { outHeight, outWidth, padTop: pads[0], padBottom: pads[1], padLeft: pads[2], padRight: pads[3] };
}

export interface PoolOptions {
  /** Window size: a number or [height, width]. */
  size: Pair;
  /** Step between windows; defaults to the window size (TF's default for pooling layers). */
  strides?: Pair;
  /** Default 'valid'. */
  padding?: Padding;
}

/** MODE of shaders/pool.glsl and shaders/pool_backward.glsl. */
const POOL_MODE = { avg: 0, max: 1, argmax: 2 } as const;
const POOL_BACKWARD_MODE = { avg: 0, max: 1 } as const;

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

interface PoolPlan {
  outShape: number[];
  uniforms: Record<string, number[] | number>;
  unitStrides: boolean;
  /** The compile-time window of shaders/pool.glsl and pool_backward.glsl (their loops unroll) and
   *  lib/divmod's switch (texel indices of the input and the output below 2^24). */
  windowDefines: { KH: number; KW: number; FLOAT_DIVMOD: boolean };
}

function planPool(shape: readonly number[], options: PoolOptions, op: string): PoolPlan {
  if (shape.length !== 4) throw new ShapeError(`${op}: input must be NHWC [N, H, W, C], got [${shape.join(', ')}]`);
  checkShape(shape, `${op} input shape`);
  if (!options || options.size === undefined) throw new ShapeError(`${op}: options.size (the window) is required`);
  const [n, h, w, c] = shape;
  const size = toPair(options.size, 1, 'size', op);
  const strides = options.strides === undefined ? size : toPair(options.strides, 1, 'strides', op);
  const geo = windowGeometry(h, w, size, strides, [1, 1], options.padding ?? 'valid', op);
  // A padding as large as the window would make windows with no input pixel (max undefined, mean 0/0).
  if (geo.padTop >= size[0] || geo.padBottom >= size[0] || geo.padLeft >= size[1] || geo.padRight >= size[1]) {
    throw new ShapeError(
      `${op}: padding [${geo.padTop}, ${geo.padBottom}, ${geo.padLeft}, ${geo.padRight}] must be smaller than the ${size[0]}×${size[1]} window on each side`,
    );
  }
  const texels = n * Math.max(h * w, geo.outHeight * geo.outWidth) * Math.ceil(c / 4);
  return {
    outShape: [n, geo.outHeight, geo.outWidth, c],
    windowDefines: { KH: size[0], KW: size[1], FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT },
    unitStrides: strides[0] === 1 && strides[1] === 1,
    uniforms: {
      u_inSize: [h, w, c],
      u_outSize: [geo.outHeight, geo.outWidth],
      u_strides: strides,
      u_padStart: [geo.padTop, geo.padLeft],
    },
  };
}

/** Max over each window; padded positions are ignored (TF semantics). NHWC in and out. */
export function maxPool(x: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'maxPool');
  return x.runtime.run({ kernel: 'pool', defines: { MODE: POOL_MODE.max, ...plan.windowDefines }, inputs: { X: x }, uniforms: plan.uniforms, outShape: plan.outShape });
}

/** Mean over each window's positions inside the input; padded positions are not counted (TF 'same'). */
export function avgPool(x: Tensor, options: PoolOptions): Tensor {
  const plan = planPool(x.shape, options, 'avgPool');
  return x.runtime.run({ kernel: 'pool', defines: { MODE: POOL_MODE.avg, ...plan.windowDefines }, inputs: { X: x }, uniforms: plan.uniforms, outShape: plan.outShape });
}

/**
 * Max pooling that also returns, per output element, where the max came from: the window-local index
 * ky·KW + kx (row-major in the window, first maximum on ties), stored as a float (exact: windows are
 * far below 2^24 positions). Window-local rather than flat input indices so the backward pass can be a
 * gather: an input pixel checks the few outputs whose windows cover it, and the index never loses
 * precision however large the tensor.
 */
export function maxPoolWithArgmax(x: Tensor, options: PoolOptions): { output: Tensor; argmax: Tensor } {
  const plan = planPool(x.shape, options, 'maxPoolWithArgmax');
  // Two draws, not one with two render targets: multiple draw buffers fail (GL_INVALID_OPERATION) in
  // headless-gl 9.0.0-rc.10, so runtime.runMulti cannot be used in Node.
  return x.runtime.scope(() => {
    const output = x.runtime.run({ kernel: 'pool', defines: { MODE: POOL_MODE.max, ...plan.windowDefines }, inputs: { X: x }, uniforms: plan.uniforms, outShape: plan.outShape });
    const argmax = x.runtime.run({ kernel: 'pool', defines: { MODE: POOL_MODE.argmax, ...plan.windowDefines }, inputs: { X: x }, uniforms: plan.uniforms, outShape: plan.outShape });
    return { output, argmax };
  });
}

/** Checks a pooling gradient against the forward geometry of `inputShape`; returns the forward plan. */
function planPoolBackward(dy: Tensor, inputShape: readonly number[], options: PoolOptions, op: string, argmax?: Tensor): PoolPlan {
  if (!Array.isArray(inputShape) || inputShape.length !== 4) {
    throw new ShapeError(`${op}: inputShape must be the forward input's NHWC shape [N, H, W, C], got ${JSON.stringify(inputShape)}`);
  }
  const plan = planPool(inputShape, options, op);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
  if (!same(dy.shape, plan.outShape)) {
    throw new ShapeError(`${op}: gradient ${fmt(dy.shape)} does not match the pooled output ${fmt(plan.outShape)} of input ${fmt(inputShape)}`);
  }
  if (argmax && !same(argmax.shape, plan.outShape)) {
    throw new ShapeError(`${op}: argmax ${fmt(argmax.shape)} does not match the pooled output ${fmt(plan.outShape)} of input ${fmt(inputShape)}`);
  }
  return plan;
}

/**
 * Gradient of maxPool with respect to its input: each window's gradient goes to the pixel its argmax
 * (from maxPoolWithArgmax with the same options) names. dy and argmax: [N, OH, OW, C] → [N, H, W, C].
 */
export function maxPoolBackward(dy: Tensor, argmax: Tensor, inputShape: readonly number[], options: PoolOptions): Tensor {
  if (dy.runtime !== argmax.runtime) throw new NbfError('maxPoolBackward: the tensors live on different contexts');
  const plan = planPoolBackward(dy, inputShape, options, 'maxPoolBackward', argmax);
  return dy.runtime.run({ kernel: 'pool_backward', defines: { MODE: POOL_BACKWARD_MODE.max, ...plan.windowDefines, UNIT_STRIDES: plan.unitStrides }, inputs: { DY: dy, Argmax: argmax }, uniforms: plan.uniforms, outShape: inputShape });
}

/** Gradient of avgPool with respect to its input: [N, OH, OW, C] → [N, H, W, C]. */
export function avgPoolBackward(dy: Tensor, inputShape: readonly number[], options: PoolOptions): Tensor {
  const plan = planPoolBackward(dy, inputShape, options, 'avgPoolBackward');
  return dy.runtime.run({ kernel: 'pool_backward', defines: { MODE: POOL_BACKWARD_MODE.avg, ...plan.windowDefines, UNIT_STRIDES: plan.unitStrides }, inputs: { DY: dy }, uniforms: plan.uniforms, outShape: inputShape });
}

/**
 * Above this many pixels per image, global pooling sums in two levels (chunks of ~√(H·W) pixels, then
 * the chunk sums): more fragments run in parallel and float32 sums stay short.
 */
export const GLOBAL_POOL_SINGLE_PASS_MAX = 128;

/**
 * Mean over H and W: [N, H, W, C] → [N, C] (view it as [N, 1, 1, C] for free if needed). Its gradient
 * needs no kernel of its own: dx = dy viewed as [N, 1, 1, C], broadcast over H·W, times 1/(H·W).
 */
export function globalAvgPool(x: Tensor): Tensor {
  if (x.rank !== 4) throw new ShapeError(`globalAvgPool: input must be NHWC [N, H, W, C], got [${x.shape.join(', ')}]`);
  const [n, h, w, c] = x.shape;
  const pixels = h * w;
  const rt = x.runtime;
  if (pixels <= GLOBAL_POOL_SINGLE_PASS_MAX) {
    return rt.run({
      kernel: 'pool_global',
      inputs: { X: x },
      uniforms: { u_channels: c, u_length: pixels, u_chunk: pixels, u_parts: 1, u_scale: 1 / pixels },
      outShape: [n, c],
    });
  }
  const chunk = Math.ceil(Math.sqrt(pixels));
  const parts = Math.ceil(pixels / chunk);
  return rt.scope(() => {
    // Each partial is already divided by H·W, so the second level only adds.
    const partial = rt.run({
      kernel: 'pool_global',
      inputs: { X: x },
      uniforms: { u_channels: c, u_length: pixels, u_chunk: chunk, u_parts: parts, u_scale: 1 / pixels },
      outShape: [n, parts, c],
    });
    return rt.run({
      kernel: 'pool_global',
      inputs: { X: partial },
      uniforms: { u_channels: c, u_length: parts, u_chunk: parts, u_parts: 1, u_scale: 1 },
      outShape: [n, c],
    });
  });
}
