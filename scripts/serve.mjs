#!/usr/bin/env node
// `npm run serve [-- --port N] [--host H]`: the web page (examples/web/) on a local HTTP server, with no
// dependency beyond esbuild (already a dev dependency). It builds the browser bundle from src/ in memory
// at start (the same options as scripts/build.mjs; dist/ on disk is left alone) and serves:
//   /            examples/web/ (index.html, main.js, ...)
//   /dist/       the bundle: nbf-gl.browser.js, the chunks it imports (at once or on demand), source maps
//   /weights/    only the files the page fetches: the BlazePose lite landmark model (full with ?model=full)
//                and person detector (model JSON and their weight shards), the open body model and, for
//                NBF's route, the compact segmenter and fitting network
// Anything else is 404; paths that climb out of a folder are refused (403). Prints the URL once listening.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowserBundle } from './browser-bundle.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pageDir = join(root, 'examples', 'web');
const weightsDir = join(root, 'weights');

/** The files of weights/ the page needs (src/pipeline/nbf-pipeline.ts PIPELINE_FILES) and the shards their model JSONs list. */
const WEIGHT_FILES = [
  'blazepose/blazepose-lite.json', 'blazepose/blazepose-full.json', 'blazepose/blazepose-detector.json', 'nbf-open-body.nbfm',
  // The landmark network (the landmarks route's); NBF's route, fetched only when the page picks it.
  'nbf-fitter-landmarks.nbfw', 'nbf-segmenter-compact.nbfw', 'nbf-fitter-compact.nbfw',
];

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.bin': 'application/octet-stream',
  '.nbfm': 'application/octet-stream',
  '.nbfw': 'application/octet-stream',
};

function parseArgs(argv) {
  const options = { port: 8080, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--port') {
      const v = value();
      const port = Number(v);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer 0..65535 (0: any free port), got "${v}"`);
      options.port = port;
    } else if (flag === '--host') {
      options.host = value();
      if (!options.host) throw new Error('--host needs a value');
    } else if (flag === '--help' || flag === '-h') {
      options.help = true;
    } else {
      throw new Error(`unknown option "${a}"`);
    }
  }
  return options;
}

/** The browser bundle, built in memory: file name → Buffer ('nbf-gl.browser.js', its chunks, their .map files). */
export async function buildBundle() {
  if (!existsSync(join(root, 'src', 'generated', 'shaders.ts'))) {
    throw new Error('src/generated/shaders.ts is missing: run `node scripts/gen-shaders.mjs` (npm run serve does)');
  }
  const result = await buildBrowserBundle({ write: false, logLevel: 'silent' });
  const files = {};
  for (const f of result.outputFiles) files[f.path.slice(f.path.lastIndexOf(sep) + 1)] = Buffer.from(f.contents);
  return files;
}

/** url path under /weights/ → file, for the files the page needs only. */
function weightFiles() {
  const allowed = new Map();
  for (const rel of WEIGHT_FILES) {
    const file = join(weightsDir, rel);
    if (!existsSync(file)) continue; // the page reports the 404 with the file's name
    allowed.set(rel, file);
    if (rel.endsWith('.json')) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')).weightsManifest ?? [];
      const folder = rel.slice(0, rel.lastIndexOf('/') + 1);
      for (const group of manifest) for (const p of group.paths ?? []) {
        if (!p.includes('..') && !p.startsWith('/')) allowed.set(folder + p, join(weightsDir, folder + p));
      }
    }
  }
  return allowed;
}

/** An HTTP server for the page; `bundle` from buildBundle(). */
export function createPageServer(bundle) {
  const weights = weightFiles();
  const bundleTags = Object.fromEntries(Object.entries(bundle).map(([k, v]) => [k, `"${createHash('sha256').update(v).digest('hex').slice(0, 16)}"`]));

  return createServer((req, res) => {
    const send = (status, body, headers = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed\n', { allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad request\n');
    }
    if (path.includes('\0') || path.includes('\\') || path.split('/').includes('..')) return send(403, 'forbidden\n');

    const serveBytes = (bytes, type, etag) => {
      if (req.headers['if-none-match'] === etag) return send(304, undefined, { etag });
      send(200, bytes, { 'content-type': type, 'content-length': String(bytes.length), 'cache-control': 'no-cache', etag });
    };
    const serveFile = (file) => {
      let stat;
      try {
        stat = statSync(file);
      } catch {
        return send(404, `not found: ${path}\n`);
      }
      if (!stat.isFile()) return send(404, `not found: ${path}\n`);
      const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
      serveBytes(readFileSync(file), TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', etag);
    };

    if (path.startsWith('/dist/')) {
      const name = path.slice('/dist/'.length);
      if (!Object.hasOwn(bundle, name)) return send(404, `not found: ${path} (only the browser bundle is served from /dist/)\n`);
      return serveBytes(bundle[name], TYPES[extname(name)], bundleTags[name]);
    }
    if (path.startsWith('/weights/')) {
      const file = weights.get(path.slice('/weights/'.length));
      if (!file) return send(404, `not found: ${path} (only the files the page needs are served from /weights/)\n`);
      return serveFile(file);
    }
    const file = resolve(pageDir, '.' + (path.endsWith('/') ? path + 'index.html' : path));
    if (!file.startsWith(pageDir + sep)) return send(403, 'forbidden\n');
    serveFile(file);
  });
}

async function main() {
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`serve: ${e.message}\nusage: npm run serve [-- --port N] [--host H]`);
    process.exit(2);
  }
  if (options.help) {
    console.log('usage: npm run serve [-- --port N (default 8080; 0: any free port)] [--host H (default 127.0.0.1)]');
    return;
  }
  const t0 = performance.now();
  const bundle = await buildBundle();
  const server = createPageServer(bundle);
  server.on('error', (e) => {
    console.error(`serve: ${e.code === 'EADDRINUSE' ? `port ${options.port} is in use; pick another with --port N` : e.message}`);
    process.exit(1);
  });
  server.listen(options.port, options.host, () => {
    const { port } = server.address();
    const host = options.host === '127.0.0.1' || options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host;
    const scripts = Object.entries(bundle).filter(([name]) => name.endsWith('.js'));
    const kib = (scripts.reduce((n, [, bytes]) => n + bytes.length, 0) / 1024).toFixed(0);
    console.log(`bundle built in ${((performance.now() - t0) / 1000).toFixed(1)} s (${scripts.length} files, ${kib} KiB)`);
    console.log(`nbf-gl web page: http://${host}:${port}/`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
