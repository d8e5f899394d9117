/**
 * argmax(x, axis): index of the largest element along an axis, as a float tensor without that axis;
 * ties go to the first index (shaders/argmax.glsl). Axes longer than one block take a tree of passes
 * that carry (value, index) pairs as two tensors, so no fragment scans a long axis. CPU reference:
 * argmax.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { formatShape, normalizeAxis, product } from './transpose.js';

/** Largest axis whose indices float32 stores exactly. */
const MAX_EXACT_INDEX = 2 ** 24;

/** Texels (last axis) or rows (other axes) one fragment scans per pass. */
export const ARGMAX_BLOCK = 32;

/** Indices (as floats) of the maxima along `axis` (default −1); the axis is removed from the shape. */
export function argmax(x: Tensor, axis = -1): Tensor {
  const a = normalizeAxis(axis, x.shape, 'argmax');
  const rank = x.rank;
  const length = x.shape[a];
  if (length > MAX_EXACT_INDEX) {
    throw new ShapeError(`argmax: axis ${a} of shape ${formatShape(x.shape)} is longer than 2^24; its indices would not be exact as float32`);
  }
  const finalShape = x.shape.filter((_, i) => i !== a);
  const axisLast = a === rank - 1;
  const outer = product(x.shape, 0, a);
  const inner = axisLast ? 1 : product(x.shape, a + 1, rank - 1);
  const channels = x.geometry.channels;

  let values = x;
  let indices: Tensor | null = null;
  // Scanned units per output: texels of a row (last axis) or rows along the axis.
  let scanned = axisLast ? Math.ceil(length / 4) : length;
  let inChannels = channels;
  for (;;) {
    const partials = Math.ceil(scanned / ARGMAX_BLOCK);
    const done = partials === 1;
    const outShape = done ? finalShape : axisLast ? [x.geometry.rows, partials] : [outer, partials, inner, channels];
    const inputs: Record<string, Tensor> = indices ? { X: values, IDX: indices } : { X: values };
    // One draw per output (see the shader header for why not two render targets).
    const pass = (outputValues: boolean) => x.runtime.run({
      kernel: 'argmax',
      defines: { AXIS_LAST: axisLast, LATER_PASS: indices !== null, OUTPUT_VALUES: outputValues },
      inputs,
      uniforms: {
        u_inChannels: inChannels,
        u_outChannels: outShape.length ? outShape[outShape.length - 1] : 1,
        u_axisSize: scanned,
        u_inner: inner,
        u_partials: partials,
        u_block: ARGMAX_BLOCK,
      },
      outShape,
    });
    const nextIndices = pass(false);
    let nextValues: Tensor | null = null;
    try {
      if (!done) nextValues = pass(true);
    } catch (e) {
      nextIndices.dispose();
      throw e;
    }
    if (values !== x) values.dispose();
    indices?.dispose();
    if (!nextValues) return nextIndices;
    indices = nextIndices;
    values = nextValues;
    if (axisLast) {
      inChannels = partials;
      scanned = Math.ceil(partials / 4);
    } else {
      scanned = partials;
    }
  }
}
