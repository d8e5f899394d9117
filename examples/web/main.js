// nbf-gl's web page: a photo (picked, dropped, the sample, or webcam frames) → the fitted body drawn over
// it, on NBF's route the predicted part map too, a 3D view, timings and downloads. The fitting runs in a
// worker (core.js in worker.js) so the page paints while it works; main.js draws and talks to it.
//
// URL parameters: ?image=URL fits that picture on load; ?route=landmarks|both|parts the route (default
// landmarks); ?model=lite|full the BlazePose (default lite, 2.7 MB; full, 6.3 MB, finds joints better and
// is what `nbf fit` runs); ?steps=N refinement steps (default 100, as `nbf fit`);
// ?cameraSteps=N steps per webcam frame (default 60); ?worker=0 runs the engine on the page's thread.
// For tests: window.nbfResult = { joints2d, betas, pose, timings, route, ... } and document.body.dataset.state
// ('loading', 'ready', 'fitting', 'done', 'error', 'recovering'); window.nbfError; window.nbfFit(url);
// window.nbfDebug.loseContext() (WEBGL_lose_context on the runtime's canvas), window.nbfDebug.partMap()
// (the last part map, NBF's routes).
import * as nbf from '../../dist/nbf-gl.browser.js';
import { BodyViewer } from './viewer.js';

const query = new URLSearchParams(location.search);
const intParam = (name, fallback, lo, hi) => {
  const v = Number(query.get(name));
  return query.has(name) && Number.isInteger(v) && v >= lo && v <= hi ? v : fallback;
};
/**
 * The routes (NbfPipeline.fit and fitParts; `nbf fit --route`): whether they need NBF's segmenter and
 * fitting network, whether BlazePose joins in, and their default refinement steps (as `nbf fit`'s).
 */
const ROUTES = {
  landmarks: { name: 'landmarks', parts: false, landmarks: true, steps: 100 },
  both: { name: 'parts + landmarks', parts: true, landmarks: true, steps: 100 },
  parts: { name: 'parts only', parts: true, landmarks: false, steps: 100 },
};
const STEPS_GIVEN = query.has('steps');
const routeSteps = (route) => intParam('steps', ROUTES[route].steps, 2, 10_000);
const CAMERA_STEPS = intParam('cameraSteps', 60, 2, 10_000);
const WEIGHTS_URL = new URL('../../weights/', import.meta.url).href;
/** Pictures are fitted at most this many pixels on the longer side (the landmark network reads 256²). */
const FIT_MAX = 2048;
/** The overlay is drawn at most this many pixels on the longer side, small pictures scaled up to OVERLAY_MIN. */
const OVERLAY_MAX = 1024;
const OVERLAY_MIN = 640;

const $ = (id) => document.getElementById(id);
const ui = {
  pick: $('pick'), sample: $('sample'), camera: $('camera'), steps: $('steps'), route: $('route'),
  showParts: $('show-parts'), showSkeleton: $('show-skeleton'),
  loading: $('loading'), loadBar: $('load-bar'), loadText: $('load-text'), notice: $('notice'),
  photo: $('photo'), drop: $('drop'), dropHint: $('drop-hint'), view: $('view'), progress: $('fit-progress'),
  main: document.querySelector('main'), photoCaption: $('photo-caption'),
  partsPanel: $('parts-panel'), parts: $('parts'), partsHow: $('parts-how'), partsLegend: $('parts-legend'),
  memory: $('memory'), engineInfo: $('engine-info'), video: $('video'),
  t: {
    landmarks: $('t-landmarks'), segment: $('t-segment'), network: $('t-network'), refine: $('t-refine'),
    total: $('t-total'), overlay: $('t-overlay'), error: $('t-error'), errorName: $('t-error-name'),
  },
  row: { landmarks: $('row-landmarks'), segment: $('row-segment'), network: $('row-network') },
  dl: { glb: $('dl-glb'), obj: $('dl-obj'), params: $('dl-params') },
};

