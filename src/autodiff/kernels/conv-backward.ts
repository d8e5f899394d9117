/**
 * conv2d's filter gradient. Two paths:
 *   im2col (groups = 1): dW = patches(x)ᵀ · dY, the transposed patch matrix written directly
 *     (shaders/conv2d_patches_transposed.glsl, so matmul needs no transpose pass over it) and the
 *     vec4 matmul — 8–12× faster than the direct kernel on llvmpipe (x [16,32,32,32], 3×3 32→32:
 *     0.36 s vs 3.0 s), at the cost of a patch matrix of N·OH·OW × KH·KW·Cin floats.
 *   direct (any groups): shaders/conv2d_backward_filter.glsl, one fragment per dW texel.
 * The input gradient: stride 1, conv2d of dY with the flipped filter (conv2dBackwardInputByConv);
 * stride > 1, one dense stride-1 conv2d per output phase and an interleave (conv2dBackwardInputByPhases);
 * otherwise the transposed convolution (src/kernels/conv2d-transpose.ts). The bias gradient is a sum over
 * N·H·W (reduce-to-shape.ts). CPU references: conv-backward.ref.ts, conv-backward-phases.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { NbfError, ShapeError } from '../../runtime/errors.js';
import { matmul, texelSize, widthLog2 } from '../../kernels/matmul.js';
import { conv2d, geometryUniforms } from '../../kernels/conv2d.js';
import { FLOAT_INDEX_LIMIT } from '../../kernels/float-index.js';

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
      ...geometryUniforms({ inSize: [ih, iw], outSize, kernelSize, stride: window.strides, dilation: window.dilations, padding: window.padding, inChannels: ci }),
      u_pixels: pixels, u_xWidthLog2: widthLog2(x), u_xTexelSize: texelSize(x),
    },
    defines: { FLOAT_DIVMOD: kernelSize[0] * kernelSize[1] * ci * Math.ceil(pixels / 4) < FLOAT_INDEX_LIMIT },
    outShape: [kernelSize[0] * kernelSize[1] * ci, pixels],
  });
}

/**
 * The forward taps (start.y + strides.y·j, start.x + strides.x·i), j < taps.y, i < taps.x, of an HWIO
 * filter, rotated 180° and with input and output channels swapped (shaders/conv2d_backward_phase_filter.glsl):
 * [taps.y, taps.x, CO, CI]. Every tap at stride 1 is the whole filter flipped, the stride-1 input
 * gradient's filter; one phase's taps at stride s is that phase's sub-filter.
 */
function flippedSubFilter(w: Tensor, start: readonly [number, number], taps: readonly [number, number], strides: readonly [number, number]): Tensor {
  const [, kw, ci, co] = w.shape;
  return w.runtime.run({
    kernel: 'conv2d_backward_phase_filter',
    inputs: { W: w },
    uniforms: { u_kernelWidth: kw, u_subKernel: [...taps], u_start: [...start], u_strides: [...strides], u_channels: [ci, co] },
    outShape: [taps[0], taps[1], co, ci],
  });
}

/**
 * A stride-1, ungrouped conv2d's input gradient as an ordinary convolution of dY with the flipped,
 * channel-swapped filter (flippedSubFilter with every tap): on llvmpipe conv2d runs about twice as
 * fast as the transposed-convolution gather. Returns null when the geometry does not allow it
 * (stride > 1, groups > 1, or padding beyond the effective kernel), so the caller falls back to
 * conv2dTranspose.
 */
export function conv2dBackwardInputByConv(dy: Tensor, w: Tensor, inputShape: readonly number[], window: ConvWindow): Tensor | null {
  if (window.groups !== 1 || window.strides[0] !== 1 || window.strides[1] !== 1) return null;
  const [kh, kw] = w.shape;
  const effH = (kh - 1) * window.dilations[0] + 1;
  const effW = (kw - 1) * window.dilations[1] + 1;
  const padding = [effH - 1 - window.padding[0], effH - 1 - window.padding[1], effW - 1 - window.padding[2], effW - 1 - window.padding[3]] as const;
  if (padding.some((p) => p < 0)) return null;
  const rt = dy.runtime;
  return rt.scope(() => {
    const flipped = flippedSubFilter(w, [0, 0], [kh, kw], [1, 1]);
    const dx = conv2d(dy, flipped, { padding: [...padding], dilations: [...window.dilations] });
    if (dx.shape.some((d, i) => d !== inputShape[i])) {
      throw new ShapeError(`conv2d backward: the input gradient came out [${dx.shape.join(', ')}], the input is [${inputShape.join(', ')}]`);
    }
    return dx;
  });
}

/** One axis of one phase p of a stride-s input gradient: dX rows s·u + p, u < rows. */
export interface PhaseAxis {
  /** Phase rows of dX (ceil((size − p) / s); 0 when the axis is shorter than p + 1). */
  rows: number;
  /** First forward tap of the phase, (p + padBefore) mod s; its taps are start + s·j, j < taps. */
  start: number;
  /** Taps of the phase (0: the phase's gradient is 0). */
  taps: number;
  /** Padding of the phase's stride-1 conv of dY, before and after. */
  padBefore: number;
  padAfter: number;
  /** Row of the phase conv's output that holds phase row 0 (> 0 only when padBefore would be negative). */
  offset: number;
}

