/**
 * The web page (examples/web/) as a person gets it: `scripts/serve.mjs` (the `npm run serve` server) runs
 * as a child process on a free port, and headless Chromium (WebGL2 on SwiftShader, as in browser.test.ts)
 * opens it. Checks the page's contract for tests (?image=, ?steps=, window.nbfResult,
 * document.body.dataset.state), that its fit is the one Node computes on the same picture, recovery from
 * a lost WebGL context, a missing picture, and that the server only hands out what the page needs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:http';
import { mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { testRuntime } from './helpers/gl.js';
import { decodeImage } from '../src/io/image.js';
import { createNodePipeline } from '../src/pipeline/nbf-pipeline-node.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
const STEPS = 100;
/** SwiftShader on 2 busy cores: BlazePose's first run (shader compiles) and 100 steps take about 15 s. */
const FIT_TIMEOUT = 90_000;

let server: ChildProcess;
let base: string;
let browser: Browser;
let page: Page;

interface PageResult {
  joints2d: number[];
  betas: number[];
  pose: number[];
  width: number;
  height: number;
  timings: { landmarksMs: number; refineMs: number; totalMs: number; overlayMs: number; wallMs: number };
  memory: { liveTextures: number; liveBytes: number; pooledTextures: number; pooledBytes: number };
}

/** Mean distance between two 24 × 2 joint lists, and the largest. */
function jointDistances(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  let sum = 0;
  let max = 0;
  for (let j = 0; j < 24; j++) {
    const d = Math.hypot(a[2 * j] - b[2 * j], a[2 * j + 1] - b[2 * j + 1]);
    sum += d;
    max = Math.max(max, d);
  }
  return { mean: sum / 24, max };
}

async function waitForState(states: string[], timeout = FIT_TIMEOUT): Promise<string> {
  await page.waitForFunction((s) => s.includes(document.body.dataset.state ?? ''), states, { timeout, polling: 100 });
  return page.evaluate(() => document.body.dataset.state ?? '');
}

