/** The kernel profiler (src/runtime/profiler.ts) and NBF_PROFILE=1 in Node contexts. */
import { describe, expect, it, vi } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { KernelProfiler } from '../src/runtime/profiler.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import { add, unary } from '../src/kernels/elementwise.js';

describe('KernelProfiler', () => {
  it('counts and times every draw by kernel and by shapes while started, nothing after stop', () => {
    const rt = testRuntime();
    const profiler = new KernelProfiler(rt);
    rt.scope(() => {
      const a = rt.tensor([1, 2, 3, 4, 5], [5]);
      const b = rt.tensor([5, 4, 3, 2, 1], [5]);
      profiler.start();
      expect(profiler.running).toBe(true);
      const c = add(a, b);
      add(c, a);
      unary('relu', c);
      expect(Array.from(c.readSync())).toEqual([6, 6, 6, 6, 6]); // results are unchanged
      profiler.stop();
      add(a, b); // not counted
      const r = profiler.report();
      expect(r.draws).toBe(3);
      expect(r.byKernel.map((e) => [e.key, e.calls]).sort()).toEqual([['binary', 2], ['unary', 1]]);
      expect(r.byShape.some((e) => e.key.startsWith('binary') && e.key.includes('[5]') && e.calls === 2)).toBe(true);
      expect(r.kernelMs).toBeGreaterThan(0);
      expect(r.byKernel.every((e) => e.ms >= 0)).toBe(true);
      const table = profiler.table();
      expect(table).toMatch(/^kernel profile: 3 draws, [\d.]+ ms in kernels/);
      expect(table).toMatch(/\d+\.\d ms +[\d.]+ % +2× +binary/);
      profiler.reset();
      expect(profiler.report().draws).toBe(0);
    });
  });

  it('NBF_PROFILE=1 profiles a Node context and prints the table when it is destroyed', () => {
    const saved = process.env.NBF_PROFILE;
    process.env.NBF_PROFILE = '1';
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { written.push(String(chunk)); return true; });
    try {
      const rt = createNodeContext();
      rt.scope(() => add(rt.tensor([1, 2], [2]), rt.tensor([3, 4], [2])).readSync());
      rt.destroy();
    } finally {
      spy.mockRestore();
      if (saved === undefined) delete process.env.NBF_PROFILE;
      else process.env.NBF_PROFILE = saved;
    }
    expect(written.join('')).toMatch(/kernel profile: \d+ draws[\s\S]*binary/);
  });
});
