/**
 * reshape(x, shape): same elements in row-major order, new shape (one −1 is inferred). Free
 * (runtime.view) when the last dim is unchanged; a texel copy when both last dims are multiples of 4
 * (the texel streams coincide); otherwise a repack kernel (shaders/reshape.glsl). CPU reference:
 * reshape.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { checkShape, sizeOf } from '../runtime/layout.js';
import { formatShape } from './transpose.js';

/** Resolves one −1 in `shape` so the sizes match `from`; throws a ShapeError naming both shapes. */
export function inferShape(from: readonly number[], shape: readonly number[]): number[] {
  if (!Array.isArray(shape)) throw new ShapeError(`reshape: the new shape must be an array, got ${String(shape)}`);
  const size = sizeOf(from);
  const unknown = shape.reduce((n, d) => n + (d === -1 ? 1 : 0), 0);
  if (unknown > 1) throw new ShapeError(`reshape: shape ${formatShape(shape)} has more than one −1`);
  const resolved = [...shape];
  if (unknown === 1) {
    const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
    const inferred = size / known;
    if (!Number.isInteger(inferred) || inferred < 1 || shape.some((d) => d !== -1 && (!Number.isInteger(d) || d < 1))) {
      throw new ShapeError(`reshape: cannot infer the −1 in ${formatShape(shape)} from ${formatShape(from)} (${size} values)`);
    }
    resolved[shape.indexOf(-1)] = inferred;
  }
  checkShape(resolved, 'reshape target');
  if (sizeOf(resolved) !== size) {
    throw new ShapeError(`reshape: cannot reshape ${formatShape(from)} (${size} values) to ${formatShape(shape)} (${sizeOf(resolved)} values)`);
  }
  return resolved;
}

/** The same data in a new shape (one dim may be −1). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const outShape = inferShape(x.shape, shape);
  const inChannels = x.geometry.channels;
  const outChannels = outShape.length ? outShape[outShape.length - 1] : 1;
  if (inChannels === outChannels) return x.runtime.view(x, outShape);
  if (inChannels % 4 === 0 && outChannels % 4 === 0) {
    return x.runtime.run({ kernel: 'copy', inputs: { X: x }, outShape });
  }
  return x.runtime.run({
    kernel: 'reshape',
    inputs: { X: x },
    uniforms: { u_inChannels: inChannels, u_outChannels: outChannels },
    outShape,
  });
}
