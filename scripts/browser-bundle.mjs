// The browser bundles' esbuild options (ESM, minified, no Node modules) and their build, shared by
// scripts/build.mjs (writes dist/), scripts/serve.mjs (builds in memory for the web page) and
// test/browser.test.ts.
//
//   BROWSER_BUNDLE       src/browser.ts → dist/nbf-gl.browser.js (`nbf-gl/browser`): the inference API
//   BROWSER_FULL_BUNDLE  src/browser-full.ts → dist/nbf-gl.browser-full.js (`nbf-gl/browser-full`): all
//
// Only the kernels a bundle's code names are embedded. src/generated/shaders.ts maps every kernel name
// to its GLSL, and code picks a kernel by a literal name (`runtime.run({ kernel: 'conv2d', … })`,
// `shaderText('render_mesh')`), so buildBrowserBundle() builds twice: first with an empty shader map,
// to see which code survives tree shaking and which kernel names it spells as string literals; then
// with a map of those kernels and the lib/ files they #include. A kernel picked by a name built at run
// time would be missed: test/shaders.test.ts requires every kernel's name as a literal in src/.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { includesOf, shaderModule, shaderSources } from './shader-sources.mjs';

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

export const BROWSER_FULL_BUNDLE = {
  ...BROWSER_BUNDLE,
  entryPoints: [join(root, 'src/browser-full.ts')],
  outfile: join(root, 'dist/nbf-gl.browser-full.js'),
};

const GENERATED = /[\\/]src[\\/]generated[\\/]shaders\.ts$/;

/** An esbuild plugin that serves src/generated/shaders.ts with only these shaders. */
function shaderMapPlugin(shaders) {
  return {
    name: 'nbf-shader-subset',
    setup(b) {
      b.onLoad({ filter: GENERATED }, () => ({ contents: shaderModule(shaders), loader: 'ts' }));
    },
  };
}

/** The kernels (and their lib/ includes) whose names `code` spells as string literals. */
export function shadersNamedIn(code, all = shaderSources()) {
  const used = new Map();
  const add = (name) => {
    if (used.has(name) || !all.has(name)) return;
    used.set(name, all.get(name));
    for (const lib of includesOf(all.get(name))) add(lib);
  };
  for (const name of all.keys()) {
    if (['"', "'", '`'].some((q) => code.includes(`${q}${name}${q}`))) add(name);
  }
  // In path order, as src/generated/shaders.ts lists them.
  return new Map([...all].filter(([name]) => used.has(name)));
}

/**
 * Builds a browser bundle (BROWSER_BUNDLE unless `options` override it) with only the shaders its
 * code names. Returns esbuild's result plus `shaders`: { kept: names, total: count of all shaders }.
 */
export async function buildBrowserBundle(options = {}) {
  const all = shaderSources();
  const settings = { ...BROWSER_BUNDLE, ...options };
  const probe = await build({
    ...settings,
    write: false,
    sourcemap: false,
    metafile: false,
    plugins: [...(settings.plugins ?? []), shaderMapPlugin(new Map())],
  });
  const code = probe.outputFiles.filter((f) => f.path.endsWith('.js')).map((f) => f.text).join('\n');
  const used = shadersNamedIn(code, all);
  const result = await build({ ...settings, plugins: [...(settings.plugins ?? []), shaderMapPlugin(used)] });
  return Object.assign(result, { shaders: { kept: [...used.keys()], total: all.size } });
}
