/**
 * `NbfPipeline`: a picture → a body, as one object that owns its models (Node and browser, same
 * code). Two routes:
 *
 *   fit(image)       the photo route of fit-photo.ts: BlazePose person detector and landmarks →
 *                    the fitting network that reads landmarks (unless { landmarkNetwork: false }) →
 *                    refinement of the body model on the landmarks
 *   fitParts(image)  NBF's route, fit-picture.ts: segmenter → 12-part map → fitting network →
 *                    refinement on the part map (plus the landmarks with { landmarks: true });
 *                    needs the segmenter and fitter weights
 *
 *   const pipeline = await NbfPipeline.create({ runtime, baseUrl: '/weights/' });   // browser: fetch
 *   const result = pipeline.fit(imageData);                                          // ImageData or RGBA
 *   pipeline.dispose();
 *
 * In Node, `createNodePipeline()` (nbf-pipeline-node.ts) reads the same files from weights/.
 *
 * The networks are code of their own (the segmenter and fitting networks, their weights files,
 * fit-picture.ts, fit-landmarks.ts: parts-route.ts), which this file only names as types: `create`
 * imports it for NBF's route ({ parts: true }) or the landmark network (the default)
 * (load-parts-route.ts), so the browser bundle keeps it in a chunk that a page asking for neither
 * ({ landmarkNetwork: false }) never fetches (docs/performance.md, "Browser bundle size").
 */
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import type { RgbaImage } from '../io/image.js';
import type { BodyModel } from '../smpl/types.js';
import { decodeBodyModel } from '../smpl/format.js';
import { GpuBodyModel } from '../smpl/gpu/model.js';
import { Skeleton } from '../synth/skeleton.js';
import { fetchGraphModel, type FetchLike } from '../graph/load.js';
import type { GraphModel } from '../graph/graph-model.js';
import { NoPersonError, PoseLandmarker } from '../landmarks/blazepose.js';
import { poseLandmarksOfJoints } from '../landmarks/to-body-joints.js';
import { PersonDetector } from '../landmarks/detector.js';
import { fitPhoto, fitToLandmarks, type LandmarkNetwork, type PhotoFit, type PhotoFitOptions } from './fit-photo.js';
import type { landmarkNetwork } from './fit-landmarks.js';
import type { fitPicture, PictureFit, PictureFitOptions } from './fit-picture.js';
import type { SegmenterNetwork } from '../nn/refinenet.js';
import type { FitterNetwork } from '../nn/fitter.js';
import { loadPartsRoute } from './load-parts-route.js';

/** The files a pipeline needs, relative to `baseUrl` (the layout of this package's weights/). */
export const PIPELINE_FILES = {
  landmarks: 'blazepose/blazepose-lite.json',
  detector: 'blazepose/blazepose-detector.json',
  bodyModel: 'nbf-open-body.nbfm',
  segmenter: 'nbf-segmenter-compact.nbfw',
  fitter: 'nbf-fitter-compact.nbfw',
  landmarkFitter: 'nbf-fitter-landmarks.nbfw',
} as const;

export interface PipelineParts {
  landmarks: GraphModel;
  /** Which BlazePose the landmark model is ('lite', 'full', 'heavy', 'custom'; default 'lite'), as results report it. */
  landmarksVariant?: string;
  detector: GraphModel | null;
  bodyModel: BodyModel;
  /** NBF's route (fitParts): both networks or neither, and with them fitPicture. */
  segmenter?: SegmenterNetwork | null;
  fitter?: FitterNetwork | null;
  /** The code that runs NBF's route (fit-picture.ts), passed in so that this file does not import it. */
  fitPicture?: typeof fitPicture | null;
  /** The fitting network that reads landmarks (fit()'s start), with the code that runs it (fit-landmarks.ts). */
  landmarkFitter?: FitterNetwork | null;
  landmarkNetwork?: typeof landmarkNetwork | null;
}

