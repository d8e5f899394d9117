/**
 * Gradient of sampleField with respect to the points (shaders/sample_field_backward.glsl); the field
 * is a constant. CPU reference:
 * sample-field-backward.ref.ts.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { ShapeError } from '../../runtime/errors.js';
import { checkSampleFieldShapes } from '../../kernels/sample-field.js';

export function sampleFieldBackward(dy: Tensor, field: Tensor, points: Tensor, channel: Tensor): Tensor {
  const [k, p] = checkSampleFieldShapes('sampleField backward', field, points, channel);
  if (dy.rank !== 3 || dy.shape[0] !== k || dy.shape[1] !== p || dy.shape[2] !== 1) {
    throw new ShapeError(`sampleField backward: gradient [${dy.shape.join(', ')}] must be [${k}, ${p}, 1]`);
  }
  return field.runtime.run({
    kernel: 'sample_field_backward',
    inputs: { Field: field, Points: points, Channel: channel, DY: dy },
    uniforms: { u_fieldSize: field.shape as [number, number, number], u_points: p },
    outShape: [k, p, 2],
  });
}
