import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { checkGradients } from './helpers/finite-diff.js';
import { Rng } from '../src/util/random.js';
import { matmul, conv2d, conv2dTranspose } from '../src/autodiff/grads/linear.js';
import { matmulRef } from '../src/kernels/matmul.ref.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { conv2dTransposeRef } from '../src/kernels/conv2d-transpose.ref.js';
import { conv2dBackwardFilter, conv2dBackwardInputByConv, transposedPatches } from '../src/autodiff/kernels/conv-backward.js';
import { conv2dBackwardFilterRef, transposedPatchesRef } from '../src/autodiff/kernels/conv-backward.ref.js';
import type { Activation } from '../src/kernels/activation.js';
import type { Conv2dPadding } from '../src/kernels/conv2d.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { kernelsRun } from './helpers/kernels-run.js';

const rng = new Rng(31);
const sizeOf = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const rand = (s: readonly number[]) => rng.uniformArray(sizeOf(s), -1, 1);

describe('matmul gradients against finite differences', () => {
  const cases: { a: number[]; b: number[]; tA?: boolean; tB?: boolean; bias?: boolean; act?: Activation }[] = [
    { a: [5, 7], b: [7, 3] },
    { a: [7, 5], b: [7, 6], tA: true, bias: true },
    { a: [5, 7], b: [9, 7], tB: true, act: 'tanh' },
    { a: [6, 5], b: [3, 6], tA: true, tB: true },
    { a: [2, 3, 5, 7], b: [7, 6], bias: true, act: { type: 'leakyRelu', alpha: 0.1 } }, // shared weights, batch 2·3
    { a: [2, 3, 5, 7], b: [6, 7], tB: true },
    { a: [2, 1, 5, 6], b: [3, 6, 5] }, // batch dims broadcast both ways
    { a: [3, 6, 5], b: [3, 6, 5], tA: true },
  ];
  for (const c of cases) {
    it(`a [${c.a}]${c.tA ? 'ᵀ' : ''} · b [${c.b}]${c.tB ? 'ᵀ' : ''}${c.bias ? ' + bias' : ''}${c.act ? ` → ${JSON.stringify(c.act)}` : ''}`, () => {
      const n = c.tB ? c.b[c.b.length - 2] : c.b[c.b.length - 1];
      const shapes = c.bias ? [c.a, c.b, [n]] : [c.a, c.b];
      const inputs = shapes.map(rand);
      const options = { transposeA: c.tA, transposeB: c.tB, activation: c.act };
      checkGradients(
        testRuntime(),
        ([a, b, bias]) => matmul(a, b, { ...options, bias }),
        ([a, b, bias]) => matmulRef(a, c.a, b, c.b, { ...options, bias }).data,
        inputs,
        shapes,
      );
    });
  }
});

