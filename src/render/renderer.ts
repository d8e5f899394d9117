/**
 * GPU mesh renderer: rasterises posed bodies (the SMPL layer's vertex tensor, read by the vertex
 * shader, never downloaded) with WebGL draw calls and a depth test, one tile per body in an atlas,
 * then gathers the atlas into a G-buffer tensor [N, H, W, 4] for the kernels and networks.
 *
 *   const renderer = new MeshRenderer(runtime, model);
 *   const gbuffer = renderer.render(vertices, camera, { width: 224, height: 224 });
 *   const labels = partLabelMap(gbuffer, 12);          // [N, H, W, 1] class per pixel
 *   const colours = partColourMap(labels, 12);         // [N, H, W, 3] NBF palette
 *
 * G-buffer texel (shaders/render_mesh.glsl): (label code, depth Z in metres, nx, ny); all 0 for the
 * background. renderLayers() also returns the surface buffer [N, H, W, 4] (shaders/render_surface.glsl):
 * (rest-pose position x, y, z in metres, 1) of the visible surface point, all 0 for the background —
 * a second draw of the same meshes that reuses the first draw's depth buffer, so texture coordinates
 * follow the body. The runtime's dispatch only draws full-screen triangles, so the renderer owns its
 * program, vertex array, buffers, framebuffer and depth renderbuffer, and puts back every piece of GL
 * state it changes. CPU reference: render.ref.ts.
 */
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../runtime/tensor.js';
import { ContextError, NbfError, ShapeError } from '../runtime/errors.js';
import { sizeClass, textureDims } from '../runtime/layout.js';
import { setUniforms, shaderText, type CompiledKernel } from '../runtime/program-cache.js';
import type { BodyModel } from '../smpl/types.js';
import { encodeVertexLabel } from './parts.js';

export interface RenderSize {
  width: number;
  height: number;
}

export interface RenderOptions extends RenderSize {
  /** Near and far clipping depths in metres (default 0.05 and 1000). */
  near?: number;
  far?: number;
}

/** What the renderer needs of a body model; `vTemplate` (V·3 rest-pose positions) only for surface buffers. */
export type RenderableMesh = Pick<BodyModel, 'name' | 'vertexCount' | 'faces' | 'parts24' | 'parts12'> & { vTemplate?: ArrayLike<number> };

/** The rasteriser's two per-pixel buffers (see MeshRenderer.renderLayers). */
export interface RenderLayers {
  /** [N, H, W, 4] (label code, depth Z, nx, ny); 0 for the background. */
  gbuffer: Tensor;
  /** [N, H, W, 4] (rest-pose x, y, z in metres, 1); 0 for the background. */
  surface: Tensor;
}

/** Where each body's tile lies in the atlas texture. */
export interface AtlasLayout {
  /** Size class (texels) of the atlas tensor; its texture is `textureWidth` × `textureHeight`. */
  texels: number;
  textureWidth: number;
  textureHeight: number;
  tilesX: number;
  tilesY: number;
}

/** Vertex attribute locations (layout(location) in shaders/render_mesh_vertex.glsl). */
const LABEL_LOCATION = 0;
const REST_LOCATION = 1;

/** Largest image side the renderer accepts. */
export const MAX_IMAGE_SIZE = 4096;

/**
 * Smallest atlas (a pool size class, so it is an ordinary tensor texture) whose grid of W×H tiles
 * holds `bodies` tiles. Throws a ShapeError when no texture of the context's maximum size does.
 */
export function atlasLayout(bodies: number, width: number, height: number, maxTextureSize: number): AtlasLayout {
  let texels = bodies * width * height;
  for (;;) {
    const cls = sizeClass(texels);
    let dims: { width: number; height: number };
    try {
      dims = textureDims(cls, maxTextureSize);
    } catch {
      throw new ShapeError(`render: ${bodies} images of ${width}×${height} do not fit one ${maxTextureSize}×${maxTextureSize} texture; render fewer bodies per call`);
    }
    const tilesX = Math.floor(dims.width / width);
    if (tilesX >= 1) {
      const tilesY = Math.ceil(bodies / tilesX);
      if (tilesY * height <= dims.height) return { texels: cls, textureWidth: dims.width, textureHeight: dims.height, tilesX, tilesY };
    }
    texels = cls + 1;
  }
}

