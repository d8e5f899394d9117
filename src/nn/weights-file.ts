/**
 * The weights file of a trained network (.nbfw): a parameter file (param-format.ts: magic "NBFP",
 * JSON header, SHA-256, float16 or float32 tensors) whose metadata says what network it is:
 *
 *   meta = { kind: "nbf-gl weights", version: 1, network: "fitter" | "segmenter",
 *            config: FitterConfig | SegmenterConfig,
 *            info: { … anything the trainer records: steps, hours, metrics … } }
 *   tensors: the network's trainable parameters by name ("encoder/stem/conv/weights", "head/bias",
 *            …) and its buffers as "buffer/<name>" (batch-norm running averages, "buffer/mean/latent")
 *
 * Two networks share the container: the fitter (part map → body, fitter.ts) and the segmenter
 * (picture → 13-class part labels, refinenet.ts). Each loader reads only its own kind and refuses
 * the other with a line saying which it found.
 *
 * Read from a path in Node (readFileSync + decode) or from bytes (fetch) in the browser. Decoding
 * checks integrity first (length, checksum: a truncated or corrupted file is an error naming it),
 * then that the tensors are exactly the ones the config builds, naming the first that is missing,
 * unknown or of another shape. Computation is float32 whatever the storage.
 */
import type { Runtime } from '../runtime/runtime.js';
import { decodeParamFile, encodeParamFile, ParamFormatError, type NamedArray, type ParamDtype } from './param-format.js';
import type { ParamStore } from './params.js';
import { checkFitterConfig, fitterConfigWithInput, FitterNetwork, type FitterConfig } from './fitter.js';
import { DEFAULT_FITTER_INPUT, FITTER_INPUT_TYPES, fitterInputInfo, fitterInputType, inputExtends, type FitterInputType } from './fitter-inputs.js';
import { checkSegmenterConfig, SegmenterNetwork, type SegmenterConfig } from './refinenet.js';

export const WEIGHTS_KIND = 'nbf-gl weights';
export const WEIGHTS_VERSION = 1;
const BUFFER_PREFIX = 'buffer/';

/** The networks a weights file can hold, with their configuration types. */
export interface WeightsConfigs {
  fitter: FitterConfig;
  segmenter: SegmenterConfig;
}
export type WeightsNetwork = keyof WeightsConfigs;
export const WEIGHTS_NETWORKS: readonly WeightsNetwork[] = ['fitter', 'segmenter'];

/** Metadata of a weights file holding a network of kind N (the fitter's by default). */
export interface WeightsMeta<N extends WeightsNetwork = 'fitter'> {
  kind: typeof WEIGHTS_KIND;
  version: number;
  network: N;
  config: WeightsConfigs[N];
  info: Record<string, unknown>;
}
export type SegmenterWeightsMeta = WeightsMeta<'segmenter'>;
export type AnyWeightsMeta = { [N in WeightsNetwork]: WeightsMeta<N> }[WeightsNetwork];

const DESCRIPTIONS: Record<WeightsNetwork, string> = {
  fitter: 'a fitter (part map → body; nbf train fitter)',
  segmenter: 'a segmenter (picture → part labels; nbf train segmenter)',
};

const CHECKS: { [N in WeightsNetwork]: (c: WeightsConfigs[N], what: string) => void } = {
  fitter: checkFitterConfig,
  segmenter: checkSegmenterConfig,
};

interface TrainedNetwork {
  params: ParamStore;
  buffers: ParamStore;
}

function encodeWeights<N extends WeightsNetwork>(network: N, config: WeightsConfigs[N], net: TrainedNetwork, options: { dtype?: ParamDtype; info?: Record<string, unknown> }): Uint8Array {
  const meta: WeightsMeta<N> = { kind: WEIGHTS_KIND, version: WEIGHTS_VERSION, network, config, info: options.info ?? {} };
  const entries: NamedArray[] = [
    ...net.params.readAll(),
    ...net.buffers.readAll().map((e) => ({ ...e, name: BUFFER_PREFIX + e.name })),
  ];
  return encodeParamFile(entries, { dtype: options.dtype ?? 'float16', meta });
}

/** Encodes a fitter's parameters and buffers (float16 by default: half the size, ~1e-3 relative). */
export function encodeFitterWeights(net: FitterNetwork, options: { dtype?: ParamDtype; info?: Record<string, unknown> } = {}): Uint8Array {
  return encodeWeights('fitter', net.config, net, options);
}

