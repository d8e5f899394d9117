/**
 * 2D convolution, NHWC input and HWIO weights (TensorFlow conventions), with strides, dilations,
 * TF 'same'/'valid' or explicit padding, channel groups (depthwise included), fused bias and activation.
 * Kernels: shaders/conv2d_pointwise.glsl (1×1 up to matmul's pointwise limit) or matmul (1×1), conv2d_small.glsl
 * (dense, ≤ 7×7, ≤ 16 input channels), Winograd F(2×2, 3×3) (dense 3×3 stride 1: conv2d-winograd.ts),
 * conv2d.glsl (direct 2×2 blocks, dense or texel-aligned groups), conv2d_depthwise.glsl (depthwise,
 * multiplier 1), conv2d_grouped.glsl (any other groups), conv2d_im2col.glsl + a product.
 * CPU reference: conv2d.ref.ts.
 * How the path is chosen, with measurements: docs/kernels/conv2d.md.
 */
import type { Tensor } from '../runtime/tensor.js';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { activationDefines, epilogueInputs, resolveActivation, type Activation, type ResolvedActivation } from './activation.js';
import { matmulKernel, packConstant, planMatmul, pointwiseMaxK, pointwiseProduct, POINTWISE_MAX_K_QUAD, productOfRows, unblock, widthLog2 } from './matmul.js';
import { conv2dWinograd, winogradApplies, winogradPays } from './conv2d-winograd.js';
import { FLOAT_INDEX_LIMIT } from './float-index.js';

/** The pointwise limit lives with matmul, which decides it (its product kernel). */
export { POINTWISE_MAX_K, POINTWISE_MAX_K_QUAD, pointwiseMaxK } from './matmul.js';

export type Conv2dAlgorithm = 'auto' | 'direct' | 'im2col' | 'winograd';

export type Conv2dPadding = 'same' | 'valid' | number | readonly [number, number, number, number];

export interface Conv2dOptions {
  /** Stride, one number or [sy, sx] (default 1). */
  strides?: number | readonly [number, number];
  /** 'same' (TensorFlow: out = ceil(in / stride), extra padding at the bottom/right), 'valid', a
   *  number of pixels on every side, or [top, bottom, left, right]. Default 'valid'. */
  padding?: Conv2dPadding;
  /** Dilation, one number or [dy, dx] (default 1). */
  dilations?: number | readonly [number, number];
  /** Channel groups: Cin and Cout divisible by it; w is [KH, KW, Cin / groups, Cout]. groups = Cin is depthwise. */
  groups?: number;
  /** Added per output channel: shape [Cout]. */
  bias?: Tensor;
  /** Applied after the bias (and the residual). */
  activation?: Activation;
  /** Added to every output after the bias, before the activation: a tensor of the output's shape
   *  [N, OH, OW, Cout]. A residual connection (act(conv(x) + bias + r)) in the convolution's own
   *  last pass instead of an add and an activation pass after it. */
  residual?: Tensor;
  /** 'auto' (default) picks by shape; for groups = 1, 'direct' forces conv2d.glsl's 2×2 blocks,
   *  'im2col' im2col + a product and 'winograd' Winograd F(2×2, 3×3) (3×3, stride 1, dilation 1
   *  only; conv2d-winograd.ts) (benchmarks, tests). Grouped convolutions pick by shape always. */
  algorithm?: Conv2dAlgorithm;
  /** w is a constant (a parameter at inference): its packed layout (matmul.ts packKLast, one pass per
   *  call otherwise) or Winograd transform (conv2d-winograd.ts) is made once per w tensor and reused
   *  until w is disposed (Runtime.derived). 'auto' then also takes Winograd on smaller maps.
   *  Default false. */
  cacheWeights?: boolean;
}

export interface Conv2dGeometry {
  batch: number;
  inSize: [number, number];
  inChannels: number;
  kernelSize: [number, number];
  outChannels: number;
  groups: number;
  stride: [number, number];
  dilation: [number, number];
  /** [top, bottom, left, right] */
  padding: [number, number, number, number];
  outSize: [number, number];
  outShape: number[];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

function pair(v: number | readonly [number, number] | undefined, name: string): [number, number] {
  const p: [number, number] = v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!Array.isArray(v) && typeof v !== 'number' && v !== undefined) throw new ShapeError(`conv2d: ${name} must be a number or [y, x]; got ${String(v)}`);
  if (!p.every((d) => Number.isInteger(d) && d >= 1)) throw new ShapeError(`conv2d: ${name} must be positive integers; got ${fmt(p)}`);
  return p;
}

