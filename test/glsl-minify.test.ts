/**
 * The GLSL minifier of scripts/gen-shaders.mjs removes only comments and whitespace: every shader,
 * lexed as GLSL lexes it (longest operator first), gives the same tokens on the same lines before and
 * after, and every #define stays object-like or function-like as written. (The identifier renaming
 * that follows it: test/glsl-rename.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs build script without type declarations
import { minifyGlsl, squeeze, stripComments } from '../scripts/glsl-minify.mjs';
// @ts-expect-error: a plain .mjs build script without type declarations
import { shaderSources } from '../scripts/shader-sources.mjs';
import { SHADERS } from '../src/generated/shaders.js';

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walk(full) : n.endsWith('.glsl') ? [full] : [];
  });
}

const OPERATORS = ['<<=', '>>=', '++', '--', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '^^', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^='];
const TOKEN = new RegExp(
  [
    /(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?[uUfF]?/.source, // numbers
    /[A-Za-z_]\w*/.source, // identifiers, keywords
    '"[^"]*"', // #include "lib/x"
    ...OPERATORS.map((op) => op.replace(/[|^*+.?]/g, '\\$&')),
    /\S/.source, // any other single character
  ].join('|'),
  'g',
);
const tokens = (line: string) => line.match(TOKEN) ?? [];
const defineShape = (line: string) => /^\s*#\s*define\s+\w+(\(|\s|$)/.exec(line)?.[1].trim() ?? null;

describe('GLSL minifier', () => {
  const files = walk('shaders');

  it('keeps every token and every line of every shader, and each #define kind', () => {
    for (const file of files) {
      const source = readFileSync(file, 'utf8');
      const before = stripComments(source).split('\n');
      const after = minifyGlsl(source).split('\n');
      expect(after.length, file).toBeLessThanOrEqual(before.length);
      before.forEach((line: string, i: number) => {
        expect(tokens(after[i] ?? ''), `${file}:${i + 1}`).toEqual(tokens(line));
        expect(defineShape(after[i] ?? ''), `${file}:${i + 1}`).toBe(defineShape(line));
      });
    }
  });

  it('is what src/generated/shaders.ts embeds, renamed (npm run gen is current), with no comment left', () => {
    const embedded: Map<string, string> = shaderSources();
    for (const file of files) {
      const name = file.replace(/\\/g, '/').replace(/^shaders\//, '').replace(/\.glsl$/, '');
      expect(SHADERS[name], name).toBe(embedded.get(name));
      expect(SHADERS[name], name).not.toMatch(/\/\/|\/\*/);
    }
  });

  it('leaves a space only where two tokens would otherwise fuse', () => {
    expect(squeeze('  vec4 a = b  *  c ;  ')).toBe('vec4 a=b*c;');
    expect(squeeze('x = a - -b + +c')).toBe('x=a- -b+ +c');
    expect(squeeze('if (a < b && c) { return 1.0 / d; }')).toBe('if(a<b&&c){return 1.0/d;}');
    expect(squeeze('y = x / *p')).toBe('y=x/ *p');
    expect(minifyGlsl('#define TAPS (KH * KW)  // count\n#define F( a, b ) (a) + (b)\n#if (K & 32) != 0\n#error too big: K  >  31')).toBe(
      '#define TAPS (KH*KW)\n#define F(a,b) (a)+(b)\n#if (K&32)!=0\n#error too big: K > 31',
    );
    expect(minifyGlsl('a /* one\ntwo */ b\n// only a comment\nc')).toBe('a\nb\n\nc');
  });
});