/** Encodes a segmenter's parameters and buffers (float16 by default). */
export function encodeSegmenterWeights(net: SegmenterNetwork, options: { dtype?: ParamDtype; info?: Record<string, unknown> } = {}): Uint8Array {
  return encodeWeights('segmenter', net.config, net, options);
}

/**
 * Reads the metadata of weights bytes of any network (checks integrity, kind, version and the
 * configuration), without building a network.
 */
export function readAnyWeightsMeta(bytes: Uint8Array, what = 'weights file'): { meta: AnyWeightsMeta; entries: NamedArray[]; dtype: ParamDtype } {
  const file = decodeParamFile(bytes, what);
  const meta = file.meta as AnyWeightsMeta | null;
  if (!meta || typeof meta !== 'object' || meta.kind !== WEIGHTS_KIND) {
    throw new ParamFormatError(`${what} is not an nbf-gl weights file (its metadata kind is ${JSON.stringify((meta as { kind?: unknown } | null)?.kind ?? null)}; a training checkpoint? use the run's best.nbfw)`);
  }
  if (meta.version !== WEIGHTS_VERSION) throw new ParamFormatError(`${what}: weights format version ${meta.version}; this build reads version ${WEIGHTS_VERSION}`);
  if (!WEIGHTS_NETWORKS.includes(meta.network)) {
    throw new ParamFormatError(`${what} holds a "${String(meta.network)}" network, which this build does not know (${WEIGHTS_NETWORKS.join(', ')})`);
  }
  try {
    (CHECKS[meta.network] as (c: unknown, what: string) => void)(meta.config, `${what}: config`);
  } catch (e) {
    throw new ParamFormatError((e as Error).message);
  }
  return { meta, entries: file.entries, dtype: file.dtype };
}

/**
 * Reads the metadata of weights bytes that must hold network `network` (default the fitter); a file
 * of the other network is refused with a line naming both.
 */
export function readWeightsMeta<N extends WeightsNetwork = 'fitter'>(bytes: Uint8Array, what = 'weights file', network: N = 'fitter' as N): { meta: WeightsMeta<N>; entries: NamedArray[]; dtype: ParamDtype } {
  const file = readAnyWeightsMeta(bytes, what);
  if (file.meta.network !== network) {
    throw new ParamFormatError(`${what} holds ${DESCRIPTIONS[file.meta.network]}, not ${DESCRIPTIONS[network]}`);
  }
  return file as { meta: WeightsMeta<N>; entries: NamedArray[]; dtype: ParamDtype };
}

/**
 * Replaces a fitter's parameters and buffers (its mean latent included) with a weights file's, which
 * must hold a fitter of the same configuration (all or nothing; the network stays the caller's). For
 * a training run that starts from trained weights (`nbf train fitter --init`).
 */
export function assignFitterWeights(net: FitterNetwork, bytes: Uint8Array, what = 'weights file', options: { acrossInputs?: boolean } = {}): WeightsMeta & { reinitialised: string[]; widened: string[] } {
  const { meta, entries: fileEntries } = readWeightsMeta(bytes, what, 'fitter');
  let entries = fileEntries;
  const reinitialised: string[] = [];
  const widened: string[] = [];
  if (JSON.stringify(meta.config) !== JSON.stringify(net.config)) {
    // acrossInputs: the same network reading another input keeps every tensor but those whose shape
    // follows the input's channels (the stem's filters), which keep the network's initialisation.
    const sameButInput = options.acrossInputs && JSON.stringify(fitterConfigWithInput(meta.config, fitterInputType(net.config))) === JSON.stringify(net.config);
    if (!sameButInput) {
      throw new ParamFormatError(`${what} holds the fitter configuration "${meta.config.name}" (${fitterInputType(meta.config)}, ${meta.config.inputSize}²), not this run's "${net.config.name}" (${fitterInputType(net.config)}, ${net.config.inputSize}²)`);
    }
    // An input that extends the file's (parts12 → parts12+landmarks) keeps the file's filters for
    // its channels, with zeros for the new ones; another input's filters start afresh.
    const extending = inputExtends(fitterInputType(net.config), fitterInputType(meta.config));
    entries = fileEntries.map((e) => {
      if (e.name.startsWith(BUFFER_PREFIX) || !net.params.has(e.name)) return e;
      const t = net.params.get(e.name);
      if (t.shape.length === e.shape.length && t.shape.every((d, k) => d === e.shape[k])) return e;
      if (extending) {
        widened.push(e.name);
        return widenedFilters(e, t.shape);
      }
      reinitialised.push(e.name);
      return { name: e.name, shape: [...t.shape], data: t.readSync() };
    });
  }
  assignEntries(net, entries, what);
  return { ...meta, reinitialised, widened };
}

