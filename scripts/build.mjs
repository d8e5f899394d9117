#!/usr/bin/env node
// Builds dist/: the browser bundle (ESM, minified, no Node modules), the Node library and the CLI.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

await build({
  entryPoints: [join(root, 'src/browser.ts')],
  outfile: join(root, 'dist/nbf-gl.browser.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
});
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

if (!quiet) {
  const file = join(root, 'dist/nbf-gl.browser.js');
  const bytes = statSync(file).size;
  const gz = gzipSync(readFileSync(file)).length;
  console.log(`dist/nbf-gl.browser.js: ${(bytes / 1024).toFixed(1)} KiB minified, ${(gz / 1024).toFixed(1)} KiB gzipped`);
}
