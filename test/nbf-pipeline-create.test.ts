/**
 * NbfPipeline.create through a fetch (as a page loads it): every model it loaded is freed again when a
 * later download fails, and a pipeline that was created frees all it holds on dispose().
 */
import { join } from 'node:path';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { FitterNetwork, fitterConfigWithInput } from '../src/nn/fitter.js';
import { encodeFitterWeights } from '../src/nn/weights-file.js';
import { readImageFile } from '../src/io/image-file.js';
import { testRuntime } from './helpers/gl.js';
import { TINY_FITTER } from './helpers/tiny-networks.js';
import { NbfPipeline, PIPELINE_FILES } from '../src/pipeline/nbf-pipeline.js';
import { createNodeContext } from '../src/runtime/node-context.js';
import type { FetchLike } from '../src/graph/load.js';

/** A fetch over weights/ that answers 404 for `missing`; `extra` serves other files by name. */
function diskFetch(missing: string | null, extra: Record<string, string> = {}): FetchLike {
  return async (url: string) => {
    const name = url.replace(/^\//, '');
    const path = extra[name] ?? join('weights', name);
    const found = existsSync(path) && !(missing && url.endsWith(missing));
    const bytes = found ? readFileSync(path) : Buffer.alloc(0);
    return {
      ok: found,
      status: found ? 200 : 404,
      text: async () => bytes.toString('utf8'),
      arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    };
  };
}

describe('NbfPipeline.create', () => {
  it('frees the models it loaded when a download fails, and everything on dispose()', async () => {
    const rt = testRuntime();
    const before = rt.memory();
    await expect(NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, parts: true, fetch: diskFetch(PIPELINE_FILES.fitter) }))
      .rejects.toThrow(/nbf-fitter-compact\.nbfw: HTTP 404/);
    expect(rt.memory().tensors).toBe(before.tensors);
    expect(rt.memory().liveTextures).toBe(before.liveTextures);
    const pipeline = await NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, parts: true, fetch: diskFetch(null) });
    expect(rt.memory().tensors).toBeGreaterThan(before.tensors);
    pipeline.dispose();
    expect(rt.memory().tensors).toBe(before.tensors);
  });

  it('names the BlazePose it fetched: lite by default, full when asked for its file', async () => {
    const rt = testRuntime();
    const lite = await NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, landmarkNetwork: false, fetch: diskFetch(null) });
    expect(lite.landmarker.variant).toBe('lite');
    lite.dispose();
    const full = await NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, landmarkNetwork: false, landmarks: 'blazepose/blazepose-full.json', fetch: diskFetch(null) });
    expect(full.landmarker.variant).toBe('full');
    full.dispose();
  });
});

describe('NbfPipeline.create with the landmark network', () => {
  const root = mkdtempSync(join(tmpdir(), 'nbf-pipeline-create-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('fetches it, starts fit() from its body, and frees it (also when its download fails)', async () => {
    const rt = testRuntime();
    const net = new FitterNetwork(rt, fitterConfigWithInput(TINY_FITTER, 'landmarks'), { seed: 3 });
    const file = join(root, 'landmarks.nbfw');
    writeFileSync(file, encodeFitterWeights(net));
    net.dispose();
    const before = rt.memory();
    await expect(NbfPipeline.create({ runtime: rt, baseUrl: '/', noDetector: true, landmarkNetwork: true, fetch: diskFetch(PIPELINE_FILES.landmarkFitter) }))
      .rejects.toThrow(/nbf-fitter-landmarks\.nbfw: HTTP 404/);
    expect(rt.memory().tensors).toBe(before.tensors);
    let done = 0;
    const pipeline = await NbfPipeline.create({
      runtime: rt, baseUrl: '/', noDetector: true, landmarkNetwork: true, fetch: diskFetch(null, { [PIPELINE_FILES.landmarkFitter]: file }),
      onProgress: (d, total) => { done = d; expect(total).toBe(3); },
    });
    try {
      expect(done).toBe(3);
      expect(pipeline.landmarkFitter).not.toBeNull();
      const image = await readImageFile('examples/web/sample.png');
      const fit = pipeline.fit(image, { steps: 4 });
      expect(fit.network).not.toBeNull();
      expect(fit.camera).toEqual(fit.network!.camera);
      const without = pipeline.fit(image, { steps: 4, network: null });
      expect(without.network).toBeNull();
    } finally {
      pipeline.dispose();
    }
    expect(rt.memory().tensors).toBe(before.tensors);
  });
});

describe('NbfPipeline.warmup', () => {
  const root = mkdtempSync(join(tmpdir(), 'nbf-pipeline-warmup-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('compiles every program fit() runs (a fit after it compiles none, nor keeps more), and dispose() frees what it kept', async () => {
    // A context of its own: its program cache starts empty.
    const rt = createNodeContext();
    try {
      const net = new FitterNetwork(rt, fitterConfigWithInput(TINY_FITTER, 'landmarks'), { seed: 3 });
      const file = join(root, 'landmarks.nbfw');
      writeFileSync(file, encodeFitterWeights(net));
      net.dispose();
      const start = rt.memory();
      const pipeline = await NbfPipeline.create({ runtime: rt, baseUrl: '/', landmarkNetwork: true, fetch: diskFetch(null, { [PIPELINE_FILES.landmarkFitter]: file }) });
      try {
        const programs = rt.programs.size;
        expect(pipeline.warmup()).toBeGreaterThan(0);
        expect(rt.programs.size).toBeGreaterThan(programs + 20);
        // What stays is what a first fit keeps too (weights packed once, cached with them).
        const warmedMemory = rt.memory();
        const warmed = rt.programs.size;
        const fit = pipeline.fit(await readImageFile('examples/web/sample.png'), { steps: 3 });
        expect(fit.network).not.toBeNull();
        expect(fit.refine).not.toBeNull();
        expect(rt.programs.size).toBe(warmed);
        expect(rt.memory().tensors).toBe(warmedMemory.tensors);
        expect(rt.memory().liveTextures).toBe(warmedMemory.liveTextures);
      } finally {
        pipeline.dispose();
      }
      expect(rt.memory().tensors).toBe(start.tensors);
      expect(() => pipeline.warmup()).toThrow(/used after dispose/);
    } finally {
      rt.destroy();
    }
  });
});