describe('conv2d gradients against finite differences', () => {
  const cases: { x: number[]; w: number[]; strides?: number; padding?: Conv2dPadding; dilations?: number; groups?: number; bias?: boolean; act?: Activation }[] = [
    { x: [2, 5, 6, 3], w: [3, 3, 3, 5], strides: 2, padding: 'same', bias: true },
    { x: [1, 7, 6, 5], w: [3, 2, 5, 6], padding: [1, 0, 2, 1], dilations: 2 },
    { x: [2, 5, 5, 6], w: [3, 3, 2, 9], groups: 3, padding: 'same', act: 'relu', bias: true }, // group spans a texel
    { x: [2, 6, 5, 4], w: [3, 3, 1, 4], groups: 4, strides: 2, padding: 'valid' }, // depthwise
    { x: [3, 4, 3, 7], w: [1, 1, 7, 5], bias: true }, // pointwise (matmul path)
  ];
  for (const c of cases) {
    const opts = { strides: c.strides, padding: c.padding, dilations: c.dilations, groups: c.groups, activation: c.act };
    it(`x [${c.x}] ⊛ w [${c.w}] ${JSON.stringify(opts)}`, () => {
      const shapes = c.bias ? [c.x, c.w, [c.w[3]]] : [c.x, c.w];
      const inputs = shapes.map(rand);
      checkGradients(
        testRuntime(),
        ([x, w, bias]) => conv2d(x, w, { ...opts, bias }),
        ([x, w, bias]) => conv2dRef(x, c.x, w, c.w, { ...opts, bias }).data,
        inputs,
        shapes,
      );
    });
  }

  it('both filter-gradient paths (direct kernel, im2col + matmul) match the reference, across texture widths', () => {
    const rt = testRuntime();
    // Two geometries in a row with different texture widths: a uniform left at its previous value
    // (e.g. a texture width) would corrupt the second one.
    const cases = [
      { x: [3, 17, 19, 6], w: [3, 3, 6, 10], dy: [3, 9, 10, 10], strides: [2, 2] as const, padding: [1, 1, 1, 1] as const },
      { x: [2, 5, 4, 3], w: [3, 3, 3, 5], dy: [2, 5, 4, 5], strides: [1, 1] as const, padding: [1, 1, 1, 1] as const },
      { x: [1, 30, 30, 5], w: [2, 2, 5, 3], dy: [1, 15, 15, 3], strides: [2, 2] as const, padding: [0, 0, 0, 0] as const },
    ];
    for (const c of cases) {
      const x = rand(c.x);
      const dy = rand(c.dy);
      const window = { strides: c.strides, dilations: [1, 1] as const, padding: c.padding, groups: 1 };
      const want = conv2dBackwardFilterRef(x, c.x, dy, c.dy, c.w, window);
      rt.scope(() => {
        for (const algorithm of ['direct', 'im2col'] as const) {
          expectTensorClose(conv2dBackwardFilter(rt.tensor(x, c.x), rt.tensor(dy, c.dy), c.w, window, algorithm), want, c.w, 1e-5);
        }
      });
    }
  });
});

describe('transposed patch matrix (conv2d_patches_transposed)', () => {
  it('matches the reference: strides, dilation, asymmetric padding, odd channels, pixel counts not a multiple of 4', () => {
    const rt = testRuntime();
    const cases = [
      { x: [3, 7, 9, 5], out: [4, 5] as const, k: [3, 3] as const, strides: [2, 2] as const, dilations: [1, 1] as const, padding: [1, 1, 1, 1] as const },
      { x: [2, 6, 5, 3], out: [6, 5] as const, k: [3, 2] as const, strides: [1, 1] as const, dilations: [1, 1] as const, padding: [1, 1, 0, 1] as const },
      { x: [1, 11, 10, 6], out: [3, 3] as const, k: [2, 3] as const, strides: [3, 2] as const, dilations: [2, 2] as const, padding: [0, 0, 0, 0] as const },
      { x: [2, 40, 40, 1], out: [40, 40] as const, k: [1, 1] as const, strides: [1, 1] as const, dilations: [1, 1] as const, padding: [0, 0, 0, 0] as const },
    ];
    for (const c of cases) {
      const x = rand(c.x);
      const window = { strides: c.strides, dilations: c.dilations, padding: c.padding, groups: 1 };
      const pixels = c.x[0] * c.out[0] * c.out[1];
      const want = transposedPatchesRef(x, c.x, c.out, c.k, window);
      rt.scope(() => expectTensorClose(transposedPatches(rt.tensor(x, c.x), c.out, c.k, window), want, [c.k[0] * c.k[1] * c.x[3], pixels], 0));
    }
  });
});

describe('stride-1 input gradient as a convolution with the flipped filter', () => {
  it('equals the transposed convolution (dilation, asymmetric padding, odd channels, wrapping rows)', () => {
    const rt = testRuntime();
    const cases = [
      { x: [2, 13, 11, 5], w: [3, 3, 5, 7], padding: [1, 1, 1, 1] as const, dilations: [1, 1] as const },
      { x: [1, 17, 9, 6], w: [3, 2, 6, 3], padding: [2, 1, 0, 1] as const, dilations: [2, 1] as const },
    ];
    for (const c of cases) {
      const effH = (c.w[0] - 1) * c.dilations[0] + 1;
      const effW = (c.w[1] - 1) * c.dilations[1] + 1;
      const dyShape = [c.x[0], c.x[1] + c.padding[0] + c.padding[1] - effH + 1, c.x[2] + c.padding[2] + c.padding[3] - effW + 1, c.w[3]];
      const dy = rand(dyShape);
      const w = rand(c.w);
      const want = conv2dTransposeRef(dy, dyShape, w, c.w, { padding: [...c.padding], dilations: [...c.dilations], outputShape: c.x }).data;
      rt.scope(() => {
        const got = conv2dBackwardInputByConv(rt.tensor(dy, dyShape), rt.tensor(w, c.w), c.x, { strides: [1, 1], dilations: c.dilations, padding: c.padding, groups: 1 });
        expectTensorClose(got!, want, c.x, 1e-5);
      });
    }
  });
});

