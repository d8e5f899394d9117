/**
 * Winograd F(2×2, 3×3) for dense 3×3, stride-1, dilation-1 convolutions (conv2d's 'winograd' path):
 * every 2×2 block of output pixels is Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A of the block's 4×4 input tile d,
 * 16 multiplies per tile and channel pair instead of the direct 36. Over all tiles and channels the
 * 16 element-wise products become 16 matrix products, one per transform position ξ:
 *   U[ξ] = (G g Gᵀ)[ξ] as [Cout, Cin]      matmul_pack + shaders/conv2d_winograd_filter.glsl
 *   V[ξ] = (Bᵀ d B)[ξ] as [T, Cin]          shaders/conv2d_winograd_input.glsl
 *   M[ξ] = V[ξ] · U[ξ]ᵀ, [T, Cout]           shaders/conv2d_winograd_product.glsl (2×2 blocks)
 *   out  = act(Aᵀ M A + bias), cropped       shaders/conv2d_winograd_output.glsl
 * T = N·⌈OH/2⌉·⌈OW/2⌉ tiles. CPU reference: conv2d-winograd.ref.ts (the same transforms in float64;
 * the convolution itself is conv2d.ref.ts). When conv2d's 'auto' picks this path, and the
 * measurements behind it: docs/kernels/conv2d.md.
 */
import type { Tensor } from '../runtime/tensor.js';
import type { Conv2dGeometry } from './conv2d.js';
import { activationDefines, epilogueInputs, type ResolvedActivation } from './activation.js';
import { packKLast, widthLog2 } from './matmul.js';
import { FLOAT_INDEX_LIMIT } from './float-index.js';

/** Transform positions ξ = 4i + j of the 4×4 tiles: the batch of the product. */
export const WINOGRAD_POSITIONS = 16;

/** Whether the Winograd path can run this convolution: dense 3×3, stride 1, dilation 1. */
export function winogradApplies(g: Conv2dGeometry): boolean {
  return g.groups === 1 && g.kernelSize[0] === 3 && g.kernelSize[1] === 3 &&
    g.stride[0] === 1 && g.stride[1] === 1 && g.dilation[0] === 1 && g.dilation[1] === 1;
}

/**
 * Where conv2d's 'auto' takes this path (after conv2d_small, which keeps Cin ≤ 16): at least
 * WINOGRAD_MIN_MACS direct multiply-adds (below that its four passes cost more than they save), and,
 * unless the weight transform is cached, at least WINOGRAD_MIN_TILES tiles — the transform costs as
 * much as the product of ~16–32 tiles, so 3×3 512→512 on a 7×7 map at batch 1 (16 tiles) stays on
 * the direct kernel unless its weights are cached. Measurements: docs/kernels/conv2d.md.
 */
export function winogradPays(g: Conv2dGeometry, weightsCached: boolean): boolean {
  const macs = g.batch * g.outSize[0] * g.outSize[1] * g.inChannels * g.outChannels * 9;
  return macs >= WINOGRAD_MIN_MACS && (weightsCached || winogradTiles(g).count >= WINOGRAD_MIN_TILES);
}

/** See winogradPays. */
export const WINOGRAD_MIN_MACS = 2 ** 23;
export const WINOGRAD_MIN_TILES = 32;

/** Tiles of 2×2 output pixels: [TH, TW] per image and T = N·TH·TW. */
export function winogradTiles(g: Conv2dGeometry): { tiles: [number, number]; count: number } {
  const tiles: [number, number] = [Math.ceil(g.outSize[0] / 2), Math.ceil(g.outSize[1] / 2)];
  return { tiles, count: g.batch * tiles[0] * tiles[1] };
}


/** 1 / (width, height) of a tensor's texture: texel-centre coordinates without textureSize. */
function texelSize(t: Tensor): [number, number] {
  return [1 / t.texture.width, 1 / t.texture.height];
}

/**
 * U = G·g·Gᵀ of w [3, 3, Cin, Cout] (HWIO) as [Cout, 4·(16·⌈Cin/4⌉ + 1)] (per co the 16 positions'
 * ci-contiguous rows, then one texel of padding: conv2d_winograd_filter.glsl says why): matmul_pack
 * to [Cout, 9, Cin] (the direct kernel's layout), then conv2d_winograd_filter. With `cache` (w a
 * constant, e.g. a parameter at inference) made once per w tensor and kept until w is disposed
 * (Runtime.derived).
 */
