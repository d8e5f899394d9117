import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { matmul } from '../src/kernels/matmul.js';
import { unary } from '../src/kernels/elementwise.js';
import { matmulRef, maxScaledError, type MatmulRefResult } from '../src/kernels/matmul.ref.js';
import type { Activation } from '../src/kernels/activation.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { NbfError, ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(2024);
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);

/**
 * GPU result vs the float64 reference. Tolerance 1e-5 relative to max(|want|, Σ|terms|, 1) per element
 * (see maxScaledError: float32 accumulation error scales with Σ|terms|, not with the sum); also checks
 * the shape, that padding lanes are 0 and that no texel was left unwritten (NaN poison).
 */
function expectMatches(t: Tensor, ref: MatmulRefResult, tol = 1e-5): void {
  expectTensorClose(t, ref.data, ref.shape, Infinity);
  const got = t.readSync();
  const { error, at } = maxScaledError(got, ref.data, ref.magnitude);
  if (!(error <= tol)) throw new Error(`scaled error ${error} > ${tol} at ${at}: got ${got[at]}, want ${ref.data[at]}`);
}

interface Case { aShape: number[]; bShape: number[]; transposeA?: boolean; transposeB?: boolean; bias?: boolean; activation?: Activation }

function check(c: Case, tol = 1e-5): void {
  const rt = testRuntime();
  const a = rng.uniformArray(size(c.aShape), -1, 1);
  const b = rng.uniformArray(size(c.bShape), -1, 1);
  const n = c.transposeB ? c.bShape[c.bShape.length - 2] : c.bShape[c.bShape.length - 1];
  const bias = c.bias ? rng.uniformArray(n, -1, 1) : undefined;
  const ref = matmulRef(a, c.aShape, b, c.bShape, { transposeA: c.transposeA, transposeB: c.transposeB, bias, activation: c.activation });
  rt.scope(() => {
    const out = matmul(rt.tensor(a, c.aShape), rt.tensor(b, c.bShape), {
      transposeA: c.transposeA, transposeB: c.transposeB, bias: bias && rt.tensor(bias, [n]), activation: c.activation,
    });
    expectMatches(out, ref, tol);
  });
}

/** [M, K, N]: odd sizes, K and N not multiples of 4 (K tails 1, 2, 3), textures that wrap rows. */
const SIZES: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [13, 17, 6], [2, 14, 9], [33, 64, 19], [70, 129, 45], [9, 203, 4]];

