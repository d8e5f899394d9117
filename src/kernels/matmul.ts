/**
 * Batched matrix multiply with fused transposes, bias and activation (shaders/matmul.glsl).
 * CPU reference: matmul.ref.ts. Maths, layout and tuning notes: docs/kernels/matmul.md.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { broadcastShapes } from './broadcast.js';
import { activationDefines, resolveActivation, type Activation, type ResolvedActivation } from './activation.js';

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
 * Three passes (docs/kernels/matmul.md): operands with k not last are packed so that it is (b unless
 * transposeB, a if transposeA); matmul.glsl computes 2×2 output blocks; matmul_unblock.glsl writes
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
  return rt.scope(() => {
    const aRows = transposeA ? packKLast(a, 1) : a;
    const bRows = transposeB ? b : packConstant(b, 1, options.cacheB ?? false);
    const blocks = matmulBlocks(aRows, bRows, plan);
    return unblock(blocks, plan.outShape, bias, activation);
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
  return x.runtime.run({
    kernel: 'matmul_pack',
    inputs: { In: x },
    uniforms: { u_taps: taps, u_channels: channels, u_cols: cols },
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
export function unblock(blocks: Tensor, outShape: readonly number[], bias: Tensor | undefined, activation: ResolvedActivation): Tensor {
  const [M, N] = outShape.slice(-2);
  return blocks.runtime.run({
    kernel: 'matmul_unblock',
    defines: { HAS_BIAS: bias !== undefined, ...activationDefines(activation) },
    inputs: bias ? { Blocks: blocks, Bias: bias } : { Blocks: blocks },
    uniforms: { u_M: M, u_N: N, u_activationAlpha: activation.alpha },
    outShape,
  });
}

/** log2 of a tensor's texture width; the pool only makes power-of-two widths (layout.ts textureDims). */
export function widthLog2(t: Tensor): number {
  const w = t.texture.width;
  const log2 = Math.log2(w);
  if (!Number.isInteger(log2)) throw new NbfError(`texture width ${w} of tensor #${t.id} is not a power of two`);
  return log2;
}
