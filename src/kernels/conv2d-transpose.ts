/**
 * Transposed 2D convolution (shaders/conv2d_transpose.glsl): the gradient of conv2d with respect to its
 * input, with TensorFlow's conv2d_transpose semantics. CPU reference: conv2d-transpose.ref.ts.
 *
 * Filter convention: `w` is the *forward* conv2d's HWIO filter, [KH, KW, Cin_fwd / groups, Cout_fwd],
 * passed unchanged. For the transpose, Cout_fwd is its input channel count and Cin_fwd its output
 * channel count, so in TF's words the filter is [KH, KW, outC, inC] (tf.nn.conv2d_transpose's layout).
 * conv2d's input gradient is therefore
 *   dx = conv2dTranspose(dy, w, { strides, padding, dilations, groups, outputShape: x.shape })
 * with the forward conv's own options.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { activationDefines, resolveActivation, type Activation } from './activation.js';
import { widthLog2 } from './matmul.js';
import { toPair, windowGeometry, type Padding, type Pair, type WindowGeometry } from './pool.js';

export interface Conv2dTransposeOptions {
  /** Strides of the forward conv (the upsampling factor of the transpose). Default 1. */
  strides?: Pair;
  /** Padding of the forward conv: 'same' | 'valid' | number | [top, bottom, left, right]. Default 'valid'. */
  padding?: Padding;
  /**
   * Output shape, [N, OH, OW, C] or [OH, OW]: the forward conv's input size. Needed when several input
   * sizes give the same forward output (stride > 1). Default: 'same' → in·stride, 'valid' →
   * (in − 1)·stride + (K − 1)·dilation + 1, explicit → that minus the padding.
   */
  outputShape?: readonly number[];
  /** Dilations of the forward conv. Default 1. */
  dilations?: Pair;
  /** Groups of the forward conv; must divide both channel counts. Default 1. */
  groups?: number;
  /** [C_out], added before the activation. */
  bias?: Tensor;
  activation?: Activation;
}

export interface Conv2dTransposePlan {
  outShape: [number, number, number, number];
  strides: [number, number];
  dilations: [number, number];
  groups: number;
  /** Geometry of the forward conv (input = this op's output). */
  forward: WindowGeometry;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Checks shapes and resolves the output size and padding; shared by the kernel and its reference. */
export function planConv2dTranspose(
  xShape: readonly number[],
  wShape: readonly number[],
  options: Omit<Conv2dTransposeOptions, 'bias' | 'activation'> & { biasShape?: readonly number[] },
): Conv2dTransposePlan {
  const op = 'conv2dTranspose';
  if (xShape.length !== 4) throw new ShapeError(`${op}: input must be NHWC [N, H, W, C], got ${fmt(xShape)}`);
  if (wShape.length !== 4) {
    throw new ShapeError(`${op}: filter must be the forward conv's HWIO [KH, KW, Cout/groups, Cin], got ${fmt(wShape)}`);
  }
  const [n, inH, inW, inC] = xShape;
  const [kh, kw, outPerGroup, wInC] = wShape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`${op}: groups must be a positive integer, got ${groups}`);
  if (wInC !== inC) {
    throw new ShapeError(`${op}: filter ${fmt(wShape)} expects ${wInC} input channels (its last dim) but the input ${fmt(xShape)} has ${inC}`);
  }
  if (inC % groups !== 0) throw new ShapeError(`${op}: groups ${groups} does not divide the input's ${inC} channels`);
  const outC = outPerGroup * groups;
  const strides = toPair(options.strides, 1, 'strides', op);
  const dilations = toPair(options.dilations, 1, 'dilations', op);
  const padding = options.padding ?? 'valid';
  if (!(padding === 'same' || padding === 'valid' || typeof padding === 'number' || (Array.isArray(padding) && padding.length === 4))) {
    throw new ShapeError(`${op}: padding must be 'same', 'valid', a number or [top, bottom, left, right]; got ${JSON.stringify(padding)}`);
  }
  const effH = (kh - 1) * dilations[0] + 1;
  const effW = (kw - 1) * dilations[1] + 1;

