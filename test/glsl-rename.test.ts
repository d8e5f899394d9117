/**
 * The identifier renaming of scripts/glsl-rename.mjs changes names and nothing else: per file it is a
 * one-to-one map (undone, it gives back every token of the comments-only minified file, line for line),
 * it leaves alone every name seen from outside a file, and every kernel compiles renamed wherever it
 * compiled before, under #defines that reach each #if branch. The kernels' own tests run the renamed
 * text (src/generated/shaders.ts) against their float64 references.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: plain .mjs build scripts without type declarations
import { minifiedShaderSources, shaderSources } from '../scripts/shader-sources.mjs';
// @ts-expect-error: plain .mjs build scripts without type declarations
import { renameShaderIdentifiers } from '../scripts/glsl-rename.mjs';
import { testRuntime } from './helpers/gl.js';

const before: Map<string, string> = minifiedShaderSources();
const { sources: after, maps } = renameShaderIdentifiers(before) as { sources: Map<string, string>; maps: Map<string, Map<string, string>> };

const TOKEN = /0[xX][0-9a-fA-F]+[uU]?|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[uU]?|[A-Za-z_]\w*|"[^"]*"|\S/g;
const tokens = (line: string) => line.match(TOKEN) ?? [];

function walkTs(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walkTs(full) : n.endsWith('.ts') ? [full] : [];
  });
}

describe('GLSL identifier renaming', () => {
  it('is what src/generated/shaders.ts embeds', () => {
    expect([...shaderSources()]).toEqual([...after]);
  });

  it('is one-to-one per file: mapped back, every line has the tokens it had', () => {
    for (const [name, text] of after) {
      const map = maps.get(name)!;
      const back = new Map([...map].map(([from, to]) => [to, from]));
      expect(back.size, `${name}: two names renamed alike`).toBe(map.size);
      const original = before.get(name)!.split('\n');
      const lines = text.split('\n');
      expect(lines.length, name).toBe(original.length);
      lines.forEach((line, i) => {
        const restored = tokens(line).map((t, k, all) => (all[k - 1] !== '.' && back.has(t) ? back.get(t) : t));
        expect(restored, `${name}:${i + 1}`).toEqual(tokens(original[i]));
      });
    }
  });

  it('keeps uniforms, in/out variables, macros, struct fields and what lib/ files share; new names are short and lower case', () => {
    const outside = new Set<string>();
    const names = (text: string) => new Set(tokens(text).filter((t, k, all) => /^[A-Za-z_]/.test(t) && all[k - 1] !== '.'));
    for (const [name, text] of before) {
      for (const m of text.matchAll(/^(?:layout\([^)]*\)\s*)?(?:flat\s+)?(?:uniform|in|out)\s+\w+\s+(\w+)/gm)) outside.add(m[1]);
      for (const line of text.split('\n').filter((l) => l.startsWith('#') && !l.startsWith('#include'))) {
        const define = /^#define (\w+)/.exec(line);
        if (define) outside.add(define[1]);
        else for (const n of names(line.slice(1))) outside.add(n);
      }
      for (const m of text.matchAll(/struct\s+\w+\s*\{([^}]*)\}/g)) for (const n of names(m[1])) outside.add(n);
      // A lib/ file's names that stay as written are what kernels call or what it expects of them.
      if (name.startsWith('lib/')) for (const n of names(text)) if (!maps.get(name)!.has(n)) outside.add(n);
    }
    expect(outside).toContain('u_outTexels');
    expect(outside).toContain('kernel');
    expect(outside).toContain('fetchTexel');
    for (const [name, map] of maps) {
      for (const [from, to] of map) {
        expect(outside.has(from), `${name}: ${from} is seen from outside the file`).toBe(false);
        expect(to, `${name}: ${from}`).toMatch(/^[a-z]{1,2}\d?$/);
      }
    }
  });

  it('the runtime passes only upper-case #defines (new names are lower case, so none can be a macro)', () => {
    const src = walkTs('src').filter((f) => !f.includes('generated')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const keys = new Set<string>();
    for (const m of src.matchAll(/defines(?:\s*:\s*[\w<>, ]*)?\s*[:=]\s*\{([^}]*)\}/g)) {
      for (const k of m[1].matchAll(/(?:^|,)\s*(?:'([^']+)'|([A-Za-z_]\w*))\s*:/g)) keys.add(k[1] ?? k[2]);
    }
    for (const m of src.matchAll(/defines\.([A-Za-z_]\w*)\s*=/g)) keys.add(m[1]);
    for (const m of src.matchAll(/'([A-Z_][A-Z0-9_]*\([a-z]\))'\s*:/g)) keys.add(m[1]);
    expect(keys.size).toBeGreaterThan(20);
    for (const k of keys) expect(k, 'a #define name from src/').toMatch(/^[A-Z][A-Z0-9_]*(\([a-z]\))?$/);
  });
});

/** The program a kernel compiles to, as src/runtime/program-cache.ts assembles it, from `shaders`. */
function fragment(shaders: Map<string, string>, kernel: string, defines: string): string {
  const lines = shaders.get(kernel)!.split('\n');
  let included = 0;
  const body = lines.map((line, i) => {
    const m = /^#include "(lib\/[\w-]+)"$/.exec(line);
    return m ? `#line 1 ${3 + included++}\n${shaders.get(m[1])}\n#line ${i + 2} 1` : line;
  }).join('\n');
  return ['#version 300 es', defines, '#line 1 0', shaders.get('lib/prelude'), '#line 1 1', body, '#line 1 2', shaders.get('lib/main')].join('\n');
}

