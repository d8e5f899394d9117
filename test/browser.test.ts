/**
 * The same kernels, autodiff and body model in a real browser: the esbuild browser bundles (built as
 * scripts/build.mjs builds them, with only the shaders their code names, but not minified) run in
 * headless Chromium (WebGL2 on SwiftShader) and their results are compared with the float64 CPU
 * references here in Node. `nbf` is the inference bundle (src/browser.ts, split: NBF's route is a chunk
 * fetched on demand), `nbfFull` the whole API (src/browser-full.ts: autodiff, the fitting network).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildBrowserBundle, BROWSER_FULL_BUNDLE } from '../scripts/browser-bundle.mjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Rng } from '../src/util/random.js';
import { binaryRef, unaryRef } from '../src/kernels/elementwise.ref.js';
import { matmulRef } from '../src/kernels/matmul.ref.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { maxRelError } from './helpers/compare.js';
import { testRuntime } from './helpers/gl.js';
import { decodeBodyModel } from '../src/smpl/format.js';
import { smplForward } from '../src/smpl/cpu-forward.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { FitterNetwork, type FitterConfig } from '../src/nn/fitter.js';
import { encodeFitterWeights } from '../src/nn/weights-file.js';
import type { Tensor } from '../src/runtime/tensor.js';
import { SynthGenerator, disposeBatch } from '../src/synth/generate.js';
import { rgbFloatsToImage } from '../src/io/image.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let server: Server;
let browser: Browser;
let page: Page;
let dir: string;
let fitterBytes: Uint8Array;

/** A small fitter with fixed random weights and a mean 20 m in front of the camera, as a weights file. */
function tinyFitterWeights(): Uint8Array {
  const config: FitterConfig = {
    name: 'tiny', inputSize: 32, shapeCount: 10,
    encoder: { block: 'basic', blocks: [1, 1], widths: [8, 16], inputChannels: 3, stemChannels: 8, stemKernel: 3, stemStride: 1, stemPool: 2 },
  };
  const mean = new Float32Array(229);
  for (let j = 0; j < 24; j++) mean.set([1, 0, 0, 0, 1, 0, 0, 0, 1], 10 + 9 * j);
  mean.set([Math.log(20), 0.1, -0.05], 226);
  const net = new FitterNetwork(testRuntime(), { ...config, headInitScale: 0.05 }, { seed: 4, meanLatent: mean });
  const bytes = encodeFitterWeights(net, { dtype: 'float32' });
  net.dispose();
  return bytes;
}