/** Status code of a GET with the path sent as written (no client-side normalisation of '..'). */
function rawStatus(path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    get({ hostname, port, path }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

beforeAll(async () => {
  server = spawn(process.execPath, ['scripts/serve.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve.mjs printed no URL in 60 s:\n${out}`)), 60_000);
    const read = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /http:\/\/localhost:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}/`);
      }
    };
    server.stdout!.on('data', read);
    server.stderr!.on('data', read);
    server.on('exit', (code) => reject(new Error(`serve.mjs exited (${code}):\n${out}`)));
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (server && server.exitCode === null) server.kill('SIGTERM');
});

describe('web page (examples/web/ through scripts/serve.mjs)', () => {
  let first: PageResult;

  it('fits ?image= on load as Node does on the same PNG, and draws it', async () => {
    const t0 = performance.now();
    await page.goto(`${base}?image=sample.png&steps=${STEPS}`);
    const state = await waitForState(['done', 'error']);
    const pageSeconds = (performance.now() - t0) / 1000;
    expect(state, await page.evaluate(() => String((window as unknown as { nbfError?: string }).nbfError))).toBe('done');
    first = await page.evaluate(() => (window as unknown as { nbfResult: PageResult }).nbfResult);
    mkdirSync('out/test-screenshots', { recursive: true });
    await page.screenshot({ path: 'out/test-screenshots/web-page.png', fullPage: true });

    const pipeline = createNodePipeline(testRuntime());
    const image = decodeImage(new Uint8Array(readFileSync('examples/web/sample.png')), 'sample.png');
    const here = pipeline.fit(image, { steps: STEPS });
    pipeline.dispose();

    const d = jointDistances(first.joints2d, here.joints2d);
    const betaDiff = Math.max(...first.betas.map((b, i) => Math.abs(b - here.betas[i])));
    console.log(`web page: ${pageSeconds.toFixed(1)} s to 'done' (landmarks ${first.timings.landmarksMs.toFixed(0)} ms, refinement ` +
      `${first.timings.refineMs.toFixed(0)} ms, total ${first.timings.totalMs.toFixed(0)} ms); joints2d vs Node: mean ${d.mean.toFixed(4)} px, ` +
      `max ${d.max.toFixed(4)} px; betas max |Δ| ${betaDiff.toExponential(2)}`);
    expect(first.width).toBe(image.width);
    expect(first.height).toBe(image.height);
    expect(first.joints2d).toHaveLength(48);
    expect(first.betas).toHaveLength(10);
    expect(first.pose).toHaveLength(72);
    expect(d.mean).toBeLessThanOrEqual(1);
    for (const k of ['landmarksMs', 'refineMs', 'totalMs'] as const) expect(first.timings[k]).toBeGreaterThan(0);
    // The downloads are enabled once there is a body.
    expect(await page.evaluate(() => (document.getElementById('dl-glb') as HTMLButtonElement).disabled)).toBe(false);
  }, 150_000);

  it('reports a lost WebGL context, re-creates the runtime and the pipeline, and fits again', async () => {
    expect(first, 'needs the first test').toBeDefined();
    // WEBGL_lose_context on the runtime's own canvas (in the page's worker). The page does not wait for
    // the old context to be restored: it builds a new runtime on a new canvas, weights from its cache.
    await page.evaluate(() => (window as unknown as { nbfDebug: { loseContext(): void } }).nbfDebug.loseContext());
    await page.waitForFunction(() => document.body.dataset.contextLosses === '1', undefined, { timeout: 30_000 });
    expect(await waitForState(['ready', 'error'], 60_000)).toBe('ready');
    expect(await page.textContent('#notice')).toMatch(/WebGL context was lost and has been re-created/);

    const again = await page.evaluate((url) => (window as unknown as { nbfFit(u: string): Promise<PageResult> }).nbfFit(url), 'sample.png');
    expect(await page.evaluate(() => document.body.dataset.state)).toBe('done');
    // Same browser, same kernels, same picture: the same body.
    const d = jointDistances(again.joints2d, first.joints2d);
    expect(d.max).toBeLessThan(1e-3);
    // The new runtime holds what the first held after its first fit: the old one's textures are not counted.
    expect(again.memory.liveTextures).toBe(first.memory.liveTextures);
  }, 150_000);

  it('reports a picture that cannot be loaded, naming its URL', async () => {
    await page.goto(`${base}?image=missing.png`);
    expect(await waitForState(['done', 'error'], 30_000)).toBe('error');
    const error = await page.evaluate(() => (window as unknown as { nbfError: string }).nbfError);
    expect(error).toMatch(/missing\.png/);
    expect(error).toMatch(/404/);
    expect(await page.textContent('#notice')).toContain('missing.png');
  }, 60_000);

  it('serves only the page, the bundle and the weights the page needs', async () => {
    expect(await rawStatus('/')).toBe(200);
    expect(await rawStatus('/dist/nbf-gl.browser.js')).toBe(200);
    expect(await rawStatus('/weights/blazepose/blazepose-lite.bin')).toBe(200);
    expect(await rawStatus('/..%2fpackage.json')).toBe(403);
    expect(await rawStatus('/../package.json')).not.toBe(200);
    expect(await rawStatus('/weights/..%2fpackage.json')).toBe(403);
    expect(await rawStatus('/weights/blazepose/blazepose-full.json')).toBe(404);
    expect(await rawStatus('/dist/index.js')).toBe(404);
  });

  it('says so clearly where the browser has no WebGL', async () => {
    // Chromium's --disable-webgl does not reach an OffscreenCanvas in a worker, so the page is asked to run
    // its engine on its own thread (?worker=0: where it falls back to when a worker gets no WebGL2).
    const noGl = await chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, '--disable-webgl', '--disable-3d-apis'] });
    try {
      const p = await noGl.newPage();
      await p.goto(`${base}?worker=0`);
      await p.waitForFunction(() => document.body.dataset.state === 'error', undefined, { timeout: 30_000 });
      expect(await p.textContent('#notice')).toMatch(/nbf-gl cannot run here: .*no WebGL2 context.*float32 render targets/);
    } finally {
      await noGl.close();
    }
  }, 60_000);
});
