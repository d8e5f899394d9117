/**
 * pad(x, paddings, value): grows each dim by [before, after] filled with `value`
 * (shaders/pad.glsl, a window copy shared with slice). CPU reference: pad.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import { formatShape, rightAlign } from './transpose.js';

/** Output shape of pad; throws a ShapeError naming the paddings and shape when they do not fit. */
export function padShape(shape: readonly number[], paddings: readonly (readonly [number, number])[]): number[] {
  if (!Array.isArray(paddings) || paddings.length !== shape.length) {
    throw new ShapeError(`pad: paddings must give [before, after] for each of the ${shape.length} dims of shape ${formatShape(shape)}; got ${JSON.stringify(paddings)}`);
  }
  return shape.map((d, i) => {
    const p = paddings[i];
    if (!Array.isArray(p) || p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= 0)) {
      throw new ShapeError(`pad: paddings[${i}] = ${JSON.stringify(p)} for shape ${formatShape(shape)} must be [before, after], non-negative integers`);
    }
    return d + p[0] + p[1];
  });
}

/**
 * Runs the window-copy kernel: out[o] = x[o − before] inside x, else value. Shared by pad (before ≥ 0)
 * and slice (before = −begin).
 */
export function windowCopy(x: Tensor, before: readonly number[], outShape: readonly number[], value: number): Tensor {
  const lastBefore = before.length ? before[before.length - 1] : 0;
  return x.runtime.run({
    kernel: 'pad',
    defines: { TEXEL_ALIGNED: lastBefore % 4 === 0 },
    inputs: { X: x },
    uniforms: {
      u_outDims: rightAlign(outShape, 1),
      u_inDims: rightAlign(x.shape, 1),
      u_before: rightAlign(before, 0),
      u_value: value,
    },
    outShape,
  });
}

/** Pads each dim i with paddings[i] = [before, after] elements of `value` (default 0). */
export function pad(x: Tensor, paddings: readonly (readonly [number, number])[], value = 0): Tensor {
  const outShape = padShape(x.shape, paddings);
  if (typeof value !== 'number') throw new ShapeError(`pad: value must be a number, got ${typeof value}`);
  if (paddings.every(([b, a]) => b === 0 && a === 0)) return x.runtime.view(x, x.shape);
  return windowCopy(x, paddings.map(([b]) => b), outShape, value);
}