/**
 * Loads a segmenter weights file into a network being trained (`nbf train segmenter --init`): the
 * same configuration, or the same network reading more input channels (config.input
 * 'rgb+landmarks' from an 'rgb' file), at any input size (the network is fully convolutional: the
 * size is only what it trains at, so `--size 160 --init` fine-tunes 128² weights at 160²). Then the stem's filters keep the file's weights for the
 * picture's 3 channels and start at zero for the rest, so the network begins exactly as the file's
 * and learns what the new channels add. The raw weights: no prior correction (loadSegmenterWeights).
 */
export function assignSegmenterWeights(net: SegmenterNetwork, bytes: Uint8Array, what = 'weights file'): SegmenterWeightsMeta & { widened: string[] } {
  const { meta, entries: fileEntries } = readWeightsMeta(bytes, what, 'segmenter');
  const strip = (c: SegmenterConfig) => JSON.stringify({ ...c, input: undefined, inputSize: undefined, encoder: { ...c.encoder, inputChannels: undefined } });
  if (strip(meta.config) !== strip(net.config) || meta.config.encoder.inputChannels > net.config.encoder.inputChannels) {
    throw new ParamFormatError(`${what} holds the segmenter configuration "${meta.config.name}" (${meta.config.input ?? 'rgb'}, ${meta.config.inputSize}²), not this run's "${net.config.name}" (${net.config.input ?? 'rgb'}, ${net.config.inputSize}²) at any input size, or the same reading fewer input channels`);
  }
  const widened: string[] = [];
  const entries = fileEntries.map((e) => {
    if (e.name.startsWith(BUFFER_PREFIX) || !net.params.has(e.name)) return e;
    const w = widenedFilters(e, net.params.get(e.name).shape);
    if (w !== e) widened.push(e.name);
    return w;
  });
  assignEntries(net, entries, what);
  return { ...meta, widened };
}

/**
 * A file's tensor for a parameter of `shape`: as it is where the shapes agree; a convolution's
 * filters [k, k, Cin, Cout] for a parameter with more input channels: the file's filters for the
 * first Cin and zeros for the new ones (so the network computes what the file's did until the new
 * channels' filters learn). Anything else comes back as it is, for assignEntries to refuse by name.
 */
function widenedFilters(e: NamedArray, shape: readonly number[]): NamedArray {
  if (shape.length === e.shape.length && shape.every((d, k) => d === e.shape[k])) return e;
  const [kh, kw, cin, cout] = e.shape;
  if (e.shape.length !== 4 || shape.length !== 4 || shape[0] !== kh || shape[1] !== kw || shape[3] !== cout || shape[2] < cin) return e;
  const data = new Float32Array(kh * kw * shape[2] * cout);
  for (let p = 0; p < kh * kw; p++) {
    for (let c = 0; c < cin; c++) data.set(e.data.subarray((p * cin + c) * cout, (p * cin + c + 1) * cout), (p * shape[2] + c) * cout);
  }
  return { name: e.name, shape: [...shape], data };
}

/** A weights file's tensors into a network's parameters and ("buffer/…") buffers, all checked before any is replaced. */
function assignEntries(net: TrainedNetwork, entries: readonly NamedArray[], what: string): void {
  const params = entries.filter((e) => !e.name.startsWith(BUFFER_PREFIX));
  const buffers = entries.filter((e) => e.name.startsWith(BUFFER_PREFIX)).map((e) => ({ ...e, name: e.name.slice(BUFFER_PREFIX.length) }));
  net.params.validate(params, what);
  net.buffers.validate(buffers, `${what} (buffers)`);
  net.params.assign(params, what);
  net.buffers.assign(buffers, `${what} (buffers)`);
}

/** Checks the file's tensors against a freshly built network and loads them (all or nothing). */
function loadInto<T extends TrainedNetwork & { dispose(): void }>(network: T, entries: NamedArray[], what: string): T {
  try {
    assignEntries(network, entries, what);
  } catch (e) {
    network.dispose();
    throw e;
  }
  return network;
}

export interface LoadFitterOptions {
  /**
   * The input types the caller can feed (fitter-inputs.ts; default only "parts12", what the
   * part-map route, the demo and the pipeline feed); a file of another input type is refused.
   * 'any' takes every type (the evaluation and the experiments render each one).
   */
  inputs?: readonly FitterInputType[] | 'any';
}