export interface NbfPipelineOptions {
  runtime: Runtime;
  /** Where weights/ is served (default 'weights/'). */
  baseUrl?: string;
  /**
   * Landmark model file under baseUrl (default the shipped lite, the smallest download;
   * 'blazepose/blazepose-full.json' is Node's default, more accurate: docs/landmarks.md).
   */
  landmarks?: string;
  /** Leave the person detector out (the first pass then reads the whole picture). */
  noDetector?: boolean;
  /** Also fetch the segmenter and fitting network for fitParts (default false: the photo route only). */
  parts?: boolean;
  /**
   * Fetch the fitting network that reads landmarks (PIPELINE_FILES.landmarkFitter, 2.6 MB, and the
   * networks' code chunk): fit() then starts the refinement from its body instead of 8 facing
   * directions — on validation renders PA-MPJPE 119 → 83 mm in a third of the time (docs/landmarks.md).
   * Default true; false fetches neither.
   */
  landmarkNetwork?: boolean;
  fetch?: FetchLike;
  /** Called as files arrive: files done, files in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface PipelineResult extends PhotoFit {
  /** The body model's triangles (for drawing or export). */
  faces: Uint32Array;
  timings: PhotoFit['timings'] & { totalMs: number };
}

export interface PartsPipelineResult extends PictureFit {
  faces: Uint32Array;
  /** The landmarks that joined the refinement, when asked for. */
  landmarks: PhotoFit['landmarks'] | null;
  timings: PictureFit['timings'] & { landmarksMs: number; totalMs: number };
}

export interface FitPartsOptions extends Omit<PictureFitOptions, 'landmarks'> {
  /** Run BlazePose too and add its 2D joints to the refinement (default false). */
  landmarks?: boolean;
}

export class NbfPipeline {
  readonly skeleton: Skeleton;
  readonly gpuModel: GpuBodyModel;
  readonly landmarker: PoseLandmarker;
  readonly segmenter: SegmenterNetwork | null;
  readonly fitter: FitterNetwork | null;
  readonly landmarkFitter: FitterNetwork | null;
  private readonly fitPicture: typeof fitPicture | null;
  private readonly landmarkNetwork: LandmarkNetwork | null;
  private disposed = false;

  /** From models already loaded (Node reads files; `create` fetches). Takes ownership of them. */
  constructor(readonly runtime: Runtime, parts: PipelineParts, readonly bodyModel: BodyModel = parts.bodyModel) {
    this.skeleton = new Skeleton(parts.bodyModel);
    this.gpuModel = GpuBodyModel.upload(runtime, parts.bodyModel);
    const detector = parts.detector ? PersonDetector.fromModel(runtime, parts.detector) : null;
    this.landmarker = PoseLandmarker.fromModel(runtime, parts.landmarks, parts.landmarksVariant ?? 'lite', detector);
    if (!parts.segmenter !== !parts.fitter) throw new NbfError('NbfPipeline: the segmenter and the fitting network come together (both or neither)');
    if (parts.segmenter && !parts.fitPicture) throw new NbfError('NbfPipeline: with the segmenter and fitting network, pass fitPicture too (NbfPipeline.create and createNodePipeline do)');
    this.segmenter = parts.segmenter ?? null;
    this.fitter = parts.fitter ?? null;
    this.fitPicture = parts.segmenter ? parts.fitPicture ?? null : null;
    if (parts.landmarkFitter && !parts.landmarkNetwork) throw new NbfError('NbfPipeline: with the landmark fitting network, pass landmarkNetwork too (NbfPipeline.create and createNodePipeline do)');
    this.landmarkFitter = parts.landmarkFitter ?? null;
    this.landmarkNetwork = parts.landmarkFitter ? parts.landmarkNetwork!(parts.landmarkFitter, this.gpuModel) : null;
  }

