/** Float64 CPU reference of resizeBackward (shaders/resize_backward.glsl): the forward's taps, scattered. */
import { coordinateMap, resizeMode, type ResizeOptions } from '../../kernels/resize.js';

/** Per output index along one axis: the input taps and their weights, as the forward kernels sample. */
function taps(kind: 'bilinear' | 'nearest', map: [number, number, number], inSize: number, outSize: number): [number, number][][] {
  const [a, b, d] = map;
  return Array.from({ length: outSize }, (_, o) => {
    if (kind === 'nearest') return [[Math.min(Math.floor((o * a + b) / d), inSize - 1), 1]];
    const num = Math.max(o * a + b, 0);
    const whole = Math.floor(num / d);
    const rem = num - whole * d;
    const f = rem / d;
    return [[Math.min(whole, inSize - 1), 1 - f], [Math.min(whole + (rem > 0 ? 1 : 0), inSize - 1), f]];
  });
}

export function resizeBackwardRef(kind: 'bilinear' | 'nearest', dy: ArrayLike<number>, dyShape: readonly number[], inputShape: readonly number[], options: ResizeOptions = {}): Float64Array {
  const mode = resizeMode(options, 'resizeBackwardRef');
  const [n, h, w, c] = inputShape;
  const [, oh, ow] = dyShape;
  const ty = taps(kind, coordinateMap(kind, mode, h, oh), h, oh);
  const tx = taps(kind, coordinateMap(kind, mode, w, ow), w, ow);
  const out = new Float64Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        for (const [iy, wy] of ty[oy]) {
          for (const [ix, wx] of tx[ox]) {
            for (let k = 0; k < c; k++) out[((b * h + iy) * w + ix) * c + k] += wy * wx * dy[((b * oh + oy) * ow + ox) * c + k];
          }
        }
      }
    }
  }
  return out;
}
