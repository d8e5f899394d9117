/**
 * NbfPipeline.create through a fetch (as a page loads it): every model it loaded is freed again when a
 * later download fails, and a pipeline that was created frees all it holds on dispose().
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { NbfPipeline, PIPELINE_FILES } from '../src/pipeline/nbf-pipeline.js';
import type { FetchLike } from '../src/graph/load.js';

/** A fetch over weights/ that answers 404 for `missing`. */
function diskFetch(missing: string | null): FetchLike {
  return async (url: string) => {
    const path = join('weights', url.replace(/^\//, ''));
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
});