describe('stride-1 3×3 input gradient through Winograd', () => {
  it("the tape's input gradient of a wide 3×3 stride-1 conv runs conv2d's Winograd path and equals the transposed convolution", () => {
    const rt = testRuntime();
    // dx = conv2d(dy, flipped w): 2·16·15·40·56·9 = 9.7M multiply-adds (≥ 2^23), 128 tiles, so 'auto'
    // takes Winograd (src/kernels/conv2d-winograd.ts, winogradPays); the second case pads
    // asymmetrically (the gradient's conv pads [2, 0, 1, 2]).
    const cases = [
      { x: [2, 16, 15, 40], w: [3, 3, 40, 56], padding: [1, 1, 1, 1] as const },
      { x: [2, 20, 19, 36], w: [3, 3, 36, 44], padding: [0, 2, 1, 0] as const },
    ];
    for (const c of cases) {
      const dyShape = [c.x[0], c.x[1] + c.padding[0] + c.padding[1] - 2, c.x[2] + c.padding[2] + c.padding[3] - 2, c.w[3]];
      const x = rand(c.x);
      const w = rand(c.w);
      const dy = rand(dyShape);
      const want = conv2dTransposeRef(dy, dyShape, w, c.w, { padding: [...c.padding], outputShape: c.x }).data;
      const kernels = kernelsRun(rt, () => rt.scope(() => {
        const wt = rt.tensor(w, c.w);
        const { grads } = valueAndGrad(([xt]: Tensor[]) => conv2d(xt, wt, { padding: [...c.padding] }))([rt.tensor(x, c.x)], rt.tensor(dy, dyShape));
        expectTensorClose(grads[0], want, c.x, 1e-5);
      }));
      // The flipped filter, then conv2d's Winograd path on it (the forward takes Winograd too).
      const flip = kernels.indexOf('conv2d_backward_phase_filter');
      expect(flip).toBeGreaterThan(0);
      expect(kernels.slice(flip + 1)).toEqual(['matmul_pack', 'conv2d_winograd_filter', 'conv2d_winograd_input', 'conv2d_winograd_product', 'conv2d_winograd_output']);
    }
  });
});

describe('conv2dTranspose gradients against finite differences', () => {
  const cases: { x: number[]; w: number[]; strides?: number; padding?: 'same' | 'valid'; outputShape?: number[]; groups?: number; bias?: boolean }[] = [
    { x: [2, 3, 4, 5], w: [3, 3, 3, 5], strides: 2, padding: 'same', bias: true },
    { x: [1, 4, 3, 6], w: [2, 3, 2, 6], strides: 1, padding: 'valid', groups: 3 },
    { x: [2, 3, 3, 4], w: [3, 3, 5, 4], strides: 2, padding: 'valid', outputShape: [2, 8, 8, 5] },
  ];
  for (const c of cases) {
    const opts = { strides: c.strides, padding: c.padding, groups: c.groups, outputShape: c.outputShape };
    it(`x [${c.x}] ⊛ᵀ w [${c.w}] ${JSON.stringify(opts)}`, () => {
      const shapes = c.bias ? [c.x, c.w, [c.w[2] * (c.groups ?? 1)]] : [c.x, c.w];
      const inputs = shapes.map(rand);
      checkGradients(
        testRuntime(),
        ([x, w, bias]) => conv2dTranspose(x, w, { ...opts, bias }),
        ([x, w, bias]) => conv2dTransposeRef(x, c.x, w, c.w, { ...opts, bias }).data,
        inputs,
        shapes,
      );
    });
  }
});