/**
 * Faces with each triangle's vertices rotated (winding kept) so that the last one — the provoking
 * vertex whose flat label colours the whole face — carries the label most of its vertices share.
 */
export function facesForFlatLabels(faces: Uint32Array, labels: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(faces.length);
  for (let f = 0; f < faces.length; f += 3) {
    const a = faces[f];
    const b = faces[f + 1];
    const c = faces[f + 2];
    const [la, lb, lc] = [labels[a], labels[b], labels[c]];
    if (la === lb || la === lc) out.set([b, c, a], f);
    else if (lb === lc) out.set([c, a, b], f);
    else out.set([a, b, c], f);
  }
  return out;
}

/**
 * The bound vertex array. headless-gl 9.0.0-rc.10 answers getParameter(VERTEX_ARRAY_BINDING) with the
 * native handle (a number) rather than the wrapper object; its wrapper keeps the binding in
 * `_activeVertexArrayObject`, which is what bindVertexArray() accepts back.
 */
function currentVertexArray(gl: WebGL2RenderingContext): WebGLVertexArrayObject | null {
  const bound: unknown = gl.getParameter(gl.VERTEX_ARRAY_BINDING);
  if (bound === null || typeof bound === 'object') return bound as WebGLVertexArrayObject | null;
  const tracked = (gl as unknown as { _activeVertexArrayObject?: WebGLVertexArrayObject | null })._activeVertexArrayObject;
  return tracked ?? null;
}

interface DrawCall {
  vertices: Tensor;
  camera: Tensor;
  N: number;
  width: number;
  height: number;
  near: number;
  far: number;
  layout: AtlasLayout;
}

interface SavedState {
  framebuffer: WebGLFramebuffer | null;
  renderbuffer: WebGLRenderbuffer | null;
  viewport: Int32Array;
  scissorBox: Int32Array;
  scissorTest: boolean;
  depthTest: boolean;
  depthFunc: number;
  depthMask: boolean;
  cullFace: boolean;
  blend: boolean;
  clearColor: Float32Array;
  clearDepth: number;
  program: WebGLProgram | null;
  vertexArray: WebGLVertexArrayObject | null;
  arrayBuffer: WebGLBuffer | null;
  activeTexture: number;
}

export class MeshRenderer {
  readonly vertexCount: number;
  readonly faceCount: number;
  private readonly gl: WebGL2RenderingContext;
  private program: CompiledKernel | null = null;
  private surfaceProgram: CompiledKernel | null = null;
  private readonly vertexArray: WebGLVertexArrayObject;
  private readonly labelBuffer: WebGLBuffer;
  private readonly restBuffer: WebGLBuffer;
  private readonly indexBuffer: WebGLBuffer;
  private readonly framebuffer: WebGLFramebuffer;
  private readonly depthBuffer: WebGLRenderbuffer;
  private depthSize = { width: 0, height: 0 };
  private disposed = false;
  /** Per-vertex label codes (1 + part24 + 32·part12). */
  readonly vertexLabels: Float32Array;
  /** Faces as drawn (see facesForFlatLabels). */
  readonly faces: Uint32Array;
  /** Rest-pose positions V·3 of the surface pass (the model's vTemplate), or null without one. */
  readonly restPositions: Float32Array | null;