/** Builds the fitter a weights file describes and loads its tensors (all or nothing). */
export function loadFitterWeights(rt: Runtime, bytes: Uint8Array, what = 'weights file', options: LoadFitterOptions = {}): { network: FitterNetwork; meta: WeightsMeta } {
  const { meta, entries } = readWeightsMeta(bytes, what, 'fitter');
  const input = fitterInputType(meta.config);
  const accepted = options.inputs === 'any' ? FITTER_INPUT_TYPES : options.inputs ?? [DEFAULT_FITTER_INPUT];
  if (!accepted.includes(input)) {
    throw new ParamFormatError(`${what} holds a fitter that reads ${fitterInputInfo(input).description} (input "${input}"); this caller feeds only ${accepted.map((t) => `"${t}"`).join(', ')}`);
  }
  return { network: loadInto(new FitterNetwork(rt, meta.config), entries, what), meta };
}

/**
 * How much of the class-weighted loss's bias the segmenter's logits give back at inference (α below),
 * chosen by measurement on the validation set (docs/segmenter.md, "Undoing the class weights").
 */
export const SEGMENTER_PRIOR_CORRECTION = 0.5;

export interface LoadSegmenterOptions {
  /**
   * α: subtract α·log w_k from class k's logit, w the class weights the file's training recorded
   * (`info.training.classWeights`); 0 reads the logits as trained. Default SEGMENTER_PRIOR_CORRECTION.
   */
  priorCorrection?: number;
}

/**
 * The per-class logit offsets −α·log w_k for a segmenter trained with class weights w, or null when the
 * file records none (or α = 0). Why: a cross-entropy that weights class k by w_k is minimised by
 * softmax outputs ∝ w_k·p_k, so the trained logits carry log w_k on top of the classes' evidence —
 * rare parts (w ≈ 4–9) win pixels that belong to the background (w ≈ 0.5). α = 1 removes the shift
 * in full; a partial α keeps some of the recall the weights were there to buy.
 */
export function segmenterLogitOffsets(meta: SegmenterWeightsMeta, alpha: number, what = 'weights file'): number[] | null {
  if (!Number.isFinite(alpha) || alpha < 0) throw new ParamFormatError(`${what}: the prior correction must be a number ≥ 0; got ${String(alpha)}`);
  const training = (meta.info as { training?: { classWeights?: unknown } }).training;
  const weights = training?.classWeights;
  if (alpha === 0 || !Array.isArray(weights)) return null;
  if (weights.length !== meta.config.classes || !weights.every((w) => typeof w === 'number' && w > 0 && Number.isFinite(w))) {
    throw new ParamFormatError(`${what}: info.training.classWeights must be ${meta.config.classes} positive numbers; got ${JSON.stringify(weights)}`);
  }
  return weights.map((w) => -alpha * Math.log(w));
}

/**
 * Builds the segmenter a weights file describes and loads its tensors (all or nothing). The head's
 * bias takes the prior correction (segmenterLogitOffsets), so every caller — the pipeline, `nbf
 * segment`, `nbf eval segmenter`, the fitter's segmenter labels — reads corrected logits; training
 * never loads through here (it resumes from checkpoints).
 */
export function loadSegmenterWeights(rt: Runtime, bytes: Uint8Array, what = 'weights file', options: LoadSegmenterOptions = {}): { network: SegmenterNetwork; meta: SegmenterWeightsMeta; logitOffsets: number[] | null } {
  const { meta, entries } = readWeightsMeta(bytes, what, 'segmenter');
  const logitOffsets = segmenterLogitOffsets(meta, options.priorCorrection ?? SEGMENTER_PRIOR_CORRECTION, what);
  const corrected = logitOffsets === null ? entries : entries.map((e) => {
    if (e.name !== SEGMENTER_HEAD_BIAS) return e;
    if (e.data.length !== logitOffsets.length) throw new ParamFormatError(`${what}: ${SEGMENTER_HEAD_BIAS} has ${e.data.length} values; the configuration has ${logitOffsets.length} classes`);
    return { ...e, data: e.data.map((b, k) => b + logitOffsets[k]) };
  });
  return { network: loadInto(new SegmenterNetwork(rt, meta.config), corrected, what), meta, logitOffsets };
}

/** The parameter whose values are the per-class offsets of the segmenter's logits. */
const SEGMENTER_HEAD_BIAS = 'head/bias';
