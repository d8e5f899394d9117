/**
 * conv2d's filter gradient. Two paths:
 *   im2col (groups = 1): dW = patches(x)ᵀ · dY, the transposed patch matrix written directly
 *     (shaders/conv2d_patches_transposed.glsl, so matmul needs no transpose pass over it) and the
 *     vec4 matmul — 8–12× faster than the direct kernel on llvmpipe (x [16,32,32,32], 3×3 32→32:
 *     0.36 s vs 3.0 s), at the cost of a patch matrix of N·OH·OW × KH·KW·Cin floats.
 *   direct (any groups): shaders/conv2d_backward_filter.glsl, one fragment per dW texel.
 * The input gradient is the transposed convolution (src/kernels/conv2d-transpose.ts), the bias
 * gradient a sum over N·H·W (reduce-to-shape.ts). CPU reference: conv-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { matmul, widthLog2 } from '../../kernels/matmul.js';
import { conv2d } from '../../kernels/conv2d.js';

/** The forward conv's window geometry, resolved. */
export interface ConvWindow {
  strides: readonly [number, number];
  dilations: readonly [number, number];
  /** [top, bottom, left, right] */
  padding: readonly [number, number, number, number];
  groups: number;
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/**
 * dW [KH, KW, CI/G, CO] of a conv2d with input `x` [N, IH, IW, CI], given the gradient `dy`
 * [N, OH, OW, CO] of its output.
 */
export function conv2dBackwardFilter(x: Tensor, dy: Tensor, filterShape: readonly number[], window: ConvWindow, algorithm: 'auto' | 'direct' | 'im2col' = 'auto'): Tensor {
  if (x.rank !== 4 || dy.rank !== 4 || filterShape.length !== 4) {
    throw new ShapeError(`conv2dBackwardFilter: x ${fmt(x.shape)} and dy ${fmt(dy.shape)} must be NHWC and the filter ${fmt(filterShape)} HWIO`);
  }
  const [n, ih, iw, ci] = x.shape;
  const [dn, oh, ow, co] = dy.shape;
  const [kh, kw, cig, fco] = filterShape;
  const g = window.groups;
  if (dn !== n || fco !== co || cig * g !== ci || co % g !== 0) {
    throw new ShapeError(`conv2dBackwardFilter: x ${fmt(x.shape)}, dy ${fmt(dy.shape)} and filter ${fmt(filterShape)} (groups ${g}) do not belong to one conv`);
  }
  const rt = x.runtime;
  if (algorithm === 'im2col' && g !== 1) throw new NbfError(`conv2dBackwardFilter: the im2col path needs groups = 1, got ${g}`);
  if (g === 1 && algorithm !== 'direct') {
    return rt.scope(() => {
      const patchesT = transposedPatches(x, [oh, ow], [kh, kw], window);
      const dw = matmul(patchesT, rt.view(dy, [n * oh * ow, co]));
      return rt.view(dw, filterShape);
    });
  }
  return rt.run({
    kernel: 'conv2d_backward_filter',
    inputs: { X: x, DY: dy },
    uniforms: {
      u_inSize: [ih, iw, ci],
      u_outSize: [oh, ow, co],
      u_kernel: [kh, kw],
      u_strides: [...window.strides],
      u_dilations: [...window.dilations],
      u_padStart: [window.padding[0], window.padding[2]],
      u_groupChannels: [cig, co / g],
      u_batch: n,
    },
    outShape: filterShape,
  });
}

/**
 * patches(x)ᵀ [KH·KW·Cin, N·OH·OW] (shaders/conv2d_patches_transposed.glsl): the first operand of
 * dW = patchesᵀ·dY with the reduced dimension (pixels) already last, as matmul wants it.
 */
export function transposedPatches(x: Tensor, outSize: readonly [number, number], kernelSize: readonly [number, number], window: ConvWindow): Tensor {
  const [n, ih, iw, ci] = x.shape;
  const pixels = n * outSize[0] * outSize[1];
  return x.runtime.run({
    kernel: 'conv2d_patches_transposed',
    inputs: { X: x },
    uniforms: {
      u_inSize: [ih, iw], u_outSize: [...outSize], u_kernelSize: [...kernelSize], u_stride: [...window.strides],
      u_dilation: [...window.dilations], u_padBefore: [window.padding[0], window.padding[2]], u_inChannels: ci,
      u_pixels: pixels, u_xWidthLog2: widthLog2(x),
    },
    outShape: [kernelSize[0] * kernelSize[1] * ci, pixels],
  });
}

/**
 * A stride-1, ungrouped conv2d's input gradient as an ordinary convolution of dY with the flipped,
 * channel-swapped filter (shaders/conv2d_backward_flip.glsl): on llvmpipe conv2d runs about twice as
 * fast as the transposed-convolution gather. Returns null when the geometry does not allow it
 * (stride > 1, groups > 1, or padding beyond the effective kernel), so the caller falls back to
 * conv2dTranspose.
 */
export function conv2dBackwardInputByConv(dy: Tensor, w: Tensor, inputShape: readonly number[], window: ConvWindow): Tensor | null {
  if (window.groups !== 1 || window.strides[0] !== 1 || window.strides[1] !== 1) return null;
  const [kh, kw, ci, co] = w.shape;
  const effH = (kh - 1) * window.dilations[0] + 1;
  const effW = (kw - 1) * window.dilations[1] + 1;
  const padding = [effH - 1 - window.padding[0], effH - 1 - window.padding[1], effW - 1 - window.padding[2], effW - 1 - window.padding[3]] as const;
  if (padding.some((p) => p < 0)) return null;
  const rt = dy.runtime;
  return rt.scope(() => {
    const flipped = rt.run({ kernel: 'conv2d_backward_flip', inputs: { W: w }, uniforms: { u_kernel: [kh, kw], u_channels: [ci, co] }, outShape: [kh, kw, co, ci] });
    const dx = conv2d(dy, flipped, { padding: [...padding], dilations: [...window.dilations] });
    if (dx.shape.some((d, i) => d !== inputShape[i])) {
      throw new ShapeError(`conv2d backward: the input gradient came out [${dx.shape.join(', ')}], the input is [${inputShape.join(', ')}]`);
    }
    return dx;
  });
}