  /** Fetches the models (landmarks, detector, body model) and builds a pipeline. */
  static async create(options: NbfPipelineOptions): Promise<NbfPipeline> {
    const base = options.baseUrl ?? 'weights/';
    const fetchFn = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    if (!fetchFn) throw new NbfError('NbfPipeline.create: no fetch available; pass options.fetch, or use createNodePipeline in Node');
    const withNetwork = options.landmarkNetwork ?? true;
    const total = (options.noDetector ? 2 : 3) + (options.parts ? 2 : 0) + (withNetwork ? 1 : 0);
    let done = 0;
    const tick = <T>(p: Promise<T>) => p.then((v) => (options.onProgress?.(++done, total), v));
    const rt = options.runtime;
    const bytesOf = async (url: string) => {
      const response = await fetchFn(url);
      if (!response.ok) throw new NbfError(`${url}: HTTP ${response.status}`);
      return new Uint8Array(await response.arrayBuffer());
    };
    const bodyUrl = base + PIPELINE_FILES.bodyModel;
    const segmenterUrl = base + PIPELINE_FILES.segmenter;
    const fitterUrl = base + PIPELINE_FILES.fitter;
    const landmarkFitterUrl = base + PIPELINE_FILES.landmarkFitter;
    // Every download settles before anything is decided, so that when one fails the models already
    // on the GPU are freed (a page that retries must not leak textures).
    const landmarksFile = options.landmarks ?? PIPELINE_FILES.landmarks;
    const settled = await Promise.allSettled([
      tick(fetchGraphModel(rt, base + landmarksFile, fetchFn)),
      options.noDetector ? Promise.resolve(null) : tick(fetchGraphModel(rt, base + PIPELINE_FILES.detector, fetchFn)),
      tick(bytesOf(bodyUrl)),
      options.parts ? tick(bytesOf(segmenterUrl)) : Promise.resolve(null),
      options.parts ? tick(bytesOf(fitterUrl)) : Promise.resolve(null),
      options.parts || withNetwork ? loadPartsRoute() : Promise.resolve(null),
      withNetwork ? tick(bytesOf(landmarkFitterUrl)) : Promise.resolve(null),
    ] as const);
    const value = <T>(r: PromiseSettledResult<T>): T | null => (r.status === 'fulfilled' ? r.value : null);
    const landmarks = value(settled[0]);
    const detector = value(settled[1]);
    const owned: { dispose(): void }[] = [landmarks, detector].filter((m): m is NonNullable<typeof m> => !!m);
    try {
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      const [bodyBytes, segmenterBytes, fitterBytes, route] = [value(settled[2])!, value(settled[3]), value(settled[4]), value(settled[5])];
      const bodyModel = decodeBodyModel(bodyBytes, bodyUrl);
      const segmenter = route && segmenterBytes ? route.loadSegmenterWeights(rt, segmenterBytes, segmenterUrl).network : null;
      if (segmenter) owned.push(segmenter);
      const fitter = route && fitterBytes ? route.loadFitterWeights(rt, fitterBytes, fitterUrl).network : null;
      if (fitter) owned.push(fitter);
      const landmarkBytes = value(settled[6]);
      const landmarkFitter = route && landmarkBytes ? route.loadFitterWeights(rt, landmarkBytes, landmarkFitterUrl, { inputs: ['landmarks'] }).network : null;
      if (landmarkFitter) owned.push(landmarkFitter);
      return new NbfPipeline(rt, {
        landmarks: landmarks!, landmarksVariant: /blazepose-(lite|full|heavy)\.json$/.exec(landmarksFile)?.[1] ?? 'custom', detector, bodyModel, segmenter, fitter, fitPicture: route?.fitPicture, landmarkFitter, landmarkNetwork: route?.landmarkNetwork,
      });
    } catch (e) {
      for (const m of owned) m.dispose();
      throw e;
    }
  }

  /**
   * The body of the most prominent person; throws NoPersonError when there is none. With the landmark
   * network (create's default) the refinement starts from its body; options.network null leaves it
   * out for one call.
   */
  fit(image: RgbaImage, options: PhotoFitOptions = {}): PipelineResult {
    if (this.disposed) throw new NbfError('NbfPipeline: used after dispose()');
    const t0 = performance.now();
    const fit = fitPhoto(this.landmarker, this.gpuModel, this.skeleton, image, { network: this.landmarkNetwork, ...options });
    return { ...fit, faces: this.bodyModel.faces, timings: { ...fit.timings, totalMs: performance.now() - t0 } };
  }

