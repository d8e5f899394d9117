/**
 * What the benchmarks that race TensorFlow.js share: one headless-gl WebGL2 context for both
 * libraries, medians, and wall-clock plus process CPU time of a call.
 */
import { createRequire } from 'node:module';
import { Runtime, type MultiKernelCall } from '../src/runtime/runtime.js';
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

// ------------------------------------------------------------------ per-kernel profile
export interface KernelTiming { key: string; calls: number; ms: number; cpuMs: number }

/**
 * Runs `fn` with gl.finish() before and after every kernel draw, so each draw's wall time is its own;
 * llvmpipe runs draws synchronously at finish, so this is the kernel's CPU time.
 */
export function profileKernels(rt: Runtime, gl: WebGL2RenderingContext, fn: () => void): { byKernel: KernelTiming[]; byShape: KernelTiming[]; totalMs: number; kernelMs: number } {
  const original = rt.runMulti.bind(rt);
  const byKernel = new Map<string, KernelTiming>();
  const byShape = new Map<string, KernelTiming>();
  let kernelMs = 0;
  const add = (map: Map<string, KernelTiming>, key: string, ms: number, cpuMs: number) => {
    const e = map.get(key) ?? { key, calls: 0, ms: 0, cpuMs: 0 };
    e.calls++;
    e.ms += ms;
    e.cpuMs += cpuMs;
    map.set(key, e);
  };
  rt.runMulti = (call: MultiKernelCall) => {
    gl.finish();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = original(call);
    gl.finish();
    const ms = performance.now() - t0;
    const c = process.cpuUsage(c0);
    const cpuMs = (c.user + c.system) / 1000;
    kernelMs += ms;
    const variant = call.defines ? Object.entries(call.defines).filter(([k]) => !k.includes('(')).map(([k, v]) => `${k}=${v}`).join(',') : '';
    const name = variant ? `${call.kernel}{${variant}}` : call.kernel;
    add(byKernel, call.kernel, ms, cpuMs);
    const inputs = Object.entries(call.inputs ?? {}).map(([k, t]) => `${k}[${t.shape.join(',')}]`).join(' ');
    add(byShape, `${name}(${inputs}) → ${call.outShapes.map((s) => `[${s.join(',')}]`).join(' ')}`, ms, cpuMs);
    return out;
  };
  const t0 = performance.now();
  try {
    fn();
  } finally {
    rt.runMulti = original;
  }
  const totalMs = performance.now() - t0;
  const sorted = (m: Map<string, KernelTiming>) => [...m.values()].sort((a, b) => b.ms - a.ms).map((e) => ({ ...e, ms: round(e.ms, 1), cpuMs: round(e.cpuMs, 1) }));
  return { byKernel: sorted(byKernel), byShape: sorted(byShape), totalMs: round(totalMs, 1), kernelMs: round(kernelMs, 1) };
}
