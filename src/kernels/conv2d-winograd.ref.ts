/**
 * Float64 CPU reference of Winograd F(2×2, 3×3) (src/kernels/conv2d-winograd.ts and its shaders): the
 * weight and input transforms in the logical layouts the GPU passes hold (without their texel
 * padding), and the whole convolution computed through them. In exact arithmetic the result equals
 * conv2d.ref.ts's direct sum, which is what the GPU path is tested against.
 */
import { conv2dGeometry, type Conv2dOptions } from './conv2d.js';
import { activateRef, resolveActivation } from './activation.js';
import { WINOGRAD_POSITIONS, winogradApplies, winogradTiles } from './conv2d-winograd.js';

/** G (4×3), Bᵀ (4×4), Aᵀ (2×4) of F(2×2, 3×3). */
export const WINOGRAD_G = [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]];
export const WINOGRAD_BT = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]];
export const WINOGRAD_AT = [[1, 1, 1, 0], [0, 1, -1, -1]];

/** U[co, ξ, ci] = (G·g·Gᵀ)[i, j] of w [3, 3, Cin, Cout] (HWIO), ξ = 4i + j: [Cout, 16, Cin]. */
export function winogradFilterRef(w: ArrayLike<number>, wShape: readonly number[]): Float64Array {
  const [kh, kw, cin, cout] = wShape;
  if (kh !== 3 || kw !== 3) throw new Error(`winogradFilterRef: w must be [3, 3, Cin, Cout]; got [${wShape.join(', ')}]`);
  const u = new Float64Array(cout * WINOGRAD_POSITIONS * cin);
  for (let co = 0; co < cout; co++) {
    for (let ci = 0; ci < cin; ci++) {
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let sum = 0;
          for (let a = 0; a < 3; a++) {
            for (let b = 0; b < 3; b++) sum += WINOGRAD_G[i][a] * WINOGRAD_G[j][b] * w[((a * 3 + b) * cin + ci) * cout + co];
          }
          u[(co * WINOGRAD_POSITIONS + 4 * i + j) * cin + ci] = sum;
        }
      }
    }
  }
  return u;
}

/**
 * V[t, ξ, ci] = (Bᵀ·d·B)[i, j] of the 4×4 input tile of tile t (t = (n·TH + ty)·TW + tx, origin
 * (2·ty − padTop, 2·tx − padLeft), zero outside the image): [T, 16, Cin].
 */
export function winogradInputRef(x: ArrayLike<number>, xShape: readonly number[], wShape: readonly number[], options: Pick<Conv2dOptions, 'padding'> = {}): Float64Array {
  const g = conv2dGeometry(xShape, wShape, options);
  const { tiles: [th, tw], count } = winogradTiles(g);
  const [h, w] = g.inSize;
  const cin = g.inChannels;
  const v = new Float64Array(count * WINOGRAD_POSITIONS * cin);
  const d = new Float64Array(16);
  for (let t = 0; t < count; t++) {
    const tx = t % tw;
    const ty = Math.floor(t / tw) % th;
    const n = Math.floor(t / (tw * th));
    for (let ci = 0; ci < cin; ci++) {
      for (let a = 0; a < 4; a++) {
        for (let b = 0; b < 4; b++) {
          const iy = 2 * ty - g.padding[0] + a;
          const ix = 2 * tx - g.padding[2] + b;
          d[a * 4 + b] = iy >= 0 && iy < h && ix >= 0 && ix < w ? x[((n * h + iy) * w + ix) * cin + ci] : 0;
        }
      }
      for (let i = 0; i < 4; i++) {
        for (let j = 0; j < 4; j++) {
          let sum = 0;
          for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) sum += WINOGRAD_BT[i][a] * WINOGRAD_BT[j][b] * d[a * 4 + b];
          v[(t * WINOGRAD_POSITIONS + 4 * i + j) * cin + ci] = sum;
        }
      }
    }
  }
  return v;
}

/**
 * The convolution through the transforms, in float64: out[n, oy, ox, co] = act(bias[co] +
 * (Aᵀ·M·A)[oy mod 2, ox mod 2]) with M[ξ, t, co] = Σ_ci V[t, ξ, ci]·U[co, ξ, ci]. Dense 3×3, stride 1,
 * dilation 1 only.
 */
export function conv2dWinogradRef(
  x: ArrayLike<number>, xShape: readonly number[],
  w: ArrayLike<number>, wShape: readonly number[],
  options: Pick<Conv2dOptions, 'padding' | 'activation'> & { bias?: ArrayLike<number> } = {},
): { data: Float64Array; shape: number[] } {
  const g = conv2dGeometry(xShape, wShape, { padding: options.padding, biasShape: options.bias ? [options.bias.length] : undefined });
  if (!winogradApplies(g)) throw new Error('conv2dWinogradRef: needs a dense 3×3 convolution with stride 1 and dilation 1');
  const act = resolveActivation(options.activation, 'conv2dWinogradRef');
  const u = winogradFilterRef(w, wShape);
  const v = winogradInputRef(x, xShape, wShape, { padding: options.padding });
  const { tiles: [th, tw] } = winogradTiles(g);
  const [oh, ow] = g.outSize;
  const cin = g.inChannels;
  const cout = g.outChannels;
  const data = new Float64Array(g.batch * oh * ow * cout);
  const m = new Float64Array(16);
  for (let n = 0; n < g.batch; n++) {
    for (let ty = 0; ty < th; ty++) {
      for (let tx = 0; tx < tw; tx++) {
        const t = (n * th + ty) * tw + tx;
        for (let co = 0; co < cout; co++) {
          for (let xi = 0; xi < WINOGRAD_POSITIONS; xi++) {
            let sum = 0;
            for (let ci = 0; ci < cin; ci++) sum += v[(t * WINOGRAD_POSITIONS + xi) * cin + ci] * u[(co * WINOGRAD_POSITIONS + xi) * cin + ci];
            m[xi] = sum;
          }
          for (let py = 0; py < 2; py++) {
            for (let px = 0; px < 2; px++) {
              const oy = 2 * ty + py;
              const ox = 2 * tx + px;
              if (oy >= oh || ox >= ow) continue;
              let y = options.bias ? options.bias[co] : 0;
              for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) y += WINOGRAD_AT[py][i] * WINOGRAD_AT[px][j] * m[4 * i + j];
              data[((n * oh + oy) * ow + ox) * cout + co] = activateRef(act, y);
            }
          }
        }
      }
    }
  }
  return { data, shape: g.outShape };
}
