/**
 * Batched matrix multiply with fused transposes, bias and activation: shaders/matmul_pack.glsl, then
 * shaders/matmul_quad.glsl + matmul_quad_unblock.glsl where the context exchanges values inside
 * fragment quads exactly (probed once), else shaders/matmul.glsl + matmul_unblock.glsl.
 * CPU reference: matmul.ref.ts. Maths, layout and tuning notes: docs/kernels/matmul.md.
 */
import type { Tensor } from '../runtime/tensor.js';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { sizeClass, textureDims } from '../runtime/layout.js';
import { broadcastShapes } from './broadcast.js';
import { activationDefines, epilogueInputs, resolveActivation, type Activation, type ResolvedActivation } from './activation.js';
import { probedChoice } from '../runtime/probed-choice.js';
import { FLOAT_INDEX_LIMIT } from './float-index.js';

export interface MatmulOptions {
  /** Use aᵀ: a is [..., K, M]. */
  transposeA?: boolean;
  /** Use bᵀ: b is [..., N, K]. */
  transposeB?: boolean;
  /** Added to every row of the product: shape [N]. */
  bias?: Tensor;
  /** Applied after the bias. */
  activation?: Activation;
  /** b is a constant (a parameter at inference): its packed layout (the pack pass below) is made once
   *  per b tensor and reused until b is disposed (Runtime.derived). Default false. */
  cacheB?: boolean;
}

/** Batch dims the shader can index (rank ≤ 6 leaves at most 4 in front of a matrix). */
const BATCH_SLOTS = 4;

export interface MatmulPlan {
  M: number;
  K: number;
  N: number;
  outShape: number[];
  /** Output batch dims, right-aligned into BATCH_SLOTS slots padded with 1. */
  batchDims: number[];
  aBatchStrides: number[];
  bBatchStrides: number[];
}