/** The route of the next fit: ?route=, then the select. An unknown name is said and replaced by the default. */
let route = query.get('route') ?? 'landmarks';
/** What was wrong with the URL parameters (?route=, ?model=), shown once the page is up. */
let paramWarning = null;
if (!Object.hasOwn(ROUTES, route)) {
  paramWarning = `?route=${route} is not a route of this page (landmarks, both, parts); using landmarks.`;
  route = 'landmarks';
}
/** The BlazePose the page fetches: ?model=lite (default: the smaller download) or full. */
let landmarkModel = query.get('model') ?? 'lite';
if (landmarkModel !== 'lite' && landmarkModel !== 'full') {
  paramWarning = `${paramWarning ? paramWarning + ' ' : ''}?model=${landmarkModel} is not a BlazePose this page ships (lite, full); using lite.`;
  landmarkModel = 'lite';
}
ui.route.value = route;
ui.steps.value = String(routeSteps(route));
/** Whether the steps box was typed in: then a change of route leaves it alone. */
let stepsEdited = false;
ui.steps.addEventListener('input', () => { stepsEdited = true; });
for (const [k, part] of nbf.NBF_PARTS.entries()) {
  if (k === 0) continue;
  const item = document.createElement('li');
  const swatch = document.createElement('i');
  swatch.style.background = `rgb(${part.rgb.join(',')})`;
  item.append(swatch, part.name);
  ui.partsLegend.append(item);
}

const setState = (state) => { document.body.dataset.state = state; };
const ms = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
/** Lets the browser paint before the next piece of work. */
const paint = () => new Promise((resolve) => {
  const done = () => setTimeout(resolve, 0);
  requestAnimationFrame(done);
  setTimeout(done, 100); // hidden tabs get no frames
});

function notice(text, kind = 'warn') {
  ui.notice.hidden = !text;
  ui.notice.textContent = text ?? '';
  ui.notice.className = kind;
}

// ---------------------------------------------------------------------------------------------------------
// The engine: core.js in a worker, or on this thread. Requests carry an id; replies and progress name it.

class Engine {
  constructor(port, where, onEvent) {
    this.port = port;
    this.where = where;
    this.next = 1;
    this.pending = new Map();
    this.onEvent = onEvent;
    port.addEventListener('message', (event) => {
      const msg = event.data;
      const job = msg.id ? this.pending.get(msg.id) : null;
      if (msg.type === 'reply' && job) {
        this.pending.delete(msg.id);
        if (msg.ok) job.resolve(msg.value);
        else job.reject(Object.assign(new Error(msg.error.message), { kind: msg.error.kind }));
      } else if (msg.type === 'progress' && job) {
        job.onProgress?.(msg);
      } else {
        onEvent(msg);
      }
    });
    port.start?.();
  }

  call(type, payload = {}, transfer = [], onProgress = null) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.port.postMessage({ id, type, ...payload }, transfer);
    });
  }

  post(msg) {
    this.port.postMessage(msg);
  }

  /** Fails every request in flight (the worker died). */
  failAll(message) {
    for (const job of this.pending.values()) job.reject(Object.assign(new Error(message), { kind: 'error' }));
    this.pending.clear();
  }

  close() {
    this.port.terminate?.();
    this.port.close?.();
  }

  static inWorker(onEvent) {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    const engine = new Engine(worker, 'a worker (OffscreenCanvas)', onEvent);
    worker.addEventListener('error', (e) => engine.failAll(`the engine's worker failed: ${e.message || 'could not load worker.js'}`));
    return engine;
  }

  static async onThisThread(onEvent) {
    const { serve } = await import('./core.js');
    const channel = new MessageChannel();
    serve(channel.port1);
    return new Engine(channel.port2, "the page's thread", onEvent);
  }
}

// ---------------------------------------------------------------------------------------------------------
// State shared by the handlers.

let engine = null;
let info = null; // { model: {name, licence, faces, parts12}, landmarkModel, parts (NBF's route loaded), memory }
let partColours = null;
let ready = false;
let whenReady = null; // resolves at the next 'recovered'
let readyNow = () => {};
let last = null; // { result, photo (canvas), source }
let camera = null; // { stream, running }
let contextLosses = 0;
let busy = false;
let startFailed = null; // the message, when the engine could not start
const viewer = new BodyViewer(ui.view);
viewer.draw();

function setReadyPromise() {
  whenReady = new Promise((resolve) => { readyNow = resolve; });
}
setReadyPromise();

function enableInputs(on) {
  for (const el of [ui.pick, ui.sample, ui.camera, ui.route]) el.disabled = !on;
}