  constructor(readonly runtime: Runtime, model: RenderableMesh) {
    const V = model.vertexCount;
    const where = `body model "${model.name}"`;
    if (model.faces.length === 0 || model.faces.length % 3 !== 0) throw new ShapeError(`MeshRenderer: ${where} has ${model.faces.length} face indices, not a positive multiple of 3`);
    if (model.parts24.length !== V || model.parts12.length !== V) {
      throw new ShapeError(`MeshRenderer: ${where} has ${model.parts24.length} parts24 and ${model.parts12.length} parts12 labels for ${V} vertices`);
    }
    for (let i = 0; i < model.faces.length; i++) {
      if (model.faces[i] >= V) throw new ShapeError(`MeshRenderer: ${where}: faces[${i}] = ${model.faces[i]} is not a vertex index 0..${V - 1}`);
    }
    for (let v = 0; v < V; v++) {
      if (model.parts24[v] > 23 || model.parts12[v] < 1 || model.parts12[v] > 12) {
        throw new ShapeError(`MeshRenderer: ${where}: vertex ${v} has parts24 ${model.parts24[v]} (0..23) and parts12 ${model.parts12[v]} (1..12)`);
      }
    }
    this.vertexCount = V;
    this.faceCount = model.faces.length / 3;
    this.vertexLabels = new Float32Array(V);
    for (let v = 0; v < V; v++) this.vertexLabels[v] = encodeVertexLabel(model.parts24[v], model.parts12[v]);
    this.faces = facesForFlatLabels(model.faces, this.vertexLabels);
    if (model.vTemplate !== undefined) {
      if (model.vTemplate.length !== 3 * V) throw new ShapeError(`MeshRenderer: ${where} has ${model.vTemplate.length} template coordinates for ${V} vertices (want ${3 * V})`);
      this.restPositions = Float32Array.from(model.vTemplate);
      if (!this.restPositions.every(Number.isFinite)) throw new ShapeError(`MeshRenderer: ${where} has non-finite template coordinates`);
    } else {
      this.restPositions = null;
    }

    const gl = (this.gl = runtime.gl);
    const vao = gl.createVertexArray();
    const labelBuffer = gl.createBuffer();
    const restBuffer = gl.createBuffer();
    const indexBuffer = gl.createBuffer();
    const framebuffer = gl.createFramebuffer();
    const depthBuffer = gl.createRenderbuffer();
    if (!vao || !labelBuffer || !restBuffer || !indexBuffer || !framebuffer || !depthBuffer) throw new ContextError('MeshRenderer: could not create GL objects (context lost?)');
    this.vertexArray = vao;
    this.labelBuffer = labelBuffer;
    this.restBuffer = restBuffer;
    this.indexBuffer = indexBuffer;
    this.framebuffer = framebuffer;
    this.depthBuffer = depthBuffer;

    const saved = this.saveState();
    try {
      const program = this.compiledProgram();
      gl.bindVertexArray(vao);
      gl.bindBuffer(gl.ARRAY_BUFFER, labelBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, this.vertexLabels, gl.STATIC_DRAW);
      // Attribute locations are fixed in the vertex shader (layout(location)), so the G-buffer and
      // surface programs read the same vertex array.
      const location = gl.getAttribLocation(program.program, 'a_label');
      if (location !== LABEL_LOCATION) throw new NbfError(`MeshRenderer: the vertex shader's a_label is at location ${location}, not ${LABEL_LOCATION}`);
      gl.enableVertexAttribArray(LABEL_LOCATION);
      gl.vertexAttribPointer(LABEL_LOCATION, 1, gl.FLOAT, false, 0, 0);
      // Rest-pose positions (zeros without a template: only the surface pass reads them).
      gl.bindBuffer(gl.ARRAY_BUFFER, restBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, this.restPositions ?? new Float32Array(3 * V), gl.STATIC_DRAW);
      gl.enableVertexAttribArray(REST_LOCATION);
      gl.vertexAttribPointer(REST_LOCATION, 3, gl.FLOAT, false, 0, 0);
      // The element buffer binding is part of the vertex array's state.
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, indexBuffer);
      gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, this.faces, gl.STATIC_DRAW);
    } finally {
      this.restoreState(saved);
    }
  }

  /**
   * Rasterises N bodies into N images: `vertices` [N, V, 3] in camera space (metres, the SMPL layer's
   * output with the translation applied), `camera` [N, 4] = (fx, fy, cx, cy). Returns the G-buffer
   * [N, H, W, 4] (see the file comment).
   */
  render(vertices: Tensor, camera: Tensor, options: RenderOptions): Tensor {
    const rt = this.runtime;
    return rt.scope(() => {
      const { atlas, layout } = this.renderAtlas(vertices, camera, options);
      return this.gather(atlas, layout, vertices.shape[0], options);
    });
  }

  /**
   * render() plus the surface buffer [N, H, W, 4]: per pixel the rest-pose (template) position of the
   * visible surface point and 1, 0 for the background (shaders/render_surface.glsl) — texture
   * coordinates that follow the body. Needs a model with vTemplate. A pixel is covered in the surface
   * buffer exactly when it is in the G-buffer (the second draw reuses the first one's depth buffer).
   */
  renderLayers(vertices: Tensor, camera: Tensor, options: RenderOptions): RenderLayers {
    if (!this.restPositions) throw new NbfError('MeshRenderer.renderLayers: the body model has no template positions (vTemplate) for the surface buffer');
    const rt = this.runtime;
    return rt.scope(() => {
      const { atlas, surfaceAtlas, layout } = this.drawAtlases(vertices, camera, options, true);
      const N = vertices.shape[0];
      return { gbuffer: this.gather(atlas, layout, N, options), surface: this.gather(surfaceAtlas!, layout, N, options) };
    });
  }

  private gather(atlas: Tensor, layout: AtlasLayout, N: number, options: RenderSize): Tensor {
    return this.runtime.run({
      kernel: 'render_gather',
      inputs: { Atlas: atlas },
      uniforms: { u_width: options.width, u_height: options.height, u_tilesX: layout.tilesX },
      outShape: [N, options.height, options.width, 4],
    });
  }

  /**
   * The drawing step alone: the atlas tensor (its texture holds tile n at (n mod tilesX, n div tilesX)
   * · (W, H), texels as in render_mesh.glsl; the tensor's shape [texels, 4] only sizes the texture)
   * and its layout. render() gathers it into [N, H, W, 4]. GL state is as it was before the call.
   */
  renderAtlas(vertices: Tensor, camera: Tensor, options: RenderOptions): { atlas: Tensor; layout: AtlasLayout } {
    const { atlas, layout } = this.drawAtlases(vertices, camera, options, false);
    return { atlas, layout };
  }

  private drawAtlases(vertices: Tensor, camera: Tensor, options: RenderOptions, withSurface: boolean): { atlas: Tensor; surfaceAtlas: Tensor | null; layout: AtlasLayout } {
    this.checkAlive();
    const { width, height } = options;
    const near = options.near ?? 0.05;
    const far = options.far ?? 1000;
    const V = this.vertexCount;
    if (vertices.shape.length !== 3 || vertices.shape[1] !== V || vertices.shape[2] !== 3) {
      throw new ShapeError(`render: vertices should be [N, ${V}, 3], got [${vertices.shape.join(', ')}]`);
    }
    const N = vertices.shape[0];
    if (camera.shape.length !== 2 || camera.shape[0] !== N || camera.shape[1] !== 4) {
      throw new ShapeError(`render: camera should be [${N}, 4] (fx, fy, cx, cy), got [${camera.shape.join(', ')}]`);
    }
    for (const [name, v] of [['width', width], ['height', height]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > MAX_IMAGE_SIZE) throw new ShapeError(`render: ${name} ${v} must be an integer in 1..${MAX_IMAGE_SIZE}`);
    }
    if (!(near > 0 && far > near)) throw new NbfError(`render: depth range near ${near}, far ${far} must satisfy 0 < near < far`);
    if (vertices.runtime !== this.runtime || camera.runtime !== this.runtime) throw new NbfError('render: tensors from another context');
    const rt = this.runtime;
    const layout = atlasLayout(N, width, height, rt.maxTextureSize);
    const saved = this.saveState();
    let atlas: Tensor | undefined;
    let surfaceAtlas: Tensor | null = null;
    try {
      atlas = rt.zeros([layout.texels, 4]);
      if (withSurface) surfaceAtlas = rt.zeros([layout.texels, 4]);
      const draw = { vertices, camera, N, width, height, near, far, layout };
      this.draw(atlas, this.compiledProgram(), draw, true);
      if (surfaceAtlas) this.draw(surfaceAtlas, this.compiledSurfaceProgram(), draw, false);
    } catch (e) {
      atlas?.dispose();
      surfaceAtlas?.dispose();
      throw e;
    } finally {
      this.restoreState(saved);
    }
    return { atlas, surfaceAtlas, layout };
  }

  /**
   * Draws every body into its tile of `target`. The first pass clears colour and depth and writes depth
   * (test LESS); a later pass over the same depth buffer clears colour only and draws with test LEQUAL
   * and depth writes off, so it colours exactly the surface the first pass left visible.
   */
  private draw(target: Tensor, program: CompiledKernel, d: DrawCall, firstPass: boolean): void {
    const gl = this.gl;
    const tex = target.texture;
    const { N, width, height, layout } = d;
    if (firstPass) this.ensureDepthBuffer(tex.width, tex.height);
    else if (this.depthSize.width !== tex.width || this.depthSize.height !== tex.height) throw new NbfError('render: the surface atlas and the depth buffer differ in size');
    gl.bindFramebuffer(gl.FRAMEBUFFER, this.framebuffer);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, tex.texture, 0);
    gl.framebufferRenderbuffer(gl.FRAMEBUFFER, gl.DEPTH_ATTACHMENT, gl.RENDERBUFFER, this.depthBuffer);
    gl.drawBuffers([gl.COLOR_ATTACHMENT0]);
    const status = gl.checkFramebufferStatus(gl.FRAMEBUFFER);
    if (status !== gl.FRAMEBUFFER_COMPLETE) throw new ContextError(`render: the atlas framebuffer is incomplete (status 0x${status.toString(16)})`);
    const usedHeight = layout.tilesY * height;
    gl.disable(gl.SCISSOR_TEST);
    gl.disable(gl.BLEND);
    gl.disable(gl.CULL_FACE);
    gl.viewport(0, 0, tex.width, usedHeight);
    // clear() rather than clearBufferfv(), which crashes headless-gl 9.0.0-rc.10.
    gl.clearColor(0, 0, 0, 0);
    gl.enable(gl.DEPTH_TEST);
    if (firstPass) {
      gl.clearDepth(1);
      gl.depthMask(true);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
      gl.depthFunc(gl.LESS);
    } else {
      gl.clear(gl.COLOR_BUFFER_BIT);
      gl.depthMask(false);
      gl.depthFunc(gl.LEQUAL);
    }
    gl.useProgram(program.program);
    setUniforms(gl, program, {
      Vertices: d.vertices.texture.texture,
      Camera: d.camera.texture.texture,
      u_vertexCount: this.vertexCount,
      u_imageSize: [width, height],
      u_depthRange: [d.near, d.far],
    });
    const bodyLocation = program.uniforms.get('u_body')?.location ?? null;
    gl.bindVertexArray(this.vertexArray);
    for (let n = 0; n < N; n++) {
      const tx = n % layout.tilesX;
      const ty = Math.floor(n / layout.tilesX);
      gl.viewport(tx * width, ty * height, width, height);
      gl.uniform1i(bodyLocation, n);
      gl.drawElements(gl.TRIANGLES, this.faces.length, gl.UNSIGNED_INT, 0);
    }
    program.drawn = true;
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, null, 0);
    if (this.runtime.checkErrors) {
      const err = gl.getError();
      if (err !== gl.NO_ERROR) throw new NbfError(`render: GL error 0x${err.toString(16)} while drawing ${N} bodies`);
    }
  }

  private ensureDepthBuffer(width: number, height: number): void {
    if (this.depthSize.width === width && this.depthSize.height === height) return;
    const gl = this.gl;
    gl.bindRenderbuffer(gl.RENDERBUFFER, this.depthBuffer);
    gl.renderbufferStorage(gl.RENDERBUFFER, gl.DEPTH_COMPONENT32F, width, height);
    this.depthSize = { width, height };
  }

  private compiledProgram(): CompiledKernel {
    if (!this.program) {
      const fragment = `#version 300 es\n${shaderText('render_mesh')}`;
      const vertex = `#version 300 es\n${shaderText('render_mesh_vertex')}`;
      this.program = this.runtime.programs.compile('render_mesh', fragment, 'shaders/render_mesh.glsl', vertex);
    }
    return this.program;
  }

  private compiledSurfaceProgram(): CompiledKernel {
    if (!this.surfaceProgram) {
      const fragment = `#version 300 es\n${shaderText('render_surface')}`;
      const vertex = `#version 300 es\n${shaderText('render_mesh_vertex')}`;
      this.surfaceProgram = this.runtime.programs.compile('render_surface', fragment, 'shaders/render_surface.glsl', vertex);
    }
    return this.surfaceProgram;
  }

  private saveState(): SavedState {
    const gl = this.gl;
    return {
      framebuffer: gl.getParameter(gl.FRAMEBUFFER_BINDING),
      renderbuffer: gl.getParameter(gl.RENDERBUFFER_BINDING),
      viewport: gl.getParameter(gl.VIEWPORT),
      scissorBox: gl.getParameter(gl.SCISSOR_BOX),
      scissorTest: gl.isEnabled(gl.SCISSOR_TEST),
      depthTest: gl.isEnabled(gl.DEPTH_TEST),
      depthFunc: gl.getParameter(gl.DEPTH_FUNC),
      depthMask: gl.getParameter(gl.DEPTH_WRITEMASK),
      cullFace: gl.isEnabled(gl.CULL_FACE),
      blend: gl.isEnabled(gl.BLEND),
      clearColor: gl.getParameter(gl.COLOR_CLEAR_VALUE),
      clearDepth: gl.getParameter(gl.DEPTH_CLEAR_VALUE),
      program: gl.getParameter(gl.CURRENT_PROGRAM),
      vertexArray: currentVertexArray(gl),
      arrayBuffer: gl.getParameter(gl.ARRAY_BUFFER_BINDING),
      activeTexture: gl.getParameter(gl.ACTIVE_TEXTURE),
    };
  }

  private restoreState(s: SavedState): void {
    const gl = this.gl;
    gl.bindFramebuffer(gl.FRAMEBUFFER, s.framebuffer);
    gl.bindRenderbuffer(gl.RENDERBUFFER, s.renderbuffer);
    gl.viewport(s.viewport[0], s.viewport[1], s.viewport[2], s.viewport[3]);
    gl.scissor(s.scissorBox[0], s.scissorBox[1], s.scissorBox[2], s.scissorBox[3]);
    const toggle = (cap: number, on: boolean) => (on ? gl.enable(cap) : gl.disable(cap));
    toggle(gl.SCISSOR_TEST, s.scissorTest);
    toggle(gl.DEPTH_TEST, s.depthTest);
    toggle(gl.CULL_FACE, s.cullFace);
    toggle(gl.BLEND, s.blend);
    gl.depthFunc(s.depthFunc);
    gl.depthMask(s.depthMask);
    gl.clearColor(s.clearColor[0], s.clearColor[1], s.clearColor[2], s.clearColor[3]);
    gl.clearDepth(s.clearDepth);
    gl.useProgram(s.program);
    gl.bindVertexArray(s.vertexArray);
    gl.bindBuffer(gl.ARRAY_BUFFER, s.arrayBuffer);
    gl.activeTexture(s.activeTexture);
  }

  private checkAlive(): void {
    if (this.disposed) throw new NbfError('MeshRenderer: used after dispose()');
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Frees the renderer's GL objects (not the runtime's). Safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const gl = this.gl;
    gl.deleteVertexArray(this.vertexArray);
    gl.deleteBuffer(this.labelBuffer);
    gl.deleteBuffer(this.restBuffer);
    gl.deleteBuffer(this.indexBuffer);
    gl.deleteFramebuffer(this.framebuffer);
    gl.deleteRenderbuffer(this.depthBuffer);
    if (this.program) gl.deleteProgram(this.program.program);
    if (this.surfaceProgram) gl.deleteProgram(this.surfaceProgram.program);
    this.program = null;
    this.surfaceProgram = null;
  }
}
