import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { conv2d, conv2dGeometry, pointwiseMaxK, POINTWISE_MAX_K, POINTWISE_MAX_K_QUAD, type Conv2dOptions, type Conv2dPadding } from '../src/kernels/conv2d.js';
import { forceMatmulKernel, matmulKernel, planMatmul, quadPlan, type MatmulKernel } from '../src/kernels/matmul.js';
import { conv2dRef, type Conv2dRefResult } from '../src/kernels/conv2d.ref.js';
import { maxScaledError } from '../src/kernels/matmul.ref.js';
import type { Activation } from '../src/kernels/activation.js';
import { unary } from '../src/kernels/elementwise.js';
import type { Tensor } from '../src/runtime/tensor.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';
import { kernelsRun } from './helpers/kernels-run.js';

const rng = new Rng(77);
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/**
 * GPU vs float64 reference, 1e-5 relative to max(|want|, Σ|x·w| + |bias|, 1) per element (float32
 * accumulation error scales with the sum of |terms|); also shape, zero padding lanes, no unwritten texel.
 */
function expectMatches(t: Tensor, ref: Conv2dRefResult, tol = 1e-5): void {
  expectTensorClose(t, ref.data, ref.shape, Infinity);
  const got = t.readSync();
  const { error, at } = maxScaledError(got, ref.data, ref.magnitude);
  if (!(error <= tol)) throw new Error(`scaled error ${error} > ${tol} at ${at}: got ${got[at]}, want ${ref.data[at]}`);
}

type Opts = Omit<Conv2dOptions, 'bias' | 'residual'> & { bias?: boolean; residual?: boolean };

/**
 * The product and unblock kernels matmul runs on the test context for a reduction of length K
 * (matmul_quad on llvmpipe: a second draw for the rest where K4 = ⌈K/4⌉ is split into parts).
 */
function product(K: number, kind: MatmulKernel = matmulKernel(testRuntime())): string[] {
  if (kind !== 'quad') return ['matmul', 'matmul_unblock'];
  const quad = quadPlan(testRuntime(), planMatmul([1, K], [K, 1]))!;
  return [...(quad.rest > 0 ? ['matmul_quad', 'matmul_quad'] : ['matmul_quad']), 'matmul_quad_unblock'];
}


/** check(), also asserting that the convolution ran exactly `kernels`. */
function checkPath(kernels: string[], xShape: number[], wShape: number[], opts: Opts = {}): void {
  const rt = testRuntime();
  const ran = kernelsRun(rt, () => check(xShape, wShape, opts));
  expect(ran, `x [${xShape}] w [${wShape}] ${JSON.stringify(opts)}`).toEqual(kernels);
}

function check(xShape: number[], wShape: number[], opts: Opts = {}): void {
  const rt = testRuntime();
  const x = rng.uniformArray(size(xShape), -1, 1);
  const w = rng.uniformArray(size(wShape), -1, 1);
  const cout = wShape[3];
  const bias = opts.bias ? rng.uniformArray(cout, -1, 1) : undefined;
  const { algorithm, bias: _unused, residual: withResidual, ...refOpts } = opts;
  const outShape = conv2dGeometry(xShape, wShape, refOpts).outShape;
  const residual = withResidual ? rng.uniformArray(size(outShape), -2, 2) : undefined;
  const ref = conv2dRef(x, xShape, w, wShape, { ...refOpts, bias, residual });
  rt.scope(() => {
    const out = conv2d(rt.tensor(x, xShape), rt.tensor(w, wShape), { ...opts, bias: bias && rt.tensor(bias, [cout]), residual: residual && rt.tensor(residual, outShape) });
    expectMatches(out, ref);
  });
}