function showMemory(memory, extra = '') {
  if (!memory) return;
  ui.memory.textContent = `GPU memory: ${memory.liveTextures} live textures (${mib(memory.liveBytes)}), ` +
    `${memory.pooledTextures} pooled (${mib(memory.pooledBytes)}), ${memory.tensors} tensors, ${memory.programs} programs${extra}`;
}

function onEngineEvent(msg) {
  if (msg.type === 'weights') {
    ui.loadBar.value = msg.done / msg.total;
    ui.loadText.textContent = `loading ${msg.what ?? 'the models'}: ${msg.done} of ${msg.total} files, ${mib(msg.bytes)}`;
  } else if (msg.type === 'context-lost') {
    contextLosses++;
    document.body.dataset.contextLosses = String(contextLosses);
    window.nbfContextLosses = contextLosses;
    ready = false;
    enableInputs(false);
    notice('The WebGL context was lost (the GPU was reset, or the browser took it back). Re-creating the runtime and the models…');
    setState('recovering');
  } else if (msg.type === 'recovered') {
    info = msg.info;
    ready = true;
    enableInputs(true);
    notice(`The WebGL context was lost and has been re-created (in ${ms(msg.ms)}): the runtime and the models are back; go on as before.`, 'info');
    showMemory(info.memory);
    setState('ready');
    readyNow();
    setReadyPromise();
  } else if (msg.type === 'warmed') {
    document.body.dataset.warmupMs = String(Math.round(msg.ms));
    showMemory(msg.memory, `; shaders compiled ahead of the first photo in ${ms(msg.ms)}`);
  } else if (msg.type === 'recover-failed') {
    fail(`The WebGL context was lost and could not be re-created: ${msg.error.message}. Reload the page to try again.`);
  }
}

function fail(message) {
  console.error(message);
  window.nbfError = message;
  notice(message, 'error');
  ui.progress.textContent = '';
  setState('error');
}

async function startEngine() {
  setState('loading');
  ui.loading.hidden = false;
  const tryEngine = async (make) => {
    const e = await make(onEngineEvent);
    try {
      return { engine: e, info: await e.call('init', { baseUrl: WEIGHTS_URL, parts: ROUTES[route].parts, landmarks: `blazepose/blazepose-${landmarkModel}.json` }) };
    } catch (err) {
      e.close();
      throw err;
    }
  };
  const useWorker = query.get('worker') !== '0' && typeof Worker !== 'undefined' && typeof OffscreenCanvas !== 'undefined';
  let started;
  try {
    if (!useWorker) throw Object.assign(new Error('workers are off'), { kind: 'skip' });
    started = await tryEngine(async (onEvent) => Engine.inWorker(onEvent));
  } catch (err) {
    // No WebGL2 on an OffscreenCanvas in a worker (older browsers): the page's own thread may have it.
    if (err.kind !== 'skip' && err.kind !== 'no-webgl' && !/worker/.test(err.message)) throw err;
    started = await tryEngine(Engine.onThisThread);
  }
  engine = started.engine;
  info = started.info;
  partColours = nbf.partColors(info.model.parts12);
  showEngineInfo();
  showMemory(info.memory);
  ui.loadBar.value = 1;
  ui.loading.hidden = true;
  ready = true;
  enableInputs(true);
  // NBF's route was asked for but its weights are missing: say so now; a fit by it says so again.
  if (started.info.partsError && document.body.dataset.state !== 'error') notice(started.info.partsError, 'error');
  if (document.body.dataset.state !== 'error') setState('ready');
  readyNow();
  setReadyPromise();
}

function showEngineInfo() {
  const models = info.parts ? `${info.landmarkModel}, segmenter and fitting network (compact)` : info.landmarkModel;
  ui.engineInfo.textContent = `engine on ${engine.where}; ${models}, body model ${info.model.name}`;
}

/**
 * Loads NBF's route into the engine (its code chunk, the segmenter and the fitting network) unless it is
 * there, with the loading bar. Throws with kind 'weights' when the server lacks their files.
 */
async function ensureParts() {
  if (info.parts) return;
  ui.loadBar.value = 0;
  ui.loadText.textContent = "loading NBF's route…";
  ui.loading.hidden = false;
  try {
    info = await engine.call('load-parts');
  } finally {
    ui.loading.hidden = true;
  }
  showEngineInfo();
  showMemory(info.memory);
}

