/**
 * jointHeatmaps(joints2d, height, width, sigma): one Gaussian heatmap per 2D joint
 * (shaders/joint_heatmaps.glsl; the fitting network's "joints" input, src/nn/fitter-inputs.ts).
 * joints2d [N, J, 2] in pixels, origin at the image's top-left corner (the projected joints of the
 * body layer and the synthetic generator) → [N, H, W, J], exp(−d²/(2σ²)) with d the distance from a
 * pixel's centre; a joint with non-finite coordinates gives an all-zero map. CPU reference:
 * joint-heatmaps.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';

export function jointHeatmaps(joints2d: Tensor, height: number, width: number, sigma: number): Tensor {
  if (joints2d.rank !== 3 || joints2d.shape[2] !== 2) throw new ShapeError(`jointHeatmaps: joints must be [N, J, 2] (pixels), got [${joints2d.shape.join(', ')}]`);
  for (const [name, v] of [['height', height], ['width', width]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 8192) throw new NbfError(`jointHeatmaps: ${name} must be an integer in 1..8192, got ${v}`);
  }
  if (!(Number.isFinite(sigma) && sigma > 0)) throw new NbfError(`jointHeatmaps: sigma must be a finite number > 0 (pixels), got ${sigma}`);
  const [N, J] = joints2d.shape;
  return joints2d.runtime.run({
    kernel: 'joint_heatmaps',
    inputs: { Joints: joints2d },
    uniforms: { u_width: width, u_height: height, u_joints: J, u_invTwoSigma2: 1 / (2 * sigma * sigma) },
    outShape: [N, height, width, J],
  });
}