export function winogradFilter(w: Tensor, cache: boolean): Tensor {
  const rt = w.runtime;
  const [, , cin, cout] = w.shape;
  const pitch = WINOGRAD_POSITIONS * Math.ceil(cin / 4) + 1;
  const make = () => rt.scope(() => {
    const packed = packKLast(rt.view(w, [9 * cin, cout]), 9);
    return rt.run({
      kernel: 'conv2d_winograd_filter',
      defines: { FLOAT_DIVMOD: cout * pitch < FLOAT_INDEX_LIMIT },
      inputs: { Wp: packed },
      uniforms: { u_inChannels: cin, u_wWidthLog2: widthLog2(packed), u_wTexelSize: texelSize(packed) },
      outShape: [cout, 4 * pitch],
    });
  });
  return cache ? rt.derived(w, 'winograd F(2x2,3x3) U', make) : make();
}

/** V [T, 16, Cin] = Bᵀ·d·B of x's 4×4 input tiles (stride 2, padding by bounds checks). */
export function winogradInput(x: Tensor, g: Conv2dGeometry): Tensor {
  const { tiles, count } = winogradTiles(g);
  return x.runtime.run({
    kernel: 'conv2d_winograd_input',
    defines: { FLOAT_DIVMOD: count * WINOGRAD_POSITIONS * Math.ceil(g.inChannels / 4) < FLOAT_INDEX_LIMIT },
    inputs: { X: x },
    uniforms: {
      u_inSize: [...g.inSize],
      u_tiles: tiles,
      u_padBefore: [g.padding[0], g.padding[2]],
      u_inChannels: g.inChannels,
      u_xWidthLog2: widthLog2(x),
      u_xTexelSize: texelSize(x),
    },
    outShape: [count, WINOGRAD_POSITIONS, g.inChannels],
  });
}

/** The 16 products V[·, ξ] · U[·, ξ]ᵀ as 2×2 blocks [⌈T/2⌉·16·⌈Cout/2⌉, 4] (conv2d_winograd_product). */
export function winogradProduct(v: Tensor, u: Tensor): Tensor {
  const [count, , cin] = v.shape;
  const [cout] = u.shape;
  const texels = Math.ceil(count / 2) * WINOGRAD_POSITIONS * Math.ceil(cout / 2);
  return v.runtime.run({
    kernel: 'conv2d_winograd_product',
    defines: { KDIM: cin, FLOAT_DIVMOD: texels < FLOAT_INDEX_LIMIT },
    inputs: { V: v, U: u },
    uniforms: {
      u_tileCount: count,
      u_outChannels: cout,
      u_vWidthLog2: widthLog2(v),
      u_uWidthLog2: widthLog2(u),
      u_vTexelSize: texelSize(v),
      u_uTexelSize: texelSize(u),
    },
    outShape: [texels, 4],
  });
}

/** act(Aᵀ·M·A + bias + residual) cropped to [N, OH, OW, Cout], from the product's 2×2 blocks. */
export function winogradOutput(blocks: Tensor, g: Conv2dGeometry, bias: Tensor | undefined, activation: ResolvedActivation, residual?: Tensor): Tensor {
  const { tiles } = winogradTiles(g);
  return blocks.runtime.run({
    kernel: 'conv2d_winograd_output',
    defines: {
      HAS_BIAS: bias !== undefined,
      HAS_RESIDUAL: residual !== undefined,
      FLOAT_DIVMOD: g.batch * g.outSize[0] * g.outSize[1] * Math.ceil(g.outChannels / 4) < FLOAT_INDEX_LIMIT,
      ...activationDefines(activation),
    },
    inputs: { Blocks: blocks, ...epilogueInputs(bias, residual) },
    uniforms: {
      u_outSize: [...g.outSize],
      u_tiles: tiles,
      u_outChannels: g.outChannels,
      u_bWidthLog2: widthLog2(blocks),
      u_bTexelSize: texelSize(blocks),
      u_activationAlpha: activation.alpha,
    },
    outShape: g.outShape,
  });
}

/** The whole path: filter transform (cached with `cache`), input transform, 16 products, output transform. */
export function conv2dWinograd(x: Tensor, w: Tensor, g: Conv2dGeometry, bias: Tensor | undefined, activation: ResolvedActivation, cache: boolean, residual?: Tensor): Tensor {
  return x.runtime.scope(() => {
    const u = winogradFilter(w, cache);
    return winogradOutput(winogradProduct(winogradInput(x, g), u), g, bias, activation, residual);
  });
}
