/**
 * Bilinear samples of a constant field [H, W, C] at points [K, P, 2], one channel per point
 * (shaders/sample_field.glsl; its gradient with respect to the points: autodiff/kernels/
 * sample-field-backward.ts). Points are in field pixels: pixel (row i, column j) covers
 * [j, j+1) × [i, i+1) and its value sits at its centre; beyond the outermost centres the field is
 * extended as a constant. CPU reference: sample-field.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Checks the shapes of a sample_field call; returns [K, P]. */
export function checkSampleFieldShapes(op: string, field: Tensor, points: Tensor, channel: Tensor): [number, number] {
  if (field.rank !== 3) throw new ShapeError(`${op}: the field must be [H, W, C], got ${fmt(field.shape)}`);
  if (points.rank !== 3 || points.shape[2] !== 2) throw new ShapeError(`${op}: points must be [K, P, 2], got ${fmt(points.shape)}`);
  const [k, p] = points.shape;
  if (channel.rank !== 2 || channel.shape[0] !== p || channel.shape[1] !== 1) {
    throw new ShapeError(`${op}: channel must be [P, 1] with P = ${p} (one channel index per point), got ${fmt(channel.shape)}`);
  }
  return [k, p];
}

/** out[k, p, 0] = bilinear(field[:, :, channel[p]], points[k, p]). Channel indices must lie in 0..C−1. */
export function sampleField(field: Tensor, points: Tensor, channel: Tensor): Tensor {
  const [k, p] = checkSampleFieldShapes('sampleField', field, points, channel);
  return field.runtime.run({
    kernel: 'sample_field',
    inputs: { Field: field, Points: points, Channel: channel },
    uniforms: { u_fieldSize: field.shape as [number, number, number], u_points: p },
    outShape: [k, p, 1],
  });
}
