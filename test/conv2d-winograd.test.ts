/** Winograd F(2×2, 3×3) (src/kernels/conv2d-winograd.ts): transforms, the whole path, and when 'auto' takes it. */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { Rng } from '../src/util/random.js';
import { conv2d, conv2dGeometry, type Conv2dOptions, type Conv2dPadding } from '../src/kernels/conv2d.js';
import { conv2dRef, type Conv2dRefResult } from '../src/kernels/conv2d.ref.js';
import { conv2dWinogradRef, winogradFilterRef, winogradInputRef } from '../src/kernels/conv2d-winograd.ref.js';
import {
  WINOGRAD_MIN_MACS, WINOGRAD_MIN_TILES, WINOGRAD_POSITIONS, winogradFilter, winogradInput, winogradPays, winogradTiles,
} from '../src/kernels/conv2d-winograd.js';
import { maxScaledError } from '../src/kernels/matmul.ref.js';
import { unary } from '../src/kernels/elementwise.js';
import { expectTensorClose, normwiseError } from './helpers/compare.js';
import type { Activation } from '../src/kernels/activation.js';
import type { Runtime } from '../src/runtime/runtime.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { NbfError } from '../src/runtime/errors.js';
import { kernelsRun } from './helpers/kernels-run.js';
import { matmulKernel } from '../src/kernels/matmul.js';

const rng = new Rng(2311);
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const pick = <T>(items: readonly T[]): T => items[rng.int(0, items.length - 1)];
const activations: Activation[] = ['none', 'relu', 'relu6', 'leakyRelu', { type: 'leakyRelu', alpha: 0.3 }, 'sigmoid', 'tanh', 'elu'];


const WINOGRAD_KERNELS = ['matmul_pack', 'conv2d_winograd_filter', 'conv2d_winograd_input', 'conv2d_winograd_product', 'conv2d_winograd_output'];
const DIRECT_KERNELS = ['matmul_pack', 'conv2d', 'matmul_unblock'];

/**
 * Scaled error (|got − want| / max(|want|, Σ|x·w| + |bias|, 1), the conv2d tests' measure) of a GPU
 * result against the float64 reference; also shape, zero padding lanes and no unwritten texel (the
 * test runtime poisons outputs with NaN).
 */
function scaledError(t: Tensor, ref: Conv2dRefResult): number {
  expectTensorClose(t, ref.data, ref.shape, Infinity);
  return maxScaledError(t.readSync(), ref.data, ref.magnitude).error;
}

type Opts = Omit<Conv2dOptions, 'bias'> & { bias?: boolean };

/** conv2d with `opts` against conv2dRef; returns the scaled error and the kernels it ran. */
function run(rt: Runtime, xShape: number[], wShape: number[], opts: Opts): { error: number; kernels: string[] } {
  const x = rng.uniformArray(size(xShape), -1, 1);
  const w = rng.uniformArray(size(wShape), -1, 1);
  const bias = opts.bias ? rng.uniformArray(wShape[3], -1, 1) : undefined;
  const { algorithm: _a, bias: _b, cacheWeights: _c, residual: _r, ...refOpts } = opts;
  const ref = conv2dRef(x, xShape, w, wShape, { ...refOpts, bias });
  let error = NaN;
  const kernels = kernelsRun(rt, () => rt.scope(() => {
    error = scaledError(conv2d(rt.tensor(x, xShape), rt.tensor(w, wShape), { ...opts, bias: bias && rt.tensor(bias, [wShape[3]]) }), ref);
  }));
  return { error, kernels };
}

/** Bound on the scaled error, as conv2d.test.ts's (measured: ≤ 3e-7 for Winograd, see the precision test). */
const TOLERANCE = 1e-5;

describe('Winograd F(2×2, 3×3) float64 reference', () => {
  it('equals the direct convolution (odd sizes, every padding form, bias + activation, batch 2)', () => {
    const paddings: Conv2dPadding[] = ['same', 'valid', 1, 2, [0, 2, 1, 0], [2, 0, 0, 3]];
    for (let i = 0; i < 12; i++) {
      const xShape = [rng.int(1, 2), rng.int(3, 9), rng.int(3, 9), rng.int(1, 7)];
      const wShape = [3, 3, xShape[3], rng.int(1, 6)];
      const x = rng.uniformArray(size(xShape), -1, 1);
      const w = rng.uniformArray(size(wShape), -1, 1);
      const bias = rng.uniformArray(wShape[3], -1, 1);
      const padding = pick(paddings);
      const activation = pick(activations);
      const want = conv2dRef(x, xShape, w, wShape, { padding, bias, activation });
      const got = conv2dWinogradRef(x, xShape, w, wShape, { padding, bias, activation });
      expect(got.shape).toEqual(want.shape);
      expect(normwiseError(got.data, want.data)).toBeLessThan(1e-12);
    }
  });
});

