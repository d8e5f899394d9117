/**
 * Compiles kernels once per (kernel, specialisation) and caches them. Shapes never enter the key:
 * kernels read sizes, strides and offsets from uniforms, so a network of many layer shapes compiles
 * one program per kernel variant instead of one per layer (tfjs's top warm-up complaint).
 *
 * A program's fragment source is: `#version 300 es`, the `#define`s of the specialisation,
 * shaders/lib/prelude.glsl, the kernel's own .glsl file (its `#include "lib/…"` lines expanded), then shaders/lib/main.glsl (which calls the kernel's `vec4 kernel(int)`
 * unless the kernel defines CUSTOM_MAIN and writes its own main()).
 *
 * Compilation and uniform upload are written here rather than through twgl.js: twgl's program
 * helpers raise GL errors on headless-gl 9.0.0-rc.10, and dispatch wants a lean uniform path.
 */
import { SHADERS } from '../generated/shaders.js';
import { NbfError, ShaderError } from './errors.js';

export type Defines = Record<string, string | number | boolean>;
export type UniformValue = number | boolean | readonly number[] | readonly boolean[] | Float32Array | Int32Array;

interface UniformSlot {
  location: WebGLUniformLocation;
  type: number;
  /** Array length (1 for a plain uniform). */
  size: number;
  /** Texture unit, for samplers. */
  unit: number;
}

export interface CompiledKernel {
  readonly key: string;
  readonly program: WebGLProgram;
  readonly uniforms: ReadonlyMap<string, UniformSlot>;
  /** Sampler uniform names, in texture-unit order. */
  readonly samplers: readonly string[];
  /** llvmpipe compiles at the first draw; warmup() draws once to pay that ahead. */
  drawn: boolean;
}

export const VERTEX_SHADER = `#version 300 es
// One triangle that covers the viewport; no vertex buffers needed.
void main() {
  vec2 p = vec2(float((gl_VertexID << 1) & 2), float(gl_VertexID & 2));
  gl_Position = vec4(p * 2.0 - 1.0, 0.0, 1.0);
}
`;

export function shaderText(name: string): string {
  const text = SHADERS[name];
  if (text === undefined) {
    throw new ShaderError(`no shader named "${name}" (looked for shaders/${name}.glsl; run npm run gen after adding one)`);
  }
  return text;
}

/** Value a define takes in GLSL (booleans become 1/0, so `true` and `1` share one program). */
function defineValue(v: string | number | boolean): string {
  return typeof v === 'boolean' ? (v ? '1' : '0') : String(v);
}

export function cacheKey(kernel: string, defines: Defines = {}): string {
  const parts = Object.keys(defines).sort().map((k) => `${k}=${defineValue(defines[k])}`);
  return parts.length ? `${kernel}|${parts.join(',')}` : kernel;
}

export function fragmentSource(kernel: string, defines: Defines = {}): string {
  const defineLines = Object.keys(defines)
    .sort()
    .map((k) => `#define ${k} ${defineValue(defines[k])}`)
    .join('\n');
  return ['#version 300 es', defineLines, '#line 1 0', shaderText('lib/prelude'), '#line 1 1', expandIncludes(kernel), '#line 1 2', shaderText('lib/main')].join('\n');
}

/** `#include "lib/<name>"` on a line of its own pulls in shaders/lib/<name>.glsl (one level deep). */
const INCLUDE = /^\s*#include\s+"(lib\/[\w-]+)"\s*$/;

/**
 * A kernel's text with its includes expanded. GLSL ES has no #include, so the expansion happens here:
 * helpers that several kernels share (a 3×3 matrix fetch, an eigen-solver that a forward kernel and
 * its backward must run identically) live once in shaders/lib/. `#line` directives keep compile-log
 * line numbers pointing into the right file: source 3, 4, … are the includes in order.
 */
export function expandIncludes(kernel: string): string {
  const lines = shaderText(kernel).split('\n');
  const out: string[] = [];
  let included = 0;
  lines.forEach((line, i) => {
    const match = INCLUDE.exec(line);
    if (!match) {
      out.push(line);
      return;
    }
    const text = shaderText(match[1]);
    if (text.split('\n').some((l) => INCLUDE.test(l))) throw new ShaderError(`${match[1]}.glsl (included by ${kernel}.glsl) may not include other files`);
    out.push(`#line 1 ${3 + included++}`, text, `#line ${i + 2} 1`);
  });
  return out.join('\n');
}

export class ProgramCache {
  private readonly programs = new Map<string, CompiledKernel>();
  private vertexShader: WebGLShader | null = null;

  constructor(private readonly gl: WebGL2RenderingContext) {}

  get size(): number {
    return this.programs.size;
  }

  get(kernel: string, defines: Defines = {}): CompiledKernel {
    const key = cacheKey(kernel, defines);
    let compiled = this.programs.get(key);
    if (!compiled) {
      compiled = this.compile(key, fragmentSource(kernel, defines), `shaders/${kernel}.glsl`);
      this.programs.set(key, compiled);
    }
    return compiled;
  }