  let outH: number;
  let outW: number;
  const given = options.outputShape;
  if (given !== undefined) {
    if (!Array.isArray(given) || (given.length !== 4 && given.length !== 2) || !given.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new ShapeError(`${op}: outputShape must be [N, H, W, C] or [H, W] of positive integers, got ${JSON.stringify(given)}`);
    }
    if (given.length === 4 && (given[0] !== n || given[3] !== outC)) {
      throw new ShapeError(
        `${op}: outputShape ${fmt(given)} must have the input's batch ${n} and the filter's ${outC} output channels (filter ${fmt(wShape)}, groups ${groups})`,
      );
    }
    [outH, outW] = given.length === 4 ? [given[1], given[2]] : [given[0], given[1]];
  } else if (padding === 'same') {
    [outH, outW] = [inH * strides[0], inW * strides[1]];
  } else {
    // 'valid' or explicit: the largest forward input whose windows all fit (TF / Keras default).
    const pads = padding === 'valid' ? [0, 0, 0, 0] : typeof padding === 'number' ? [padding, padding, padding, padding] : padding;
    outH = (inH - 1) * strides[0] + effH - pads[0] - pads[1];
    outW = (inW - 1) * strides[1] + effW - pads[2] - pads[3];
    if (!(outH >= 1 && outW >= 1)) {
      throw new ShapeError(`${op}: padding ${JSON.stringify(padding)} leaves no output for input ${fmt(xShape)} and filter ${fmt(wShape)}`);
    }
  }
  const forward = windowGeometry(outH, outW, [kh, kw], strides, dilations, padding, op);
  if (forward.outHeight !== inH || forward.outWidth !== inW) {
    throw new ShapeError(
      `${op}: output ${outH}×${outW} does not fit input ${fmt(xShape)}: a conv with filter ${fmt(wShape)}, strides ${fmt(strides)}, ` +
        `dilations ${fmt(dilations)} and padding ${JSON.stringify(padding)} maps ${outH}×${outW} to ${forward.outHeight}×${forward.outWidth}, not ${inH}×${inW}`,
    );
  }
  if (options.biasShape && (options.biasShape.length !== 1 || options.biasShape[0] !== outC)) {
    throw new ShapeError(`${op}: bias must have shape [${outC}] (the output channels), got ${fmt(options.biasShape)}`);
  }
  return { outShape: [n, outH, outW, outC], strides, dilations, groups, forward };
}

/** Shader variant: 0 ungrouped, 2 depthwise with multiplier 1 (one channel per group), 1 other groups. */
function groupedVariant(groups: number, inC: number, outC: number): number {
  if (groups === 1) return 0;
  return groups === inC && groups === outC ? 2 : 1;
}

/**
 * Transposed convolution of x [N, H, W, C_in] with the forward conv's filter w [KH, KW, C_out/groups, C_in]
 * → [N, OH, OW, C_out], then + bias, then the activation.
 */
export function conv2dTranspose(x: Tensor, w: Tensor, options: Conv2dTransposeOptions = {}): Tensor {
  const { bias } = options;
  if (x.runtime !== w.runtime || (bias && bias.runtime !== x.runtime)) {
    throw new NbfError('conv2dTranspose: the tensors live on different contexts');
  }
  const plan = planConv2dTranspose(x.shape, w.shape, { ...options, biasShape: bias?.shape });
  const activation = resolveActivation(options.activation, 'conv2dTranspose');
  const [, , , outC] = plan.outShape;
  const inC = x.shape[3];
  return x.runtime.run({
    kernel: 'conv2d_transpose',
    defines: { GROUPED: groupedVariant(plan.groups, inC, outC), HAS_BIAS: bias !== undefined, ...activationDefines(activation) },
    inputs: bias ? { X: x, W: w, Bias: bias } : { X: x, W: w },
    uniforms: {
      u_inSize: [x.shape[1], x.shape[2], inC],
      u_outSize: [plan.outShape[1], plan.outShape[2], outC],
      u_kernel: [w.shape[0], w.shape[1]],
      u_strides: plan.strides,
      u_dilations: plan.dilations,
      u_padStart: [plan.forward.padTop, plan.forward.padLeft],
      u_groupChannels: [inC / plan.groups, outC / plan.groups],
      u_activationAlpha: activation.alpha,
      u_xWidthLog2: widthLog2(x),
      u_wWidthLog2: widthLog2(w),
    },
    outShape: plan.outShape,
  });
}
