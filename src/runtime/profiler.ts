/**
 * Time per kernel: while started, every kernel the runtime runs is bracketed by gl.finish(), so each
 * draw's wall time is its own (llvmpipe, and most drivers, run the draw by the time finish returns),
 * and the times add up by kernel and by (kernel, variant, input and output shapes). The finishes stall
 * the pipeline: a profiled run is slower than a plain one; use the shares, not the total.
 *
 *   const profiler = new KernelProfiler(rt); profiler.start(); …; profiler.stop(); profiler.table()
 *
 * In Node, `NBF_PROFILE=1 npx nbf <command>` profiles every context the command creates and prints
 * the table to stderr when the context is destroyed (runtime/node-context.ts).
 */
import type { MultiKernelCall, Runtime } from './runtime.js';

export interface KernelTiming {
  key: string;
  calls: number;
  ms: number;
  /** CPU time of the whole process meanwhile (Node only; llvmpipe renders on worker threads). */
  cpuMs: number;
}

export interface KernelProfile {
  byKernel: KernelTiming[];
  byShape: KernelTiming[];
  /** Time inside kernels. */
  kernelMs: number;
  draws: number;
}

type CpuUsage = () => { user: number; system: number };
const cpuUsage: CpuUsage | null = (globalThis as { process?: { cpuUsage?: CpuUsage } }).process?.cpuUsage ?? null;
const cpuMsNow = () => {
  const c = cpuUsage?.();
  return c ? (c.user + c.system) / 1000 : 0;
};

export class KernelProfiler {
  private readonly byKernel = new Map<string, KernelTiming>();
  private readonly byShape = new Map<string, KernelTiming>();
  private kernelMs = 0;
  private draws = 0;
  private original: Runtime['runMulti'] | null = null;

  constructor(readonly runtime: Runtime) {}

  get running(): boolean {
    return this.original !== null;
  }

  start(): void {
    if (this.original) return;
    const rt = this.runtime;
    const original = rt.runMulti;
    this.original = original;
    const gl = rt.gl;
    rt.runMulti = (call: MultiKernelCall) => {
      gl.finish();
      const c0 = cpuMsNow();
      const t0 = performance.now();
      const out = original.call(rt, call);
      gl.finish();
      this.add(call, performance.now() - t0, cpuMsNow() - c0);
      return out;
    };
  }

  stop(): void {
    if (!this.original) return;
    this.runtime.runMulti = this.original;
    this.original = null;
  }

  reset(): void {
    this.byKernel.clear();
    this.byShape.clear();
    this.kernelMs = 0;
    this.draws = 0;
  }

  private add(call: MultiKernelCall, ms: number, cpuMs: number): void {
    const bump = (map: Map<string, KernelTiming>, key: string) => {
      const e = map.get(key) ?? { key, calls: 0, ms: 0, cpuMs: 0 };
      e.calls++;
      e.ms += ms;
      e.cpuMs += cpuMs;
      map.set(key, e);
    };
    this.kernelMs += ms;
    this.draws++;
    const variant = call.defines ? Object.entries(call.defines).filter(([k]) => !k.includes('(')).map(([k, v]) => `${k}=${v}`).join(',') : '';
    const name = variant ? `${call.kernel}{${variant}}` : call.kernel;
    const inputs = Object.entries(call.inputs ?? {}).map(([k, t]) => `${k}[${t.shape.join(',')}]`).join(' ');
    bump(this.byKernel, call.kernel);
    bump(this.byShape, `${name}(${inputs}) → ${call.outShapes.map((s) => `[${s.join(',')}]`).join(' ')}`);
  }

  /** Totals so far, largest first (times rounded to 0.1 ms). */
  report(): KernelProfile {
    const sorted = (m: Map<string, KernelTiming>) => [...m.values()].sort((a, b) => b.ms - a.ms).map((e) => ({ ...e, ms: round1(e.ms), cpuMs: round1(e.cpuMs) }));
    return { byKernel: sorted(this.byKernel), byShape: sorted(this.byShape), kernelMs: round1(this.kernelMs), draws: this.draws };
  }

  /** The report as text: the `kernels` costliest kernels, then the `shapes` costliest shapes. */
  table(kernels = 25, shapes = 15): string {
    const r = this.report();
    const pct = (ms: number) => (r.kernelMs > 0 ? ((100 * ms) / r.kernelMs).toFixed(1) : '0.0').padStart(5);
    const line = (e: KernelTiming) => `${e.ms.toFixed(1).padStart(10)} ms ${pct(e.ms)} % ${String(e.calls).padStart(7)}×  ${e.key}`;
    return [
      `kernel profile: ${r.draws} draws, ${r.kernelMs.toFixed(1)} ms in kernels`,
      `        time  share   draws  kernel`,
      ...r.byKernel.slice(0, kernels).map(line),
      `        time  share   draws  kernel(inputs) → outputs`,
      ...r.byShape.slice(0, shapes).map(line),
      '',
    ].join('\n');
  }
}

const round1 = (x: number) => Math.round(x * 10) / 10;