const fmt = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Shape checks and batch broadcasting shared by the GPU op and the reference. */
export function planMatmul(aShape: readonly number[], bShape: readonly number[], opts: { transposeA?: boolean; transposeB?: boolean; biasShape?: readonly number[] } = {}): MatmulPlan {
  if (aShape.length < 2 || bShape.length < 2) {
    throw new ShapeError(`matmul needs matrices (rank ≥ 2); got a ${fmt(aShape)} and b ${fmt(bShape)}`);
  }
  const [aRows, aCols] = aShape.slice(-2);
  const [bRows, bCols] = bShape.slice(-2);
  const M = opts.transposeA ? aCols : aRows;
  const K = opts.transposeA ? aRows : aCols;
  const bK = opts.transposeB ? bCols : bRows;
  const N = opts.transposeB ? bRows : bCols;
  if (K !== bK) {
    throw new ShapeError(
      `matmul: inner dimensions differ: a ${fmt(aShape)}${opts.transposeA ? 'ᵀ' : ''} has K = ${K}, ` +
      `b ${fmt(bShape)}${opts.transposeB ? 'ᵀ' : ''} has K = ${bK}`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch, 'matmul batch dims');
  if (batch.length > BATCH_SLOTS) throw new ShapeError(`matmul: at most ${BATCH_SLOTS} batch dims; got ${fmt(batch)}`);
  if (opts.biasShape && (opts.biasShape.length !== 1 || opts.biasShape[0] !== N)) {
    throw new ShapeError(`matmul: bias must have shape [${N}] (N of the product); got ${fmt(opts.biasShape)}`);
  }
  const pad = BATCH_SLOTS - batch.length;
  const batchDims = [...new Array<number>(pad).fill(1), ...batch];
  return {
    M, K, N,
    outShape: [...batch, M, N],
    batchDims,
    aBatchStrides: matrixStrides(aBatch, batch),
    bBatchStrides: matrixStrides(bBatch, batch),
  };
}

/** Matrices of an input per step of each output batch dim (0 where the input broadcasts). */
function matrixStrides(inBatch: readonly number[], outBatch: readonly number[]): number[] {
  const strides = new Array<number>(BATCH_SLOTS).fill(0);
  let stride = 1;
  for (let i = inBatch.length - 1; i >= 0; i--) {
    const slot = BATCH_SLOTS - (inBatch.length - i);
    const outDim = outBatch[outBatch.length - (inBatch.length - i)];
    strides[slot] = inBatch[i] === 1 && outDim !== 1 ? 0 : stride;
    stride *= inBatch[i];
  }
  return strides;
}

/**
 * out = act(a' · b' + bias), a' = a or aᵀ, b' = b or bᵀ (last two dims), batch dims broadcast.
 * a [..., M, K], b [..., K, N] → [..., M, N]. A rank-2 b is shared by every matrix of a.
 *
 * Passes (docs/kernels/matmul.md): operands with k not last are packed so that it is (b unless
 * transposeB, a if transposeA: matmul_pack.glsl); then productOfRows: 2×2 output blocks (matmul_quad.glsl,
 * K split into parts of 64 written-out steps, or matmul.glsl's loop) and an unblock pass that writes
 * the channel-packed result with bias and activation.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transposeA = false, transposeB = false, bias } = options;
  if (a.runtime !== b.runtime || (bias && bias.runtime !== a.runtime)) {
    throw new NbfError('matmul: the tensors live on different contexts');
  }
  const plan = planMatmul(a.shape, b.shape, { transposeA, transposeB, biasShape: bias?.shape });
  const activation = resolveActivation(options.activation, 'matmul');
  const rt = a.runtime;
  // A shared plain b with a short K: conv2d_pointwise reads it as it is, one pass (rows of a folded).
  if (!transposeA && !transposeB && b.rank === 2 && plan.K <= pointwiseMaxK(rt)) {
    return rt.scope(() => {
      const rows = a.size / plan.K;
      return rt.view(pointwiseProduct(rt.view(a, [rows, plan.K]), b, bias, activation), plan.outShape);
    });
  }
  return rt.scope(() => {
    const aRows = transposeA ? packKLast(a, 1) : a;
    const bRows = transposeB ? b : packConstant(b, 1, options.cacheB ?? false);
    return productOfRows(aRows, bRows, plan, bias, activation);
  });
}

/**
 * act(A'·Bt'ᵀ + bias + residual) → [..., M, N] of k-contiguous aRows [.., M, K] and bRows [.., N, K],
 * batch dims as in `plan` (residual, when given, has the output's shape): matmul_quad +
 * matmul_quad_unblock where this context runs them exactly and the parts fit (quadPlan), else
 * matmul.glsl + matmul_unblock.
 */
export function productOfRows(aRows: Tensor, bRows: Tensor, plan: MatmulPlan, bias: Tensor | undefined, activation: ResolvedActivation, residual?: Tensor): Tensor {
  const rt = aRows.runtime;
  const quad = matmulKernel(rt) === 'quad' ? quadPlan(rt, plan) : null;
  if (!quad) return rt.scope(() => unblock(matmulBlocks(aRows, bRows, plan), plan.outShape, bias, activation, residual));
  return rt.scope(() => {
    const main = quadBlocks(aRows, bRows, plan, quad, quad.steps, 0, quad.parts);
    const rest = quad.rest > 0 ? quadBlocks(aRows, bRows, plan, quad, quad.rest, quad.parts * quad.steps, 1) : undefined;
    return quadUnblock(main, rest, plan, quad, bias, activation, residual);
  });
}

/**
 * Largest K (input channels of a 1×1 convolution, patch length for im2col, K of a plain matmul) for
 * which conv2d_pointwise.glsl is used (one pass, its K/4 steps written out, 5 reads per 16
 * multiply-adds, w read as given) instead of the pack + product + unblock passes:
 * POINTWISE_MAX_K_QUAD where matmul runs matmul_quad (2 reads and 2 exchanges per 16 multiply-adds: it
 * wins from K ≈ 64, the pointwise kernel up to K ≈ 48), POINTWISE_MAX_K against matmul.glsl's loop
 * (4 reads per 16, in a loop: the pointwise kernel won on every shape up to K = 128; larger K would
 * also compile slowly, ~2 ms per channel). Measurements: docs/kernels/conv2d.md, docs/kernels/matmul.md.
 */
export const POINTWISE_MAX_K = 128;
export const POINTWISE_MAX_K_QUAD = 48;

/** The pointwise limit on this context (matmul's product kernel decides it). */
export function pointwiseMaxK(rt: Runtime): number {
  return matmulKernel(rt) === 'quad' ? POINTWISE_MAX_K_QUAD : POINTWISE_MAX_K;
}

/** act(a [M, K] · w [K, N] + bias + residual [M, N]) in one pass (conv2d_pointwise.glsl; K ≤ 255, w read as given). */
export function pointwiseProduct(a: Tensor, w: Tensor, bias: Tensor | undefined, activation: ResolvedActivation, residual?: Tensor): Tensor {
  const [M, K] = a.shape;
  const N = w.shape[1];
  return a.runtime.run({
    kernel: 'conv2d_pointwise',
    defines: { KDIM: K, HAS_BIAS: bias !== undefined, HAS_RESIDUAL: residual !== undefined, FLOAT_DIVMOD: M * Math.ceil(N / 4) < FLOAT_INDEX_LIMIT, ...activationDefines(activation) },
    inputs: { X: a, Wt: w, ...epilogueInputs(bias, residual) },
    uniforms: {
      u_N: N,
      u_xWidthLog2: widthLog2(a),
      u_wWidthLog2: widthLog2(w),
      u_xTexelSize: texelSize(a),
      u_wTexelSize: texelSize(w),
      u_activationAlpha: activation.alpha,
    },
    outShape: [M, N],
  });
}

/** Most k4 steps matmul_quad writes out in one program (compile time: docs/kernels/matmul.md). */
export const QUAD_MAX_STEPS = 64;
/**
 * Steps per part where K4 > QUAD_MAX_STEPS is not a multiple of it. Every step count is a program of
 * its own, compiled on first use, and compile time grows faster than the steps (0.39 s at 32, 0.88 s
 * at 64): with parts of 32 every rest is below 32, so long products share fewer and cheaper programs,
 * for 32-step parts that run 4–6 % slower than 64-step ones. K4 ≤ 64 stays one draw of K4 steps:
 * splitting those too (one more draw and a rest for the unblock pass) saved more compiling but
 * looked like ~10 % of BlazePose lite's warm time (docs/kernels/matmul.md, "Parts").
 */
export const QUAD_PART_STEPS = 32;
/** Most texels of matmul_quad's partial blocks (64 MB); past it matmul.glsl's loop runs instead. */
export const QUAD_MAX_PARTIAL_TEXELS = 2 ** 22;

export interface QuadPlan {
  /** Steps per part of the main draw: K4 when K4 ≤ QUAD_MAX_STEPS, else QUAD_MAX_STEPS where it divides K4, else QUAD_PART_STEPS. */
  steps: number;
  /** Parts of the main draw, side by side in its output. */
  parts: number;
  /** K4 − parts·steps steps, one more draw (a program of their own) when > 0. */
  rest: number;
  /** 4×4 super-blocks per part: batches·⌈M/4⌉·⌈N/4⌉. */
  superBlocks: number;
}

/** How matmul_quad splits this product, or null when its partial blocks would pass QUAD_MAX_PARTIAL_TEXELS. */
export function quadPlan(rt: Runtime, plan: MatmulPlan): QuadPlan | null {
  const K4 = Math.ceil(plan.K / 4);
  const batches = plan.batchDims.reduce((p, d) => p * d, 1);
  const superBlocks = batches * Math.ceil(plan.M / 4) * Math.ceil(plan.N / 4);
  // One draw up to 64 steps; beyond, 64-step parts where they leave no rest, else 32-step parts (64 if 32's would not fit).
  for (const partSteps of K4 % QUAD_MAX_STEPS === 0 || K4 <= QUAD_MAX_STEPS ? [QUAD_MAX_STEPS] : [QUAD_PART_STEPS, QUAD_MAX_STEPS]) {
    const steps = Math.min(K4, partSteps);
    const parts = Math.floor(K4 / steps);
    if (quadLayoutTexels(rt, parts * superBlocks) <= QUAD_MAX_PARTIAL_TEXELS) return { steps, parts, rest: K4 - parts * steps, superBlocks };
  }
  return null;
}

/** `parts` parts of `steps` written-out steps from k4 = kStart (matmul_quad.glsl), in the quad layout. */
function quadBlocks(aRows: Tensor, bRows: Tensor, plan: MatmulPlan, quad: QuadPlan, steps: number, kStart: number, parts: number): Tensor {
  const rt = aRows.runtime;
  const batched = plan.batchDims.some((d) => d !== 1);
  const texels = quadLayoutTexels(rt, parts * quad.superBlocks);
  const blocks = rt.run({
    kernel: 'matmul_quad',
    defines: { STEPS: steps, BATCHED: batched, FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT },
    inputs: { A: aRows, Bt: bRows },
    uniforms: {
      u_M: plan.M,
      u_N: plan.N,
      u_K4: Math.ceil(plan.K / 4),
      u_kStart: kStart,
      u_superBlocks: quad.superBlocks,
      u_parts: parts,
      ...(batched ? { u_batchDims: plan.batchDims, u_aBatchStrides: plan.aBatchStrides, u_bBatchStrides: plan.bBatchStrides } : {}),
      u_aWidthLog2: widthLog2(aRows),
      u_bWidthLog2: widthLog2(bRows),
      u_aTexelSize: texelSize(aRows),
      u_bTexelSize: texelSize(bRows),
    },
    outShape: [texels, 4],
  });
  if (blocks.texture.width * 2 * Math.ceil((parts * quad.superBlocks) / (blocks.texture.width >> 1)) > texels) {
    blocks.dispose();
    throw new NbfError(`matmul_quad: the texture pool gave a ${blocks.texture.width}-wide texture; quadLayoutTexels assumed another width`);
  }
  return blocks;
}

/** Sums the parts (and the rest) of matmul_quad's blocks into [..., M, N] with bias and activation. */
function quadUnblock(blocks: Tensor, rest: Tensor | undefined, plan: MatmulPlan, quad: QuadPlan, bias: Tensor | undefined, activation: ResolvedActivation, residual?: Tensor): Tensor {
  const texels = plan.outShape.slice(0, -1).reduce((p, d) => p * d, 1) * Math.ceil(plan.N / 4);
  const inputs: Record<string, Tensor> = { Blocks: blocks };
  if (rest) inputs.Rest = rest;
  Object.assign(inputs, epilogueInputs(bias, residual));
  return blocks.runtime.run({
    kernel: 'matmul_quad_unblock',
    defines: { HAS_BIAS: bias !== undefined, HAS_REST: rest !== undefined, HAS_RESIDUAL: residual !== undefined, FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT, ...activationDefines(activation) },
    inputs,
    uniforms: {
      u_M: plan.M,
      u_N: plan.N,
      u_superBlocks: quad.superBlocks,
      u_parts: quad.parts,
      u_blocksWidthLog2: widthLog2(blocks),
      u_blocksTexelSize: texelSize(blocks),
      ...(rest ? { u_restWidthLog2: widthLog2(rest), u_restTexelSize: texelSize(rest) } : {}),
      u_activationAlpha: activation.alpha,
    },
    outShape: plan.outShape,
  });
}

/**
 * Texels of a quad-layout output holding `superBlocks` quads, such that its texture (width W from the
 * texture pool's rule) has an even number of rows covering them all: every quad lies inside the
 * drawn rows, so each of its four fragments runs (derivatives need the whole quad).
 */
export function quadLayoutTexels(rt: Runtime, superBlocks: number): number {
  let width = textureDims(sizeClass(4 * superBlocks), rt.maxTextureSize).width;
  for (;;) {
    const texels = width * 2 * Math.ceil(superBlocks / Math.max(1, width >> 1));
    const next = textureDims(sizeClass(texels), rt.maxTextureSize).width;
    if (next === width) return texels;
    width = next;
  }
}

/** The product kernels: 'quad' (matmul_quad.glsl) or 'loop' (matmul.glsl). */
export type MatmulKernel = 'quad' | 'loop';

const kernelChoice = probedChoice<MatmulKernel>('forceMatmulKernel', ['quad', 'loop'], (rt) => (quadExchangeIsExact(rt) ? 'quad' : 'loop'));

/**
 * The product kernel matmul uses on `rt`: 'quad' where matmul_quad computes a product whose
 * neighbouring rows differ by 2^20 in scale as exactly as matmul.glsl does (it needs fine derivatives
 * with the signs it assumes; checked once per context, on llvmpipe they are), else 'loop'.
 */
export function matmulKernel(rt: Runtime): MatmulKernel {
  return kernelChoice.get(rt);
}

/** Forces matmul's product kernel on `rt` (tests, benchmarks); null returns to the probed choice. */
export function forceMatmulKernel(rt: Runtime, kind: MatmulKernel | null): void {
  kernelChoice.force(rt, kind);
}

/**
 * Runs matmul_quad on a 10 × 10 · 10 × 10 product whose rows (and columns) alternate between scales 1
 * and 2^-20 and compares it with the float64 product: an inexact exchange (coarse derivatives, other
 * signs, or a rounded own ± derivative form) gets the small rows wrong in their leading digits.
 */
function quadExchangeIsExact(rt: Runtime): boolean {
  const n = 10;
  const scale = (i: number) => (i % 2 === 0 ? 1 : 2 ** -20);
  const a = Float32Array.from({ length: n * n }, (_, i) => scale(Math.floor(i / n)) * (((i * 7919) % 97) / 48 - 1));
  const bt = Float32Array.from({ length: n * n }, (_, i) => scale(Math.floor(i / n) + 1) * (((i * 104729) % 89) / 44 - 1));
  return rt.scope(() => {
    const plan = planMatmul([n, n], [n, n], { transposeB: true });
    const quad = quadPlan(rt, plan)!;
    const blocks = quadBlocks(rt.tensor(a, [n, n]), rt.tensor(bt, [n, n]), plan, quad, quad.steps, 0, quad.parts);
    const got = quadUnblock(blocks, undefined, plan, quad, undefined, resolveActivation(undefined, 'matmul')).readSync();
    for (let m = 0; m < n; m++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        let magnitude = 0;
        for (let k = 0; k < n; k++) {
          sum += a[m * n + k] * bt[j * n + k];
          magnitude += Math.abs(a[m * n + k] * bt[j * n + k]);
        }
        if (!(Math.abs(got[m * n + j] - sum) <= 1e-6 * magnitude)) return false;
      }
    }
    return true;
  });
}

