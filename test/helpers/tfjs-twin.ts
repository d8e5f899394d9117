/**
 * The setup of the tests that check a network against its tfjs twin (fitter-tfjs, segmenter-tfjs):
 * the file's test runtime, and tfjs-webgl started on that runtime's headless-gl context before the
 * file's tests run (so both libraries share one context and one llvmpipe device).
 */
import { beforeAll } from 'vitest';
import type { Runtime } from '../../src/runtime/runtime.js';
import { testRuntime } from './gl.js';
import { tfjsOnContext, type Tf } from './tfjs-small-resnet.js';

/** `tf()` returns the tfjs module; call it inside a test (it is ready once beforeAll has run). */
export function runtimeWithTfjs(): { rt: Runtime; tf: () => Tf } {
  const rt = testRuntime();
  let tf: Tf | undefined;
  beforeAll(async () => {
    tf = await tfjsOnContext(rt.gl);
  }, 60_000);
  return {
    rt,
    tf: () => {
      if (!tf) throw new Error('tfjs is not started yet: call tf() inside a test, not while the file is collected');
      return tf;
    },
  };
}
