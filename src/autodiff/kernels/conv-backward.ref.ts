/** Float64 CPU reference of conv2dBackwardFilter (shaders/conv2d_backward_filter.glsl). */
import type { ConvWindow } from './conv-backward.js';

export function conv2dBackwardFilterRef(
  x: ArrayLike<number>, xShape: readonly number[],
  dy: ArrayLike<number>, dyShape: readonly number[],
  filterShape: readonly number[], window: ConvWindow,
): Float64Array {
  const [n, ih, iw, ci] = xShape;
  const [, oh, ow, co] = dyShape;
  const [kh, kw, cig] = filterShape;
  const cog = co / window.groups;
  const out = new Float64Array(kh * kw * cig * co);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * window.strides[0] + ky * window.dilations[0] - window.padding[0];
          if (iy < 0 || iy >= ih) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * window.strides[1] + kx * window.dilations[1] - window.padding[2];
            if (ix < 0 || ix >= iw) continue;
            for (let c = 0; c < co; c++) {
              const g = Math.floor(c / cog);
              const d = dy[((b * oh + oy) * ow + ox) * co + c];
              for (let k = 0; k < cig; k++) {
                out[((ky * kw + kx) * cig + k) * co + c] += x[((b * ih + iy) * iw + ix) * ci + g * cig + k] * d;
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** Float64 reference of shaders/conv2d_patches_transposed.glsl: patches(x)ᵀ, [KH·KW·Cin, N·OH·OW]. */
export function transposedPatchesRef(
  x: ArrayLike<number>, xShape: readonly number[], outSize: readonly [number, number], kernelSize: readonly [number, number], window: ConvWindow,
): Float64Array {
  const [n, ih, iw, ci] = xShape;
  const [oh, ow] = outSize;
  const [kh, kw] = kernelSize;
  const pixels = n * oh * ow;
  const out = new Float64Array(kh * kw * ci * pixels);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const p = (b * oh + oy) * ow + ox;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * window.strides[0] + ky * window.dilations[0] - window.padding[0];
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * window.strides[1] + kx * window.dilations[1] - window.padding[2];
            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
            for (let c = 0; c < ci; c++) out[((ky * kw + kx) * ci + c) * pixels + p] = x[((b * ih + iy) * iw + ix) * ci + c];
          }
        }
      }
    }
  }
  return out;
}