/** Every file the server sent, in order (the test of NBF's route checks what a page fetched and when). */
const requested: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nbf-browser-'));
  const options = { minify: false, sourcemap: false, logLevel: 'silent' };
  // nbf-gl.browser.js and the chunks it loads on demand, as scripts/build.mjs writes them; the full one.
  await buildBrowserBundle({ ...options, outdir: dir });
  await buildBrowserBundle({ ...BROWSER_FULL_BUNDLE, ...options, outfile: join(dir, 'nbf-gl.browser-full.js') });
  const bundleFiles = new Set(readdirSync(dir).filter((f) => f.endsWith('.js')));
  const bodyModel = readFileSync('weights/nbf-open-body.nbfm');
  fitterBytes = tinyFitterWeights();
  server = createServer((req, res) => {
    const url = req.url ?? '/';
    requested.push(url);
    if (bundleFiles.has(url.slice(1))) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(readFileSync(join(dir, url.slice(1))));
    } else if (url === '/fitter.nbfw') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(fitterBytes);
    } else if (url.startsWith('/blazepose/blazepose-lite.') || url === '/nbf-segmenter-compact.nbfw' || url === '/nbf-fitter-compact.nbfw' || url === '/nbf-fitter-landmarks.nbfw') {
      res.writeHead(200, { 'content-type': url.endsWith('.json') ? 'application/json' : 'application/octet-stream' });
      res.end(readFileSync(join('weights', url)));
    } else if (url === '/nbf-open-body.nbfm') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bodyModel);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><body><canvas id="c"></canvas>' +
        '<script type="module">import * as nbf from "/nbf-gl.browser.js"; import * as nbfFull from "/nbf-gl.browser-full.js"; ' +
        'window.nbf = nbf; window.nbfFull = nbfFull; window.nbfReady = true;</script></body></html>');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
  page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction('window.nbfReady === true');
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('browser bundle', () => {
  it('creates a WebGL2 context; elementwise, matmul and conv2d (direct and Winograd) match the CPU references', async () => {
    const rng = new Rng(11);
    const a = Array.from(rng.uniformArray(2 * 3 * 5, -2, 2));
    const b = Array.from(rng.uniformArray(5, -2, 2));
    const m1 = Array.from(rng.uniformArray(2 * 7 * 9));
    const m2 = Array.from(rng.uniformArray(9 * 6));
    const x = Array.from(rng.uniformArray(2 * 9 * 7 * 5));
    const w = Array.from(rng.uniformArray(3 * 3 * 5 * 6));
    const got = await page.evaluate(async ({ a, b, m1, m2, x, w }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const rt = nbf.createContext({ canvas: document.getElementById('c') as HTMLCanvasElement, poisonOutputs: true });
      const read = (t: { readSync(): Float32Array }) => Array.from(t.readSync()) as number[];
      const result = rt.scope(() => {
        const ta = rt.tensor(a, [2, 3, 5]);
        return {
          sum: read(nbf.add(ta, rt.tensor(b, [5]))),
          sig: read(nbf.sigmoid(ta)),
          mm: read(nbf.matmul(rt.tensor(m1, [2, 7, 9]), rt.tensor(m2, [9, 6]))),
          conv: read(nbf.conv2d(rt.tensor(x, [2, 9, 7, 5]), rt.tensor(w, [3, 3, 5, 6]), { strides: 2, padding: 'same' })),
          // Winograd F(2×2, 3×3)'s four kernels under the browser's GLSL compiler (ANGLE).
          winograd: read(nbf.conv2d(rt.tensor(x, [2, 9, 7, 5]), rt.tensor(w, [3, 3, 5, 6]), { padding: 'same', algorithm: 'winograd' })),
        };
      });
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { ...result, live };
    }, { a, b, m1, m2, x, w });
    expect(maxRelError(got.sum, binaryRef('add', a, [2, 3, 5], b, [5]).data)).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(got.sig, unaryRef('sigmoid', a))).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(got.mm, matmulRef(m1, [2, 7, 9], m2, [9, 6]).data)).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(got.conv, conv2dRef(x, [2, 9, 7, 5], w, [3, 3, 5, 6], { strides: 2, padding: 'same' }).data)).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(got.winograd, conv2dRef(x, [2, 9, 7, 5], w, [3, 3, 5, 6], { padding: 'same' }).data)).toBeLessThanOrEqual(1e-5);
    expect(got.live).toBe(0);
  });

  it('runs the open body model and its gradients through ad.smpl, matching the CPU pass and Node', async () => {
    const rng = new Rng(5);
    const data = {
      betas: Array.from(rng.uniformArray(2 * 10, -1.5, 1.5)),
      pose: Array.from(rng.uniformArray(2 * 72, -0.4, 0.4)),
      trans: [0.1, -0.2, 3, -0.3, 0.1, 4],
    };
    // Loss Σ joints², its value and gradients w.r.t. β and θ, on the GPU through the tape.
    type Api = typeof import('../src/node.js');
    const run = (nbfApi: Api, rt: Runtime, bytes: Uint8Array, d: typeof data) => {
      const model = nbfApi.GpuBodyModel.upload(rt, nbfApi.decodeBodyModel(bytes));
      const read = (t: Tensor) => Array.from(t.readSync());
      const result = rt.scope(() => {
        let joints: number[] = [];
        const { value, grads } = nbfApi.ad.valueAndGrad((p: Record<string, Tensor>) => {
          const out = nbfApi.ad.smpl(model, { betas: p.betas, pose: p.pose, trans: rt.tensor(d.trans, [2, 3]) });
          joints = read(out.joints);
          return nbfApi.ad.sumTo(nbfApi.ad.square(out.joints), []);
        })({ betas: rt.tensor(d.betas, [2, 10]), pose: rt.tensor(d.pose, [2, 72]) });
        return { joints, value: read(value), dBetas: read(grads.betas), dPose: read(grads.pose) };
      });
      model.dispose();
      return result;
    };
    const got = await page.evaluate(async ({ d, source }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbfFull; // ad.smpl: the whole API
      const bytes = new Uint8Array(await (await fetch('/nbf-open-body.nbfm')).arrayBuffer());
      // A canvas of its own: the first test destroyed the page's context.
      const rt = nbf.createContext({ canvas: document.createElement('canvas'), poisonOutputs: true });
      const result = (0, eval)(`(${source})`)(nbf, rt, bytes, d);
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { ...result, live };
    }, { d: data, source: run.toString() });
    const bytes = new Uint8Array(readFileSync('weights/nbf-open-body.nbfm'));
    const rt = testRuntime();
    const here = run(await import('../src/node.js'), rt, bytes, data);
    // Joints against the float64 CPU pass, then browser against Node for the value and gradients.
    const model = decodeBodyModel(bytes);
    for (let n = 0; n < 2; n++) {
      const cpu = smplForward(model, { betas: data.betas.slice(10 * n, 10 * n + 10), pose: data.pose.slice(72 * n, 72 * n + 72), trans: data.trans.slice(3 * n, 3 * n + 3) });
      for (let i = 0; i < 72; i++) expect(Math.abs(got.joints[72 * n + i] - cpu.joints[i])).toBeLessThan(1e-5);
    }
    expect(maxRelError(got.value, here.value)).toBeLessThanOrEqual(1e-5);
    expect(maxRelError(got.dBetas, here.dBetas)).toBeLessThanOrEqual(1e-4);
    expect(maxRelError(got.dPose, here.dPose)).toBeLessThanOrEqual(1e-4);
    expect(got.dPose.some((v: number) => Math.abs(v) > 1e-3)).toBe(true);
    expect(got.live).toBe(0);
  });

  it('loads fitter weights from fetched bytes and fits a part map as Node does', async () => {
    // A class map: an upright figure of parts, off-centre in a 50×40 picture.
    const width = 50;
    const height = 40;
    const labels = new Uint8Array(width * height);
    for (let y = 5; y < 37; y++) for (let x = 20; x < 30; x++) labels[y * width + x] = 1 + ((x + 3 * y) % 12);
    type Api = typeof import('../src/node.js');
    const run = (nbfApi: Api, rt: Runtime, weights: Uint8Array, body: Uint8Array, map: { width: number; height: number; labels: number[] }) => {
      const { network } = nbfApi.loadFitterWeights(rt, weights, 'fitter.nbfw');
      const model = nbfApi.GpuBodyModel.upload(rt, nbfApi.decodeBodyModel(body));
      const fit = nbfApi.fitPartMap(network, model, { width: map.width, height: map.height, labels: Uint8Array.from(map.labels) });
      network.dispose();
      model.dispose();
      return { joints3d: Array.from(fit.joints3d), joints2d: Array.from(fit.joints2d), pose: fit.pose, betas: fit.betas };
    };
    const map = { width, height, labels: Array.from(labels) };
    const got = await page.evaluate(async ({ map, source }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbfFull; // the fitting network: the whole API
      const fetchBytes = async (url: string) => new Uint8Array(await (await fetch(url)).arrayBuffer());
      const rt = nbf.createContext({ canvas: document.createElement('canvas'), poisonOutputs: true });
      const result = (0, eval)(`(${source})`)(nbf, rt, await fetchBytes('/fitter.nbfw'), await fetchBytes('/nbf-open-body.nbfm'), map);
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { ...result, live };
    }, { map, source: run.toString() });
    const here = run(await import('../src/node.js'), testRuntime(), fitterBytes, new Uint8Array(readFileSync('weights/nbf-open-body.nbfm')), map);
    expect(got.live).toBe(0);
    expect(maxRelError(got.joints3d, here.joints3d)).toBeLessThanOrEqual(1e-3);
    expect(maxRelError(got.joints2d, here.joints2d)).toBeLessThanOrEqual(1e-3);
    expect(maxRelError(got.betas, here.betas)).toBeLessThanOrEqual(1e-3);
    expect(got.pose).toHaveLength(72);
  });

  it('runs BlazePose lite fetched as a TF.js graph model, finding the landmarks Node finds', async () => {
    // A picture with a person: a rendered synthetic one (Node side), passed to the page as RGBA.
    const generator = new SynthGenerator(testRuntime(), loadOpenBodyModel());
    const batch = generator.generateBatch(1, { size: 192, seed: 7, start: 0 });
    const rgb = batch.inputs.rgb.readSync();
    disposeBatch(batch);
    generator.dispose();
    const pixels = Array.from(rgbFloatsToImage(rgb, 192, 192).data);
    const got = await page.evaluate(async ({ pixels }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const rt = nbf.createContext({ canvas: document.createElement('canvas'), poisonOutputs: true });
      const model = await nbf.fetchGraphModel(rt, '/blazepose/blazepose-lite.json');
      const landmarker = nbf.PoseLandmarker.fromModel(rt, model);
      const image = new ImageData(Uint8ClampedArray.from(pixels), 192, 192);
      const pose = landmarker.detect(image);
      landmarker.dispose();
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { keypoints: pose.keypoints, score: pose.score, live };
    }, { pixels });
    const { createPoseLandmarker } = await import('../src/landmarks/model-files.js');
    const here = createPoseLandmarker(testRuntime(), { variant: 'lite', detector: false }); // lite and no detector, as the page ran
    const expected = here.detect({ width: 192, height: 192, data: Uint8Array.from(pixels) });
    here.dispose();
    expect(got.live).toBe(0);
    expect(got.score).toBeCloseTo(expected.score, 3);
    for (let k = 0; k < 33; k++) {
      expect(Math.abs(got.keypoints[k][0] - expected.keypoints[k][0]), `landmark ${k} x`).toBeLessThan(0.05);
      expect(Math.abs(got.keypoints[k][1] - expected.keypoints[k][1]), `landmark ${k} y`).toBeLessThan(0.05);
    }
  });

  it("fetches the networks' chunk only when a pipeline asks for a network, and fits a picture by NBF's route as Node does", async () => {
    const generator = new SynthGenerator(testRuntime(), loadOpenBodyModel());
    const batch = generator.generateBatch(1, { size: 128, seed: 3, start: 0 });
    const rgb = batch.inputs.rgb.readSync();
    disposeBatch(batch);
    generator.dispose();
    const pixels = Array.from(rgbFloatsToImage(rgb, 128, 128).data);
    const routeChunk = (url: string) => /^\/nbf-gl\.parts-route-\w+\.js$/.test(url);
    // BlazePose alone ({ landmarkNetwork: false }): the page never fetches the networks' chunk.
    await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const rt = nbf.createContext({ canvas: document.createElement('canvas') });
      const pipeline = await nbf.NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, landmarkNetwork: false });
      pipeline.dispose();
      rt.destroy();
    });
    expect(requested.filter(routeChunk)).toEqual([]);
    // The default loads the landmark network: the chunk and its weights.
    const withNetwork = await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const rt = nbf.createContext({ canvas: document.createElement('canvas') });
      const pipeline = await nbf.NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true });
      const loaded = pipeline.landmarkFitter !== null;
      pipeline.dispose();
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { loaded, live };
    });
    expect(withNetwork).toEqual({ loaded: true, live: 0 });
    expect(requested.filter(routeChunk)).toHaveLength(1);
    expect(requested).toContain('/nbf-fitter-landmarks.nbfw');
    const got = await page.evaluate(async ({ pixels }) => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const rt = nbf.createContext({ canvas: document.createElement('canvas'), poisonOutputs: true });
      const pipeline = await nbf.NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, parts: true });
      const fit = pipeline.fitParts(new ImageData(Uint8ClampedArray.from(pixels), 128, 128), { steps: 2 });
      pipeline.dispose();
      const live = rt.memory().liveTextures;
      rt.destroy();
      return { labels: Array.from(fit.segmentation.labels as Uint8Array), network: Array.from(fit.network.joints2d as Float32Array), joints2d: Array.from(fit.joints2d as Float32Array), live };
    }, { pixels });
    expect(requested.filter(routeChunk)).toHaveLength(1);
    expect(got.live).toBe(0);
    const { createNodePipeline } = await import('../src/pipeline/nbf-pipeline-node.js');
    const here = createNodePipeline(testRuntime(), { noDetector: true, parts: true });
    const expected = here.fitParts({ width: 128, height: 128, data: Uint8Array.from(pixels) }, { steps: 2 });
    here.dispose();
    const agree = got.labels.filter((l: number, i: number) => l === expected.segmentation.labels[i]).length / got.labels.length;
    const farthest = (a: number[], b: ArrayLike<number>) => Math.max(...Array.from({ length: a.length / 2 }, (_, j) => Math.hypot(a[2 * j] - b[2 * j], a[2 * j + 1] - b[2 * j + 1])));
    expect(agree).toBeGreaterThan(0.99);
    expect(farthest(got.network, expected.network.joints2d)).toBeLessThan(0.01); // px (measured 1e-5)
    expect(farthest(got.joints2d, expected.joints2d)).toBeLessThan(0.5); // px after 2 refinement steps (measured 0.02)
  });

  it('reports a clear error when WebGL2 is unavailable', async () => {
    const message = await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const fake = { getContext: () => null, addEventListener() {}, removeEventListener() {} };
      try {
        nbf.createContext({ canvas: fake as unknown as HTMLCanvasElement });
        return 'no error';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(message).toMatch(/no WebGL2 context/);
  });

  it('detects context loss and refuses to return stale results', async () => {
    const result = await page.evaluate(async () => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const nbf = (window as any).nbf;
      const canvas = document.createElement('canvas');
      const rt = nbf.createContext({ canvas });
      const t = rt.tensor([1, 2, 3], [3]);
      const ext = rt.gl.getExtension('WEBGL_lose_context');
      ext.loseContext();
      await new Promise((r) => setTimeout(r, 50));
      try {
        nbf.relu(t).readSync();
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(result).toMatch(/ContextLostError: the WebGL context was lost/);
  });
});