// ---------------------------------------------------------------------------------------------------------
// Pictures in.

/** A canvas holding the picture, at most FIT_MAX on its longer side. */
function pictureCanvas(source, width, height) {
  const s = Math.min(1, FIT_MAX / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * s));
  canvas.height = Math.max(1, Math.round(height * s));
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  return canvas;
}

async function canvasFromBlob(blob, name) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(blob);
  } catch {
    throw new Error(`${name} is not a picture this browser can decode (PNG or JPEG expected)`);
  }
  const canvas = pictureCanvas(bitmap, bitmap.width, bitmap.height);
  bitmap.close();
  return canvas;
}

async function canvasFromUrl(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    throw new Error(`could not load the picture ${url}: ${e.message}`);
  }
  if (!response.ok) throw new Error(`could not load the picture ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  return canvasFromBlob(await response.blob(), url);
}

// ---------------------------------------------------------------------------------------------------------
// Fitting and drawing.

function overlaySize(width, height, cameraMode) {
  const long = Math.max(width, height);
  const s = cameraMode ? Math.min(1, OVERLAY_MAX / long) : Math.min(OVERLAY_MAX / long, Math.max(1, OVERLAY_MIN / long));
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

/** Fits one picture (a canvas) by `fitRoute`. Returns the result, or throws with `kind` ('no-person', 'context-lost', ...). */
async function fitCanvas(photo, steps, fitRoute, cameraMode = false) {
  if (ROUTES[fitRoute].parts) await ensureParts();
  const image = photo.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, photo.width, photo.height);
  const overlay = overlaySize(photo.width, photo.height, cameraMode);
  const t0 = performance.now();
  const request = { route: fitRoute, image: { width: image.width, height: image.height, data: image.data }, steps, overlay };
  const result = await engine.call('fit', request, [image.data.buffer], (p) => {
    if (!cameraMode) ui.progress.textContent = `refinement: stage ${p.stage} of 2, step ${p.step} of ${p.steps}, loss ${p.loss.toPrecision(4)}`;
  });
  result.timings.wallMs = performance.now() - t0;
  return result;
}

const LEFT = '#ff8c00';
const RIGHT = '#1e90ff';
const CENTRE = '#ffffff';
function sideOf(k) {
  if (k === 0) return CENTRE;
  if (k <= 10) return [1, 2, 3, 7, 9].includes(k) ? LEFT : RIGHT;
  return k % 2 === 1 ? LEFT : RIGHT;
}

/** Sizes a canvas to the result's overlay (or the photo's display size) and draws the photo on it. */
function photoOn(canvas, photo, result) {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  const { width, height } = result ? result.overlay : overlaySize(photo.width, photo.height, false);
  canvas.width = width;
  canvas.height = height;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(photo, 0, 0, width, height);
  return { ctx, width, height };
}

/** The photo, the body's parts blended over it (as `nbf fit`'s overlay.png) and the skeleton. */
function drawPhoto(photo, result) {
  const { ctx, width, height } = photoOn(ui.photo, photo, result);
  ui.dropHint.hidden = true;
  if (!result) return;
  if (ui.showParts.checked) {
    const pixels = ctx.getImageData(0, 0, width, height);
    const d = pixels.data;
    const parts = result.overlay.rgba;
    for (let i = 0; i < d.length; i += 4) {
      const on = parts[i + 3] > 0;
      for (let c = 0; c < 3; c++) d[i + c] = on ? 0.6 * parts[i + c] + 0.4 * d[i + c] : 0.55 * d[i + c];
    }
    ctx.putImageData(pixels, 0, 0);
  }
  if (ui.showSkeleton.checked && result.landmarks) {
    const sx = width / result.width;
    const sy = height / result.height;
    const kp = result.landmarks.keypoints;
    const seen = (k) => kp[k][2] >= 0.5;
    const scale = Math.max(1, Math.max(width, height) / 512);
    ctx.lineCap = 'round';
    ctx.lineWidth = 2.5 * scale;
    for (const [a, b] of nbf.BLAZEPOSE_SKELETON) {
      if (!seen(a) || !seen(b)) continue;
      ctx.strokeStyle = sideOf(a) === sideOf(b) ? sideOf(a) : CENTRE;
      ctx.beginPath();
      ctx.moveTo(kp[a][0] * sx, kp[a][1] * sy);
      ctx.lineTo(kp[b][0] * sx, kp[b][1] * sy);
      ctx.stroke();
    }
    kp.forEach((p, k) => {
      if (!seen(k)) return;
      ctx.fillStyle = '#141414';
      ctx.beginPath();
      ctx.arc(p[0] * sx, p[1] * sy, 4 * scale, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = sideOf(k);
      ctx.beginPath();
      ctx.arc(p[0] * sx, p[1] * sy, 3 * scale, 0, 2 * Math.PI);
      ctx.fill();
    });
  }
}

/**
 * The predicted part map over the photo, as `nbf segment`'s overlay.png (segment.ts segmentationOverlay):
 * 65 % NBF's palette on the person, the photo at half brightness elsewhere. Each drawn pixel takes the
 * label of the picture pixel under its centre.
 */
function drawPartMap(photo, result) {
  const { ctx, width, height } = photoOn(ui.parts, photo, result);
  const map = result?.segmentation;
  if (!map) return;
  const pixels = ctx.getImageData(0, 0, width, height);
  const d = pixels.data;
  const W = result.width;
  const H = result.height;
  for (let y = 0; y < height; y++) {
    const row = Math.min(H - 1, Math.floor(((y + 0.5) * H) / height)) * W;
    for (let x = 0; x < width; x++) {
      const label = map.labels[row + Math.min(W - 1, Math.floor(((x + 0.5) * W) / width))];
      const rgb = label > 0 ? nbf.NBF_PARTS[label]?.rgb : undefined;
      const i = 4 * (y * width + x);
      for (let c = 0; c < 3; c++) d[i + c] = rgb ? 0.65 * rgb[c] + 0.35 * d[i + c] : 0.5 * d[i + c];
    }
  }
  ctx.putImageData(pixels, 0, 0);
}

/** The panels and rows the selected route has: the part map panel and its timings on NBF's routes. */
function showRouteLayout() {
  const r = ROUTES[route];
  ui.partsPanel.hidden = !r.parts;
  ui.main.classList.toggle('with-parts', r.parts);
  ui.photoCaption.textContent = r.landmarks
    ? "The photo with the fitted body's 12 parts and BlazePose's skeleton (left orange, right blue)."
    : "The photo with the fitted body's 12 parts.";
  ui.partsHow.textContent = r.landmarks
    ? "BlazePose's person mask says person or background, its bones left or right"
    : 'it also says person or background, and left or right (without BlazePose)';
}

function meshOf(result) {
  return { positions: nbf.cameraToViewerPositions(result.vertices, result.joints3d), faces: info.model.faces, colors: partColours };
}

function showResult(result, photo, source, steps) {
  drawPhoto(photo, result);
  drawPartMap(photo, result);
  viewer.setMesh(meshOf(result));
  const t = result.timings;
  const partsRoute = !!result.segmentation;
  ui.row.landmarks.hidden = !result.landmarks;
  ui.row.segment.hidden = !partsRoute;
  ui.row.network.hidden = !result.network;
  ui.t.landmarks.textContent = ms(t.landmarksMs);
  ui.t.segment.textContent = partsRoute ? ms(t.segmentMs) : '–';
  ui.t.network.textContent = result.network ? ms(t.networkMs) : '–';
  ui.t.refine.textContent = `${ms(t.refineMs)} (${steps} steps)`;
  ui.t.total.textContent = `${ms(t.totalMs)} (${ms(t.wallMs)} in the page)`;
  ui.t.overlay.textContent = ms(t.overlayMs);
  if (partsRoute) {
    // The part terms' loss has no unit a reader knows; it says the refinement moved towards the map.
    ui.t.errorName.textContent = 'refinement loss';
    ui.t.error.textContent = `${result.refine.lossBefore.toPrecision(3)} → ${result.refine.lossAfter.toPrecision(3)} ` +
      `(part map${result.refine.landmarks ? ' and landmarks' : ''})`;
  } else {
    ui.t.errorName.textContent = 'fit error';
    ui.t.error.textContent = `${result.refine.startError.toFixed(1)} → ${result.refine.finalError.toFixed(1)} px over ${result.targetCount} landmarks`;
  }
  for (const b of Object.values(ui.dl)) b.disabled = false;
  last = { result, photo, source, steps };
}

const round = (x, d = 6) => Number(x.toFixed(d));

/** params.json as `nbf fit` writes it (src/cli/fit-photo.ts), for either route. */
function paramsJson({ result, source }) {
  return result.segmentation ? partsParamsJson(result, source) : landmarksParamsJson(result, source);
}

/** The fields every route writes: size, β, pose, translation, camera, joints. */
function bodyJson(r) {
  return {
    width: r.width,
    height: r.height,
    betas: Array.from(r.betas, (x) => round(x)),
    pose: Array.from(r.pose, (x) => round(x)),
    trans: Array.from(r.trans, (x) => round(x)),
    camera: { fx: round(r.camera[0], 3), fy: round(r.camera[1], 3), cx: round(r.camera[2], 3), cy: round(r.camera[3], 3) },
    jointNames: [...nbf.SMPL_JOINT_NAMES],
    joints3d: Array.from({ length: 24 }, (_, j) => [0, 1, 2].map((k) => round(r.joints3d[3 * j + k]))),
    joints2d: Array.from({ length: 24 }, (_, j) => [0, 1].map((k) => round(r.joints2d[2 * j + k], 3))),
  };
}

function landmarksParamsJson(r, source) {
  return {
    source,
    route: 'landmarks',
    landmarkModel: info.landmarkModel,
    bodyModel: info.model.name,
    ...bodyJson(r),
    personScore: round(r.landmarks.score, 4),
    network: r.network ? { crop: { x0: round(r.network.crop.x0, 3), y0: round(r.network.crop.y0, 3), side: round(r.network.crop.side, 3), networkInput: r.network.crop.size } } : null,
    refinement: { startErrorPx: round(r.refine.startError, 3), finalErrorPx: round(r.refine.finalError, 3), loss: r.refine.loss, start: r.refine.chosen },
    legSides: r.legSides,
    timingsMs: { landmarks: round(r.timings.landmarksMs, 1), network: round(r.timings.networkMs, 1), refine: round(r.timings.refineMs, 1), total: round(r.timings.totalMs, 1) },
  };
}

function partsParamsJson(r, source) {
  const t = r.timings;
  return {
    source,
    route: r.route,
    bodyModel: info.model.name,
    ...bodyJson(r),
    personBox: r.segmentation.box,
    // 'segmenter': its own first pass found the person; 'landmarks': BlazePose's person mask did.
    personFrom: r.segmentation.personMask ? 'landmarks' : 'segmenter',
    refinement: r.refine ? { steps: r.refine.steps, lossBefore: r.refine.lossBefore, lossAfter: r.refine.lossAfter, landmarks: r.refine.landmarks } : null,
    legSides: r.legSides,
    timingsMs: { landmarks: round(t.landmarksMs, 1), segment: round(t.segmentMs, 1), network: round(t.networkMs, 1), refine: round(t.refineMs, 1), total: round(t.totalMs, 1) },
  };
}

function download(name, data, type) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

ui.dl.glb.addEventListener('click', () => last && download('body.glb',
  nbf.encodeGlb(meshOf(last.result), { name: 'nbf fit', extras: { bodyModel: info.model.name, licence: info.model.licence } }), 'model/gltf-binary'));
ui.dl.obj.addEventListener('click', () => last && download('body.obj',
  nbf.encodeObj(meshOf(last.result), { comments: [`nbf-gl web page: ${last.source}`, `body model ${info.model.name}`, 'centred on the pelvis'] }), 'text/plain'));
ui.dl.params.addEventListener('click', () => last && download('params.json', JSON.stringify(paramsJson(last), null, 2) + '\n', 'application/json'));
for (const box of [ui.showParts, ui.showSkeleton]) box.addEventListener('change', () => last && drawPhoto(last.photo, last.result));

function currentSteps() {
  const v = Number(ui.steps.value);
  return Number.isInteger(v) && v >= 2 && v <= 10_000 ? v : routeSteps(route);
}

// A new route: its default steps (unless typed or given), its panels, and the last picture fitted again by it.
ui.route.addEventListener('change', () => {
  route = ui.route.value;
  if (!stepsEdited && !STEPS_GIVEN) ui.steps.value = String(routeSteps(route));
  showRouteLayout();
  if (last && !last.result.segmentation) drawPartMap(last.photo, null);
  if (last && last.source !== 'camera' && !camera && !busy && ready) fitPicture(async () => last.photo, last.source).catch(() => {});
});

/**
 * One picture, start to end: load, fit, show, publish window.nbfResult. `load` gives the picture's canvas.
 * A lost context during the fit waits for the engine to come back and tries once more.
 */
async function fitPicture(load, source) {
  if (busy) throw new Error('a fit is already running');
  if (startFailed) throw new Error(startFailed);
  busy = true;
  stopCamera();
  enableInputs(false);
  setState('fitting');
  window.nbfResult = undefined;
  window.nbfError = undefined;
  ui.progress.textContent = `loading ${source}…`;
  try {
    const photo = await load();
    drawPhoto(photo, null);
    drawPartMap(photo, null);
    if (!ready) await whenReady;
    const steps = currentSteps();
    const fitRoute = route;
    let result;
    for (let attempt = 0; ; attempt++) {
      ui.progress.textContent = fitRoute === 'landmarks' ? 'finding the person (BlazePose)…'
        : fitRoute === 'both' ? 'BlazePose, the segmenter and the fitting network…' : 'the segmenter and the fitting network…';
      await paint();
      try {
        result = await fitCanvas(photo, steps, fitRoute);
        break;
      } catch (e) {
        if (e.kind !== 'context-lost' || attempt > 0) throw e;
        ui.progress.textContent = 'the WebGL context was lost during the fit; waiting for it to come back…';
        await whenReady;
        setState('fitting');
      }
    }
    showResult(result, photo, source, steps);
    ui.progress.textContent = `fitted ${source} (${photo.width}×${photo.height}) by the ${ROUTES[fitRoute].name} route in ${ms(result.timings.wallMs)}`;
    showMemory(result.memory);
    window.nbfResult = {
      source,
      route: fitRoute,
      landmarkModel: info.landmarkModel,
      width: result.width,
      height: result.height,
      joints2d: Array.from(result.joints2d),
      betas: Array.from(result.betas),
      pose: Array.from(result.pose),
      timings: result.timings,
      memory: result.memory,
      // The fitting network's own answer, before the refinement (NBF's routes, and the landmarks route's network).
      network: result.network ? { joints2d: Array.from(result.network.joints2d) } : null,
    };
    if (ui.notice.className !== 'info') notice(null);
    setState('done');
    return window.nbfResult;
  } catch (e) {
    const message = e.kind === 'no-person' ? `No person found in ${source}: ${e.message}` : e.message;
    fail(message);
    throw Object.assign(new Error(message), { kind: e.kind });
  } finally {
    busy = false;
    if (ready) enableInputs(true);
  }
}

const fitUrl = (url) => fitPicture(() => canvasFromUrl(url), url);
window.nbfFit = fitUrl;
window.nbfDebug = {
  loseContext: () => engine?.post({ type: 'lose-context' }),
  /** The last fit's predicted part map (class per picture pixel, as an array), on NBF's routes; else null. */
  partMap: () => (last?.result.segmentation ? Array.from(last.result.segmentation.labels) : null),
};

ui.sample.addEventListener('click', () => {
  const url = new URL('sample.png', import.meta.url).href;
  fitPicture(() => canvasFromUrl(url), 'sample.png').catch(() => {});
});
ui.pick.addEventListener('change', () => {
  const file = ui.pick.files?.[0];
  if (file) fitPicture(() => canvasFromBlob(file, file.name), file.name).catch(() => {});
  ui.pick.value = '';
});
ui.drop.addEventListener('dragover', (e) => {
  e.preventDefault();
  ui.drop.classList.add('over');
});
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('over'));
ui.drop.addEventListener('drop', (e) => {
  e.preventDefault();
  ui.drop.classList.remove('over');
  const file = e.dataTransfer?.files?.[0];
  if (!file) return;
  if (!ready || busy) {
    notice('wait for the current fit to finish, then drop the photo again');
    return;
  }
  fitPicture(() => canvasFromBlob(file, file.name), file.name).catch(() => {});
});

// ---------------------------------------------------------------------------------------------------------
// Webcam: fit frames one after another with fewer steps; frames per second and GPU memory on the page.

function stopCamera() {
  if (!camera) return;
  camera.running = false;
  for (const track of camera.stream.getTracks()) track.stop();
  camera = null;
  ui.camera.textContent = 'Start camera';
  ui.camera.classList.remove('on');
}

async function startCamera() {
  if (!navigator.mediaDevices?.getUserMedia) {
    notice('This browser gives no camera access here (it needs https or localhost).', 'error');
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (e) {
    notice(`No camera: ${e.message}`, 'error');
    return;
  }
  camera = { stream, running: true };
  const me = camera;
  ui.camera.textContent = 'Stop camera';
  ui.camera.classList.add('on');
  ui.video.srcObject = stream;
  await ui.video.play();
  setState('camera');
  let frames = 0;
  let fps = 0;
  let firstLive = null;
  let tLast = performance.now();
  const frame = document.createElement('canvas');
  try {
    while (me.running) {
      if (!ready) {
        ui.progress.textContent = 'waiting for the WebGL context to come back…';
        await whenReady;
        continue;
      }
      const w = ui.video.videoWidth;
      const h = ui.video.videoHeight;
      if (!w || !h) {
        await paint();
        continue;
      }
      const s = Math.min(1, FIT_MAX / Math.max(w, h));
      frame.width = Math.round(w * s);
      frame.height = Math.round(h * s);
      frame.getContext('2d', { willReadFrequently: true }).drawImage(ui.video, 0, 0, frame.width, frame.height);
      const shot = document.createElement('canvas');
      shot.width = frame.width;
      shot.height = frame.height;
      shot.getContext('2d').drawImage(frame, 0, 0);
      let status;
      try {
        const result = await fitCanvas(frame, CAMERA_STEPS, route, true);
        if (!me.running) break;
        showResult(result, shot, 'camera', CAMERA_STEPS);
        firstLive ??= result.memory.liveTextures;
        status = result.segmentation ? `refinement loss ${result.refine.lossAfter.toPrecision(3)}` : `${result.refine.finalError.toFixed(1)} px`;
        showMemory(result.memory, `; live textures at the first frame: ${firstLive}`);
      } catch (e) {
        if (!me.running) break;
        if (e.kind === 'no-person') {
          drawPhoto(shot, null);
          drawPartMap(shot, null);
          status = 'no person in view';
        } else if (e.kind === 'context-lost') {
          continue;
        } else {
          throw e;
        }
      }
      frames++;
      const now = performance.now();
      fps = frames === 1 ? 1000 / (now - tLast) : 0.8 * fps + 0.2 * (1000 / (now - tLast));
      tLast = now;
      ui.progress.textContent = `camera: ${fps.toFixed(1)} frames per second (${CAMERA_STEPS} refinement steps a frame), frame ${frames}: ${status}`;
      await paint();
    }
  } catch (e) {
    fail(`camera: ${e.message}`);
  } finally {
    if (camera === me) stopCamera();
    if (ready && !busy) {
      enableInputs(true);
      if (document.body.dataset.state === 'camera') setState('ready');
    }
  }
}

ui.camera.addEventListener('click', () => (camera ? stopCamera() : startCamera()));

// ---------------------------------------------------------------------------------------------------------

async function main() {
  showRouteLayout();
  if (paramWarning) notice(paramWarning);
  if (!viewer.available) ui.view.replaceWith(Object.assign(document.createElement('p'), { textContent: 'No WebGL2 here for the 3D view.' }));
  const image = query.get('image');
  // Load the picture while the models load, so a bad URL is reported at once.
  const picture = image ? canvasFromUrl(image).then((c) => ({ c }), (e) => {
    fail(e.message);
    return { e };
  }) : null;
  try {
    await startEngine();
  } catch (e) {
    ui.loading.hidden = true;
    startFailed = e.message;
    if (e.kind === 'no-webgl') {
      fail(`nbf-gl cannot run here: ${e.message}. It needs WebGL2 with float32 render targets ` +
        '(a current Chrome, Edge, Firefox or Safari, with hardware acceleration on).');
    } else {
      fail(`Could not start: ${e.message}`);
    }
    return;
  }
  if (picture) {
    const got = await picture;
    if (got.e) return;
    await fitPicture(async () => got.c, image).catch(() => {});
  }
}

main();
