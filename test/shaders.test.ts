/** Standards every kernel file keeps: a header comment with formula and layouts; docs in sync. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walk(full) : n.endsWith('.glsl') ? [full] : [];
  });
}

function walkTs(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walkTs(full) : n.endsWith('.ts') ? [full] : [];
  });
}

describe('shader sources', () => {
  const files = walk('shaders').filter((f) => !f.includes('/lib/'));

  it('every kernel file opens with a header comment of at least three lines', () => {
    const bad = files.filter((f) => {
      const lines = readFileSync(f, 'utf8').split('\n');
      let n = 0;
      while (n < lines.length && lines[n].startsWith('//')) n++;
      return n < 3;
    });
    expect(bad).toEqual([]);
  });

  it('every kernel file names its layouts (input/output) in the header', () => {
    const bad = files.filter((f) => {
      const header = readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n').toLowerCase();
      return !(header.includes('output') || header.includes('out ') || header.includes('writes'));
    });
    expect(bad).toEqual([]);
  });

  it('every kernel is named by a string literal in src/ (the browser bundles embed only the kernels their code names)', () => {
    const sources = walkTs('src').filter((f) => !f.includes('generated')).map((f) => readFileSync(f, 'utf8')).join('\n');
    const unnamed = files
      .map((f) => f.replace(/\\/g, '/').replace(/^shaders\//, '').replace(/\.glsl$/, ''))
      .filter((name) => !['"', "'", '`'].some((q) => sources.includes(`${q}${name}${q}`)));
    expect(unnamed, 'pick kernels by literal names (scripts/browser-bundle.mjs finds them that way)').toEqual([]);
  });

  it('docs/kernels.md is regenerated from the current shaders', () => {
    const before = readFileSync('docs/kernels.md', 'utf8');
    execFileSync(process.execPath, ['scripts/docs-kernels.mjs'], { stdio: 'ignore' });
    const after = readFileSync('docs/kernels.md', 'utf8');
    expect(after === before, 'docs/kernels.md was stale: run npm run docs:kernels and commit it').toBe(true);
  });
});

describe('#include of shared GLSL helpers', () => {
  it('expands each include into the kernel source with #line markers back to the kernel', async () => {
    const { expandIncludes, shaderText } = await import('../src/runtime/program-cache.js');
    const kernel = 'smpl_orthogonalise_backward';
    const raw = shaderText(kernel).split('\n');
    const expanded = expandIncludes(kernel);
    expect(expanded).not.toMatch(/^\s*#include/m);
    expect(expanded).toContain(shaderText('lib/symmetric_eigen'));
    expect(expanded).toContain(shaderText('lib/matrix3'));
    // After each include, numbering resumes at the kernel's next line (source 1).
    raw.forEach((line, i) => {
      if (line.startsWith('#include')) expect(expanded).toContain(`#line ${i + 2} 1`);
    });
  });

  it('every #include in a kernel names an existing shaders/lib file', () => {
    const kernelFiles = walk('shaders').filter((f) => !f.includes('/lib/'));
    const missing = kernelFiles.flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/^#include\s+"([^"]+)"/gm)].map((m) => m[1]).filter((name) => !statSafe(join('shaders', `${name}.glsl`))).map((name) => `${f}: ${name}`),
    );
    expect(missing).toEqual([]);
  });
});

function statSafe(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
