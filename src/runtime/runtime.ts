/**
 * The runtime: one WebGL2 context, its texture pool, its program cache, and kernel dispatch.
 * Kernels are fragment shaders that draw one triangle over the output texture; each fragment writes
 * one RGBA texel (four channels) of the output tensor.
 */
import { Tensor } from './tensor.js';
import { TexturePool, type GpuTexture, type PoolStats } from './texture-pool.js';
import { ProgramCache, setUniforms, type CompiledKernel, type Defines, type UniformValue } from './program-cache.js';
import { checkShape, packChannels, unpackChannels, packedGeometry, sizeOf } from './layout.js';
import { ContextError, ContextLostError, NbfError, ShapeError } from './errors.js';

export type { UniformValue } from './program-cache.js';

export interface KernelCall {
  /** Shader name: shaders/<kernel>.glsl. */
  kernel: string;
  /** Compile-time specialisation (#define NAME value); part of the program cache key. */
  defines?: Defines;
  /** Sampler uniform name in the shader → tensor bound to it. */
  inputs?: Record<string, Tensor>;
  /** Other uniforms (sizes, strides, scalars). */
  uniforms?: Record<string, UniformValue>;
  /** Shape of the output tensor. */
  outShape: readonly number[];
}

export interface MultiKernelCall extends Omit<KernelCall, 'outShape'> {
  /** Shapes of the outputs (outColor, outColor1, ...); all must have the same texel count. */
  outShapes: readonly (readonly number[])[];
}

export interface RuntimeOptions {
  /** Bytes of released textures kept for reuse (default 256 MiB). */
  poolBudgetBytes?: number;
  /** Fill every new output with NaN before a kernel writes it, so unwritten texels show (tests). */
  poisonOutputs?: boolean;
  /** Call gl.getError() after every dispatch (slow; for debugging). */
  checkErrors?: boolean;
}

export interface MemoryInfo extends PoolStats {
  /** Live tensors (several may share one texture after a reshape). */
  tensors: number;
  /** Programs compiled so far. */
  programs: number;
}

type TensorContainer = Tensor | readonly TensorContainer[] | { readonly [k: string]: TensorContainer } | unknown;

export class Runtime {
  readonly maxTextureSize: number;
  readonly pool: TexturePool;
  readonly programs: ProgramCache;
  poisonOutputs: boolean;
  checkErrors: boolean;
  private readonly framebuffer: WebGLFramebuffer;
  private readonly vao: WebGLVertexArrayObject;
  private readonly scopes: Set<Tensor>[] = [];
  private readonly liveTensors = new Set<Tensor>();
  /** Functions to run when a tensor is disposed (onDispose), by tensor. */
  private readonly disposeHooks = new Map<Tensor, Set<() => void>>();
  /** Tensors derived from a source tensor (derived()), by source, then key. */
  private readonly derivedTensors = new Map<Tensor, Map<string, Tensor>>();
  private lost = false;
  private destroyed = false;
  /** Hooks run when the runtime is destroyed (e.g. freeing the platform context). */
  private readonly onDestroy: (() => void)[] = [];