describe('Winograd transforms on the GPU against the float64 reference', () => {
  it('conv2d_winograd_filter: U [Cout, 16, Cin] in rows of pitch 16·⌈Cin/4⌉ + 1 texels, the extra texel 0', () => {
    const rt = testRuntime();
    for (const [cin, cout] of [[1, 1], [5, 3], [8, 9], [13, 6], [36, 17]]) {
      const wShape = [3, 3, cin, cout];
      const w = rng.uniformArray(size(wShape), -1, 1);
      const want = winogradFilterRef(w, wShape);
      const cin4 = Math.ceil(cin / 4);
      const pitch = WINOGRAD_POSITIONS * cin4 + 1;
      rt.scope(() => {
        const u = winogradFilter(rt.tensor(w, wShape), false);
        expect(u.shape).toEqual([cout, 4 * pitch]);
        const got = u.readSync();
        const unpadded = new Float64Array(want.length);
        for (let co = 0; co < cout; co++) {
          for (let xi = 0; xi < WINOGRAD_POSITIONS; xi++) {
            for (let c = 0; c < 4 * cin4; c++) {
              const value = got[co * 4 * pitch + 4 * (xi * cin4) + c];
              if (c < cin) unpadded[(co * WINOGRAD_POSITIONS + xi) * cin + c] = value;
              else expect(value).toBe(0); // lanes past Cin
            }
          }
          for (let c = 0; c < 4; c++) expect(got[co * 4 * pitch + 4 * (pitch - 1) + c]).toBe(0); // the pitch's texel
        }
        // Sums of ≤ 9 terms with power-of-two coefficients: float32 rounding only.
        expect(normwiseError(unpadded, want)).toBeLessThan(1e-6);
      });
    }
  });

  it('conv2d_winograd_input: V [T, 16, Cin] with zeros outside the image (every padding form, odd outputs, batch 3)', () => {
    const rt = testRuntime();
    const cases: [number[], Conv2dPadding][] = [
      [[3, 5, 7, 5], 'same'], [[1, 6, 9, 4], 'valid'], [[2, 7, 4, 9], [0, 2, 1, 0]], [[1, 3, 3, 2], 2], [[2, 1, 2, 3], [1, 1, 1, 2]],
    ];
    for (const [xShape, padding] of cases) {
      const wShape = [3, 3, xShape[3], 4];
      const x = rng.uniformArray(size(xShape), -1, 1);
      const g = conv2dGeometry(xShape, wShape, { padding });
      const want = winogradInputRef(x, xShape, wShape, { padding });
      rt.scope(() => {
        // x as a kernel output: texture rows past its data hold NaN on the test runtime, so a read
        // past the image (instead of a clamped, dropped one) would show.
        const v = winogradInput(unary('identity', rt.tensor(x, xShape)), g);
        expectTensorClose(v, want, [winogradTiles(g).count, WINOGRAD_POSITIONS, xShape[3]], 1e-6);
      });
    }
  });
});