/** Validates shapes and options and computes the output geometry (shared by the op and the reference). */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], options: Omit<Conv2dOptions, 'bias'> & { biasShape?: readonly number[] } = {}): Conv2dGeometry {
  if (xShape.length !== 4) throw new ShapeError(`conv2d: x must be NHWC [N, H, W, Cin]; got ${fmt(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`conv2d: w must be HWIO [KH, KW, Cin / groups, Cout]; got ${fmt(wShape)}`);
  const [batch, H, W, Cin] = xShape;
  const [KH, KW, Cg, Cout] = wShape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new ShapeError(`conv2d: groups must be a positive integer; got ${groups}`);
  if (Cin % groups !== 0 || Cout % groups !== 0) {
    throw new ShapeError(`conv2d: groups = ${groups} must divide Cin = ${Cin} (x ${fmt(xShape)}) and Cout = ${Cout} (w ${fmt(wShape)})`);
  }
  if (Cg !== Cin / groups) {
    throw new ShapeError(`conv2d: w ${fmt(wShape)} has ${Cg} input channels; x ${fmt(xShape)} with groups = ${groups} needs ${Cin / groups}`);
  }
  const stride = pair(options.strides, 'strides');
  const dilation = pair(options.dilations, 'dilations');
  const effK = [(KH - 1) * dilation[0] + 1, (KW - 1) * dilation[1] + 1];
  const inSize: [number, number] = [H, W];
  const spec = options.padding ?? 'valid';
  let padding: [number, number, number, number];
  if (spec === 'same') {
    const pads = [0, 1].map((i) => {
      const out = Math.ceil(inSize[i] / stride[i]);
      const total = Math.max((out - 1) * stride[i] + effK[i] - inSize[i], 0);
      return [Math.floor(total / 2), total - Math.floor(total / 2)];
    });
    padding = [pads[0][0], pads[0][1], pads[1][0], pads[1][1]];
  } else if (spec === 'valid') {
    padding = [0, 0, 0, 0];
  } else if (typeof spec === 'number') {
    padding = [spec, spec, spec, spec];
  } else if (Array.isArray(spec) && spec.length === 4) {
    padding = [spec[0], spec[1], spec[2], spec[3]];
  } else {
    throw new ShapeError(`conv2d: padding must be 'same', 'valid', a number or [top, bottom, left, right]; got ${JSON.stringify(spec)}`);
  }
  if (!padding.every((p) => Number.isInteger(p) && p >= 0)) throw new ShapeError(`conv2d: padding must be non-negative integers; got ${fmt(padding)}`);
  const outSize: [number, number] = [
    Math.floor((H + padding[0] + padding[1] - effK[0]) / stride[0]) + 1,
    Math.floor((W + padding[2] + padding[3] - effK[1]) / stride[1]) + 1,
  ];
  if (outSize[0] < 1 || outSize[1] < 1) {
    throw new ShapeError(`conv2d: the ${KH}×${KW} kernel (dilation ${fmt(dilation)}) does not fit x ${fmt(xShape)} with padding ${fmt(padding)}`);
  }
  if (options.biasShape && (options.biasShape.length !== 1 || options.biasShape[0] !== Cout)) {
    throw new ShapeError(`conv2d: bias must have shape [${Cout}] (Cout); got ${fmt(options.biasShape)}`);
  }
  return {
    batch, inSize, inChannels: Cin, kernelSize: [KH, KW], outChannels: Cout, groups, stride, dilation, padding, outSize,
    outShape: [batch, outSize[0], outSize[1], Cout],
  };
}

/** conv2d(x [N, H, W, Cin], w [KH, KW, Cin / groups, Cout]) → [N, OH, OW, Cout]. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const { bias, residual } = options;
  if (x.runtime !== w.runtime || (bias && bias.runtime !== x.runtime) || (residual && residual.runtime !== x.runtime)) throw new NbfError('conv2d: the tensors live on different contexts');
  const g = conv2dGeometry(x.shape, w.shape, { ...options, biasShape: bias?.shape });
  if (residual && residual.shape.join() !== g.outShape.join()) throw new ShapeError(`conv2d: residual ${fmt(residual.shape)} must have the output's shape ${fmt(g.outShape)}`);
  const activation = resolveActivation(options.activation, 'conv2d');
  const algorithm = options.algorithm ?? 'auto';
  if (algorithm !== 'auto' && algorithm !== 'direct' && algorithm !== 'im2col' && algorithm !== 'winograd') {
    throw new NbfError(`conv2d: algorithm must be 'auto', 'direct', 'im2col' or 'winograd'; got ${JSON.stringify(algorithm)}`);
  }
  if (algorithm === 'winograd') {
    if (!winogradApplies(g)) {
      throw new NbfError(
        `conv2d: algorithm 'winograd' needs a dense 3×3 convolution with stride 1 and dilation 1; got w ${fmt(w.shape)}, ` +
        `strides ${fmt(g.stride)}, dilations ${fmt(g.dilation)}, groups ${g.groups}`,
      );
    }
    return conv2dWinograd(x, w, g, bias, activation, options.cacheWeights ?? false, residual);
  }
  const rt = x.runtime;
  const Cg = g.inChannels / g.groups;
  const CoutG = g.outChannels / g.groups;
  const dense = g.groups === 1;
  const noPadding = g.padding.every((p) => p === 0);
  const cache = options.cacheWeights ?? false;
  const pointwise = dense && g.kernelSize[0] === 1 && g.kernelSize[1] === 1 && g.stride[0] === 1 && g.stride[1] === 1 && noPadding;

  if (pointwise && algorithm !== 'direct') {
    // A 1×1 stride-1 convolution is a matmul of free views: [N·H·W, Cin] · [Cin, Cout].
    return rt.scope(() => {
      const rows = g.batch * g.inSize[0] * g.inSize[1];
      const r = residual && rt.view(residual, [rows, g.outChannels]);
      const product = productByWeights(rt.view(x, [rows, g.inChannels]), w, g.inChannels, g.outChannels, bias, activation, cache, r);
      return rt.view(product, g.outShape);
    });
  }
  // Small dense filters (up to 7×7, up to 16 input channels): conv2d_small, one pass with every tap
  // written out; faster than the 2×2-block kernel + unblock and than im2col + a product there —
  // except for 1–3 input channels (a tap's texel of x is partly empty) with a patch long enough for
  // matmul_quad and ≥ 32 output channels (the RGB 7×7 stem): im2col + matmul_quad (im2colBeatsSmall).
  const taps = g.kernelSize[0] * g.kernelSize[1];
  const cin4 = Math.ceil(g.inChannels / 4);
  const smallFilter = g.kernelSize[0] <= SMALL_MAX_KERNEL && g.kernelSize[1] <= SMALL_MAX_KERNEL && cin4 <= SMALL_MAX_CIN4;
  if (dense && algorithm === 'auto' && smallFilter && !im2colBeatsSmall(rt, g)) {
    return rt.scope(() => smallConv(x, packConstant(w, taps, cache, [taps * g.inChannels, g.outChannels]), g, bias, activation, residual));
  }
  // Dense 3×3, stride 1, dilation 1, past conv2d_small's limits: Winograd F(2×2, 3×3) (2.25× fewer
  // multiply-adds) wherever it measured faster than the 2×2-block kernel (winogradPays).
  if (dense && algorithm === 'auto' && winogradApplies(g) && winogradPays(g, cache)) {
    return conv2dWinograd(x, w, g, bias, activation, cache, residual);
  }
  // Past conv2d_small's limits, with at most 4 input channels a tap is a single texel per pixel: the
  // 2×2-block kernel then spends more on per-tap bookkeeping than on reads, and im2col + a product is
  // ~2.7× faster (docs/kernels/conv2d.md). Otherwise the block kernel is as fast and needs no patch buffer.
  const smallInput = Cg <= 4;
  if (dense && (algorithm === 'im2col' || (algorithm === 'auto' && (smallInput || im2colBeatsSmall(rt, g))))) {
    return rt.scope(() => {
      const patchLength = g.kernelSize[0] * g.kernelSize[1] * g.inChannels;
      const pixels = g.batch * g.outSize[0] * g.outSize[1];
      const patches = rt.run({
        kernel: 'conv2d_im2col',
        defines: { READS: g.inChannels % 4 === 0 ? 1 : g.inChannels === 2 || g.inChannels === 3 ? 2 : 4, FLOAT_DIVMOD: pixels * Math.ceil(patchLength / 4) < FLOAT_INDEX_LIMIT },
        inputs: { X: x },
        uniforms: { ...geometryUniforms(g), u_xWidthLog2: widthLog2(x), u_xTexelSize: texelSize(x) },
        outShape: [pixels, patchLength],
      });
      const r = residual && rt.view(residual, [pixels, g.outChannels]);
      return rt.view(productByWeights(patches, w, patchLength, g.outChannels, bias, activation, cache, r), g.outShape);
    });
  }
  const depthwise = g.groups === g.inChannels && g.outChannels === g.inChannels;
  const smallKernel = g.kernelSize[0] <= DEPTHWISE_MAX_KERNEL && g.kernelSize[1] <= DEPTHWISE_MAX_KERNEL;
  if (depthwise && !dense && smallKernel) return depthwiseConv(x, w, g, bias, activation, residual);
  // The block kernel needs a block's two output channels in one group, starting at a texel boundary.
  if (dense || (Cg % 4 === 0 && CoutG % 2 === 0)) {
    return rt.scope(() => {
      const packed = packConstant(w, taps, cache, [taps * Cg, g.outChannels]);
      const pixels = g.batch * g.outSize[0] * g.outSize[1];
      const blocks = rt.run({
        kernel: 'conv2d',
        inputs: { X: x, Wp: packed },
        uniforms: {
          ...geometryUniforms(g),
          u_groupInChannels: Cg,
          u_outChannels: g.outChannels,
          u_groupOutChannels: CoutG,
          u_pixels: pixels,
          u_xWidthLog2: widthLog2(x),
          u_wWidthLog2: widthLog2(packed),
        },
        outShape: [Math.ceil(pixels / 2) * Math.ceil(g.outChannels / 2), 4],
      });
      return rt.view(unblock(blocks, [pixels, g.outChannels], bias, activation, residual && rt.view(residual, [pixels, g.outChannels])), g.outShape);
    });
  }
  return rt.run({
    kernel: 'conv2d_grouped',
    defines: { HAS_BIAS: bias !== undefined, HAS_RESIDUAL: residual !== undefined, DEPTHWISE: depthwise, ...activationDefines(activation) },
    inputs: { X: x, Wt: w, ...epilogueInputs(bias, residual) },
    uniforms: {
      ...geometryUniforms(g),
      u_groupInChannels: Cg,
      u_outChannels: g.outChannels,
      u_groupOutChannels: CoutG,
      u_activationAlpha: activation.alpha,
    },
    outShape: g.outShape,
  });
}

/**
 * Where im2col + matmul_quad beats conv2d_small (measured, docs/kernels/conv2d.md): 1–3 input
 * channels (conv2d_small's reads of x are then 1/4–3/4 empty), a patch longer than the pointwise
 * limit (the product runs on matmul_quad) and at least 32 output channels (below that the im2col and
 * unblock passes cost more than the product saves): the RGB 7×7 stem 1.3×, 7×7 1 → 32 2.4×.
 */
function im2colBeatsSmall(rt: Runtime, g: Conv2dGeometry): boolean {
  const patchLength = g.kernelSize[0] * g.kernelSize[1] * g.inChannels;
  return g.groups === 1 && g.inChannels < 4 && g.outChannels >= IM2COL_MIN_COUT && patchLength > POINTWISE_MAX_K_QUAD && matmulKernel(rt) === 'quad';
}
const IM2COL_MIN_COUT = 32;

/** conv2d_small.glsl writes its taps and input texels out up to these sizes. */
const SMALL_MAX_KERNEL = 7;
const SMALL_MAX_CIN4 = 4;

/** Dense small filters: conv2d_small.glsl on w packed to [Cout, taps, Cin] (packKLast with taps). */
function smallConv(x: Tensor, packed: Tensor, g: Conv2dGeometry, bias: Tensor | undefined, activation: ResolvedActivation, residual: Tensor | undefined): Tensor {
  return x.runtime.run({
    kernel: 'conv2d_small',
    defines: {
      HAS_BIAS: bias !== undefined,
      HAS_RESIDUAL: residual !== undefined,
      KH: g.kernelSize[0],
      KW: g.kernelSize[1],
      CIN4: Math.ceil(g.inChannels / 4),
      NLANES: Math.min(4, g.outChannels),
      FLOAT_DIVMOD: outTexels(g) < FLOAT_INDEX_LIMIT,
      ...activationDefines(activation),
    },
    inputs: { X: x, Wp: packed, ...epilogueInputs(bias, residual) },
    uniforms: {
      ...geometryUniforms(g),
      ...fastReadUniforms(x, packed),
      u_outChannels: g.outChannels,
      u_activationAlpha: activation.alpha,
    },
    outShape: g.outShape,
  });
}

/** conv2d_depthwise.glsl writes its taps out up to this kernel size; larger ones run conv2d_grouped. */
const DEPTHWISE_MAX_KERNEL = 7;

/**
 * Depthwise, multiplier 1 (groups = Cin = Cout): conv2d_depthwise.glsl, one pass with bias and
 * activation; w [KH, KW, 1, C] is read as it is.
 */
function depthwiseConv(x: Tensor, w: Tensor, g: Conv2dGeometry, bias: Tensor | undefined, activation: ResolvedActivation, residual: Tensor | undefined): Tensor {
  return x.runtime.run({
    kernel: 'conv2d_depthwise',
    defines: {
      HAS_BIAS: bias !== undefined,
      HAS_RESIDUAL: residual !== undefined,
      KH: g.kernelSize[0],
      KW: g.kernelSize[1],
      FLOAT_DIVMOD: outTexels(g) < FLOAT_INDEX_LIMIT,
      ...activationDefines(activation),
    },
    inputs: { X: x, Wt: w, ...epilogueInputs(bias, residual) },
    uniforms: {
      ...geometryUniforms(g),
      ...fastReadUniforms(x, w),
      u_channels: g.inChannels,
      u_activationAlpha: activation.alpha,
    },
    outShape: g.outShape,
  });
}


/** Texels of the output [N, OH, OW, Cout]. */
const outTexels = (g: Conv2dGeometry) => g.batch * g.outSize[0] * g.outSize[1] * Math.ceil(g.outChannels / 4);

/** 1 / (width, height) of a tensor's texture: texel-centre coordinates without textureSize. */
function texelSize(t: Tensor): [number, number] {
  return [1 / t.texture.width, 1 / t.texture.height];
}

/** The mask/shift texel reads of x and w in the written-out kernels (their fetchX / fetchW). */
function fastReadUniforms(x: Tensor, w: Tensor) {
  return { u_xWidthLog2: widthLog2(x), u_wWidthLog2: widthLog2(w), u_xTexelSize: texelSize(x), u_wTexelSize: texelSize(w) };
}

/** act(a [M, K] · w viewed as [K, N] + bias + residual [M, N]): conv2d_pointwise up to the pointwise limit, else matmul. */
function productByWeights(a: Tensor, w: Tensor, K: number, N: number, bias: Tensor | undefined, activation: ResolvedActivation, cache: boolean, residual: Tensor | undefined): Tensor {
  if (K > pointwiseMaxK(a.runtime)) return matmulByWeights(a, w, K, N, bias, activation, cache, residual);
  return pointwiseProduct(a, w.shape.length === 2 ? w : a.runtime.view(w, [K, N]), bias, activation, residual);
}

/** act(a [M, K] · w viewed as [K, N] + bias + residual [M, N]): matmul's pack (cached when asked), product and unblock passes. */
function matmulByWeights(a: Tensor, w: Tensor, K: number, N: number, bias: Tensor | undefined, activation: ResolvedActivation, cache: boolean, residual: Tensor | undefined): Tensor {
  const plan = planMatmul(a.shape, [K, N], { biasShape: bias?.shape });
  return productOfRows(a, packConstant(w, 1, cache, [K, N]), plan, bias, activation, residual);
}

/** A convolution window's geometry as the patch kernels (conv2d_im2col, conv2d_patches_transposed) take it. */
export interface PatchGeometry {
  inSize: readonly [number, number];
  outSize: readonly [number, number];
  kernelSize: readonly [number, number];
  stride: readonly [number, number];
  dilation: readonly [number, number];
  /** [top, bottom, left, right] */
  padding: readonly [number, number, number, number];
  inChannels: number;
}

/** The geometry uniforms shared by conv2d's kernels and the patch kernels. */
export function geometryUniforms(g: PatchGeometry) {
  return {
    u_inSize: [...g.inSize],
    u_outSize: [...g.outSize],
    u_kernelSize: [...g.kernelSize],
    u_stride: [...g.stride],
    u_dilation: [...g.dilation],
    u_padBefore: [g.padding[0], g.padding[2]],
    u_inChannels: g.inChannels,
  };
}
