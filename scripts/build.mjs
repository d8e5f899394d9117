#!/usr/bin/env node
// Builds dist/: the browser bundles (ESM, minified, no Node modules: nbf-gl.browser.js with the inference
// API and the chunks it loads on demand, nbf-gl.browser-full.js with all of it), the Node library, the
// CLI and the type declarations (dist/types). Prints each browser bundle's size: what a page fetches
// when it imports it, and all its files.
import { build } from 'esbuild';
import { BROWSER_BUNDLE, BROWSER_FULL_BUNDLE, buildBrowserBundle, bundleSizes, staticPartsRoute } from './browser-bundle.mjs';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

// Chunk names carry a hash of their content: the previous build's would stay behind (a fresh clone
// has no dist/ yet).
for (const f of existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist'), { withFileTypes: true }) : []) {
  if (f.isFile() && /^nbf-gl\.(chunk-|parts-route)/.test(f.name)) rmSync(join(root, 'dist', f.name));
}
const bundles = [await buildBrowserBundle(BROWSER_BUNDLE), await buildBrowserBundle(BROWSER_FULL_BUNDLE)];
await build({
  entryPoints: { index: join(root, 'src/node.ts'), cli: join(root, 'src/cli/main.ts') },
  outdir: join(root, 'dist'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  plugins: [staticPartsRoute],
});

// Type declarations for the package's users (dist/types; package.json "exports" points at them).
rmSync(join(root, 'dist/types'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const types = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (types.status !== 0) throw new Error('tsc could not write the type declarations');

if (!quiet) {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  const line = (what, s) => `${what}: ${s.bytes} bytes (${kib(s.bytes)}) minified, ${s.gzip} bytes (${kib(s.gzip)}) gzipped`;
  for (const bundle of bundles) {
    const { entry, initial, total } = bundleSizes(bundle);
    const { kept, initial: initialShaders, total: shaderCount } = bundle.shaders;
    const files = total.files.length;
    const shaders = files > 1 ? `${kept.length} of ${shaderCount} shader files, ${initialShaders.length} of them in the initial files` : `${kept.length} of ${shaderCount} shader files`;
    console.log(`dist/${entry}${files > 1 ? ` (${files} files)` : ''}: ${shaders}`);
    if (files > 1) {
      console.log(`  ${line('initial (the entry and what it imports statically)', initial)}`);
      console.log(`  ${line('total (with the chunks loaded on demand)', total)}`);
      for (const f of total.files) console.log(`    ${f.file}: ${f.bytes} bytes, ${f.gzip} gzipped${initial.files.some((g) => g.file === f.file) ? '' : ' (on demand)'}`);
    } else {
      console.log(`  ${line('total', total)}`);
    }
  }
}
