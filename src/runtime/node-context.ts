/** WebGL2 contexts in Node through headless-gl (npm `gl`, 9.x, which needs an X display). */
import { createRequire } from 'node:module';
import { KernelProfiler } from './profiler.js';
import { Runtime, type RuntimeOptions } from './runtime.js';
import { ContextError } from './errors.js';

export function createNodeContext(options: RuntimeOptions = {}): Runtime {
  if (!process.env.DISPLAY) {
    throw new ContextError('no X display for headless WebGL: run under xvfb-run -a or set DISPLAY');
  }
  const require = createRequire(import.meta.url);
  let createGL: (w: number, h: number, opts: object) => WebGL2RenderingContext | null;
  try {
    createGL = require('gl');
  } catch (e) {
    throw new ContextError(`headless-gl (npm package "gl") failed to load: ${(e as Error).message}`);
  }
  const gl = createGL(1, 1, { createWebGL2Context: true, preserveDrawingBuffer: false, antialias: false, depth: false, stencil: false });
  if (!gl) {
    throw new ContextError(`headless-gl returned no context (DISPLAY=${process.env.DISPLAY}): is the X server running? Try xvfb-run -a`);
  }
  if (typeof (gl as WebGL2RenderingContext).texStorage2D !== 'function') {
    throw new ContextError('headless-gl gave a WebGL1 context; nbf-gl needs WebGL2 (install gl@9.0.0-rc.10)');
  }
  const rt = new Runtime(gl, options);
  const destroyExt = gl.getExtension('STACKGL_destroy_context') as { destroy(): void } | null;
  // Let the rasteriser finish its queued draws before the context goes: a test process creates and
  // destroys many contexts (each in-process CLI run), and once in a few full test runs one died in
  // glibc ("free(): corrupted unsorted chunks"); whether draws still in flight at destroy play a
  // part is not known, but finishing first costs nothing at that point.
  if (destroyExt) rt.addDestroyHook(() => { gl.finish(); destroyExt.destroy(); });
  // NBF_PROFILE=1: time every kernel of this context and print the table when it is destroyed.
  if (process.env.NBF_PROFILE === '1') {
    const profiler = new KernelProfiler(rt);
    profiler.start();
    rt.addDestroyHook(() => process.stderr.write(profiler.table()));
  }
  return rt;
}
