// The browser bundles' esbuild options (ESM, minified, no Node modules) and their build, shared by
// scripts/build.mjs (writes dist/), scripts/serve.mjs (builds in memory for the web page) and
// test/browser.test.ts.
//
//   BROWSER_BUNDLE       src/browser.ts → dist/nbf-gl.browser.js (`nbf-gl/browser`): the inference API,
//                        split: NBF's route, which NbfPipeline.create({ parts: true }) imports on
//                        demand, is dist/nbf-gl.parts-route-<hash>.js, fetched only then; the code it
//                        shares with the entry is dist/nbf-gl.chunk-<hash>.js, which the entry imports
//   BROWSER_FULL_BUNDLE  src/browser-full.ts → dist/nbf-gl.browser-full.js (`nbf-gl/browser-full`): all,
//                        one file
//
// Only the kernels a bundle's code names are embedded. src/generated/shaders.ts maps every kernel name
// to its GLSL, and code picks a kernel by a literal name (`runtime.run({ kernel: 'conv2d', … })`,
// `shaderText('render_mesh')`), so buildBrowserBundle() builds twice: first with an empty shader map,
// to see which code survives tree shaking and which kernel names it spells as string literals; then
// with a map of those kernels and the lib/ files they #include (in a split bundle, a kernel that only
// code loaded on demand names goes with that code). A kernel picked by a name built at run time would
// be missed: test/shaders.test.ts requires every kernel's name as a literal in src/.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { includesOf, shaderModule, shaderSources } from './shader-sources.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const COMMON = {
  absWorkingDir: root, // metafile paths are relative to it
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
};

export const BROWSER_BUNDLE = {
  ...COMMON,
  entryPoints: [join(root, 'src/browser.ts')],
  outdir: join(root, 'dist'),
  splitting: true,
  entryNames: 'nbf-gl.[name]',
  chunkNames: 'nbf-gl.[name]-[hash]',
};

export const BROWSER_FULL_BUNDLE = {
  ...COMMON,
  entryPoints: [join(root, 'src/browser-full.ts')],
  outfile: join(root, 'dist/nbf-gl.browser-full.js'),
};

const GENERATED = /[\\/]src[\\/]generated[\\/]shaders\.ts$/;
const SHADER_MODULE = join(root, 'src', 'generated', 'shaders.ts');

/**
 * An esbuild plugin that serves src/generated/shaders.ts with only `initial` shaders, and appends to
 * each module in `onDemand` (absolute path → shaders) a statement that adds its shaders to the map when
 * that module loads: the kernels only an on-demand chunk names travel in that chunk.
 */
function shaderMapPlugin(initial, onDemand = new Map()) {
  return {
    name: 'nbf-shader-subset',
    setup(b) {
      b.onLoad({ filter: GENERATED }, () => ({ contents: shaderModule(initial), loader: 'ts' }));
      if (onDemand.size === 0) return;
      const paths = new Set(onDemand.keys());
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!paths.has(args.path)) return undefined;
        const entries = [...onDemand.get(args.path)].map(([name, text]) => `${JSON.stringify(name)}: ${JSON.stringify(text)}`);
        const contents = `${readFileSync(args.path, 'utf8')}\n` +
          `import { SHADERS as shadersLoadedHere } from ${JSON.stringify(SHADER_MODULE)};\n` +
          `Object.assign(shadersLoadedHere, {${entries.join(',')}});\n`;
        return { contents, loader: 'ts' };
      });
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

/** Output files (metafile paths) reached from `file` through static imports, `file` included. */
function staticClosure(outputs, file, into = new Set()) {
  if (into.has(file)) return into;
  into.add(file);
  for (const i of outputs[file].imports) if (i.kind === 'import-statement') staticClosure(outputs, i.path, into);
  return into;
}

/** The entry of a build: the one JavaScript file no other file imports (statically or on demand). */
function entryOf(outputs) {
  const scripts = Object.keys(outputs).filter((f) => f.endsWith('.js'));
  const imported = new Set(scripts.flatMap((f) => outputs[f].imports.map((i) => i.path)));
  return scripts.find((f) => !imported.has(f));
}