/**
 * The phases of one axis of a stride-s, dilation-1 conv's input gradient, for a forward input of `size`
 * rows, output of `outSize` rows, `kernel` taps and `padBefore` padding. Row s·u + p of dX is
 *   Σ_j dY[u + q − j] · W[r + s·j],   r = (p + padBefore) mod s,  q = floor((p + padBefore) / s),
 * over the taps j < J = ceil((kernel − r) / s) (dY outside [0, outSize) is 0): with j' = J − 1 − j a
 * stride-1 correlation of dY with the phase's taps reversed, starting at dY row u + q − J + 1, i.e.
 * padding J − 1 − q before (or, if that is negative, an output offset of q − J + 1), and padding after
 * enough for offset + rows output rows.
 */
export function phaseAxes(size: number, outSize: number, kernel: number, stride: number, padBefore: number): PhaseAxis[] {
  const axes: PhaseAxis[] = [];
  for (let p = 0; p < stride; p++) {
    const rows = Math.max(0, Math.ceil((size - p) / stride));
    const start = (p + padBefore) % stride;
    const q = Math.floor((p + padBefore) / stride);
    const taps = rows > 0 && start < kernel ? Math.ceil((kernel - start) / stride) : 0;
    const before = Math.max(0, taps - 1 - q);
    const offset = Math.max(0, q - taps + 1);
    const after = Math.max(0, offset + rows - 1 + taps - outSize - before);
    axes.push({ rows, start, taps, padBefore: before, padAfter: after, offset });
  }
  return axes;
}

/** Phases the interleave kernel (shaders/conv2d_backward_interleave.glsl) takes per pass. */
const PHASES_PER_PASS = 4;

/**
 * A strided, dilation-1, ungrouped conv2d's input gradient by phase (sub-pixel) decomposition: for each
 * phase (py, px) ∈ [0, sy) × [0, sx), the pixels dX[n, sy·u + py, sx·v + px, :] are a dense stride-1
 * conv2d of dY with the phase's taps of W, flipped and channel-swapped
 * (shaders/conv2d_backward_phase_filter.glsl, geometry: phaseAxes), so every tap does useful work on
 * the fast conv2d path, where the transposed-convolution gather tests all KH·KW taps per pixel and
 * skips most of them. shaders/conv2d_backward_interleave.glsl writes the phases into their strided
 * positions (4 per pass; phases without taps are 0 and cost no conv). Returns null when it does not
 * apply (stride 1 — conv2dBackwardInputByConv — dilation > 1 or groups > 1).
 */
export function conv2dBackwardInputByPhases(dy: Tensor, w: Tensor, inputShape: readonly number[], window: ConvWindow): Tensor | null {
  const [sy, sx] = window.strides;
  if (window.groups !== 1 || window.dilations[0] !== 1 || window.dilations[1] !== 1 || (sy === 1 && sx === 1)) return null;
  const [kh, kw, ci, co] = w.shape;
  const [n, ih, iw, xc] = inputShape;
  const [dn, oh, ow, dc] = dy.shape;
  if (xc !== ci || dc !== co || dn !== n) {
    throw new ShapeError(`conv2d backward: dy ${fmt(dy.shape)}, filter ${fmt(w.shape)} and input ${fmt(inputShape)} do not belong to one conv`);
  }
  const rows = phaseAxes(ih, oh, kh, sy, window.padding[0]);
  const cols = phaseAxes(iw, ow, kw, sx, window.padding[2]);
  const rt = dy.runtime;
  return rt.scope(() => {
    const phases: { index: number; tensor: Tensor; offY: number; offX: number }[] = [];
    for (let py = 0; py < sy; py++) {
      for (let px = 0; px < sx; px++) {
        const r = rows[py];
        const c = cols[px];
        if (r.taps === 0 || c.taps === 0) continue;
        const filter = flippedSubFilter(w, [r.start, c.start], [r.taps, c.taps], [sy, sx]);
        const tensor = conv2d(dy, filter, { padding: [r.padBefore, r.padAfter, c.padBefore, c.padAfter] });
        filter.dispose();
        phases.push({ index: py * sx + px, tensor, offY: r.offset, offX: c.offset });
      }
    }
    let dx: Tensor | null = null;
    for (let first = 0; first === 0 || first < phases.length; first += PHASES_PER_PASS) {
      const pass = phases.slice(first, first + PHASES_PER_PASS);
      const inputs: Record<string, Tensor> = {};
      pass.forEach((p, k) => (inputs[`P${k}`] = p.tensor));
      if (dx) inputs.BASE = dx;
      const slot = (f: (p: (typeof pass)[number]) => number, unused: number) => [0, 1, 2, 3].map((k) => (k < pass.length ? f(pass[k]) : unused));
      const next = rt.run({
        kernel: 'conv2d_backward_interleave',
        defines: { PHASES: pass.length, HAS_BASE: dx !== null },
        inputs,
        uniforms: {
          u_outSize: [ih, iw], u_channels: ci, u_strides: [sy, sx],
          u_phase: slot((p) => p.index, -1), u_rows: slot((p) => p.tensor.shape[1], 1), u_cols: slot((p) => p.tensor.shape[2], 1),
          u_offY: slot((p) => p.offY, 0), u_offX: slot((p) => p.offX, 0),
        },
        outShape: [n, ih, iw, ci],
      });
      dx?.dispose();
      dx = next;
    }
    return dx!;
  });
}
