/**
 * Segmenter-like corruption of 12-part label maps (NBF_PARTS numbering), so that the fitting network
 * trains on the kind of maps a real segmenter produces: wobbly boundaries with the person dilated or
 * eroded, left↔right swaps, a dropped part, spurious blobs, a missing limb and sparse label noise at
 * boundaries. Parameters are drawn per example on the CPU (samplePartNoise), packed into [N, 16]
 * (packPartNoise) and applied in one GPU pass (shaders/synth_part_noise.glsl, whose header states the
 * formulas); per-pixel randomness is an integer hash of (example seed, pixel), so a seed reproduces
 * a result exactly. CPU reference: part-noise.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { ShapeError } from '../runtime/errors.js';
import type { Rng } from '../util/random.js';
import { NBF_SIDE_PAIRS } from '../smpl/types.js';

/** Per-example corruption parameters; every effect is off at its zero value. */
export interface PartNoise {
  /** Integer seed of the per-pixel hashes, 0 ≤ seed < 2^20. */
  seed: number;
  /** (a) Boundary warp: offset radius in pixels (0: off) and cell size of one shared offset. */
  boundaryRadius: number;
  boundaryCell: number;
  /** (a) Probabilities that a cell takes its offset neighbour's different label: part → other part,
   * background → part (person dilation), part → background (person erosion). */
  boundaryPart: number;
  boundaryGrow: number;
  boundaryShrink: number;
  /** (f) Probability that a pixel next to a boundary takes a random label 0..12. */
  noiseRate: number;
  /** (b) Bit k swaps SWAP_PAIRS[k]; 15 swaps left and right for the whole example. */
  swapMask: number;
  /** (e) Limb set to background: 0 none, 1 left arm, 2 right arm, 3 left leg, 4 right leg (LIMBS). */
  limb: number;
  /** (c) Part 1..12 relabelled dropTo (0 = background or a neighbouring part); 0: none. */
  dropPart: number;
  dropTo: number;
  /** (d) Number of ellipse blobs (0..3) and their radius range in pixels (1..180). */
  blobCount: number;
  blobRadius: [number, number];
}

/** Probability per example of each effect (each is multiplied by strength; strength 0: identity). */
export interface PartNoiseOptions {
  strength?: number;
  boundaryRate?: number;
  swapRate?: number;
  dropRate?: number;
  blobRate?: number;
  limbRate?: number;
  noiseRate?: number;
}

export const PART_NOISE_DEFAULTS: Required<PartNoiseOptions> = {
  strength: 1, boundaryRate: 0.7, swapRate: 0.15, dropRate: 0.1, blobRate: 0.3, limbRate: 0.05, noiseRate: 0.5,
};

/** Packed floats per example: 4 texels (the shader's layout). */
export const PART_NOISE_SIZE = 16;
/** Left↔right part pairs (NBF numbering): lower arms, upper arms, upper legs, lower legs. */
export const SWAP_PAIRS = NBF_SIDE_PAIRS;
/** (upper, lower) parts of the limbs 1..4: left arm, right arm, left leg, right leg. */
export const LIMBS: readonly (readonly [number, number])[] = [[9, 3], [4, 10], [5, 11], [6, 12]];
/** Parts touching each part 1..12 on the body (index 0 unused): where a dropped part may go. */
export const PART_NEIGHBOURS: readonly (readonly number[])[] = [
  [], [7], [7, 8, 4, 9], [9], [2, 10], [8, 11], [8, 12], [1, 2], [2, 5, 6], [2, 3], [4], [5], [6],
];

/** The identity: every effect off. */
export function identityPartNoise(seed = 0): PartNoise {
  return {
    seed, boundaryRadius: 0, boundaryCell: 1, boundaryPart: 0, boundaryGrow: 0, boundaryShrink: 0, noiseRate: 0,
    swapMask: 0, limb: 0, dropPart: 0, dropTo: 0, blobCount: 0, blobRadius: [1, 1],
  };
}