describe("conv2d algorithm 'winograd' against the float64 direct reference", () => {
  it('random shapes: odd sizes, Cin and Cout not multiples of 4, batch 1–3, every padding form, bias + activation', () => {
    const rt = testRuntime();
    const paddings: Conv2dPadding[] = ['same', 'valid', 1, 2, [0, 2, 1, 0], [2, 1, 0, 3], [3, 0, 2, 2]];
    let worst = 0;
    for (let i = 0; i < 24; i++) {
      const padding = pick(paddings);
      const xShape = [rng.int(1, 3), rng.int(i < 4 ? 1 : 3, 13), rng.int(i < 4 ? 1 : 3, 13), i < 3 ? [1, 4, 17][i] : rng.int(1, 40)];
      const wShape = [3, 3, xShape[3], i < 3 ? [1, 2, 3][i] : rng.int(1, 37)];
      try {
        conv2dGeometry(xShape, wShape, { padding });
      } catch {
        continue; // the kernel does not fit this input with this padding
      }
      const { error, kernels } = run(rt, xShape, wShape, { padding, algorithm: 'winograd', bias: rng.int(0, 1) === 1, activation: pick(activations) });
      expect(kernels).toEqual(WINOGRAD_KERNELS);
      expect(error, `x [${xShape}] w [${wShape}] ${JSON.stringify(padding)}`).toBeLessThanOrEqual(TOLERANCE);
      worst = Math.max(worst, error);
    }
    expect(worst).toBeGreaterThan(0); // the comparison compared something
  });

  it('fuses bias + every activation into the output transform', () => {
    const rt = testRuntime();
    for (const activation of activations) {
      expect(run(rt, [2, 7, 9, 6], [3, 3, 6, 9], { padding: 'same', bias: true, activation, algorithm: 'winograd' }).error).toBeLessThanOrEqual(TOLERANCE);
    }
  });

  it('wide layers: Cin 512 (128 written-out steps) and 530 (chunks of 16 in a loop + 5 steps)', () => {
    const rt = testRuntime();
    expect(run(rt, [1, 4, 5, 512], [3, 3, 512, 6], { padding: 'same', bias: true, algorithm: 'winograd' }).error).toBeLessThanOrEqual(TOLERANCE);
    expect(run(rt, [2, 3, 4, 530], [3, 3, 530, 5], { padding: 'same', algorithm: 'winograd' }).error).toBeLessThanOrEqual(TOLERANCE);
  });

  it('precision: within 3× the direct kernel\'s error, ≤ 1e-6 of Σ|x·w| (Cin 64–256)', () => {
    const rt = testRuntime();
    for (const [xShape, wShape] of [[[2, 10, 9, 64], [3, 3, 64, 24]], [[1, 6, 7, 256], [3, 3, 256, 10]]]) {
      const x = rng.uniformArray(size(xShape), -1, 1);
      const w = rng.uniformArray(size(wShape), -1, 1);
      const ref = conv2dRef(x, xShape, w, wShape, { padding: 'same' });
      const errors = (['direct', 'winograd'] as const).map((algorithm) => rt.scope(() => scaledError(conv2d(rt.tensor(x, xShape), rt.tensor(w, wShape), { padding: 'same', algorithm }), ref)));
      expect(errors[1]).toBeLessThanOrEqual(1e-6);
      expect(errors[1]).toBeLessThanOrEqual(3 * errors[0] + 1e-8);
    }
  });

  it("rejects what it cannot run with a clear error; 'direct' and 'im2col' still run on 3×3 stride 1", () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = (s: number[]) => rt.tensor(new Float32Array(size(s)), s);
      const x = t([1, 8, 8, 8]);
      expect(() => conv2d(x, t([3, 3, 8, 4]), { strides: 2, algorithm: 'winograd' })).toThrow(NbfError);
      expect(() => conv2d(x, t([3, 3, 8, 4]), { strides: 2, algorithm: 'winograd' })).toThrow(/'winograd' needs a dense 3×3 convolution with stride 1 and dilation 1.*strides \[2, 2\]/);
      expect(() => conv2d(x, t([3, 3, 8, 4]), { dilations: 2, algorithm: 'winograd' })).toThrow(/dilations \[2, 2\]/);
      expect(() => conv2d(x, t([5, 5, 8, 4]), { algorithm: 'winograd' })).toThrow(/w \[5, 5, 8, 4\]/);
      expect(() => conv2d(x, t([3, 3, 4, 4]), { groups: 2, algorithm: 'winograd' })).toThrow(/groups 2/);
      expect(() => conv2d(x, t([3, 3, 8, 4]), { algorithm: 'fft' as never })).toThrow(/'auto', 'direct', 'im2col' or 'winograd'/);
    });
    expect(run(rt, [1, 9, 8, 20], [3, 3, 20, 6], { padding: 'same', algorithm: 'direct' }).kernels).toEqual(DIRECT_KERNELS);
    const product = matmulKernel(rt) === 'quad' ? ['matmul_quad', 'matmul_quad_unblock'] : ['matmul', 'matmul_unblock'];
    expect(run(rt, [1, 9, 8, 20], [3, 3, 20, 6], { padding: 'same', algorithm: 'im2col' }).kernels).toEqual(['conv2d_im2col', 'matmul_pack', ...product]);
  });
});