/**
 * The product's 2×2 blocks [batches·⌈M/2⌉·⌈N/2⌉, 4] of aRows [.., M, K] and bRows [.., N, K]
 * (both k-contiguous), batch dims as in `plan`.
 */
export function matmulBlocks(aRows: Tensor, bRows: Tensor, plan: MatmulPlan): Tensor {
  const batches = plan.batchDims.reduce((p, d) => p * d, 1);
  return aRows.runtime.run({
    kernel: 'matmul',
    inputs: { A: aRows, Bt: bRows },
    uniforms: {
      u_M: plan.M,
      u_N: plan.N,
      u_K: plan.K,
      u_batchDims: plan.batchDims,
      u_aBatchStrides: plan.aBatchStrides,
      u_bBatchStrides: plan.bBatchStrides,
      u_aWidthLog2: widthLog2(aRows),
      u_bWidthLog2: widthLog2(bRows),
    },
    outShape: [batches * Math.ceil(plan.M / 2) * Math.ceil(plan.N / 2), 4],
  });
}

/**
 * Moves the reduced dimension last: x [.., T·C, N] → [.., N, T, C] (matmul_pack.glsl). With T = 1 it
 * is the transpose of the last two dims; conv2d uses T = KH·KW to pad each tap to whole texels.
 */
