/**
 * Graph ops evaluated on the CPU: the shape arithmetic a converted graph carries (Shape,
 * StridedSlice, Pack, Cast, and integer Mul/Add/Concat on such values). Their inputs are constants or
 * tensor shapes, all known before any kernel runs, so evaluating them here costs microseconds and
 * keeps them off the GPU, where every value is a float texture.
 */
import type { Attrs, HostTensor } from './model-file.js';

export const host = (dtype: HostTensor['dtype'], shape: number[], values: ArrayLike<number>): HostTensor => ({
  dtype,
  shape,
  data: dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values),
});

/** The shape of a tensor as an int32 vector. */
export function shapeOf(shape: readonly number[]): HostTensor {
  return host('int32', [shape.length], shape);
}

/** Elementwise binary op with numpy broadcasting on host values. */
export function hostBinary(a: HostTensor, b: HostTensor, f: (x: number, y: number) => number, attrs: Attrs): HostTensor {
  const rank = Math.max(a.shape.length, b.shape.length);
  const pa = [...new Array(rank - a.shape.length).fill(1), ...a.shape];
  const pb = [...new Array(rank - b.shape.length).fill(1), ...b.shape];
  const shape = pa.map((d, i) => {
    if (d !== pb[i] && d !== 1 && pb[i] !== 1) attrs.fail(`shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    return Math.max(d, pb[i]);
  });
  const size = shape.reduce((p, d) => p * d, 1);
  const out: number[] = new Array(size);
  const coord = new Array(rank).fill(0);
  for (let k = 0; k < size; k++) {
    let ia = 0;
    let ib = 0;
    for (let d = 0; d < rank; d++) {
      ia = ia * pa[d] + (pa[d] === 1 ? 0 : coord[d]);
      ib = ib * pb[d] + (pb[d] === 1 ? 0 : coord[d]);
    }
    out[k] = f(a.data[ia], b.data[ib]);
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  const dtype = a.dtype === 'float32' || b.dtype === 'float32' ? 'float32' : 'int32';
  return host(dtype, shape, out);
}

/** tf.stack of scalars or equal-shape vectors along `axis` (0 only: what shape arithmetic uses). */
export function hostPack(values: readonly HostTensor[], axis: number, attrs: Attrs): HostTensor {
  if (axis !== 0) attrs.fail(`Pack along axis ${axis} of host values is not supported (only 0)`);
  const inner = values[0].shape;
  for (const v of values) if (v.shape.join() !== inner.join()) attrs.fail('Pack inputs differ in shape');
  const out: number[] = [];
  for (const v of values) out.push(...v.data);
  return host(values.some((v) => v.dtype === 'float32') ? 'float32' : 'int32', [values.length, ...inner], out);
}

/** Concatenation of host values along `axis`. */
export function hostConcat(values: readonly HostTensor[], axis: number, attrs: Attrs): HostTensor {
  const rank = values[0].shape.length;
  const a = axis < 0 ? axis + rank : axis;
  if (rank === 0 || a < 0 || a >= rank) attrs.fail(`ConcatV2 axis ${axis} is out of range for rank ${rank}`);
  const outer = values[0].shape.slice(0, a).reduce((p, d) => p * d, 1);
  const shape = values[0].shape.slice();
  shape[a] = values.reduce((s, v) => s + v.shape[a], 0);
  const out: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (const v of values) {
      const chunk = v.data.length / outer;
      for (let k = 0; k < chunk; k++) out.push(v.data[o * chunk + k]);
    }
  }
  return host(values.some((v) => v.dtype === 'float32') ? 'float32' : 'int32', shape, out);
}

/**
 * TF's StridedSlice on a host value, for the 1-D shape vectors graphs slice (begin/end/strides with
 * begin_mask, end_mask and shrink_axis_mask; ellipsis and new-axis masks are refused).
 */
export function hostStridedSlice(x: HostTensor, begin: HostTensor, end: HostTensor, strides: HostTensor, attrs: Attrs): HostTensor {
  if (attrs.int('ellipsis_mask', 0) !== 0 || attrs.int('new_axis_mask', 0) !== 0) attrs.fail('ellipsis_mask and new_axis_mask are not supported');
  const beginMask = attrs.int('begin_mask', 0);
  const endMask = attrs.int('end_mask', 0);
  const shrinkMask = attrs.int('shrink_axis_mask', 0);
  const rank = x.shape.length;
  if (begin.data.length !== rank || end.data.length !== rank || strides.data.length !== rank) {
    attrs.fail(`begin/end/strides must have one entry per dimension of the rank-${rank} input`);
  }
  const ranges: number[][] = [];
  const outShape: number[] = [];
  for (let d = 0; d < rank; d++) {
    const n = x.shape[d];
    const s = strides.data[d];
    if (s === 0) attrs.fail('a stride of 0');
    const clampIndex = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
    let b: number;
    let e: number;
    if (shrinkMask & (1 << d)) {
      b = begin.data[d] < 0 ? begin.data[d] + n : begin.data[d];
      if (b < 0 || b >= n) attrs.fail(`index ${begin.data[d]} is out of range for dimension ${d} of size ${n}`);
      ranges.push([b]);
      continue;
    }
    if (s > 0) {
      b = beginMask & (1 << d) ? 0 : clampIndex(begin.data[d], 0, n);
      e = endMask & (1 << d) ? n : clampIndex(end.data[d], 0, n);
    } else {
      b = beginMask & (1 << d) ? n - 1 : clampIndex(begin.data[d], -1, n - 1);
      e = endMask & (1 << d) ? -1 : clampIndex(end.data[d], -1, n - 1);
    }
    const idx: number[] = [];
    for (let v = b; s > 0 ? v < e : v > e; v += s) idx.push(v);
    ranges.push(idx);
    outShape.push(idx.length);
  }
  const out: number[] = [];
  const strideOf = x.shape.map((_, d) => x.shape.slice(d + 1).reduce((p, q) => p * q, 1));
  const walk = (d: number, offset: number) => {
    if (d === rank) {
      out.push(x.data[offset]);
      return;
    }
    for (const v of ranges[d]) walk(d + 1, offset + v * strideOf[d]);
  };
  walk(0, 0);
  return host(x.dtype, outShape, out);
}

/** Resolves a Reshape target (one −1 allowed) against a size. */
export function resolveReshape(size: number, target: ArrayLike<number>, attrs: Attrs): number[] {
  const shape = Array.from(target);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) attrs.fail(`reshape target [${shape.join(', ')}] has more than one -1`);
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  if (unknown) {
    if (known === 0 || size % known !== 0) attrs.fail(`cannot reshape ${size} values to [${shape.join(', ')}]`);
    shape[shape.indexOf(-1)] = size / known;
  } else if (known !== size) {
    attrs.fail(`cannot reshape ${size} values to [${shape.join(', ')}]`);
  }
  return shape;
}
