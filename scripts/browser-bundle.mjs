// The browser bundle's esbuild options (ESM, minified, no Node modules), shared by scripts/build.mjs
// (writes dist/) and scripts/serve.mjs (builds in memory for the web page).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const BROWSER_BUNDLE = {
  entryPoints: [join(root, 'src/browser.ts')],
  outfile: join(root, 'dist/nbf-gl.browser.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
};
