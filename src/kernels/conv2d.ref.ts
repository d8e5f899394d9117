/** Float64 CPU reference of conv2d (src/kernels/conv2d.ts and its shaders). */
import { conv2dGeometry, type Conv2dOptions } from './conv2d.js';
import { activateRef, resolveActivation } from './activation.js';

export interface Conv2dRefResult {
  data: Float64Array;
  shape: number[];
  /** Per output element, Σ|x·w| + |bias| (the scale of float32 rounding in the sum). */
  magnitude: Float64Array;
}

export function conv2dRef(
  x: ArrayLike<number>, xShape: readonly number[],
  w: ArrayLike<number>, wShape: readonly number[],
  options: Omit<Conv2dOptions, 'bias' | 'residual' | 'algorithm'> & { bias?: ArrayLike<number>; residual?: ArrayLike<number> } = {},
): Conv2dRefResult {
  const { residual, ...geometryOptions } = options;
  const g = conv2dGeometry(xShape, wShape, { ...geometryOptions, biasShape: options.bias ? [options.bias.length] : undefined });
  const act = resolveActivation(options.activation, 'conv2dRef');
  const [H, W] = g.inSize;
  const [OH, OW] = g.outSize;
  const [KH, KW] = g.kernelSize;
  const Cin = g.inChannels;
  const Cout = g.outChannels;
  const Cg = Cin / g.groups;
  const CoutG = Cout / g.groups;
  const size = g.batch * OH * OW * Cout;
  if (residual && residual.length !== size) throw new Error(`conv2dRef: residual has ${residual.length} values, the output ${size}`);
  const data = new Float64Array(size);
  const magnitude = new Float64Array(size);
  for (let n = 0; n < g.batch; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let co = 0; co < Cout; co++) {
          const group = Math.floor(co / CoutG);
          let sum = options.bias ? options.bias[co] : 0;
          let mag = Math.abs(sum);
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * g.stride[0] - g.padding[0] + ky * g.dilation[0];
            if (iy < 0 || iy >= H) continue;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * g.stride[1] - g.padding[2] + kx * g.dilation[1];
              if (ix < 0 || ix >= W) continue;
              for (let ci = 0; ci < Cg; ci++) {
                const xv = x[((n * H + iy) * W + ix) * Cin + group * Cg + ci];
                const wv = w[((ky * KW + kx) * Cg + ci) * Cout + co];
                sum += xv * wv;
                mag += Math.abs(xv * wv);
              }
            }
          }
          const o = ((n * OH + oy) * OW + ox) * Cout + co;
          if (residual) {
            sum += residual[o];
            mag += Math.abs(residual[o]);
          }
          data[o] = activateRef(act, sum);
          magnitude[o] = mag;
        }
      }
    }
  }
  return { data, shape: g.outShape, magnitude };
}