  constructor(
    readonly gl: WebGL2RenderingContext,
    options: RuntimeOptions = {},
  ) {
    if (!gl.getExtension('EXT_color_buffer_float')) {
      throw new ContextError('this WebGL2 context cannot render to float32 textures (EXT_color_buffer_float missing)');
    }
    this.maxTextureSize = gl.getParameter(gl.MAX_TEXTURE_SIZE) as number;
    this.pool = new TexturePool(gl, this.maxTextureSize, options.poolBudgetBytes ?? 256 * 2 ** 20);
    this.programs = new ProgramCache(gl);
    this.poisonOutputs = options.poisonOutputs ?? false;
    this.checkErrors = options.checkErrors ?? false;
    const fb = gl.createFramebuffer();
    const vao = gl.createVertexArray();
    if (!fb || !vao) throw new ContextError('could not create a framebuffer or vertex array (context lost?)');
    this.framebuffer = fb;
    this.vao = vao;
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.BLEND);
    gl.disable(gl.DITHER);
    this.probeFloatRendering();
  }

  // ---------------------------------------------------------------- tensors

  /** Uploads data (row-major) as a tensor of the given shape. */
  tensor(data: ArrayLike<number>, shape: readonly number[]): Tensor {
    this.checkAlive();
    checkShape(shape);
    checkNumericData(data);
    const g = packedGeometry(shape);
    if (data.length !== g.size) {
      throw new ShapeError(`data has ${data.length} values but shape [${shape.join(', ')}] needs ${g.size}`);
    }
    const tex = this.pool.acquire(g.texels);
    const staging = new Float32Array(tex.capacity * 4);
    packChannels(data, shape, staging);
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, tex.texture);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, tex.width, tex.height, gl.RGBA, gl.FLOAT, staging);
    gl.bindTexture(gl.TEXTURE_2D, null);
    return new Tensor(this, shape, tex);
  }

  /** A tensor of zeros. */
  zeros(shape: readonly number[]): Tensor {
    return this.fill(shape, 0);
  }

  /** A tensor filled with one value (padding lanes stay zero). */
  fill(shape: readonly number[], value: number): Tensor {
    return this.run({ kernel: 'fill', outShape: shape, uniforms: { u_value: value, u_channels: packedGeometry(shape).channels } });
  }

  /**
   * A tensor of a new shape sharing the same texture. Free when the last dimension is unchanged;
   * otherwise the data is repacked by a kernel (see kernels/reshape.ts).
   */
  view(t: Tensor, shape: readonly number[]): Tensor {
    checkShape(shape);
    if (sizeOf(shape) !== t.size) {
      throw new ShapeError(`cannot reshape [${t.shape.join(', ')}] (${t.size} values) to [${shape.join(', ')}] (${sizeOf(shape)} values)`);
    }
    const newChannels = shape.length === 0 ? 1 : shape[shape.length - 1];
    if (newChannels !== t.geometry.channels) {
      throw new ShapeError(`view() keeps the last dimension (${t.geometry.channels}); got [${shape.join(', ')}]. Use reshape().`);
    }
    const tex = t.texture;
    tex.refs++;
    return new Tensor(this, shape, tex);
  }

  // ---------------------------------------------------------------- dispatch

  /** Runs a kernel into a new tensor of shape `outShape`. */
  run(call: KernelCall): Tensor {
    return this.runMulti({ ...call, outShapes: [call.outShape] })[0];
  }

  /**
   * Runs a kernel with several outputs (at most 4): its main() writes outColor, outColor1, ... All
   * outputs need the same texel count. Drawn once per output (see shaders/lib/prelude.glsl for why).
   */
  runMulti(call: MultiKernelCall): Tensor[] {
    this.checkAlive();
    const shapes = call.outShapes;
    if (shapes.length < 1 || shapes.length > 4) throw new NbfError(`kernel ${call.kernel}: 1 to 4 outputs, got ${shapes.length}`);
    shapes.forEach((s) => checkShape(s, `output shape of ${call.kernel}`));
    const texels = packedGeometry(shapes[0]).texels;
    for (const s of shapes) {
      if (packedGeometry(s).texels !== texels) {
        throw new ShapeError(`outputs of ${call.kernel} must have equal texel counts; got ${shapes.map((x) => `[${x.join(', ')}]`).join(' ')}`);
      }
    }
    const inputs = call.inputs ?? {};
    const outputs: GpuTexture[] = [];
    try {
      for (let i = 0; i < shapes.length; i++) {
        const defines = shapes.length > 1 ? { ...call.defines, NBF_OUTPUT: i } : call.defines;
        const compiled = this.programs.get(call.kernel, defines);
        for (const name of compiled.samplers) {
          if (!inputs[name]) throw new NbfError(`kernel ${call.kernel} needs an input named "${name}"`);
        }
        const out = this.pool.acquire(texels);
        outputs.push(out);
        this.draw(compiled, inputs, call.uniforms, out, texels);
      }
    } catch (e) {
      outputs.forEach((o) => this.pool.release(o));
      throw e;
    }
    return outputs.map((o, i) => new Tensor(this, shapes[i], o));
  }

  private draw(
    compiled: CompiledKernel,
    inputs: Record<string, Tensor>,
    extraUniforms: Record<string, UniformValue> | undefined,
    out: GpuTexture,
    texels: number,
  ): void {
    const gl = this.gl;
    this.resetDrawState();
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, out.texture, 0);
    gl.drawBuffers([gl.COLOR_ATTACHMENT0]);
    const rowsUsed = Math.max(1, Math.ceil(texels / out.width));
    if (this.poisonOutputs) {
      gl.viewport(0, 0, out.width, out.height);
      // clear() rather than clearBufferfv(), which crashes headless-gl 9.0.0-rc.10.
      gl.clearColor(NaN, NaN, NaN, NaN);
      gl.clear(gl.COLOR_BUFFER_BIT);
    }
    gl.viewport(0, 0, out.width, rowsUsed);
    gl.useProgram(compiled.program);
    const uniforms: Record<string, UniformValue | WebGLTexture> = { u_outWidth: out.width, u_outTexels: texels, ...(extraUniforms ?? {}) };
    for (const [name, t] of Object.entries(inputs)) {
      if (t.texture === out) throw new NbfError(`kernel ${compiled.key}: input ${name} is also its output`);
      uniforms[name] = t.texture.texture;
    }
    setUniforms(gl, compiled, uniforms);
    gl.bindVertexArray(this.vao);
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    gl.bindVertexArray(null);
    compiled.drawn = true;
    // Detach so a later kernel can sample this texture without a feedback loop.
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, null, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    if (this.checkErrors) this.assertNoGlError(compiled.key);
  }

  /** Compiles (and, for llvmpipe's lazy JIT, draws once) the given kernels ahead of use. */
  warmup(kernels: readonly { kernel: string; defines?: Defines }[]): void {
    for (const k of kernels) {
      const compiled = this.programs.get(k.kernel, k.defines);
      if (compiled.drawn) continue;
      const gl = this.gl;
      const out = this.pool.acquire(1);
      this.resetDrawState();
      gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, out.texture, 0);
      gl.drawBuffers([gl.COLOR_ATTACHMENT0]);
      gl.viewport(0, 0, 1, 1);
      gl.useProgram(compiled.program);
      // u_outTexels = 0: every fragment takes the cheap branch, but the whole program is JIT-compiled.
      setUniforms(gl, compiled, { u_outWidth: 1, u_outTexels: 0 });
      gl.bindVertexArray(this.vao);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
      gl.bindVertexArray(null);
      gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, null, 0);
      gl.bindFramebuffer(gl.FRAMEBUFFER, null);
      this.pool.release(out);
      compiled.drawn = true;
    }
  }

  // ---------------------------------------------------------------- readback

  /** Blocking download (readPixels into a Float32Array; pixel-buffer readback is broken in headless-gl). */
  readSync(t: Tensor): Float32Array {
    return unpackChannels(this.readTexels(t), t.shape);
  }

  /** Raw RGBA texels of a tensor (texels·4 values, padding lanes included); for tests and debugging. */
  readTexels(t: Tensor): Float32Array {
    this.checkAlive();
    const gl = this.gl;
    const tex = t.texture;
    const texels = t.geometry.texels;
    const rows = Math.max(1, Math.ceil(texels / tex.width));
    const buf = new Float32Array(rows * tex.width * 4);
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex.texture, 0);
    gl.readBuffer(gl.COLOR_ATTACHMENT0);
    gl.readPixels(0, 0, tex.width, rows, gl.RGBA, gl.FLOAT, buf);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, null, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    this.checkAlive();
    return buf.subarray(0, texels * 4);
  }

  /** Download after a fence: waits without blocking the event loop, then reads. */
  async read(t: Tensor): Promise<Float32Array> {
    this.checkAlive();
    const gl = this.gl;
    const sync = gl.fenceSync(gl.SYNC_GPU_COMMANDS_COMPLETE, 0);
    if (sync) {
      gl.flush();
      try {
        for (;;) {
          const status = gl.clientWaitSync(sync, 0, 0);
          if (status === gl.ALREADY_SIGNALED || status === gl.CONDITION_SATISFIED) break;
          if (status === gl.WAIT_FAILED) break;
          await new Promise((r) => setTimeout(r, 1));
          this.checkAlive();
        }
      } finally {
        gl.deleteSync(sync);
      }
    }
    return this.readSync(t);
  }

  // ---------------------------------------------------------------- memory

  /**
   * Runs fn; every tensor created inside and not returned (nor kept) is disposed when it returns.
   * Returned tensors (also inside arrays or plain objects) move to the enclosing scope.
   */
  scope<T>(fn: () => T): T {
    const created = new Set<Tensor>();
    this.scopes.push(created);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.scopes.pop();
      for (const t of created) t.dispose();
      throw e;
    }
    this.scopes.pop();
    if (result instanceof Promise) {
      throw new NbfError('scope() takes a synchronous function; await outside the scope');
    }
    const keep = new Set<Tensor>();
    collectTensors(result, keep);
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of created) {
      if (keep.has(t)) parent?.add(t);
      else t.dispose();
    }
    return result;
  }

  /** Takes a tensor out of every scope: it lives until dispose(). */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  /**
   * Runs `fn` once when `t` is disposed (by its owner, a scope, or destroy()). Returns a function that
   * cancels it. For caches of values computed from a tensor: tensors are immutable, so a cache keyed
   * on a tensor's identity stays valid until that tensor is disposed.
   */
  onDispose(t: Tensor, fn: () => void): () => void {
    if (t.isDisposed) throw new NbfError(`onDispose: tensor #${t.id} is already disposed`);
    let hooks = this.disposeHooks.get(t);
    if (!hooks) this.disposeHooks.set(t, (hooks = new Set()));
    const entry = () => fn();
    hooks.add(entry);
    return () => {
      const set = this.disposeHooks.get(t);
      if (!set) return;
      set.delete(entry);
      if (set.size === 0) this.disposeHooks.delete(t);
    };
  }

  /**
   * A tensor computed once from `source` by `make` and reused while `source` lives: a constant
   * operand's other layout (e.g. a weight's packed form, kernels/matmul.ts packKLast). Cached by
   * `source`'s identity and `key` (which must name everything the result depends on besides
   * `source`'s values). The result is kept out of every scope, belongs to the cache — callers must not
   * dispose it — and is disposed when `source` is (or the runtime destroyed). Temporaries of `make`
   * are freed.
   */
  derived(source: Tensor, key: string, make: () => Tensor): Tensor {
    void source.texture; // throws DisposedError (naming the tensor) if it was disposed
    let entries = this.derivedTensors.get(source);
    const cached = entries?.get(key);
    if (cached && !cached.isDisposed) return cached;
    const value = this.keep(this.scope(make));
    if (value === source) throw new NbfError(`derived(${key}): make() returned its source tensor`);
    if (!entries) {
      entries = new Map();
      this.derivedTensors.set(source, entries);
      this.onDispose(source, () => {
        const gone = this.derivedTensors.get(source);
        this.derivedTensors.delete(source);
        if (gone) for (const t of gone.values()) t.dispose();
      });
    }
    entries.set(key, value);
    return value;
  }

  memory(): MemoryInfo {
    return { ...this.pool.stats(), tensors: this.liveTensors.size, programs: this.programs.size };
  }

  /** @internal */
  track(t: Tensor): void {
    this.liveTensors.add(t);
    this.scopes[this.scopes.length - 1]?.add(t);
  }

  /** @internal */
  releaseStorage(t: Tensor, tex: GpuTexture): void {
    this.liveTensors.delete(t);
    for (const s of this.scopes) s.delete(t);
    if (!this.destroyed) this.pool.release(tex);
    const hooks = this.disposeHooks.get(t);
    if (hooks) {
      this.disposeHooks.delete(t);
      for (const fn of hooks) fn();
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Marks the context lost (called by the platform's context-loss event). */
  markContextLost(): void {
    this.lost = true;
  }

  get isContextLost(): boolean {
    return this.lost || this.gl.isContextLost();
  }

  /** @internal */
  addDestroyHook(fn: () => void): void {
    this.onDestroy.push(fn);
  }

  /** Frees every texture and program, then the context itself where the platform allows. */
  destroy(): void {
    if (this.destroyed) return;
    for (const t of [...this.liveTensors]) t.dispose();
    this.disposeHooks.clear();
    this.derivedTensors.clear();
    this.destroyed = true;
    this.pool.destroy();
    this.programs.destroy();
    this.gl.deleteFramebuffer(this.framebuffer);
    this.gl.deleteVertexArray(this.vao);
    for (const fn of this.onDestroy) fn();
  }

  private checkAlive(): void {
    if (this.destroyed) throw new ContextError('this runtime was destroyed');
    if (this.isContextLost) {
      throw new ContextLostError('the WebGL context was lost: every tensor on it is gone; create a new context');
    }
  }

  /**
   * Fixed-function state that would clip, cull or blend our full-viewport triangle. Another library on
   * the same context (tfjs enables SCISSOR_TEST and CULL_FACE) may have changed it since our last draw.
   */
  private resetDrawState(): void {
    const gl = this.gl;
    gl.disable(gl.SCISSOR_TEST);
    gl.disable(gl.CULL_FACE);
    gl.disable(gl.BLEND);
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.STENCIL_TEST);
  }

  private assertNoGlError(what: string): void {
    const err = this.gl.getError();
    if (err !== this.gl.NO_ERROR) throw new NbfError(`GL error 0x${err.toString(16)} after ${what}`);
  }

  /** Renders known values into a float32 target and reads them back: proves float rendering works. */
  private probeFloatRendering(): void {
    const expected = [1.5, -2.25, 3.0e-7, 65537.5];
    const gl = this.gl;
    let t: Tensor | undefined;
    try {
      t = this.fill([4], 0);
      t.dispose();
      t = this.tensor(expected, [4]);
      const probe = this.run({ kernel: 'copy', inputs: { X: t }, outShape: [4] });
      const got = probe.readSync();
      probe.dispose();
      if (got.some((v, i) => v !== Math.fround(expected[i]))) {
        throw new ContextError(`float32 render targets do not hold float32 values (wrote ${expected}, read ${Array.from(got)})`);
      }
    } catch (e) {
      if (e instanceof ContextError) throw e;
      throw new ContextError(`float32 render-target probe failed: ${(e as Error).message}`);
    } finally {
      t?.dispose();
    }
    const err = gl.getError();
    if (err !== gl.NO_ERROR) throw new ContextError(`float32 render-target probe raised GL error 0x${err.toString(16)}`);
  }
}

function collectTensors(value: TensorContainer, into: Set<Tensor>): void {
  if (value instanceof Tensor) into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collectTensors(v, into));
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, into);
  }
}

function checkNumericData(data: ArrayLike<number>): void {
  if (data instanceof Float32Array || data instanceof Float64Array || data instanceof Int32Array ||
      data instanceof Uint8Array || data instanceof Uint8ClampedArray || data instanceof Int16Array ||
      data instanceof Uint16Array || data instanceof Int8Array || data instanceof Uint32Array) return;
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) {
      if (typeof data[i] !== 'number') {
        throw new ShapeError(`tensor data must be numbers; element ${i} is ${typeof data[i]}`);
      }
    }
    return;
  }
  const name = (data as object)?.constructor?.name ?? typeof data;
  throw new ShapeError(`tensor data must be a number array or a numeric typed array (float32 storage); got ${name}`);
}
