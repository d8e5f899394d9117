/**
 * The weights file of a trained network (.nbfw): a parameter file (param-format.ts: magic "NBFP",
 * JSON header, SHA-256, float16 or float32 tensors) whose metadata says what network it is:
 *
 *   meta = { kind: "nbf-gl weights", version: 1, network: "fitter", config: FitterConfig,
 *            info: { … anything the trainer records: steps, hours, metrics … } }
 *   tensors: the network's trainable parameters by name ("encoder/stem/conv/weights", "head/bias",
 *            …) and its buffers as "buffer/<name>" (batch-norm running averages, "buffer/mean/latent")
 *
 * Read from a path in Node (readFileSync + decode) or from bytes (fetch) in the browser. Decoding
 * checks integrity first (length, checksum: a truncated or corrupted file is an error naming it),
 * then that the tensors are exactly the ones the config builds, naming the first that is missing,
 * unknown or of another shape. Computation is float32 whatever the storage.
 */
import type { Runtime } from '../runtime/runtime.js';
import { decodeParamFile, encodeParamFile, ParamFormatError, type NamedArray, type ParamDtype } from './param-format.js';
import { checkFitterConfig, FitterNetwork, type FitterConfig } from './fitter.js';

export const WEIGHTS_KIND = 'nbf-gl weights';
export const WEIGHTS_VERSION = 1;
const BUFFER_PREFIX = 'buffer/';

export interface WeightsMeta {
  kind: typeof WEIGHTS_KIND;
  version: number;
  network: 'fitter';
  config: FitterConfig;
  info: Record<string, unknown>;
}

/** Encodes a fitter's parameters and buffers (float16 by default: half the size, ~1e-3 relative). */
export function encodeFitterWeights(net: FitterNetwork, options: { dtype?: ParamDtype; info?: Record<string, unknown> } = {}): Uint8Array {
  const meta: WeightsMeta = { kind: WEIGHTS_KIND, version: WEIGHTS_VERSION, network: 'fitter', config: net.config, info: options.info ?? {} };
  const entries: NamedArray[] = [
    ...net.params.readAll(),
    ...net.buffers.readAll().map((e) => ({ ...e, name: BUFFER_PREFIX + e.name })),
  ];
  return encodeParamFile(entries, { dtype: options.dtype ?? 'float16', meta });
}

/** Reads the metadata of weights bytes (checks integrity and kind), without building a network. */
export function readWeightsMeta(bytes: Uint8Array, what = 'weights file'): { meta: WeightsMeta; entries: NamedArray[]; dtype: ParamDtype } {
  const file = decodeParamFile(bytes, what);
  const meta = file.meta as WeightsMeta | null;
  if (!meta || typeof meta !== 'object' || meta.kind !== WEIGHTS_KIND) {
    throw new ParamFormatError(`${what} is not an nbf-gl weights file (its metadata kind is ${JSON.stringify((meta as { kind?: unknown } | null)?.kind ?? null)}; a training checkpoint? use the run's best.nbfw)`);
  }
  if (meta.version !== WEIGHTS_VERSION) throw new ParamFormatError(`${what}: weights format version ${meta.version}; this build reads version ${WEIGHTS_VERSION}`);
  if (meta.network !== 'fitter') throw new ParamFormatError(`${what} holds a "${String(meta.network)}" network, not a fitter`);
  try {
    checkFitterConfig(meta.config, `${what}: config`);
  } catch (e) {
    throw new ParamFormatError((e as Error).message);
  }
  return { meta, entries: file.entries, dtype: file.dtype };
}

/** Builds the fitter a weights file describes and loads its tensors (all or nothing). */
export function loadFitterWeights(rt: Runtime, bytes: Uint8Array, what = 'weights file'): { network: FitterNetwork; meta: WeightsMeta } {
  const { meta, entries } = readWeightsMeta(bytes, what);
  const params = entries.filter((e) => !e.name.startsWith(BUFFER_PREFIX));
  const buffers = entries.filter((e) => e.name.startsWith(BUFFER_PREFIX)).map((e) => ({ ...e, name: e.name.slice(BUFFER_PREFIX.length) }));
  const network = new FitterNetwork(rt, meta.config);
  try {
    network.params.validate(params, what);
    network.buffers.validate(buffers, `${what} (buffers)`);
    network.params.assign(params, what);
    network.buffers.assign(buffers, `${what} (buffers)`);
  } catch (e) {
    network.dispose();
    throw e;
  }
  return { network, meta };
}
