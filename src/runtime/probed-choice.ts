import { NbfError } from './errors.js';
import type { Runtime } from './runtime.js';

/**
 * A per-context choice between kernels that a probe makes once per Runtime (e.g. whether the context
 * computes fine derivatives), which tests and benchmarks can force. `forceName` names the forcing
 * function in its error.
 */
export function probedChoice<K extends string>(forceName: string, kinds: readonly K[], probe: (rt: Runtime) => K) {
  const probed = new WeakMap<Runtime, K>();
  const forced = new WeakMap<Runtime, K>();
  return {
    get(rt: Runtime): K {
      const f = forced.get(rt);
      if (f) return f;
      let kind = probed.get(rt);
      if (!kind) {
        kind = probe(rt);
        probed.set(rt, kind);
      }
      return kind;
    },
    force(rt: Runtime, kind: K | null): void {
      if (kind === null) forced.delete(rt);
      else if (kinds.includes(kind)) forced.set(rt, kind);
      else throw new NbfError(`${forceName}: unknown kernel "${String(kind)}"; use ${kinds.map((k) => `'${k}'`).join(', ')} or null`);
    },
  };
}
