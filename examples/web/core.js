// The page's engine: one WebGL2 runtime, the NbfPipeline and a MeshRenderer for the overlay. Routes:
// 'landmarks' (BlazePose landmarks → body refinement), and NBF's: 'both' (segmenter → part map → fitting
// network → refinement, with BlazePose's mask, sides and 2D joints) and 'parts' (the same without
// BlazePose). NBF's route (its code chunk and the segmenter and fitter weights, 5 MB) is loaded only when
// the page asks for it. It answers messages, so the same code runs in a worker (worker.js, on an
// OffscreenCanvas: the page stays responsive and the refinement's progress paints while it runs) or on
// the page's own thread (main.js falls back to that where workers cannot have WebGL2).
//
// Messages in:  { id, type: 'init', baseUrl, parts, landmarks? } | { id, type: 'load-parts' }
//               | { id, type: 'fit', route, image: {width, height, data}, steps, overlay: {width, height} }
//               | { type: 'lose-context' } (tests: WEBGL_lose_context on the runtime's canvas)
// Messages out: { id, type: 'reply', ok, value | error: {kind, message} } | { id, type: 'progress', ... }
//               | { type: 'weights', done, total, bytes, what? } | { type: 'context-lost' } | { type: 'recovered' } | { type: 'recover-failed', error }
import * as nbf from '../../dist/nbf-gl.browser.js';

/** Error → something postMessage carries, with the kind main.js acts on (class names are minified away). */
function describe(e) {
  const kind = e.kind === 'weights' ? 'weights'
    : e instanceof nbf.NoPersonError ? 'no-person'
    : e instanceof nbf.ContextLostError ? 'context-lost'
    : e instanceof nbf.ContextError ? 'no-webgl'
    : 'error';
  return { kind, message: e instanceof Error ? e.message : String(e) };
}

/** The weights only NBF's route needs (PIPELINE_FILES names them; the page's server serves them from weights/). */
const PARTS_FILES = [nbf.PIPELINE_FILES.segmenter, nbf.PIPELINE_FILES.fitter];

