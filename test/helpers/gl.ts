/** Shared test runtime: one headless-gl context per test file, outputs poisoned with NaN. */
import { afterAll } from 'vitest';
import { createNodeContext } from '../../src/runtime/node-context.js';
import type { Runtime } from '../../src/runtime/runtime.js';

let runtime: Runtime | undefined;

export function testRuntime(): Runtime {
  if (!runtime) {
    runtime = createNodeContext({ poisonOutputs: true, checkErrors: true });
    afterAll(() => {
      runtime?.destroy();
      runtime = undefined;
    });
  }
  return runtime;
}