export function packKLast(x: Tensor, taps: number): Tensor {
  const [rows, cols] = x.shape.slice(-2);
  const batch = x.shape.slice(0, -2);
  const channels = rows / taps;
  if (!Number.isInteger(channels)) throw new ShapeError(`packKLast: ${rows} rows of [${x.shape.join(', ')}] are not ${taps} taps`);
  const outShape = taps === 1 ? [...batch, cols, channels] : [...batch, cols, taps, channels];
  const texels = outShape.slice(0, -1).reduce((p, d) => p * d, 1) * Math.ceil(channels / 4);
  return x.runtime.run({
    kernel: 'matmul_pack',
    defines: { FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT },
    inputs: { In: x },
    uniforms: { u_taps: taps, u_channels: channels, u_cols: cols, u_inWidthLog2: widthLog2(x), u_inTexelSize: texelSize(x) },
    outShape,
  });
}

/**
 * packKLast(x viewed as `shape`, taps). With `cache`, made once per x tensor and reused while x lives
 * (Runtime.derived; the result then belongs to the cache, and x must be a constant such as a parameter).
 */
export function packConstant(x: Tensor, taps: number, cache: boolean, shape: readonly number[] = x.shape): Tensor {
  const rt = x.runtime;
  const make = () => packKLast(shape === x.shape ? x : rt.view(x, shape), taps);
  return cache ? rt.derived(x, `packKLast taps ${taps} of [${shape.join(', ')}]`, make) : make();
}

