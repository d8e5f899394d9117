/** numpy-style broadcasting of shapes, shared by the elementwise kernels and their CPU references. */
import { ShapeError } from '../runtime/errors.js';
import { MAX_RANK } from '../runtime/layout.js';
import type { Tensor } from '../runtime/tensor.js';

/** The broadcast result of two shapes (right-aligned; each dim equal or 1). */
export function broadcastShapes(a: readonly number[], b: readonly number[], what = 'operands'): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new ShapeError(`${what} of shapes [${a.join(', ')}] and [${b.join(', ')}] cannot broadcast (dim ${i}: ${da} vs ${db})`);
    }
    out.push(Math.max(da, db));
  }
  return out;
}

/**
 * For an input of shape `inShape` broadcast to `outShape`: its row stride per output leading dim
 * (right-aligned into MAX_RANK−1 slots, 0 where broadcast) and whether its last dim is splatted.
 */
export function rowStrides(inShape: readonly number[], outShape: readonly number[]): { strides: number[]; splat: boolean } {
  const slots = MAX_RANK - 1;
  const strides = new Array<number>(slots).fill(0);
  const outLead = outShape.slice(0, -1);
  const inFull = [...new Array<number>(Math.max(0, outShape.length - inShape.length)).fill(1), ...inShape];
  const inLead = inFull.slice(0, -1);
  let stride = 1;
  for (let i = outLead.length - 1; i >= 0; i--) {
    const slot = slots - (outLead.length - i);
    strides[slot] = inLead[i] === 1 && outLead[i] !== 1 ? 0 : stride;
    stride *= inLead[i];
  }
  const outC = outShape.length ? outShape[outShape.length - 1] : 1;
  const inC = inFull.length ? inFull[inFull.length - 1] : 1;
  return { strides, splat: inC === 1 && outC > 1 };
}

/** Output leading dims, right-aligned into MAX_RANK−1 slots padded with 1. */
export function leadingDims(outShape: readonly number[]): number[] {
  const lead = outShape.slice(0, -1);
  return [...new Array<number>(MAX_RANK - 1 - lead.length).fill(1), ...lead];
}

/** Index into a broadcast input for each output element (CPU reference helper). */
export function broadcastIndex(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const size = outShape.reduce((p, d) => p * d, 1);
  const index = new Int32Array(size);
  const rank = outShape.length;
  const inFull = [...new Array<number>(rank - inShape.length).fill(1), ...inShape];
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < size; i++) {
    let flat = 0;
    for (let d = 0; d < rank; d++) flat = flat * inFull[d] + (inFull[d] === 1 ? 0 : coord[d]);
    index[i] = flat;
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < outShape[d]) break;
      coord[d] = 0;
    }
  }
  return index;
}

/**
 * The uniforms of shaders/lib/broadcast_operands.glsl (binary.glsl and binary_backward.glsl): how
 * each output row of `outShape` maps to a row of `a` and of `b`.
 */
export function broadcastOperandUniforms(a: Tensor, b: Tensor, outShape: readonly number[]): Record<string, number | boolean | number[]> {
  const ra = rowStrides(a.shape, outShape);
  const rb = rowStrides(b.shape, outShape);
  return {
    u_channels: outShape.length ? outShape[outShape.length - 1] : 1,
    u_outDims: leadingDims(outShape),
    u_aRowStrides: ra.strides,
    u_bRowStrides: rb.strides,
    u_aTexelsPerRow: a.geometry.texelsPerRow,
    u_bTexelsPerRow: b.geometry.texelsPerRow,
    u_aSplat: ra.splat,
    u_bSplat: rb.splat,
  };
}
