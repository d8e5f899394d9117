/** WebGL2 contexts in the browser, on a canvas or an OffscreenCanvas (workers). */
import { Runtime, type RuntimeOptions } from './runtime.js';
import { ContextError } from './errors.js';

export interface BrowserContextOptions extends RuntimeOptions {
  /** Canvas to draw with; a 1×1 OffscreenCanvas (or a detached canvas) when omitted. */
  canvas?: HTMLCanvasElement | OffscreenCanvas;
}

export function createBrowserContext(options: BrowserContextOptions = {}): Runtime {
  const canvas =
    options.canvas ??
    (typeof OffscreenCanvas !== 'undefined'
      ? new OffscreenCanvas(1, 1)
      : typeof document !== 'undefined'
        ? document.createElement('canvas')
        : undefined);
  if (!canvas) throw new ContextError('no canvas available: pass options.canvas');
  const attrs = { antialias: false, depth: false, stencil: false, alpha: true, premultipliedAlpha: false, preserveDrawingBuffer: false, powerPreference: 'high-performance' } as const;
  const gl = (canvas as HTMLCanvasElement).getContext('webgl2', attrs) as WebGL2RenderingContext | null;
  if (!gl) throw new ContextError('this browser gives no WebGL2 context (WebGL2 disabled or unsupported)');
  const rt = new Runtime(gl, options);
  const onLost = (e: Event) => {
    e.preventDefault();
    rt.markContextLost();
  };
  (canvas as HTMLCanvasElement).addEventListener('webglcontextlost', onLost as EventListener);
  rt.addDestroyHook(() => {
    (canvas as HTMLCanvasElement).removeEventListener('webglcontextlost', onLost as EventListener);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
  });
  return rt;
}