describe('matmul', () => {
  for (const transposeA of [false, true]) {
    for (const transposeB of [false, true]) {
      it(`matches the reference (transposeA ${transposeA}, transposeB ${transposeB}) with and without bias`, () => {
        for (const [M, K, N] of SIZES) {
          for (const bias of [false, true]) {
            check({ aShape: transposeA ? [K, M] : [M, K], bShape: transposeB ? [N, K] : [K, N], transposeA, transposeB, bias });
          }
        }
      });
    }
  }

  const activations: Activation[] = ['none', 'relu', 'relu6', 'leakyRelu', { type: 'leakyRelu', alpha: 0.05 }, 'sigmoid', 'tanh', 'elu', { type: 'elu', alpha: 0.5 }];
  for (const activation of activations) {
    it(`fuses bias + ${JSON.stringify(activation)}`, () => {
      check({ aShape: [11, 23], bShape: [23, 10], bias: true, activation });
      check({ aShape: [23, 6], bShape: [7, 23], transposeA: true, transposeB: true, bias: true, activation });
    });
  }

  it('saturating activations stay finite for huge pre-activations', () => {
    const rt = testRuntime();
    const a = [100, -100, 50, -50];
    const b = [1, -1, 2, 3];
    for (const activation of ['sigmoid', 'tanh', 'elu'] as const) {
      rt.scope(() => expectMatches(matmul(rt.tensor(a, [4, 1]), rt.tensor(b, [1, 4]), { activation }), matmulRef(a, [4, 1], b, [1, 4], { activation })));
    }
  });

  it('multiplies batches: equal, broadcast and a shared rank-2 b', () => {
    check({ aShape: [2, 3, 5, 7], bShape: [2, 3, 7, 6], bias: true });
    check({ aShape: [3, 5, 7], bShape: [7, 6] });
    check({ aShape: [5, 7], bShape: [4, 7, 6] });
    check({ aShape: [2, 1, 5, 7], bShape: [1, 3, 7, 6], activation: 'relu' });
    check({ aShape: [3, 9, 5], bShape: [3, 10, 9], transposeA: true, transposeB: true });
    check({ aShape: [2, 2, 2, 3, 5, 7], bShape: [2, 1, 1, 7, 6] });
  });

  it('keeps float32 accumulation over long K within 1e-5 of Σ|terms|', () => {
    check({ aShape: [7, 1531], bShape: [1531, 9], bias: true });
    check({ aShape: [1531, 5], bShape: [9, 1531], transposeA: true, transposeB: true });
  });

  it('reads only the rows that exist when K % 4 ≠ 0 (texture rows past the data hold NaN)', () => {
    const rt = testRuntime();
    // [5, 64] is 80 texels: exactly 5 rows of a 16×8 texture. As a kernel output (identity) on the
    // poisoning test runtime, rows 5..7 hold NaN, so reading "rows" K..K+3 would poison the result.
    const kernelOutput = (data: Float32Array, shape: number[]) => unary('identity', rt.tensor(data, shape));
    rt.scope(() => {
      const a = rng.uniformArray(3 * 5);
      const b = rng.uniformArray(5 * 64);
      expectMatches(matmul(kernelOutput(a, [3, 5]), kernelOutput(b, [5, 64])), matmulRef(a, [3, 5], b, [5, 64]));
      const at = rng.uniformArray(5 * 64);
      const b2 = rng.uniformArray(5 * 7);
      expectMatches(matmul(kernelOutput(at, [5, 64]), kernelOutput(b2, [5, 7]), { transposeA: true }), matmulRef(at, [5, 64], b2, [5, 7], { transposeA: true }));
    });
  });

  it('rejects mismatched shapes with a ShapeError naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const t = (s: number[]) => rt.tensor(new Float32Array(size(s)), s);
      expect(() => matmul(t([3, 5]), t([4, 2]))).toThrow(ShapeError);
      expect(() => matmul(t([3, 5]), t([4, 2]))).toThrow(/\[3, 5\].*K = 5.*\[4, 2\].*K = 4/);
      expect(() => matmul(t([3, 5]), t([2, 5]), { transposeA: true, transposeB: true })).toThrow(/inner dimensions/);
      expect(() => matmul(t([5]), t([5, 2]))).toThrow(/rank ≥ 2/);
      expect(() => matmul(t([2, 3, 5]), t([3, 5, 2]))).toThrow(/batch dims/);
      expect(() => matmul(t([3, 5]), t([5, 2]), { bias: t([3]) })).toThrow(/bias must have shape \[2\]/);
      expect(() => matmul(t([3, 5]), t([5, 2]), { activation: 'gelu' as never })).toThrow(NbfError);
    });
  });

  it('cacheB: packs b once per tensor (same results), freed with b', () => {
    const rt = testRuntime();
    for (const [aShape, bShape] of [[[5, 7], [7, 6]], [[2, 3, 9], [2, 9, 5]]]) {
      const a = rt.tensor(rng.uniformArray(size(aShape), -1, 1), aShape);
      const b = rt.tensor(rng.uniformArray(size(bShape), -1, 1), bShape);
      const run = (cacheB: boolean) => rt.scope(() => matmul(a, b, { activation: 'relu', cacheB }).readSync());
      const want = run(false);
      const before = rt.memory();
      expect(run(true)).toEqual(want);
      expect(run(true)).toEqual(want);
      expect(rt.memory().tensors).toBe(before.tensors + 1);
      b.dispose();
      a.dispose();
      expect(rt.memory().tensors).toBe(before.tensors - 2);
      expect(rt.memory().liveTextures).toBe(before.liveTextures - 2);
    }
  });

  it('disposes its temporaries', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => { matmul(rt.tensor(new Float32Array(6), [2, 3]), rt.tensor(new Float32Array(12), [3, 4]), { bias: rt.tensor([1, 2, 3, 4], [4]) }); });
    expect(rt.memory().tensors).toBe(before);
  });
});
