/** mirrorWidth (shaders/mirror_width.glsl) against its float64 reference, and its errors. */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { mirrorWidth, MIRROR_MAX_CHANNELS } from '../src/kernels/mirror.js';
import { NBF_MIRRORED_PARTS } from '../src/smpl/types.js';
import { mirrorWidthRef } from '../src/kernels/mirror.ref.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(314);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A random permutation of 0..n−1. */
function shuffled(n: number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

describe('mirrorWidth', () => {
  const shapes = [[1, 1, 1, 1], [2, 3, 5, 3], [3, 4, 7, 13], [2, 5, 6, 8], [1, 2, 9, 24], [2, 3, 1, 6], [1, 3, 4, 64]];
  for (const shape of shapes) {
    const C = shape[3];
    it(`mirrors [${shape}] without and with a channel order`, () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(shape));
      rt.scope(() => {
        const t = rt.tensor(x, shape);
        expectTensorClose(mirrorWidth(t), mirrorWidthRef(x, shape), shape, 0);
        const order = shuffled(C);
        expectTensorClose(mirrorWidth(t, order), mirrorWidthRef(x, shape, order), shape, 0);
      });
    });
  }

  it('swapping pairs twice gives the input back; the texel-aligned fast path and per-lane reads agree', () => {
    const rt = testRuntime();
    const shape = [2, 3, 5, 13];
    const x = rng.uniformArray(sizeOf(shape));
    // Pairs inside one texel, across texels, and channels left alone: both shader paths run.
    const order = [...NBF_MIRRORED_PARTS];
    rt.scope(() => {
      const t = rt.tensor(x, shape);
      const once = mirrorWidth(t, order);
      expectTensorClose(once, mirrorWidthRef(x, shape, order), shape, 0);
      expectTensorClose(mirrorWidth(once, order), x, shape, 0);
    });
  });

  it('rejects bad shapes and orders, naming the problem', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = rt.tensor(new Float32Array(2 * 3 * 5), [2, 3, 5]);
      expect(() => mirrorWidth(t)).toThrow(/must be \[N, H, W, C\], got \[2, 3, 5\]/);
      const u = rt.tensor(new Float32Array(2 * 3 * 5 * 4), [2, 3, 5, 4]);
      expect(() => mirrorWidth(u, [0, 1, 2])).toThrow(ShapeError);
      expect(() => mirrorWidth(u, [0, 1, 2, 2])).toThrow(/permutation of 0..3/);
      expect(() => mirrorWidth(u, [0, 1, 2, 4])).toThrow(NbfError);
      const wide = rt.tensor(new Float32Array(MIRROR_MAX_CHANNELS + 1), [1, 1, 1, MIRROR_MAX_CHANNELS + 1]);
      expect(() => mirrorWidth(wide)).toThrow(/at most 64 channels/);
    });
  });
});