  /**
   * Runs every program fit() runs once, ahead of the first picture, and returns the time it took (ms).
   * WebGL implementations on the CPU (llvmpipe, SwiftShader) compile a program at its first draw:
   * without Mesa's shader cache, fit()'s first picture on the 2-core machine spends most of its time
   * compiling (docs/performance.md, "Cold start"). A page can call this while its user picks a photo;
   * the first fit then costs about what later ones do. BlazePose runs on a grey picture (the person
   * detector and one landmark pass, which finds no one); the landmark network and two refinement
   * steps on a made-up person (the body model's rest joints, standing in the middle).
   */
  warmup(): number {
    if (this.disposed) throw new NbfError('NbfPipeline: used after dispose()');
    const t0 = performance.now();
    const size = 256;
    try {
      this.landmarker.detect({ width: size, height: size, data: new Uint8ClampedArray(size * size * 4).fill(128) });
    } catch (e) {
      if (!(e instanceof NoPersonError)) throw e;
    }
    fitToLandmarks(this.gpuModel, this.skeleton, poseLandmarksOfJoints(standingJoints(this.skeleton, size), size, size), { network: this.landmarkNetwork, steps: 2 });
    return performance.now() - t0;
  }

  /**
   * NBF's route: segmenter → part map → fitting network → refinement on the part map (fit-picture.ts).
   * Throws NoPersonError when the segmenter finds no one.
   */
  fitParts(image: RgbaImage, options: FitPartsOptions = {}): PartsPipelineResult {
    if (this.disposed) throw new NbfError('NbfPipeline: used after dispose()');
    if (!this.segmenter || !this.fitter || !this.fitPicture) throw new NbfError('NbfPipeline.fitParts: this pipeline has no segmenter and fitting network (create it with { parts: true })');
    const t0 = performance.now();
    const landmarks = options.landmarks ? this.landmarker.detect(image) : null;
    const t1 = performance.now();
    // With landmarks, the landmark network's answer blended with the fitting network's starts the refinement.
    const fit = this.fitPicture(this.segmenter, this.fitter, this.gpuModel, this.skeleton, image, { ...options, landmarks, landmarkNetwork: options.landmarkNetwork === undefined ? this.landmarkNetwork : options.landmarkNetwork });
    return { ...fit, faces: this.bodyModel.faces, landmarks, timings: { ...fit.timings, landmarksMs: t1 - t0, totalMs: performance.now() - t0 } };
  }

  /** Frees every texture the pipeline holds (its models); the runtime stays the caller's. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.landmarker.dispose();
    this.gpuModel.dispose();
    this.segmenter?.dispose();
    this.fitter?.dispose();
    this.landmarkFitter?.dispose();
  }
}

/** The body model's rest joints (24 × 2 pixels) seen from the front, filling 70 % of a size² picture. */
function standingJoints(skeleton: Skeleton, size: number): Float32Array {
  const rest = skeleton.restJoints(new Float64Array(skeleton.shapeCount));
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let j = 0; j < 24; j++) {
    [x0, x1] = [Math.min(x0, rest[3 * j]), Math.max(x1, rest[3 * j])];
    [y0, y1] = [Math.min(y0, rest[3 * j + 1]), Math.max(y1, rest[3 * j + 1])];
  }
  const scale = (0.7 * size) / Math.max(x1 - x0, y1 - y0);
  // Model y points up, picture y down.
  return Float32Array.from({ length: 48 }, (_, i) => {
    const j = i >> 1;
    return i & 1 ? size / 2 - (rest[3 * j + 1] - (y0 + y1) / 2) * scale : size / 2 + (rest[3 * j] - (x0 + x1) / 2) * scale;
  });
}

