import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { kernelsRun } from './helpers/kernels-run.js';
import { Rng } from '../src/util/random.js';
import { forceMatmulKernel, matmul, matmulKernel, planMatmul, pointwiseMaxK, POINTWISE_MAX_K, POINTWISE_MAX_K_QUAD, quadPlan, QUAD_MAX_PARTIAL_TEXELS, QUAD_MAX_STEPS, QUAD_PART_STEPS, type MatmulKernel } from '../src/kernels/matmul.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { SHADERS } from '../src/generated/shaders.js';
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

/** The same tests on both product kernels: matmul_quad (what llvmpipe runs) and matmul.glsl's loop. */
for (const kernel of ['quad', 'loop'] as MatmulKernel[]) describe(`matmul (${kernel} kernel)`, () => {
  beforeAll(() => forceMatmulKernel(testRuntime(), kernel));
  afterAll(() => forceMatmulKernel(testRuntime(), null));

  it(`runs ${kernel === 'quad' ? 'matmul_quad and matmul_quad_unblock' : 'matmul and matmul_unblock'}, or conv2d_pointwise for a plain b up to the pointwise limit`, () => {
    const rt = testRuntime();
    const limit = kernel === 'quad' ? POINTWISE_MAX_K_QUAD : POINTWISE_MAX_K;
    expect(pointwiseMaxK(rt)).toBe(limit);
    const product = kernel === 'quad' ? ['matmul_quad', 'matmul_quad_unblock'] : ['matmul', 'matmul_unblock'];
    expect(kernelsRun(rt, () => check({ aShape: [6, limit + 1], bShape: [limit + 1, 5], bias: true }))).toEqual(['matmul_pack', ...product]);
    expect(kernelsRun(rt, () => check({ aShape: [6, 9], bShape: [5, 9], transposeB: true, bias: true }))).toEqual(product);
    expect(kernelsRun(rt, () => check({ aShape: [6, limit], bShape: [limit, 5], bias: true, activation: 'relu' }))).toEqual(['conv2d_pointwise']);
    // a's batch dims fold into the pointwise kernel's rows; a batched b takes the product.
    expect(kernelsRun(rt, () => check({ aShape: [2, 3, 7, 9], bShape: [9, 6], bias: true }))).toEqual(['conv2d_pointwise']);
    expect(kernelsRun(rt, () => check({ aShape: [2, 7, 9], bShape: [2, 9, 6] }))).toEqual(['matmul_pack', ...product]);
  });

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
    // K past both pointwise limits, and a batched b (a plain b with short K is read as it is:
    // conv2d_pointwise, nothing to pack or cache).
    for (const [aShape, bShape] of [[[5, 131], [131, 6]], [[2, 3, 9], [2, 9, 5]]]) {
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

/** The scaled error of got against a float64 product, per element (see maxScaledError). */
function expectProduct(got: Float32Array, a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, tol = 1e-5): void {
  const ref = matmulRef(a, [M, K], b, [K, N]);
  const { error, at } = maxScaledError(got, ref.data, ref.magnitude);
  if (!(error <= tol)) throw new Error(`scaled error ${error} > ${tol} at ${at}: got ${got[at]}, want ${ref.data[at]}`);
}

describe('matmul_quad', () => {
  it('is what this context (llvmpipe: fine derivatives) runs', () => {
    expect(matmulKernel(testRuntime())).toBe('quad');
  });

  it(`runs K4 ≤ ${QUAD_MAX_STEPS} in one draw, longer K in parts of ${QUAD_MAX_STEPS} (where they divide it) or ${QUAD_PART_STEPS} written-out steps plus a rest draw, on both sides of each threshold`, () => {
    const rt = testRuntime();
    // K4 = ⌈K/4⌉: ≤ 64 one draw of K4 steps; 65 two parts of 32 + rest 1; 128 two parts of 64; 129
    // four of 32 + rest 1; 383 eleven of 32 + rest 31.
    for (const [K, draws] of [[1, 1], [3, 1], [100, 1], [128, 1], [200, 1], [255, 1], [256, 1], [257, 2], [260, 2], [511, 1], [512, 1], [515, 2], [1531, 2]] as const) {
      // b as [N, K] (transposeB): no pack, and no pointwise shortcut for short K.
      const ran = kernelsRun(rt, () => check({ aShape: [7, K], bShape: [9, K], transposeB: true, bias: true, activation: 'relu' }));
      expect(ran, `K = ${K}`).toEqual([...new Array<string>(draws).fill('matmul_quad'), 'matmul_quad_unblock']);
      const plan = quadPlan(rt, planMatmul([7, K], [K, 9]))!;
      expect(plan.parts * plan.steps + plan.rest).toBe(Math.ceil(K / 4));
      if (Math.ceil(K / 4) > QUAD_MAX_STEPS) expect(plan.steps === QUAD_MAX_STEPS ? plan.rest : plan.steps, `K = ${K}`).toBeLessThanOrEqual(QUAD_PART_STEPS);
    }
    // Batched, broadcast and transposed operands with a rest draw.
    check({ aShape: [2, 3, 11, 300], bShape: [3, 300, 7], bias: true });
    check({ aShape: [2, 300, 13], bShape: [2, 6, 300], transposeA: true, transposeB: true });
  });

  it('sums many parts of a long product with a small output (a weight-gradient shape)', () => {
    // K4 = 5001: 156 parts of 32 steps side by side and a rest of 9.
    check({ aShape: [9, 20001], bShape: [20001, 5] });
    check({ aShape: [20001, 3], bShape: [20001, 6], transposeA: true });
  });

  it('exchanges values exactly: rows and columns 2^20 apart in scale keep their digits', () => {
    const rt = testRuntime();
    const [M, K, N] = [10, 131, 11];   // K past both pointwise limits: the product kernels
    const scale = (i: number) => (i % 2 ? 2 ** -20 : 1);
    const a = Float32Array.from({ length: M * K }, (_, i) => scale(Math.floor(i / K)) * (2 * rng.next() - 1));
    const b = Float32Array.from({ length: K * N }, (_, i) => scale(i % N) * (2 * rng.next() - 1));
    rt.scope(() => {
      const quad = matmul(rt.tensor(a, [M, K]), rt.tensor(b, [K, N])).readSync();
      expectProduct(quad, a, b, M, K, N, 1e-6);
      forceMatmulKernel(rt, 'loop');
      try {
        const loop = matmul(rt.tensor(a, [M, K]), rt.tensor(b, [K, N])).readSync();
        expectProduct(loop, a, b, M, K, N, 1e-6);
      } finally {
        forceMatmulKernel(rt, null);
      }
    });
  });

  it('keeps an inf or NaN in its own row and column (a neighbour never sees it)', () => {
    const rt = testRuntime();
    const [M, K, N] = [8, 52, 8];   // K past the pointwise limit: the product kernels
    const a = rng.uniformArray(M * K, -1, 1);
    const b = rng.uniformArray(K * N, -1, 1);
    a[2 * K + 5] = Infinity;   // row 2 (its quad neighbours: rows 3, 0, 1)
    b[7 * N + 5] = NaN;        // column 5 (neighbours 4, 6, 7)
    rt.scope(() => {
      const got = matmul(rt.tensor(a, [M, K]), rt.tensor(b, [K, N])).readSync();
      const finiteA = Float32Array.from(a, (v) => (Number.isFinite(v) ? v : 0));
      const finiteB = Float32Array.from(b, (v) => (Number.isFinite(v) ? v : 0));
      const ref = matmulRef(finiteA, [M, K], finiteB, [K, N]);
      for (let m = 0; m < M; m++) {
        for (let n = 0; n < N; n++) {
          const v = got[m * N + n];
          if (m === 2 || n === 5) {
            expect(Number.isFinite(v), `[${m}, ${n}] = ${v}`).toBe(false);
          } else {
            expect(Math.abs(v - ref.data[m * N + n]), `[${m}, ${n}] = ${v}`).toBeLessThanOrEqual(1e-5 * Math.max(ref.magnitude[m * N + n], 1));
          }
        }
      }
    });
  });

  it('is rejected by the probe where the exchange is not exact (then matmul runs the loop kernel)', () => {
    // The same kernel with the exchange rounded as smpl_quad_product does it (own ± derivative): the
    // probe's product with rows 2^20 apart in scale must catch it.
    const shaders = SHADERS as Record<string, string>;
    const original = shaders.matmul_quad;
    const source = readFileSync(new URL('../shaders/matmul_quad.glsl', import.meta.url), 'utf8');
    const rounded = source
      .replace(/vec4 otherX\(vec4 v\) \{[^}]*\}/, 'vec4 otherX(vec4 v) { return v + (left ? 1.0 : -1.0) * dFdx(v); }')
      .replace(/vec4 otherY\(vec4 v\) \{[^}]*\}/, 'vec4 otherY(vec4 v) { return v + (low ? 1.0 : -1.0) * dFdy(v); }');
    expect(rounded).not.toBe(source);
    shaders.matmul_quad = rounded;
    const own = createNodeContext({ poisonOutputs: true, checkErrors: true });
    try {
      expect(matmulKernel(own)).toBe('loop');
      const a = rng.uniformArray(5 * 131, -1, 1);
      const b = rng.uniformArray(131 * 3, -1, 1);
      const ran = kernelsRun(own, () => expectProduct(own.scope(() => matmul(own.tensor(a, [5, 131]), own.tensor(b, [131, 3])).readSync()), a, b, 5, 131, 3));
      expect(ran).toEqual(['matmul_pack', 'matmul', 'matmul_unblock']);
    } finally {
      shaders.matmul_quad = original;
      own.destroy();
    }
  });

  it(`falls back to the loop kernel where the parts would pass ${QUAD_MAX_PARTIAL_TEXELS} texels`, () => {
    const rt = testRuntime();
    expect(quadPlan(rt, planMatmul([1024, 1024], [1024, 1024]))).toMatchObject({ steps: 64, parts: 4, rest: 0, superBlocks: 65536 });
    expect(quadPlan(rt, planMatmul([9, 1000], [1000, 5]))).toMatchObject({ steps: 32, parts: 7, rest: 26, superBlocks: 6 });
    expect(quadPlan(rt, planMatmul([2048, 4096], [4096, 2048]))).toBeNull();   // 16 parts of 2^18 super-blocks
    expect(quadPlan(rt, planMatmul([2048, 512], [512, 2048]))).not.toBeNull();  // 2 parts
    // 18 parts of 32 steps would pass the limit; 9 of 64 do not.
    expect(quadPlan(rt, planMatmul([1024, 2400], [2400, 1024]))).toMatchObject({ steps: 64, parts: 9, rest: 24, superBlocks: 65536 });
  });
});
