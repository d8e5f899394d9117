/**
 * What the benchmarks that race TensorFlow.js share: one headless-gl WebGL2 context for both
 * libraries, medians, and wall-clock plus process CPU time of a call.
 */
import { createRequire } from 'node:module';
import { Runtime } from '../src/runtime/runtime.js';
import { tfjsOnContext } from '../test/helpers/tfjs-small-resnet.js';

/** One WebGL2 context, our runtime and tfjs-webgl on it. */
export async function sharedContext(): Promise<{ gl: WebGL2RenderingContext; rt: Runtime; tf: Awaited<ReturnType<typeof tfjsOnContext>> }> {
  const require = createRequire(import.meta.url);
  const createGL = require('gl') as (w: number, h: number, o: object) => WebGL2RenderingContext | null;
  const gl = createGL(1, 1, { createWebGL2Context: true, preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false });
  if (!gl) throw new Error('headless-gl returned no context: run under scripts/with-display.mjs (needs an X display)');
  const rt = new Runtime(gl);
  return { gl, rt, tf: await tfjsOnContext(gl) };
}

export function median(v: readonly number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export const round = (v: number, digits = 2): number => Number(v.toFixed(digits));

/**
 * Wall-clock ms of fn, and the CPU ms the whole process spent meanwhile (llvmpipe renders on worker
 * threads of this process): on a shared machine CPU time is the steadier measure of the work.
 */
export function time(fn: () => unknown): { wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}