/**
 * One example's corruption for images of side `size` pixels (radii scale with size / 256). Always
 * makes the same number of draws, so changing a rate changes no other effect's values.
 */
export function samplePartNoise(rng: Rng, size: number, options: PartNoiseOptions = {}): PartNoise {
  const o = { ...PART_NOISE_DEFAULTS, ...options };
  const on = (rate: number) => rng.next() < rate * o.strength;
  const scale = Math.max(1, size / 256);
  const p = identityPartNoise(rng.int(0, (1 << 20) - 1));
  const boundary = on(o.boundaryRate);
  const radius = Math.max(1, Math.round(rng.uniform(1, 2) * scale));
  const cell = Math.max(1, Math.round(rng.uniform(1, 4) * scale));
  const probs = [rng.uniform(0.2, 0.6), rng.uniform(0.1, 0.7), rng.uniform(0.1, 0.7)];
  if (boundary) Object.assign(p, { boundaryRadius: radius, boundaryCell: cell, boundaryPart: probs[0], boundaryGrow: probs[1], boundaryShrink: probs[2] });
  const swap = on(o.swapRate);
  const mask = rng.next() < 0.5 ? 15 : 1 << rng.int(0, 3);
  if (swap) p.swapMask = mask;
  const drop = on(o.dropRate);
  const part = rng.int(1, 12);
  const to = rng.next() < 0.5 ? 0 : PART_NEIGHBOURS[part][rng.int(0, PART_NEIGHBOURS[part].length - 1)];
  if (drop) Object.assign(p, { dropPart: part, dropTo: to });
  const blobs = on(o.blobRate);
  const count = rng.int(1, 3);
  const rMin = Math.min(180, Math.max(1, Math.round(size * rng.uniform(0.015, 0.04))));
  const rMax = Math.min(180, Math.max(rMin, Math.round(size * rng.uniform(0.04, 0.1))));
  if (blobs) Object.assign(p, { blobCount: count, blobRadius: [rMin, rMax] });
  const limb = on(o.limbRate);
  const which = rng.int(1, 4);
  if (limb) p.limb = which;
  const noise = on(o.noiseRate);
  const rate = rng.uniform(0.02, 0.15);
  if (noise) p.noiseRate = rate;
  return p;
}

export function packPartNoise(p: PartNoise, out = new Float32Array(PART_NOISE_SIZE), offset = 0): Float32Array {
  out.set([
    p.seed, p.boundaryRadius, p.boundaryCell, p.boundaryPart,
    p.boundaryGrow, p.boundaryShrink, p.noiseRate, p.swapMask,
    p.limb, p.dropPart, p.dropTo, p.blobCount,
    p.blobRadius[0], p.blobRadius[1], 0, 0,
  ], offset);
  return out;
}

/** Corrupted labels [N, H, W, 1] (exact integers 0..12) of labels [N, H, W, 1] and params [N, 16]. */
export function corruptPartLabels(labels: Tensor, params: Tensor): Tensor {
  const shape = (t: Tensor) => `[${t.shape.join(', ')}]`;
  if (labels.shape.length !== 4 || labels.shape[3] !== 1) throw new ShapeError(`corruptPartLabels: labels should be [N, H, W, 1], got ${shape(labels)}`);
  const [N, H, W] = labels.shape;
  if (params.shape.length !== 2 || params.shape[0] !== N || params.shape[1] !== PART_NOISE_SIZE) {
    throw new ShapeError(`corruptPartLabels: params should be [${N}, ${PART_NOISE_SIZE}] for labels ${shape(labels)}, got ${shape(params)}`);
  }
  return labels.runtime.run({
    kernel: 'synth_part_noise',
    inputs: { Labels: labels, Params: params },
    uniforms: { u_width: W, u_height: H },
    outShape: [N, H, W, 1],
  });
}