describe("conv2d 'auto' and Winograd", () => {
  it('takes Winograd for dense 3×3 stride-1 layers above the thresholds, the direct kernel below them', () => {
    const rt = testRuntime();
    // 16·16·64·64·9 = 9.4M multiply-adds ≥ 2^23, 64 tiles: Winograd.
    expect(run(rt, [1, 16, 16, 64], [3, 3, 64, 64], { padding: 'same', bias: true, activation: 'relu' }).kernels).toEqual(WINOGRAD_KERNELS);
    expect(run(rt, [2, 20, 19, 40], [3, 3, 40, 37], { padding: [1, 0, 0, 1] }).kernels).toEqual(WINOGRAD_KERNELS); // 19×18 out, 9.1M
    // Too little work (0.4M multiply-adds): the direct kernel.
    expect(run(rt, [2, 9, 11, 20], [3, 3, 20, 7], { padding: 'same' }).kernels).toEqual(DIRECT_KERNELS);
    // Enough work but only 16 tiles: the weight transform would cost more than it saves, unless cached.
    expect(run(rt, [1, 8, 8, 128], [3, 3, 128, 128], { padding: 'same' }).kernels).toEqual(DIRECT_KERNELS);
    // Strided, dilated, 5×5, ≤ 16 input channels (conv2d_small): never Winograd.
    expect(run(rt, [1, 32, 32, 64], [3, 3, 64, 64], { padding: 'same', strides: 2 }).kernels).toEqual(DIRECT_KERNELS);
    expect(run(rt, [1, 20, 20, 64], [3, 3, 64, 64], { padding: 'same', dilations: 2 }).kernels).toEqual(DIRECT_KERNELS);
    expect(run(rt, [1, 32, 32, 16], [3, 3, 16, 64], { padding: 'same' }).kernels).toEqual(['matmul_pack', 'conv2d_small']);
  });

  it('winogradPays: the thresholds as documented', () => {
    const geometry = (x: number[], cin: number, cout: number) => conv2dGeometry([...x, cin], [3, 3, cin, cout], { padding: 'same' });
    expect(WINOGRAD_MIN_MACS).toBe(2 ** 23);
    expect(WINOGRAD_MIN_TILES).toBe(32);
    expect(winogradPays(geometry([1, 7, 7], 512, 512), false)).toBe(false); // 16 tiles
    expect(winogradPays(geometry([1, 7, 7], 512, 512), true)).toBe(true);
    expect(winogradPays(geometry([2, 7, 7], 512, 512), false)).toBe(true); // 32 tiles
    expect(winogradPays(geometry([1, 14, 14], 256, 256), false)).toBe(true);
    expect(winogradPays(geometry([1, 4, 4], 256, 228), true)).toBe(true); // 16·256·228·9 ≥ 2^23 multiply-adds
    expect(winogradPays(geometry([1, 4, 4], 256, 227), true)).toBe(false); // just under
  });

  it('cacheWeights: the weight transform is made once per weight tensor, freed with it; small maps take Winograd then', () => {
    const rt = testRuntime();
    const xShape = [1, 8, 8, 128];
    const wShape = [3, 3, 128, 128];
    const x = rt.tensor(rng.uniformArray(size(xShape), -1, 1), xShape);
    const w = rt.tensor(rng.uniformArray(size(wShape), -1, 1), wShape);
    const bias = rt.tensor(rng.uniformArray(128, -1, 1), [128]);
    const ref = conv2dRef(x.readSync(), xShape, w.readSync(), wShape, { padding: 'same', bias: bias.readSync(), activation: 'relu' });
    const before = rt.memory().tensors;
    const first = kernelsRun(rt, () => rt.scope(() => {
      expect(scaledError(conv2d(x, w, { padding: 'same', bias, activation: 'relu', cacheWeights: true }), ref)).toBeLessThanOrEqual(TOLERANCE);
    }));
    expect(first).toEqual(WINOGRAD_KERNELS);
    expect(rt.memory().tensors).toBe(before + 1); // U, kept by the cache
    const second = kernelsRun(rt, () => rt.scope(() => {
      expect(scaledError(conv2d(x, w, { padding: 'same', bias, activation: 'relu', cacheWeights: true }), ref)).toBeLessThanOrEqual(TOLERANCE);
    }));
    expect(second).toEqual(WINOGRAD_KERNELS.slice(2)); // no pack, no filter transform
    expect(rt.memory().tensors).toBe(before + 1);
    w.dispose();
    expect(rt.memory().tensors).toBe(before - 1); // w and its U
    x.dispose();
    bias.dispose();
  });

  it('disposes its temporaries', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      conv2d(rt.tensor(new Float32Array(2 * 5 * 6 * 20), [2, 5, 6, 20]), rt.tensor(new Float32Array(9 * 20 * 7), [3, 3, 20, 7]), { padding: 'same', algorithm: 'winograd' });
    });
    expect(rt.memory().tensors).toBe(before);
  });
});
