/**
 * Checkpoint and resume of a training run: parameters, optimizer state (its slot tensors, step count
 * and hyper-parameters), the training step, the RNG state and any JSON the caller adds, in one
 * parameter file (src/nn/param-format.ts) with tensors named "param/<name>" and "opt/<slot>/<name>".
 * Always stored as float32 so a resumed run continues bit-for-bit.
 */
import type { Tensor } from '../runtime/tensor.js';
import type { ParamStore } from '../nn/params.js';
import type { Rng } from '../util/random.js';
import { decodeParamFile, encodeParamFile, ParamFormatError, type NamedArray } from '../nn/param-format.js';
import type { Optimizer } from './optimizers.js';

export const CHECKPOINT_KIND = 'nbf-gl checkpoint';

export interface CheckpointState {
  params: ParamStore;
  optimizer: Optimizer;
  /** The training loop's step (often optimizer.stepCount; kept separately for accumulation loops). */
  step: number;
  /** Generators whose state must resume (data shuffling, augmentation); stored by name. */
  rngs?: Readonly<Record<string, Rng>>;
  /** Anything JSON-serialisable (epoch, best metric, config). */
  extra?: unknown;
}

interface CheckpointMeta {
  kind: string;
  step: number;
  optimizer: { type: string; stepCount: number; config: Record<string, number | boolean> };
  rngs: Record<string, number>;
  extra: unknown;
}

export function saveCheckpoint(state: CheckpointState): Uint8Array {
  const entries: NamedArray[] = state.params.readAll().map((e) => ({ ...e, name: `param/${e.name}` }));
  for (const [key, t] of Object.entries(state.optimizer.stateTensors())) {
    entries.push({ name: `opt/${key}`, shape: [...t.shape], data: t.readSync() });
  }
  const meta: CheckpointMeta = {
    kind: CHECKPOINT_KIND,
    step: state.step,
    optimizer: { type: state.optimizer.type, stepCount: state.optimizer.stepCount, config: state.optimizer.config() },
    rngs: Object.fromEntries(Object.entries(state.rngs ?? {}).map(([k, r]) => [k, r.getState()])),
    extra: state.extra ?? null,
  };
  return encodeParamFile(entries, { dtype: 'float32', meta });
}

/**
 * Restores a checkpoint into live objects: parameters, optimizer state and RNGs. Everything is
 * checked first (file integrity, names, shapes, optimizer type and hyper-parameters, RNG names); on
 * any error nothing changes. Returns the step and the caller's extra data.
 */
export function loadCheckpoint(
  bytes: Uint8Array,
  target: { params: ParamStore; optimizer: Optimizer; rngs?: Readonly<Record<string, Rng>> },
  what = 'checkpoint',
): { step: number; extra: unknown } {
  const file = decodeParamFile(bytes, what);
  const meta = file.meta as CheckpointMeta | null;
  if (!meta || meta.kind !== CHECKPOINT_KIND) throw new ParamFormatError(`${what} is a parameter file, not a checkpoint (no checkpoint metadata)`);
  const opt = target.optimizer;
  if (meta.optimizer.type !== opt.type) {
    throw new ParamFormatError(`${what} was written by a ${meta.optimizer.type} optimizer; resuming with ${opt.type}`);
  }
  const config = opt.config();
  for (const [k, v] of Object.entries(config)) {
    if (meta.optimizer.config[k] !== v) {
      throw new ParamFormatError(`${what}: optimizer ${k} was ${meta.optimizer.config[k]} when saved, ${v} now`);
    }
  }
  const rngNames = Object.keys(target.rngs ?? {});
  const missingRng = rngNames.filter((n) => !(n in meta.rngs));
  if (missingRng.length) throw new ParamFormatError(`${what} has no state for RNG ${missingRng.map((n) => `"${n}"`).join(', ')}`);

  const params: NamedArray[] = [];
  const slots: NamedArray[] = [];
  for (const e of file.entries) {
    if (e.name.startsWith('param/')) params.push({ ...e, name: e.name.slice(6) });
    else if (e.name.startsWith('opt/')) slots.push({ ...e, name: e.name.slice(4) });
    else throw new ParamFormatError(`${what}: unexpected tensor "${e.name}" (neither param/ nor opt/)`);
  }
  target.params.validate(params, what);
  const shapes = new Map(params.map((p) => [p.name, p.shape]));
  for (const s of slots) {
    const cut = s.name.indexOf('/');
    const slot = s.name.slice(0, cut);
    const name = s.name.slice(cut + 1);
    if (!opt.slots.includes(slot)) throw new ParamFormatError(`${what}: optimizer state slot "${slot}" is not one of ${opt.slots.join(', ')}`);
    const shape = shapes.get(name);
    if (!shape || shape.length !== s.shape.length || shape.some((d, i) => d !== s.shape[i])) {
      throw new ParamFormatError(`${what}: optimizer state "${s.name}" [${s.shape.join(', ')}] matches no parameter of that shape`);
    }
  }

  // Everything checked: upload the optimizer state, then swap it and the parameters in.
  const rt = target.params.runtime;
  const uploaded: Record<string, Tensor> = {};
  try {
    for (const s of slots) uploaded[s.name] = rt.keep(rt.tensor(s.data, s.shape));
    target.params.assign(params, what);
  } catch (err) {
    for (const t of Object.values(uploaded)) t.dispose();
    throw err;
  }
  opt.setState(meta.optimizer.stepCount, uploaded);
  for (const n of rngNames) target.rngs![n].setState(meta.rngs[n]);
  return { step: meta.step, extra: meta.extra };
}
