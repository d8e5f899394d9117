#!/usr/bin/env node
// Builds dist/: the browser bundles (ESM, minified, no Node modules: nbf-gl.browser.js with the inference
// API, nbf-gl.browser-full.js with all of it), the Node library, the CLI and the type declarations
// (dist/types).
import { build } from 'esbuild';
import { BROWSER_BUNDLE, BROWSER_FULL_BUNDLE, buildBrowserBundle } from './browser-bundle.mjs';
import { gzipSync } from 'node:zlib';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

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
});

// Type declarations for the package's users (dist/types; package.json "exports" points at them).
rmSync(join(root, 'dist/types'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const types = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (types.status !== 0) throw new Error('tsc could not write the type declarations');

if (!quiet) {
  for (const [i, options] of [BROWSER_BUNDLE, BROWSER_FULL_BUNDLE].entries()) {
    const file = options.outfile;
    const bytes = statSync(file).size;
    const gz = gzipSync(readFileSync(file)).length;
    const { kept, total } = bundles[i].shaders;
    console.log(`dist/${basename(file)}: ${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB) minified, ` +
      `${gz} bytes (${(gz / 1024).toFixed(1)} KiB) gzipped; ${kept.length} of ${total} shader files`);
  }
}