  /** Compiles a complete fragment source (used by kernels that are not built from the prelude). */
  compile(key: string, fragment: string, file: string, vertex?: string): CompiledKernel {
    const gl = this.gl;
    const vs = vertex ? this.shader(gl.VERTEX_SHADER, vertex, key, file) : (this.vertexShader ??= this.shader(gl.VERTEX_SHADER, VERTEX_SHADER, 'fullscreen-triangle', 'program-cache.ts'));
    const fs = this.shader(gl.FRAGMENT_SHADER, fragment, key, file);
    const program = gl.createProgram();
    if (!program) throw new ShaderError(`could not create a program for ${key} (context lost?)`);
    gl.attachShader(program, vs);
    gl.attachShader(program, fs);
    gl.linkProgram(program);
    gl.deleteShader(fs);
    if (vertex) gl.deleteShader(vs);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      const log = gl.getProgramInfoLog(program);
      gl.deleteProgram(program);
      throw new ShaderError(`kernel "${key}" (${file}) failed to link:\n${log}`);
    }
    const uniforms = new Map<string, UniformSlot>();
    const samplers: string[] = [];
    const count = gl.getProgramParameter(program, gl.ACTIVE_UNIFORMS) as number;
    for (let i = 0; i < count; i++) {
      const info = gl.getActiveUniform(program, i);
      if (!info) continue;
      const name = info.name.replace(/\[0\]$/, '');
      const location = gl.getUniformLocation(program, info.name);
      if (!location) continue;
      const isSampler = info.type === gl.SAMPLER_2D || info.type === gl.SAMPLER_2D_ARRAY || info.type === gl.SAMPLER_3D;
      uniforms.set(name, { location, type: info.type, size: info.size, unit: isSampler ? samplers.length : -1 });
      if (isSampler) samplers.push(name);
    }
    return { key, program, uniforms, samplers, drawn: false };
  }

  private shader(type: number, source: string, key: string, file: string): WebGLShader {
    const gl = this.gl;
    const shader = gl.createShader(type);
    if (!shader) throw new ShaderError(`could not create a shader for ${key} (context lost?)`);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
      const log = gl.getShaderInfoLog(shader);
      gl.deleteShader(shader);
      throw new ShaderError(
        `kernel "${key}" failed to compile (${file}; in the log, source 1 is that file, 0 the prelude, 2 lib/main.glsl, 3… its #includes in order):\n${log}`,
      );
    }
    return shader;
  }

  destroy(): void {
    for (const p of this.programs.values()) this.gl.deleteProgram(p.program);
    if (this.vertexShader) this.gl.deleteShader(this.vertexShader);
    this.vertexShader = null;
    this.programs.clear();
  }
}

/** Uploads uniform values; samplers take a WebGLTexture (2D) bound to the slot's texture unit. */
export function setUniforms(
  gl: WebGL2RenderingContext,
  compiled: CompiledKernel,
  values: Record<string, UniformValue | WebGLTexture>,
): void {
  for (const [name, value] of Object.entries(values)) {
    const slot = compiled.uniforms.get(name);
    // The GLSL compiler drops uniforms a specialisation does not use, so unknown names are skipped.
    if (!slot) continue;
    const loc = slot.location;
    switch (slot.type) {
      case gl.SAMPLER_2D:
      case gl.SAMPLER_2D_ARRAY:
      case gl.SAMPLER_3D:
        gl.activeTexture(gl.TEXTURE0 + slot.unit);
        gl.bindTexture(slot.type === gl.SAMPLER_2D ? gl.TEXTURE_2D : slot.type === gl.SAMPLER_3D ? gl.TEXTURE_3D : gl.TEXTURE_2D_ARRAY, value as WebGLTexture);
        gl.uniform1i(loc, slot.unit);
        break;
      case gl.FLOAT: gl.uniform1fv(loc, toFloats(value, name, slot.size)); break;
      case gl.FLOAT_VEC2: gl.uniform2fv(loc, toFloats(value, name, 2 * slot.size)); break;
      case gl.FLOAT_VEC3: gl.uniform3fv(loc, toFloats(value, name, 3 * slot.size)); break;
      case gl.FLOAT_VEC4: gl.uniform4fv(loc, toFloats(value, name, 4 * slot.size)); break;
      case gl.FLOAT_MAT3: gl.uniformMatrix3fv(loc, false, toFloats(value, name, 9 * slot.size)); break;
      case gl.FLOAT_MAT4: gl.uniformMatrix4fv(loc, false, toFloats(value, name, 16 * slot.size)); break;
      case gl.INT:
      case gl.BOOL: gl.uniform1iv(loc, toInts(value, name, slot.size)); break;
      case gl.INT_VEC2:
      case gl.BOOL_VEC2: gl.uniform2iv(loc, toInts(value, name, 2 * slot.size)); break;
      case gl.INT_VEC3:
      case gl.BOOL_VEC3: gl.uniform3iv(loc, toInts(value, name, 3 * slot.size)); break;
      case gl.INT_VEC4:
      case gl.BOOL_VEC4: gl.uniform4iv(loc, toInts(value, name, 4 * slot.size)); break;
      default:
        throw new NbfError(`uniform ${name} of kernel ${compiled.key} has a type (0x${slot.type.toString(16)}) the runtime does not set`);
    }
  }
}

function toList(value: unknown, name: string, n: number): ArrayLike<number> {
  const list = typeof value === 'number' || typeof value === 'boolean' ? [Number(value)] : (value as ArrayLike<number>);
  if (!list || typeof list.length !== 'number') throw new NbfError(`uniform ${name}: expected a number or list, got ${String(value)}`);
  if (list.length > n) throw new NbfError(`uniform ${name} takes at most ${n} values, got ${list.length}`);
  return list;
}
function toFloats(value: unknown, name: string, n: number): Float32Array {
  const list = toList(value, name, n);
  const out = new Float32Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = Number(list[i]);
  return out;
}
function toInts(value: unknown, name: string, n: number): Int32Array {
  const list = toList(value, name, n);
  const out = new Int32Array(list.length);
  for (let i = 0; i < list.length; i++) out[i] = Number(list[i]);
  return out;
}