export function serve(port) {
  /** url → ArrayBuffer: weights fetched once, reused when the runtime is re-created after a context loss. */
  const cache = new Map();
  let bytesLoaded = 0;
  let baseUrl = '';
  /** The BlazePose model file under baseUrl (init's `landmarks`; NbfPipeline.create's default, lite, when not given). */
  let landmarksFile;
  let rt = null;
  let canvas = null;
  let pipeline = null;
  let renderer = null;
  /** Whether the pipeline holds NBF's route (kept across a context loss). */
  let withParts = false;
  let recovering = false;
  let lostAt = 0;

  const post = (msg, transfer = []) => port.postMessage(msg, transfer);

  // FetchLike with a cache, counting bytes for the loading bar's text.
  const cachedFetch = async (url) => {
    if (!cache.has(url)) {
      cache.set(url, (async () => {
        const response = await fetch(url);
        if (!response.ok) return { ok: false, status: response.status };
        const buffer = await response.arrayBuffer();
        bytesLoaded += buffer.byteLength;
        return { ok: true, status: response.status, buffer };
      })());
    }
    let got;
    try {
      got = await cache.get(url);
    } catch (e) {
      cache.delete(url);
      throw e;
    }
    if (!got.ok) cache.delete(url);
    return {
      ok: got.ok,
      status: got.status,
      arrayBuffer: async () => got.buffer.slice(0),
      text: async () => new TextDecoder().decode(got.buffer),
    };
  };

  function freeAll() {
    try { renderer?.dispose(); } catch { /* the context is gone */ }
    try { pipeline?.dispose(); } catch { /* idem */ }
    try { rt?.destroy(); } catch { /* idem */ }
    renderer = pipeline = rt = canvas = null;
  }

  /**
   * Fetches NBF's route's two weights files into the cache before NbfPipeline.create asks for them: a
   * missing file is then reported by name, with what to do, before any model is put on the GPU (create
   * would leave the models it loaded before the failure on the runtime). Progress counts these two files.
   */
  async function prefetchPartsWeights() {
    let done = 0;
    const what = "NBF's route (segmenter, fitting network)";
    post({ type: 'weights', what, done, total: PARTS_FILES.length, bytes: bytesLoaded });
    await Promise.all(PARTS_FILES.map(async (file) => {
      const url = baseUrl + file;
      let response;
      try {
        response = await cachedFetch(url);
      } catch (e) {
        throw Object.assign(new Error(`NBF's route could not fetch weights/${file}: ${e.message}`), { kind: 'weights' });
      }
      if (!response.ok) {
        throw Object.assign(new Error(`NBF's route needs weights/${file}, which the server did not give (HTTP ${response.status}). ` +
          'Put the file under weights/ (npm run serve serves it from there) or pick the landmarks route.'), { kind: 'weights' });
      }
      post({ type: 'weights', what, done: ++done, total: PARTS_FILES.length, bytes: bytesLoaded });
    }));
  }

  function createPipeline(parts) {
    return nbf.NbfPipeline.create({
      runtime: rt,
      baseUrl,
      landmarks: landmarksFile,
      parts,
      // The fitting network that reads landmarks: the landmarks route starts from its body (as nbf fit).
      landmarkNetwork: true,
      fetch: cachedFetch,
      onProgress: (done, total) => post({ type: 'weights', done, total, bytes: bytesLoaded }),
    });
  }

  function engineInfo() {
    const model = pipeline.bodyModel;
    return {
      model: { name: model.name, licence: model.licence, faces: model.faces, parts12: model.parts12 },
      landmarkModel: `blazepose-${pipeline.landmarker.variant}`,
      parts: withParts,
      memory: rt.memory(),
    };
  }

  async function start() {
    canvas = typeof document !== 'undefined' ? document.createElement('canvas') : new OffscreenCanvas(1, 1);
    rt = nbf.createContext({ canvas }); // ContextError: no WebGL2 or no float render targets
    const mine = canvas;
    canvas.addEventListener('webglcontextlost', () => { if (mine === canvas) contextLost(); });
    pipeline = await createPipeline(withParts);
    renderer = new nbf.MeshRenderer(rt, pipeline.bodyModel);
    return engineInfo();
  }

  /** Replaces the pipeline by one that also holds NBF's route; the old one stays until the new one is built. */
  async function loadParts() {
    if (withParts) return engineInfo();
    await prefetchPartsWeights();
    const runtime = rt;
    const next = await createPipeline(true);
    // A context lost meanwhile has freed this runtime (and a recovery may have made another): drop `next`.
    if (rt !== runtime || runtime.isContextLost) {
      try { next.dispose(); } catch { /* the context is gone */ }
      throw new nbf.ContextLostError('the WebGL context was lost while NBF\'s route loaded');
    }
    pipeline.dispose();
    renderer.dispose();
    pipeline = next;
    renderer = new nbf.MeshRenderer(rt, pipeline.bodyModel);
    withParts = true;
    return engineInfo();
  }

  // After a loss: everything on the old context is gone. Free what we can, then build a new runtime on
  // a new canvas (the weights come from the cache); retry while the browser is still restoring its GPU.
  function contextLost() {
    if (recovering) return;
    recovering = true;
    lostAt = performance.now();
    post({ type: 'context-lost' });
    freeAll();
    const delays = [200, 500, 1000, 2000, 4000, 8000];
    const attempt = async (i) => {
      try {
        const info = await start();
        recovering = false;
        post({ type: 'recovered', info, ms: performance.now() - lostAt });
        setTimeout(warmup, 0);
      } catch (e) {
        freeAll();
        if (i + 1 < delays.length) setTimeout(() => attempt(i + 1), delays[i + 1]);
        else {
          recovering = false;
          post({ type: 'recover-failed', error: describe(e) });
        }
      }
    };
    setTimeout(() => attempt(0), delays[0]);
  }

  /**
   * Compiles the landmarks route's programs while the user picks a photo (NbfPipeline.warmup): on a
   * CPU WebGL (SwiftShader here) most of a first fit is compiling. A fit asked for meanwhile waits
   * for it, and then runs warm.
   */
  function warmup() {
    if (!pipeline || recovering) return;
    try {
      const ms = pipeline.warmup();
      post({ type: 'warmed', ms, memory: rt.memory() });
    } catch (e) {
      // A failure here shows again, with its message, on the first fit.
      if (rt?.isContextLost) contextLost();
    }
  }

  function fit(msg) {
    if (!pipeline) throw new nbf.ContextLostError('the WebGL context is being re-created; try again in a moment');
    const progress = (stage, step, steps, loss) => post({ id: msg.id, type: 'progress', stage, step, steps, loss });
    const partsRoute = msg.route === 'both' || msg.route === 'parts';
    if (partsRoute && !withParts) throw new Error('internal: NBF\'s route is not loaded (the page sends load-parts first)');
    const result = partsRoute
      ? pipeline.fitParts(msg.image, { steps: msg.steps, landmarks: msg.route === 'both', progress })
      : pipeline.fit(msg.image, { steps: msg.steps, progress });
    // The fitted body's 12 parts at the overlay's size (the camera scaled to it), as fit-photo.ts draws them.
    const t0 = performance.now();
    const { width, height } = msg.overlay;
    const sx = width / result.width;
    const sy = height / result.height;
    const camera = Float32Array.from([result.camera[0] * sx, result.camera[1] * sy, result.camera[2] * sx, result.camera[3] * sy]);
    const drawn = rt.scope(() => {
      const gbuffer = renderer.render(rt.tensor(result.vertices, [1, result.vertices.length / 3, 3]), rt.tensor(camera, [1, 4]), { width, height });
      const labels = nbf.partLabelMap(gbuffer, 12);
      return { rgb: nbf.partColourMap(labels, 12).readSync(), labels: labels.readSync() };
    });
    const rgba = new Uint8ClampedArray(width * height * 4);
    for (let i = 0; i < width * height; i++) {
      if (drawn.labels[i] > 0) {
        rgba[4 * i] = drawn.rgb[3 * i];
        rgba[4 * i + 1] = drawn.rgb[3 * i + 1];
        rgba[4 * i + 2] = drawn.rgb[3 * i + 2];
        rgba[4 * i + 3] = 255;
      }
    }
    const overlayMs = performance.now() - t0;
    if (rt.isContextLost) throw new nbf.ContextLostError('the WebGL context was lost during the fit');
    const lm = result.landmarks;
    const value = {
      route: msg.route,
      width: result.width,
      height: result.height,
      camera: result.camera,
      betas: result.betas,
      pose: result.pose,
      trans: result.trans,
      // Copies: they travel as transferred buffers, which must not be shared with anything else.
      vertices: result.vertices.slice(),
      joints3d: result.joints3d,
      joints2d: result.joints2d,
      landmarks: lm ? { keypoints: lm.keypoints, score: lm.score, box: lm.box, firstCrop: lm.firstCrop } : null,
      refine: result.refine,
      // The legs' sides check (both routes that read landmarks; null where it did not run).
      legSides: result.legSides ?? null,
      timings: { ...result.timings, overlayMs },
      overlay: { width, height, rgba },
      memory: rt.memory(),
    };
    const transfer = [value.vertices.buffer, rgba.buffer];
    if (partsRoute) {
      // The predicted part map at the picture's size (class per pixel, NBF_PARTS' order) and how it was made.
      const s = result.segmentation;
      value.segmentation = { labels: s.labels.slice(), box: s.box, personMask: s.personMask, sidesFromLandmarks: s.sidesFromLandmarks };
      value.network = { joints2d: result.network.joints2d };
      transfer.push(value.segmentation.labels.buffer);
    } else {
      value.targetCount = result.targets.weights.filter((w) => w >= 0.25).length;
      // The landmark network's own answer (before the refinement) and its crop of the picture.
      if (result.network) value.network = { joints2d: result.network.joints2d, crop: { x0: result.network.crop.x0, y0: result.network.crop.y0, side: result.network.crop.side, size: result.network.crop.size } };
    }
    return { value, transfer };
  }

  port.addEventListener('message', async (event) => {
    const msg = event.data;
    if (msg.type === 'lose-context') {
      rt?.gl.getExtension('WEBGL_lose_context')?.loseContext();
      return;
    }
    try {
      if (msg.type === 'init') {
        baseUrl = msg.baseUrl;
        landmarksFile = msg.landmarks;
        // With NBF's route asked for from the start, its weights are checked first: where they are
        // missing the engine starts with the landmarks route and says why (partsError).
        let partsError = null;
        if (msg.parts) {
          try {
            await prefetchPartsWeights();
            withParts = true;
          } catch (e) {
            if (e.kind !== 'weights') throw e;
            partsError = e.message;
          }
        }
        try {
          post({ id: msg.id, type: 'reply', ok: true, value: { ...await start(), partsError } });
        } catch (e) {
          freeAll();
          throw e;
        }
        setTimeout(warmup, 0);
      } else if (msg.type === 'load-parts') {
        if (!pipeline) throw new nbf.ContextLostError('the WebGL context is being re-created; try again in a moment');
        post({ id: msg.id, type: 'reply', ok: true, value: await loadParts() });
      } else if (msg.type === 'fit') {
        const { value, transfer } = fit(msg);
        post({ id: msg.id, type: 'reply', ok: true, value }, transfer);
      } else {
        throw new Error(`unknown message ${msg.type}`);
      }
    } catch (e) {
      const error = describe(e);
      // A lost context shows up as ContextLostError, or as anything at all thrown by a dead GL.
      if (rt?.isContextLost) {
        error.kind = 'context-lost';
        contextLost();
      }
      post({ id: msg.id, type: 'reply', ok: false, error });
    }
  });
  port.start?.();
}