/**
 * #define sets that together reach every #if branch of a kernel: every macro its #if lines test at 1,
 * then each of them in turn at each value its tests compare with (and one either side).
 */
function defineSets(text: string): string[] {
  const values = new Map<string, Set<number>>();
  const definedHere = new Set([...text.matchAll(/^#define (\w+)/gm)].map((m) => m[1]));
  for (const line of text.split('\n').filter((l) => /^#\s*(if|elif|ifdef|ifndef)\b/.test(l))) {
    const names = (line.slice(1).match(/[A-Z_][A-Z0-9_]*/g) ?? []).filter((n) => !definedHere.has(n) && n !== 'defined');
    const numbers = (line.match(/\b\d+\b/g) ?? []).map(Number);
    for (const n of names) {
      const set = values.get(n) ?? new Set([0, 1]);
      for (const v of numbers) [v - 1, v, v + 1].forEach((x) => x >= 0 && set.add(x));
      values.set(n, set);
    }
  }
  // Macros the code uses without testing them (sizes, the activation) need some value to compile.
  const declared = new Set([...text.matchAll(/\b(?:float|u?int|bool|void|[biu]?vec[234]|mat[234](?:x[234])?|[iu]?sampler\w+|FieldCell)\s+(\w+)/g)].map((m) => m[1]));
  for (const n of new Set(text.match(/\b[A-Z][A-Z0-9_]*\b/g) ?? [])) if (!values.has(n) && !definedHere.has(n) && !declared.has(n)) values.set(n, new Set([1]));
  values.delete('NBF_OUTPUT'); // the runtime's own multi-output switch: tried separately below
  const render = (overrides: Record<string, number>) =>
    ['#define ACTIVATE(v) (v)', ...[...values.keys()].filter((n) => n !== 'ACTIVATE').map((n) => `#define ${n} ${overrides[n] ?? 1}`)].join('\n');
  const sets = [render({}), `${render({})}\n#define NBF_OUTPUT 1`];
  for (const [n, vs] of values) for (const v of vs) if (v !== 1) sets.push(render({ [n]: v }));
  return sets;
}

describe('renamed kernels compile', () => {
  it('wherever the comments-only text compiles, under #defines that reach every branch', () => {
    const gl = testRuntime().gl;
    const compiles = (type: number, source: string) => {
      const shader = gl.createShader(type)!;
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      const ok = !!gl.getShaderParameter(shader, gl.COMPILE_STATUS);
      const log = ok ? '' : gl.getShaderInfoLog(shader) ?? '';
      gl.deleteShader(shader);
      return { ok, log };
    };
    let tried = 0;
    const failures: string[] = [];
    for (const name of before.keys()) {
      if (name.startsWith('lib/')) continue;
      // The renderer's own programs: complete shaders of their own (src/render/renderer.ts).
      const standalone = ['render_mesh', 'render_surface', 'render_mesh_vertex'].includes(name);
      const type = name === 'render_mesh_vertex' ? gl.VERTEX_SHADER : gl.FRAGMENT_SHADER;
      const program = (shaders: Map<string, string>, defines: string) => (standalone ? `#version 300 es\n${defines}\n${shaders.get(name)}` : fragment(shaders, name, defines));
      const included = [...before.get(name)!.matchAll(/^#include "([^"]+)"$/gm)].map((m) => before.get(m[1])!).join('\n');
      const sets = defineSets(`${before.get(name)}\n${included}`);
      expect(compiles(type, program(before, sets[0])).ok, `${name} compiles with every macro at 1`).toBe(true);
      for (const defines of sets) {
        const original = compiles(type, program(before, defines));
        if (!original.ok) continue; // a size past what the kernel takes (#error), as before
        tried++;
        const renamed = compiles(type, program(after, defines));
        if (!renamed.ok) failures.push(`${name} with ${defines.replace(/\n/g, '; ')}:\n${renamed.log}`);
      }
    }
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(300);
  });
});
