/**
 * Float64 CPU reference of the transposed convolution (shaders/conv2d_transpose.glsl). The tests check
 * it against central finite differences of the forward reference (conv2d.ref.ts).
 *
 * The transpose is written as a scatter, the plain reading of "gradient of conv2d": every input pixel
 * adds its contribution to each output pixel its forward window covered. The GPU gathers instead, so
 * the two formulations check each other.
 */
import { activateRef, resolveActivation } from './activation.js';
import { planConv2dTranspose, type Conv2dTransposeOptions } from './conv2d-transpose.js';

export interface RefResult {
  data: Float64Array;
  shape: number[];
}

/** conv2dTranspose in float64, written as the scatter-adjoint of the forward conv. */
export function conv2dTransposeRef(
  x: ArrayLike<number>,
  xShape: readonly number[],
  w: ArrayLike<number>,
  wShape: readonly number[],
  options: Omit<Conv2dTransposeOptions, 'bias'> & { bias?: ArrayLike<number> } = {},
): RefResult {
  const plan = planConv2dTranspose(xShape, wShape, { ...options, biasShape: options.bias ? [options.bias.length] : undefined });
  const [n, inH, inW, inC] = xShape;
  const [kh, kw, outG] = wShape;
  const [, outH, outW, outC] = plan.outShape;
  const inG = inC / plan.groups;
  const { strides, dilations, forward } = plan;
  const out = new Float64Array(n * outH * outW * outC);
  // x is the forward conv's output: pixel (iy, ix), channel ci read forward pixels
  // (iy·s − pad + ky·d, ix·s − pad + kx·d), channels co of ci's group, through W[ky, kx, co mod outG, ci].
  for (let b = 0; b < n; b++) {
    for (let iy = 0; iy < inH; iy++) {
      for (let ix = 0; ix < inW; ix++) {
        for (let ci = 0; ci < inC; ci++) {
          const v = x[((b * inH + iy) * inW + ix) * inC + ci];
          const g = Math.floor(ci / inG);
          for (let ky = 0; ky < kh; ky++) {
            const y = iy * strides[0] - forward.padTop + ky * dilations[0];
            if (y < 0 || y >= outH) continue;
            for (let kx = 0; kx < kw; kx++) {
              const xx = ix * strides[1] - forward.padLeft + kx * dilations[1];
              if (xx < 0 || xx >= outW) continue;
              for (let j = 0; j < outG; j++) {
                out[((b * outH + y) * outW + xx) * outC + g * outG + j] += v * w[((ky * kw + kx) * outG + j) * inC + ci];
              }
            }
          }
        }
      }
    }
  }
  const activation = resolveActivation(options.activation, 'conv2dTransposeRef');
  for (let i = 0; i < out.length; i++) {
    const co = i % outC;
    out[i] = activateRef(activation, out[i] + (options.bias ? options.bias[co] : 0));
  }
  return { data: out, shape: [...plan.outShape] };
}
