/**
 * concat(tensors, axis): joins tensors along an axis (shaders/concat.glsl, up to 4 inputs per pass;
 * longer lists chain passes). CPU reference: concat.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { formatShape, normalizeAxis, product } from './transpose.js';

/** Inputs one pass of the kernel joins (samplers X0..X3). */
export const CONCAT_INPUTS_PER_PASS = 4;

/** Output shape of concat; throws a ShapeError naming the mismatching shapes and axis. */
export function concatShape(shapes: readonly (readonly number[])[], axis: number): { shape: number[]; axis: number } {
  if (shapes.length === 0) throw new ShapeError('concat: needs at least one tensor');
  const first = shapes[0];
  const a = normalizeAxis(axis, first, 'concat');
  const shape = [...first];
  for (let k = 1; k < shapes.length; k++) {
    const s = shapes[k];
    const mismatch = s.length !== first.length || s.some((d, i) => i !== a && d !== first[i]);
    if (mismatch) {
      throw new ShapeError(`concat: tensor ${k} has shape ${formatShape(s)}, which does not match ${formatShape(first)} outside axis ${a}`);
    }
    shape[a] += s[a];
  }
  return { shape, axis: a };
}

/** Joins the tensors along `axis` (default 0; negative counts from the end). */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new ShapeError('concat: needs a non-empty array of tensors');
  const runtime = tensors[0].runtime;
  if (tensors.some((t) => t.runtime !== runtime)) throw new NbfError('concat: the tensors live on different contexts');
  const { axis: a } = concatShape(tensors.map((t) => t.shape), axis);
  if (tensors.length === 1) return runtime.view(tensors[0], tensors[0].shape);
  // Chain passes: each joins the previous result with up to 3 more inputs; intermediates are freed.
  let joined = concatPass(tensors.slice(0, CONCAT_INPUTS_PER_PASS), a);
  for (let next = CONCAT_INPUTS_PER_PASS; next < tensors.length; next += CONCAT_INPUTS_PER_PASS - 1) {
    const partial = joined;
    try {
      joined = concatPass([partial, ...tensors.slice(next, next + CONCAT_INPUTS_PER_PASS - 1)], a);
    } finally {
      partial.dispose();
    }
  }
  return joined;
}

function concatPass(tensors: readonly Tensor[], axis: number): Tensor {
  const { shape } = concatShape(tensors.map((t) => t.shape), axis);
  const rank = shape.length;
  const lastAxis = axis === rank - 1;
  const offsets = [0, 0, 0, 0];
  for (let k = 1; k < tensors.length; k++) offsets[k] = offsets[k - 1] + tensors[k - 1].shape[axis];
  const texelsPerRow = [1, 1, 1, 1];
  tensors.forEach((t, k) => (texelsPerRow[k] = t.geometry.texelsPerRow));
  const inputs: Record<string, Tensor> = {};
  tensors.forEach((t, k) => (inputs[`X${k}`] = t));
  return tensors[0].runtime.run({
    kernel: 'concat',
    defines: { INPUTS: tensors.length, LAST_AXIS: lastAxis, TEXEL_ALIGNED: lastAxis && offsets.every((o) => o % 4 === 0) },
    inputs,
    uniforms: {
      u_channels: shape[rank - 1],
      u_axisSize: shape[axis],
      u_inner: lastAxis ? 1 : product(shape, axis + 1, rank - 1),
      u_offsets: offsets,
      u_texelsPerRow: texelsPerRow,
    },
    outShape: shape,
  });
}