/** 2×2 blocks → channel-packed [..., M, N] (outShape) with bias and activation (matmul_unblock.glsl). */
export function unblock(blocks: Tensor, outShape: readonly number[], bias: Tensor | undefined, activation: ResolvedActivation, residual?: Tensor): Tensor {
  const [M, N] = outShape.slice(-2);
  const texels = outShape.slice(0, -1).reduce((p, d) => p * d, 1) * Math.ceil(N / 4);
  return blocks.runtime.run({
    kernel: 'matmul_unblock',
    defines: { HAS_BIAS: bias !== undefined, HAS_RESIDUAL: residual !== undefined, FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT, ...activationDefines(activation) },
    inputs: { Blocks: blocks, ...epilogueInputs(bias, residual) },
    uniforms: { u_M: M, u_N: N, u_blocksWidthLog2: widthLog2(blocks), u_blocksTexelSize: texelSize(blocks), u_activationAlpha: activation.alpha },
    outShape,
  });
}


/** 1 / (width, height) of a tensor's texture: texel-centre coordinates without textureSize. */
export function texelSize(t: Tensor): [number, number] {
  return [1 / t.texture.width, 1 / t.texture.height];
}

/** log2 of a tensor's texture width; the pool only makes power-of-two widths (layout.ts textureDims). */
export function widthLog2(t: Tensor): number {
  const w = t.texture.width;
  const log2 = Math.log2(w);
  if (!Number.isInteger(log2)) throw new NbfError(`texture width ${w} of tensor #${t.id} is not a power of two`);
  return log2;
}
