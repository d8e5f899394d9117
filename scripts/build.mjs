#!/usr/bin/env node
// Builds dist/: the browser bundle (ESM, minified, no Node modules), the Node library, the CLI and the
// type declarations (dist/types).
import { build } from 'esbuild';
import { BROWSER_BUNDLE } from './browser-bundle.mjs';
import { gzipSync } from 'node:zlib';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

await build(BROWSER_BUNDLE);
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
  const file = join(root, 'dist/nbf-gl.browser.js');
  const bytes = statSync(file).size;
  const gz = gzipSync(readFileSync(file)).length;
  console.log(`dist/nbf-gl.browser.js: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped`);
}
