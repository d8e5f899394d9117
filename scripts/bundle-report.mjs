#!/usr/bin/env node
// What fills the browser bundle (`nbf-gl/browser`, or `--full` for `nbf-gl/browser-full`): builds it in
// memory as scripts/build.mjs does and prints, for the files a page fetches when it imports the bundle
// (initial) and for those fetched on demand, the minified bytes each part of src/ puts there and what
// each adds to the gzipped size. The table in docs/performance.md ("Browser bundle size") is its output.
//
// A part's bytes come from the source maps (every output character is charged to the source it came
// from; esbuild's glue between modules to "other"). Its gzip share is the file's gzipped size minus the
// gzipped size of the same file without that part's characters — what gzip would save without it, so
// the shares do not add up to the total exactly (gzip finds repeats across parts).
import { gzipSync } from 'node:zlib';
import { basename } from 'node:path';
import { BROWSER_FULL_BUNDLE, buildBrowserBundle, bundleSizes } from './browser-bundle.mjs';

const full = process.argv.includes('--full');

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Source map v3 mappings → for each output line, [column, source index] pairs in column order. */
function decodeMappings(mappings) {
  const lines = [];
  let source = 0;
  for (const line of mappings.split(';')) {
    const segments = [];
    let column = 0;
    for (const segment of line.split(',')) {
      if (!segment) continue;
      const fields = [];
      let value = 0;
      let shift = 0;
      for (const ch of segment) {
        const digit = BASE64.indexOf(ch);
        value += (digit & 31) << shift;
        if (digit & 32) {
          shift += 5;
        } else {
          fields.push(value & 1 ? -(value >>> 1) : value >>> 1);
          value = 0;
          shift = 0;
        }
      }
      column += fields[0];
      if (fields.length > 1) source += fields[1];
      segments.push([column, fields.length > 1 ? source : -1]);
    }
    lines.push(segments);
  }
  return lines;
}

/** The part of the code base a source file belongs to. */
function partOf(source) {
  const path = source.replace(/\\/g, '/').replace(/^(\.\.\/)+/, '');
  if (path.endsWith('src/generated/shaders.ts')) return 'shaders (GLSL text)';
  // The on-demand chunk's entry carries only the shaders that chunk adds (scripts/browser-bundle.mjs).
  if (path.endsWith('src/pipeline/parts-route.ts')) return 'shaders (GLSL text)';
  const m = /src\/([^/]+)\//.exec(path);
  return m ? `src/${m[1]}` : 'other';
}

/** Per part of one output file: its characters' bytes and what gzip saves without them. */
function partsOfFile(text, map) {
  const lines = text.split('\n');
  const owner = []; // per output line: part name per character
  const decoded = decodeMappings(map.mappings);
  const parts = map.sources.map(partOf);
  lines.forEach((line, i) => {
    const segments = decoded[i] ?? [];
    const row = new Array(line.length).fill('other');
    segments.forEach(([column, source], k) => {
      const end = k + 1 < segments.length ? segments[k + 1][0] : line.length;
      const part = source >= 0 ? parts[source] : 'other';
      for (let c = column; c < end; c++) row[c] = part;
    });
    owner.push(row);
  });
  const gzipped = gzipSync(text).length;
  const names = new Set(owner.flat());
  const result = new Map();
  for (const name of names) {
    const kept = lines.map((line, i) => [...line].filter((_, c) => owner[i][c] !== name).join('')).join('\n');
    const bytes = Buffer.byteLength(lines.map((line, i) => [...line].filter((_, c) => owner[i][c] === name).join('')).join(''));
    result.set(name, { bytes, gzip: gzipped - gzipSync(kept).length });
  }
  return result;
}

const options = full ? { ...BROWSER_FULL_BUNDLE, write: false } : { write: false };
const result = await buildBrowserBundle({ ...options, sourcemap: 'external' });
const sizes = bundleSizes(result);
const texts = new Map(result.outputFiles.map((f) => [basename(f.path), f.text]));
const initialFiles = new Set(sizes.initial.files.map((f) => f.file));

function table(title, files) {
  const sum = new Map();
  for (const file of files) {
    for (const [name, s] of partsOfFile(texts.get(file), JSON.parse(texts.get(`${file}.map`)))) {
      const t = sum.get(name) ?? { bytes: 0, gzip: 0 };
      sum.set(name, { bytes: t.bytes + s.bytes, gzip: t.gzip + s.gzip });
    }
  }
  const total = sizes.total.files.filter((f) => files.includes(f.file));
  const bytes = total.reduce((s, f) => s + f.bytes, 0);
  const gzip = total.reduce((s, f) => s + f.gzip, 0);
  console.log(`\n${title}: ${files.join(', ')}: ${bytes} bytes minified, ${gzip} gzipped\n`);
  console.log('| part | minified | gzip share |');
  console.log('|---|---:|---:|');
  for (const [name, s] of [...sum].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`| ${name} | ${(s.bytes / 1000).toFixed(1)} KB | ${(s.gzip / 1000).toFixed(1)} KB |`);
  }
}

const scripts = sizes.total.files.map((f) => f.file);
table(full ? 'nbf-gl/browser-full' : 'nbf-gl/browser, initial', scripts.filter((f) => initialFiles.has(f)));
const onDemand = scripts.filter((f) => !initialFiles.has(f));
if (onDemand.length) table('on demand (NbfPipeline.create({ parts: true }))', onDemand);
console.log(`\nshader files: ${result.shaders.kept.length} of ${result.shaders.total}, ${result.shaders.initial.length} in the initial files`);
