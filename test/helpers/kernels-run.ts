import type { Runtime } from '../../src/runtime/runtime.js';

/** The kernels `fn` runs on `rt`, in order (every draw goes through Runtime.runMulti). */
export function kernelsRun(rt: Runtime, fn: () => void): string[] {
  const names: string[] = [];
  const original = rt.runMulti;
  rt.runMulti = (call) => {
    names.push(call.kernel);
    return original.call(rt, call);
  };
  try {
    fn();
  } finally {
    rt.runMulti = original;
  }
  return names;
}