/**
 * For builds into one file (nbf-gl/browser-full, the Node library): src/pipeline/load-parts-route.ts
 * with a static import instead of its dynamic one. Nothing is loaded later there, and esbuild would
 * otherwise wrap every module that NBF's route reaches in a lazy initialiser (+4.8 KB minified).
 */
export const staticPartsRoute = {
  name: 'nbf-static-parts-route',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]pipeline[\\/]load-parts-route\.ts$/ }, () => ({
      contents: "import * as route from './parts-route.js';\nexport const loadPartsRoute = async () => route;\n",
      loader: 'ts',
    }));
  },
};

/**
 * Builds a browser bundle (BROWSER_BUNDLE unless `options` override it; an `outfile` makes it one
 * file, unsplit) with only the shaders its code names; in a split bundle, a kernel that only code
 * loaded on demand names goes with that code. Returns esbuild's result (with its metafile) plus
 * `shaders`: { kept: names of all shaders it holds, initial: those the entry's files hold, total:
 * count of all shaders }.
 */
export async function buildBrowserBundle(options = {}) {
  const all = shaderSources();
  const settings = { ...BROWSER_BUNDLE, ...options };
  if (options.outfile) {
    for (const key of ['outdir', 'splitting', 'entryNames', 'chunkNames']) delete settings[key];
    settings.plugins = [...(settings.plugins ?? []), staticPartsRoute];
  }
  const probe = await build({
    ...settings,
    write: false,
    sourcemap: false,
    metafile: true,
    plugins: [...(settings.plugins ?? []), shaderMapPlugin(new Map())],
  });
  const outputs = probe.metafile.outputs;
  const codeOf = new Map(probe.outputFiles.map((f) => [relative(settings.absWorkingDir, f.path).replace(/\\/g, '/'), f.text]));
  const namedIn = (files) => shadersNamedIn([...files].map((f) => codeOf.get(f) ?? '').join('\n'), all);
  const initialFiles = staticClosure(outputs, entryOf(outputs));
  const initial = namedIn(initialFiles);
  const onDemand = new Map();
  for (const [file, output] of Object.entries(outputs)) {
    if (!file.endsWith('.js') || initialFiles.has(file) || !output.entryPoint) continue;
    const own = [...namedIn(staticClosure(outputs, file))].filter(([name]) => !initial.has(name));
    if (own.length) onDemand.set(resolve(settings.absWorkingDir, output.entryPoint), new Map(own));
  }
  const result = await build({ ...settings, metafile: true, plugins: [...(settings.plugins ?? []), shaderMapPlugin(initial, onDemand)] });
  const kept = new Set([...initial.keys(), ...[...onDemand.values()].flatMap((m) => [...m.keys()])]);
  return Object.assign(result, {
    shaders: { kept: [...all.keys()].filter((n) => kept.has(n)), initial: [...initial.keys()], total: all.size },
  });
}

/**
 * Sizes of a built bundle's JavaScript files, each gzipped on its own (as a server sends them):
 * `initial` is what a page fetches when it imports the entry (the entry and the files it imports
 * statically), `total` every file, chunks that are only imported on demand included.
 * `result` from buildBrowserBundle (written or not).
 */
export function bundleSizes(result) {
  const outputs = result.metafile.outputs;
  const absolute = (file) => resolve(root, file);
  const texts = new Map((result.outputFiles ?? []).map((f) => [f.path, f.contents]));
  const bytesOf = (file) => texts.get(absolute(file)) ?? readFileSync(absolute(file));
  const measure = (files) => {
    const sizes = files.map((file) => {
      const bytes = bytesOf(file);
      return { file: basename(file), bytes: bytes.length, gzip: gzipSync(bytes).length };
    });
    return { files: sizes, bytes: sizes.reduce((s, f) => s + f.bytes, 0), gzip: sizes.reduce((s, f) => s + f.gzip, 0) };
  };
  const scripts = Object.keys(outputs).filter((f) => f.endsWith('.js'));
  const entry = entryOf(outputs);
  const initial = staticClosure(outputs, entry);
  return { entry: basename(entry), initial: measure([...initial]), total: measure(scripts) };
}