describe('conv2d', () => {
  it('3×3 stride 1 same, odd sizes, channels not multiples of 4, batch 2', () => {
    check([2, 9, 11, 5], [3, 3, 5, 7], { padding: 'same' });
    check([2, 9, 11, 5], [3, 3, 5, 7], { padding: 'same', bias: true });
    check([1, 13, 7, 6], [3, 3, 6, 9], { padding: 'valid', bias: true });
    check([3, 5, 6, 1], [3, 3, 1, 2], { padding: 'same' });
  });

  it('strides 2 with TF same padding (extra row/column at the bottom/right)', () => {
    check([2, 10, 9, 6], [3, 3, 6, 5], { strides: 2, padding: 'same', bias: true });
    check([1, 11, 12, 3], [7, 7, 3, 10], { strides: 2, padding: 'same' });
    check([2, 8, 8, 4], [4, 4, 4, 4], { strides: 2, padding: 'same' });
    check([1, 9, 7, 5], [3, 2, 5, 6], { strides: [2, 1], padding: 'same' });
  });

  it('valid, numeric and explicit asymmetric padding', () => {
    check([2, 9, 10, 6], [3, 3, 6, 7], { strides: 2, padding: 'valid' });
    check([1, 7, 8, 5], [5, 3, 5, 6], { padding: 2 });
    check([2, 6, 7, 3], [3, 3, 3, 5], { padding: [0, 2, 1, 3], strides: [1, 2] });
  });

  it('dilation 2 (and per-axis dilation)', () => {
    check([2, 12, 11, 5], [3, 3, 5, 6], { dilations: 2, padding: 'same', bias: true });
    check([1, 12, 13, 4], [3, 2, 4, 5], { dilations: [1, 3], padding: 'valid' });
    check([1, 13, 13, 6], [3, 3, 6, 6], { dilations: 2, strides: 2, padding: 'same' });
  });

  it('direct kernel with few input channels (auto picks im2col there), interior and border blocks', () => {
    check([2, 11, 12, 3], [7, 7, 3, 10], { strides: 2, padding: 'same', algorithm: 'direct', bias: true });
    check([1, 9, 10, 1], [3, 3, 1, 5], { padding: 'same', algorithm: 'direct' });
    check([3, 7, 9, 4], [3, 3, 4, 3], { padding: 'valid', algorithm: 'direct', activation: 'relu' });
  });

  it('1×1 convolutions (pointwise kernel, matmul) and 1×1 stride 2', () => {
    check([2, 5, 7, 6], [1, 1, 6, 9], { bias: true, activation: 'relu' });
    check([2, 5, 7, 6], [1, 1, 6, 9], { bias: true, activation: 'relu', algorithm: 'direct' });
    check([2, 9, 7, 5], [1, 1, 5, 3], { strides: 2, padding: 'same' });
  });

  it('groups 2: texel-aligned groups (dense kernel) and unaligned groups (generic kernel)', () => {
    check([2, 7, 6, 8], [3, 3, 4, 8], { groups: 2, padding: 'same', bias: true });
    check([2, 7, 6, 16], [3, 3, 8, 12], { groups: 2, padding: 'same' });
    check([2, 7, 6, 6], [3, 3, 3, 10], { groups: 2, padding: 'same', bias: true });
    check([1, 8, 9, 10], [3, 3, 5, 6], { groups: 2, strides: 2, padding: 'same', dilations: 1 });
    check([1, 8, 9, 12], [3, 3, 4, 9], { groups: 3, padding: 'valid', activation: 'tanh' });
  });

  it('depthwise: multiplier 1 (groups = Cin = Cout) and multiplier 2', () => {
    check([2, 9, 8, 7], [3, 3, 1, 7], { groups: 7, padding: 'same', bias: true });
    check([1, 10, 9, 5], [5, 5, 1, 5], { groups: 5, strides: 2, padding: 'same', dilations: 1 });
    check([1, 11, 10, 6], [3, 3, 1, 6], { groups: 6, dilations: 2, padding: 'same', activation: 'relu' });
    check([2, 7, 7, 3], [3, 3, 1, 6], { groups: 3, padding: 'same', bias: true });
  });

  const activations: Activation[] = ['relu', 'relu6', 'leakyRelu', { type: 'leakyRelu', alpha: 0.3 }, 'sigmoid', 'tanh', 'elu'];
  const pick = <T>(items: readonly T[]): T => items[rng.int(0, items.length - 1)];

  it('depthwise multiplier 1 runs conv2d_depthwise: random shapes, strides, paddings, dilations, kernel sizes', () => {
    const paddings: Conv2dPadding[] = ['same', 'valid', 1, [0, 2, 1, 0], [2, 1, 0, 3]];
    for (let i = 0; i < 24; i++) {
      const C = pick([2, 3, 5, 6, 7, 8, 9, 13, 17]);
      const [KH, KW] = pick([[3, 3], [5, 5], [3, 3], [5, 5], [1, 1], [2, 3], [3, 1]]);
      const dilations = pick([1, 1, 2, [2, 1]] as const);
      const xShape = [rng.int(1, 3), rng.int(KH * 2, 15), rng.int(KW * 2, 15), C];
      checkPath(['conv2d_depthwise'], xShape, [KH, KW, 1, C], {
        groups: C, strides: pick([1, 2, [1, 2]] as const), padding: pick(paddings), dilations, bias: rng.int(0, 1) === 1,
      });
    }
  });

  it('conv2d_depthwise fuses bias + every activation; a 1×1 image with 3×3 same padding reads only padding taps', () => {
    for (const activation of ['none', ...activations] as Activation[]) {
      checkPath(['conv2d_depthwise'], [2, 7, 9, 6], [3, 3, 1, 6], { groups: 6, padding: 'same', bias: true, activation });
      checkPath(['conv2d_depthwise'], [1, 9, 8, 5], [5, 5, 1, 5], { groups: 5, strides: 2, padding: 'same', bias: true, activation });
    }
    checkPath(['conv2d_depthwise'], [3, 1, 1, 7], [3, 3, 1, 7], { groups: 7, padding: 'same', bias: true });
    // The largest written-out kernel (7×7), uneven ones, and 9×1 past it (conv2d_grouped).
    checkPath(['conv2d_depthwise'], [2, 9, 10, 6], [7, 7, 1, 6], { groups: 6, padding: 'same', bias: true });
    checkPath(['conv2d_depthwise'], [1, 11, 9, 5], [4, 6, 1, 5], { groups: 5, strides: [2, 1], padding: 'same', dilations: [1, 2] });
    checkPath(['conv2d_grouped'], [2, 12, 5, 6], [9, 1, 1, 6], { groups: 6, padding: 'same', bias: true, activation: 'relu' });
    checkPath(['conv2d_depthwise'], [1, 2, 3, 4], [3, 3, 1, 4], { groups: 4, padding: 'same', dilations: 2, activation: 'relu' });
  });

  it('1×1 convolutions with K up to the pointwise limit run conv2d_pointwise (random shapes), larger K matmul', () => {
    const limit = pointwiseMaxK(testRuntime());
    // Each K is its own program (the steps are written out): a few large ones, random small ones.
    for (let i = 0; i < 16; i++) {
      const K = i < 5 ? [1, 4, 31, limit - 3, limit][i] : rng.int(1, 24);
      const N = pick([1, 3, 4, 5, 8, 9, 13, 24, 37]);
      const xShape = [rng.int(1, 3), rng.int(1, 11), rng.int(1, 11), K];
      checkPath(['conv2d_pointwise'], xShape, [1, 1, K, N], { bias: rng.int(0, 1) === 1, activation: pick(['none', ...activations] as Activation[]) });
    }
    checkPath(['matmul_pack', ...product(limit + 1)], [2, 5, 3, limit + 1], [1, 1, limit + 1, 6], { bias: true, activation: 'relu6' });
    checkPath(['matmul_pack', ...product(150)], [1, 4, 7, 150], [1, 1, 150, 9], {});
  });

  it('small dense filters run conv2d_small: random shapes, strides, paddings, dilations, 1–4 output lanes', () => {
    const paddings: Conv2dPadding[] = ['same', 'valid', 2, [0, 2, 1, 0], [3, 1, 0, 2]];
    for (let i = 0; i < 24; i++) {
      const Cin = i < 4 ? [1, 3, 16, 13][i] : rng.int(1, 16);
      const Cout = i < 4 ? [1, 2, 3, 9][i] : pick([1, 2, 3, 4, 5, 8, 11]);
      const [KH, KW] = i < 2 ? [[7, 7], [1, 6]][i] : pick([[3, 3], [3, 3], [5, 5], [2, 3], [1, 1], [4, 2]]);
      const dilations = pick([1, 1, 2, [1, 2]] as const);
      const xShape = [rng.int(1, 3), rng.int(KH * 2, 14), rng.int(KW * 2, 14), Cin];
      const strides = pick([1, 2, [2, 1]] as const);
      const opts: Opts = { strides, padding: pick(paddings), dilations, bias: rng.int(0, 1) === 1, activation: pick(['none', ...activations] as Activation[]) };
      // A 1×1 stride-1 draw without padding is a product: conv2d_pointwise.
      const product1x1 = KH === 1 && KW === 1 && strides === 1 && (opts.padding === 'same' || opts.padding === 'valid');
      checkPath(product1x1 ? ['conv2d_pointwise'] : ['matmul_pack', 'conv2d_small'], xShape, [KH, KW, Cin, Cout], opts);
    }
    // Past its limits: 17 input channels (2×2 blocks), an 8×8 kernel on RGB (im2col).
    checkPath(['matmul_pack', 'conv2d', 'matmul_unblock'], [1, 7, 8, 17], [3, 3, 17, 5], { padding: 'same', bias: true });
    checkPath(['conv2d_im2col', 'matmul_pack', ...product(8 * 8 * 3)], [2, 12, 11, 3], [8, 8, 3, 4], { strides: 2, padding: 'same' });
  });

  it('conv2d_small reads only the weights that exist (Wp and bias as kernel outputs, NaN past their rows)', () => {
    const rt = testRuntime();
    const kernelOutput = (data: Float32Array, shape: number[]) => unary('identity', rt.tensor(data, shape));
    for (const [xShape, wShape] of [[[2, 6, 7, 5], [3, 3, 5, 2]], [[1, 9, 8, 3], [5, 5, 3, 7]]]) {
      const x = rng.uniformArray(size(xShape));
      const w = rng.uniformArray(size(wShape));
      const b = rng.uniformArray(wShape[3]);
      const ref = conv2dRef(x, xShape, w, wShape, { padding: 'same', bias: b });
      rt.scope(() => {
        const ran = kernelsRun(rt, () => expectMatches(conv2d(kernelOutput(x, xShape), kernelOutput(w, wShape), { padding: 'same', bias: kernelOutput(b, [wShape[3]]) }), ref));
        expect(ran).toContain('conv2d_small');
      });
    }
  });

  it('conv2d_pointwise reads only the weight rows that exist when K % 4 ≠ 0 (texture rows past the data hold NaN)', () => {
    const rt = testRuntime();
    // w [1, 1, 5, 64] is 80 texels: 5 rows of a 16×8 texture. As a kernel output on the poisoning
    // test runtime, rows 5..7 hold NaN, so reading weight rows K..K+3 would poison the result.
    const kernelOutput = (data: Float32Array, shape: number[]) => unary('identity', rt.tensor(data, shape));
    const x = rng.uniformArray(2 * 3 * 4 * 5);
    const w = rng.uniformArray(5 * 64);
    const ref = conv2dRef(x, [2, 3, 4, 5], w, [1, 1, 5, 64]);
    rt.scope(() => {
      const ran = kernelsRun(rt, () => expectMatches(conv2d(kernelOutput(x, [2, 3, 4, 5]), kernelOutput(w, [1, 1, 5, 64])), ref));
      expect(ran).toContain('conv2d_pointwise');
    });
  });

  it('conv2d_pointwise fuses bias + every activation; im2col with a short patch uses it too', () => {
    for (const activation of ['none', ...activations] as Activation[]) {
      checkPath(['conv2d_pointwise'], [2, 5, 7, 6], [1, 1, 6, 9], { bias: true, activation });
      checkPath(['conv2d_pointwise'], [1, 3, 5, 8], [1, 1, 8, 4], { bias: true, activation });
    }
    // RGB stem: patch length 3·3·3 = 27 ≤ the pointwise limit; 7·7·3 = 147 goes to matmul.
    checkPath(['conv2d_im2col', 'conv2d_pointwise'], [2, 11, 10, 3], [3, 3, 3, 10], { strides: 2, padding: 'same', bias: true, activation: 'relu', algorithm: 'im2col' });
    checkPath(['conv2d_im2col', 'matmul_pack', ...product(7 * 7 * 3)], [1, 11, 12, 3], [7, 7, 3, 6], { strides: 2, padding: 'same', bias: true, algorithm: 'im2col' });
  });

  for (const kernel of ['quad', 'loop'] as MatmulKernel[]) {
    it(`with matmul's ${kernel} kernel: the pointwise limit and the im2col rule for 1–3 input channels, on both sides`, () => {
      const rt = testRuntime();
      forceMatmulKernel(rt, kernel);
      try {
        const limit = kernel === 'quad' ? POINTWISE_MAX_K_QUAD : POINTWISE_MAX_K;
        expect(pointwiseMaxK(rt)).toBe(limit);
        checkPath(['conv2d_pointwise'], [1, 3, 5, limit], [1, 1, limit, 7], { bias: true, activation: 'relu' });
        checkPath(['matmul_pack', ...product(limit + 1, kernel)], [1, 3, 5, limit + 1], [1, 1, limit + 1, 7], { bias: true, activation: 'relu' });
        // 7×7 on 1–3 channels with ≥ 32 outputs: im2col + matmul_quad where it runs (patches 147 and 49
        // long, past the pointwise limit), else conv2d_small; 4 channels or 16 outputs: conv2d_small.
        const im2col = kernel === 'quad';
        checkPath(im2col ? ['conv2d_im2col', 'matmul_pack', ...product(147, kernel)] : ['matmul_pack', 'conv2d_small'], [1, 19, 21, 3], [7, 7, 3, 32], { strides: 2, padding: 'same', bias: true, activation: 'relu' });
        checkPath(im2col ? ['conv2d_im2col', 'matmul_pack', ...product(49, kernel)] : ['matmul_pack', 'conv2d_small'], [2, 9, 8, 1], [7, 7, 1, 33], { padding: 'same' });
        checkPath(['matmul_pack', 'conv2d_small'], [1, 19, 21, 4], [7, 7, 4, 32], { strides: 2, padding: 'same' });
        checkPath(['matmul_pack', 'conv2d_small'], [1, 19, 21, 3], [7, 7, 3, 16], { strides: 2, padding: 'same' });
        checkPath(['matmul_pack', 'conv2d_small'], [1, 19, 21, 3], [3, 3, 3, 32], { padding: 'same' });
      } finally {
        forceMatmulKernel(rt, null);
      }
    });
  }

  it('a residual of the output\'s shape is added after the bias, before the activation, in the last pass of every path', () => {
    const rt = testRuntime();
    const r = { residual: true, bias: true } as const;
    checkPath(['conv2d_pointwise'], [2, 5, 3, 7], [1, 1, 7, 6], { ...r, activation: 'relu6' });
    checkPath(['matmul_pack', ...product(POINTWISE_MAX_K_QUAD + 5)], [1, 3, 5, POINTWISE_MAX_K_QUAD + 5], [1, 1, POINTWISE_MAX_K_QUAD + 5, 9], { ...r, activation: 'relu' });
    checkPath(['matmul_pack', 'conv2d_small'], [2, 6, 7, 5], [3, 3, 5, 3], { ...r, padding: 'same', activation: 'relu' });
    checkPath(['conv2d_depthwise'], [1, 7, 6, 10], [3, 3, 1, 10], { ...r, groups: 10, strides: 2, padding: 'same', activation: 'relu6' });
    checkPath(['conv2d_grouped'], [2, 6, 5, 6], [9, 1, 1, 6], { ...r, groups: 6, padding: 'same', activation: 'relu' });
    checkPath(['matmul_pack', 'conv2d', 'matmul_unblock'], [1, 7, 8, 17], [3, 3, 17, 5], { ...r, padding: 'same', algorithm: 'direct', activation: 'relu' });
    checkPath(['conv2d_im2col', 'conv2d_pointwise'], [2, 9, 7, 3], [3, 3, 3, 6], { ...r, strides: 2, padding: 'same', algorithm: 'im2col', activation: 'elu' });
    check([2, 9, 7, 21], [3, 3, 21, 10], { ...r, padding: 'same', algorithm: 'winograd', activation: 'relu' });
    check([1, 6, 5, 8], [3, 3, 8, 6], { residual: true, padding: 'same', algorithm: 'winograd' });
    for (const kernel of ['quad', 'loop'] as MatmulKernel[]) {
      forceMatmulKernel(rt, kernel);
      try {
        checkPath(['matmul_pack', ...product(150, kernel)], [1, 4, 7, 150], [1, 1, 150, 9], { ...r, activation: 'relu' });
      } finally {
        forceMatmulKernel(rt, null);
      }
    }
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 5 * 5 * 4), [2, 5, 5, 4]);
      const w = rt.tensor(new Float32Array(9 * 4 * 3), [3, 3, 4, 3]);
      expect(() => conv2d(x, w, { padding: 'valid', residual: rt.tensor(new Float32Array(2 * 5 * 5 * 3), [2, 5, 5, 3]) })).toThrow(/residual \[2, 5, 5, 3\] must have the output's shape \[2, 3, 3, 3\]/);
    });
  });

  it('conv2d_im2col reads 1, 2 or 4 texels per patch texel (Cin % 4 = 0, Cin 2–3, others), patches past the image and the patch end', () => {
    for (const cin of [1, 2, 3, 4, 5, 6, 7, 8, 9, 12]) {
      check([2, 7, 9, cin], [3, 2, cin, 5], { padding: [2, 0, 1, 2], dilations: [1, 2], algorithm: 'im2col' });
      check([1, 6, 5, cin], [5, 5, cin, 3], { strides: 2, padding: 'same', bias: true, algorithm: 'im2col' });
    }
  });

  for (const activation of activations) {
    it(`fuses bias + ${JSON.stringify(activation)} (direct, grouped and im2col paths)`, () => {
      check([2, 6, 7, 5], [3, 3, 5, 6], { padding: 'same', bias: true, activation });
      check([1, 6, 7, 6], [3, 3, 3, 6], { groups: 2, padding: 'same', bias: true, activation });
      check([1, 6, 7, 5], [3, 3, 5, 6], { padding: 'same', bias: true, activation, algorithm: 'im2col' });
    });
  }

  it('im2col + matmul matches the reference (Cin % 4 = 0 and ≠ 0, strides, dilation, padding)', () => {
    check([2, 9, 11, 5], [3, 3, 5, 7], { padding: 'same', algorithm: 'im2col' });
    check([1, 11, 12, 3], [7, 7, 3, 10], { strides: 2, padding: 'same', algorithm: 'im2col' });
    check([2, 8, 9, 8], [3, 3, 8, 6], { strides: 2, padding: 'same', bias: true, algorithm: 'im2col' });
    check([1, 12, 11, 4], [3, 3, 4, 5], { dilations: 2, padding: [1, 0, 2, 1], algorithm: 'im2col' });
  });

  it('keeps float32 accumulation over many channels within 1e-5 of Σ|terms|', () => {
    check([1, 6, 5, 96], [3, 3, 96, 10], { padding: 'same', bias: true });
    check([1, 5, 6, 64], [3, 3, 64, 9], { padding: 'same', algorithm: 'im2col' });
  });

  it('rejects bad shapes and options with clear errors', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = (s: number[]) => rt.tensor(new Float32Array(size(s)), s);
      expect(() => conv2d(t([5, 5, 3]), t([3, 3, 3, 4]))).toThrow(/x must be NHWC.*\[5, 5, 3\]/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 4]))).toThrow(/w must be HWIO/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 4, 4]))).toThrow(ShapeError);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 4, 4]))).toThrow(/\[3, 3, 4, 4\] has 4 input channels.*\[1, 5, 5, 3\].*needs 3/);
      expect(() => conv2d(t([1, 5, 5, 6]), t([3, 3, 3, 5]), { groups: 2 })).toThrow(/groups = 2 must divide/);
      expect(() => conv2d(t([1, 2, 2, 3]), t([3, 3, 3, 4]))).toThrow(/does not fit/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), { bias: t([3]) })).toThrow(/bias must have shape \[4\]/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), { padding: 'full' as never })).toThrow(/padding must be/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), { strides: 0 })).toThrow(/strides must be positive/);
      expect(() => conv2d(t([1, 5, 5, 3]), t([3, 3, 3, 4]), { activation: 'swish' as never })).toThrow(NbfError);
    });
  });

  it('cacheWeights: packs a weight once per tensor on every path (same results), freed with the weight', () => {
    const rt = testRuntime();
    // [x, w, options, packed weights kept]: conv2d_pointwise and conv2d_depthwise read w as it is.
    const cases: [number[], number[], Conv2dOptions, number][] = [
      [[2, 7, 6, 8], [3, 3, 8, 6], { padding: 'same' }, 1], // direct
      [[2, 5, 5, 130], [1, 1, 130, 5], {}, 1], // 1×1, large K: the matmul path
      [[2, 5, 5, 6], [1, 1, 6, 5], {}, 0], // 1×1, small K: conv2d_pointwise
      [[2, 7, 7, 6], [1, 1, 6, 5], { strides: 2 }, 1], // strided 1×1: direct, one tap
      [[1, 9, 9, 3], [7, 7, 3, 8], { strides: 2, padding: 'same', activation: 'relu', algorithm: 'im2col' }, 1], // im2col + matmul
      [[1, 9, 9, 3], [3, 3, 3, 8], { strides: 2, padding: 'same', activation: 'relu', algorithm: 'im2col' }, 0], // im2col + conv2d_pointwise
      [[1, 9, 9, 3], [3, 3, 3, 8], { strides: 2, padding: 'same', activation: 'relu' }, 1], // conv2d_small
      [[1, 10, 9, 3], [9, 9, 3, 8], { strides: 2, padding: 'same', activation: 'relu' }, 1], // Cin ≤ 4, past conv2d_small: im2col + matmul
      [[1, 9, 9, 6], [3, 3, 1, 6], { groups: 6, padding: 'same' }, 0], // depthwise
    ];
    for (const [xShape, wShape, opts, packs] of cases) {
      const x = rt.tensor(rng.uniformArray(size(xShape), -1, 1), xShape);
      const w = rt.tensor(rng.uniformArray(size(wShape), -1, 1), wShape);
      const bias = rt.tensor(rng.uniformArray(wShape[3], -1, 1), [wShape[3]]);
      const run = (cacheWeights: boolean) => rt.scope(() => conv2d(x, w, { ...opts, bias, cacheWeights }).readSync());
      const want = run(false);
      const before = rt.memory().tensors;
      expect(run(true)).toEqual(want);
      expect(rt.memory().tensors).toBe(before + packs); // the packed weight, kept by the cache
      expect(run(true)).toEqual(want);
      expect(rt.memory().tensors).toBe(before + packs); // reused, not packed again
      w.dispose();
      expect(rt.memory().tensors).toBe(before - 1); // w and its packed form
      x.dispose();
      bias.dispose();
    }
    // One weight on two paths (two layouts): both packed forms go with the weight (im2col's patch
    // length 3·3·16 = 144 > POINTWISE_MAX_K: matmul).
    const base = rt.memory();
    const x = rt.tensor(rng.uniformArray(2 * 6 * 6 * 16, -1, 1), [2, 6, 6, 16]);
    const w = rt.tensor(rng.uniformArray(9 * 16 * 5, -1, 1), [3, 3, 16, 5]);
    rt.scope(() => {
      conv2d(x, w, { padding: 'same', algorithm: 'direct', cacheWeights: true });
      conv2d(x, w, { padding: 'same', algorithm: 'im2col', cacheWeights: true });
    });
    expect(rt.memory().tensors).toBe(base.tensors + 4);
    w.dispose();
    x.dispose();
    expect(rt.memory()).toMatchObject({ tensors: base.tensors, liveTextures: base.liveTextures, liveBytes: base.liveBytes });
    expect(() => conv2d(x, w, { cacheWeights: true })).toThrow(/after dispose/);
  });

  it('cacheWeights: destroying the runtime frees the cached packed weights with everything else', () => {
    const own = createNodeContext();
    const w = own.tensor(rng.uniformArray(9 * 8 * 4, -1, 1), [3, 3, 8, 4]);
    own.scope(() => { conv2d(own.tensor(rng.uniformArray(2 * 5 * 5 * 8, -1, 1), [2, 5, 5, 8]), w, { padding: 'same', cacheWeights: true }); });
    expect(own.memory().tensors).toBe(2);
    own.destroy();
    expect(own.memory()).toMatchObject({ tensors: 0, liveTextures: 0, liveBytes: 0 });
  });

  it('disposes its temporaries on every path', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 5 * 5 * 4), [2, 5, 5, 4]);
      conv2d(x, rt.tensor(new Float32Array(9 * 4 * 3), [3, 3, 4, 3]), { padding: 'same', algorithm: 'im2col' });
      conv2d(x, rt.tensor(new Float32Array(4 * 3), [1, 1, 4, 3]));
    });
    expect(rt.memory().tensors).toBe(before);
  });
});
