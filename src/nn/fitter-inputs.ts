/**
 * What the fitting network reads (NBF's input-type experiment, Omran et al. 2018 §4; issue 15). One
 * name per input type; the encoder's input channel count follows it, and a weights file records it
 * in its configuration (FitterConfig.input; absent = "parts12", the shipped network's input).
 *
 *   type            channels  what (all [N, S, S, C], NHWC)
 *   rgb             3         the rendered picture (src/synth: shading, backdrop, augmentations),
 *                             [0, 1] scaled to [−1, 1]
 *   parts1          3         the silhouette, colour-coded (white person on black), x·2/255 − 1
 *   parts3, parts6  3         3- and 6-part maps in their palettes (render/parts.ts), x·2/255 − 1
 *   parts12         3         NBF's 12-part map in NBF's palette, x·2/255 − 1 (NBF's own input)
 *   parts24         3         the 24 skinning parts in golden-angle hues, x·2/255 − 1
 *   joints          24        one Gaussian heatmap per projected joint (kernels/joint-heatmaps.ts):
 *                             exp(−d²/(2σ²)) with σ = S·JOINT_HEATMAP_SIGMA_FRACTION, in [0, 1]
 *   parts12+joints  27        the 12-part map's 3 channels, then the 24 heatmaps
 *   landmarks       24        the heatmaps as a landmark detector gives the joints (BlazePose through
 *                             src/landmarks/to-body-joints.ts): 18 of the 24 joints (the rest all
 *                             zero), each heatmap scaled by the joint's visibility; trained on true
 *                             joints with a detector's mistakes (src/synth/landmark-noise.ts)
 *   parts12+landmarks 27      the 12-part map's 3 channels, then the landmark heatmaps: what NBF's
 *                             route has at run time (a segmenter's map and BlazePose's joints of
 *                             the same picture, in the same crop)
 *
 * Part maps of every granularity are colour-coded in 3 channels, as NBF feeds its 12-part map, so
 * that the experiment changes what the map says and not the network's width. Pure data: no GPU
 * and no Node imports (the browser bundles load weights files that name input types).
 */
import { NbfError } from '../runtime/errors.js';
import type { Granularity } from '../render/parts.js';

export const FITTER_INPUT_TYPES = ['rgb', 'parts1', 'parts3', 'parts6', 'parts12', 'parts24', 'joints', 'parts12+joints', 'landmarks', 'parts12+landmarks'] as const;
export type FitterInputType = (typeof FITTER_INPUT_TYPES)[number];

/** The input type of configurations that do not name one (every weights file before input types). */
export const DEFAULT_FITTER_INPUT: FitterInputType = 'parts12';

/** Joints drawn into the heatmap input (the body model's 24). */
export const HEATMAP_JOINTS = 24;
/** σ of the joint heatmaps as a fraction of the input side: 2 px at 64², 7 px at 224². */
export const JOINT_HEATMAP_SIGMA_FRACTION = 1 / 32;

/** The heatmaps' σ in pixels at an input side S: S·JOINT_HEATMAP_SIGMA_FRACTION. */
export function heatmapSigma(size: number): number {
  return size * JOINT_HEATMAP_SIGMA_FRACTION;
}

export interface FitterInputInfo {
  channels: number;
  /** Granularity of the part map it contains (null: none). */
  parts: Granularity | null;
  /** Whether it contains the joint heatmaps. */
  joints: boolean;
  /** Whether those heatmaps are a landmark detector's (visibility-scaled, 18 joints, its mistakes). */
  detected: boolean;
  /** Whether it is the RGB picture. */
  rgb: boolean;
  /** For reports and messages. */
  description: string;
}

const INFO: Record<FitterInputType, FitterInputInfo> = {
  rgb: { channels: 3, parts: null, joints: false, detected: false, rgb: true, description: 'RGB picture' },
  parts1: { channels: 3, parts: 1, joints: false, detected: false, rgb: false, description: 'silhouette (1 part)' },
  parts3: { channels: 3, parts: 3, joints: false, detected: false, rgb: false, description: '3-part map' },
  parts6: { channels: 3, parts: 6, joints: false, detected: false, rgb: false, description: '6-part map' },
  parts12: { channels: 3, parts: 12, joints: false, detected: false, rgb: false, description: '12-part map (NBF\'s)' },
  parts24: { channels: 3, parts: 24, joints: false, detected: false, rgb: false, description: '24-part map' },
  joints: { channels: HEATMAP_JOINTS, parts: null, joints: true, detected: false, rgb: false, description: '2D joint heatmaps' },
  'parts12+joints': { channels: 3 + HEATMAP_JOINTS, parts: 12, joints: true, detected: false, rgb: false, description: '12-part map + 2D joint heatmaps' },
  landmarks: { channels: HEATMAP_JOINTS, parts: null, joints: true, detected: true, rgb: false, description: 'landmark heatmaps (a detector\'s 18 joints)' },
  'parts12+landmarks': { channels: 3 + HEATMAP_JOINTS, parts: 12, joints: true, detected: true, rgb: false, description: '12-part map + landmark heatmaps' },
};

export function isFitterInputType(x: unknown): x is FitterInputType {
  return typeof x === 'string' && (FITTER_INPUT_TYPES as readonly string[]).includes(x);
}

/** Checks a name ("what": where it came from, for the message) and returns it as an input type. */
export function checkFitterInputType(x: unknown, what = 'fitter input'): FitterInputType {
  if (!isFitterInputType(x)) throw new NbfError(`${what}: unknown input type ${JSON.stringify(x)} (known: ${FITTER_INPUT_TYPES.join(', ')})`);
  return x;
}

export function fitterInputInfo(type: FitterInputType): FitterInputInfo {
  const info = INFO[type];
  if (!info) throw new NbfError(`unknown fitter input type ${JSON.stringify(type)} (known: ${FITTER_INPUT_TYPES.join(', ')})`);
  return info;
}

/** Channels the encoder reads for an input type. */
export function fitterInputChannels(type: FitterInputType): number {
  return fitterInputInfo(type).channels;
}

/** Whether segmenter-like corruption (src/synth/part-noise.ts, 12-part numbering) applies to an input type. */
export function corruptibleInput(type: FitterInputType): boolean {
  return fitterInputInfo(type).parts === 12;
}

/**
 * Whether input `wider` reads `narrower`'s channels first and more after them (parts12 →
 * parts12+joints, parts12+landmarks): a network trained on `narrower` then starts as it was when the
 * new channels' filters start at zero (weights-file.ts assignFitterWeights).
 */
export function inputExtends(wider: FitterInputType, narrower: FitterInputType): boolean {
  return wider.startsWith(`${narrower}+`);
}

/** The input type a configuration reads (its `input`, or parts12 when it names none). */
export function fitterInputType(config: { input?: FitterInputType }): FitterInputType {
  return config.input ?? DEFAULT_FITTER_INPUT;
}
