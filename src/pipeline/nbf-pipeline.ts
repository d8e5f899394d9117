/**
 * `NbfPipeline`: a picture → a body, as one object that owns its models (Node and browser, same
 * code). Today's route is the photo route of fit-photo.ts (BlazePose person detector and landmarks →
 * refinement of the body model); the segmenter → fitting-network route joins it when the segmenter
 * ships.
 *
 *   const pipeline = await NbfPipeline.create({ runtime, baseUrl: '/weights/' });   // browser: fetch
 *   const result = pipeline.fit(imageData);                                          // ImageData or RGBA
 *   pipeline.dispose();
 *
 * In Node, `createNodePipeline()` (nbf-pipeline-node.ts) reads the same files from weights/.
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
import { PoseLandmarker } from '../landmarks/blazepose.js';
import { PersonDetector } from '../landmarks/detector.js';
import { fitPhoto, type PhotoFit, type PhotoFitOptions } from './fit-photo.js';

/** The files a pipeline needs, relative to `baseUrl` (the layout of this package's weights/). */
export const PIPELINE_FILES = {
  landmarks: 'blazepose/blazepose-lite.json',
  detector: 'blazepose/blazepose-detector.json',
  bodyModel: 'nbf-open-body.nbfm',
} as const;

export interface PipelineParts {
  landmarks: GraphModel;
  detector: GraphModel | null;
  bodyModel: BodyModel;
}

export interface NbfPipelineOptions {
  runtime: Runtime;
  /** Where weights/ is served (default 'weights/'). */
  baseUrl?: string;
  /** Landmark model file under baseUrl (default the shipped lite). */
  landmarks?: string;
  /** Leave the person detector out (the first pass then reads the whole picture). */
  noDetector?: boolean;
  fetch?: FetchLike;
  /** Called as files arrive: files done, files in all. */
  onProgress?: (done: number, total: number) => void;
}

export interface PipelineResult extends PhotoFit {
  /** The body model's triangles (for drawing or export). */
  faces: Uint32Array;
  timings: PhotoFit['timings'] & { totalMs: number };
}

export class NbfPipeline {
  readonly skeleton: Skeleton;
  readonly gpuModel: GpuBodyModel;
  readonly landmarker: PoseLandmarker;
  private disposed = false;

  /** From models already loaded (Node reads files; `create` fetches). Takes ownership of them. */
  constructor(readonly runtime: Runtime, parts: PipelineParts, readonly bodyModel: BodyModel = parts.bodyModel) {
    this.skeleton = new Skeleton(parts.bodyModel);
    this.gpuModel = GpuBodyModel.upload(runtime, parts.bodyModel);
    const detector = parts.detector ? PersonDetector.fromModel(runtime, parts.detector) : null;
    this.landmarker = PoseLandmarker.fromModel(runtime, parts.landmarks, 'lite', detector);
  }

  /** Fetches the models (landmarks, detector, body model) and builds a pipeline. */
  static async create(options: NbfPipelineOptions): Promise<NbfPipeline> {
    const base = options.baseUrl ?? 'weights/';
    const fetchFn = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
    if (!fetchFn) throw new NbfError('NbfPipeline.create: no fetch available; pass options.fetch, or use createNodePipeline in Node');
    const total = options.noDetector ? 2 : 3;
    let done = 0;
    const tick = <T>(p: Promise<T>) => p.then((v) => (options.onProgress?.(++done, total), v));
    const rt = options.runtime;
    const bodyUrl = base + PIPELINE_FILES.bodyModel;
    const [landmarks, detector, bodyBytes] = await Promise.all([
      tick(fetchGraphModel(rt, base + (options.landmarks ?? PIPELINE_FILES.landmarks), fetchFn)),
      options.noDetector ? Promise.resolve(null) : tick(fetchGraphModel(rt, base + PIPELINE_FILES.detector, fetchFn)),
      tick((async () => {
        const response = await fetchFn(bodyUrl);
        if (!response.ok) throw new NbfError(`${bodyUrl}: HTTP ${response.status}`);
        return new Uint8Array(await response.arrayBuffer());
      })()),
    ]);
    return new NbfPipeline(rt, { landmarks, detector, bodyModel: decodeBodyModel(bodyBytes, bodyUrl) });
  }

  /** The body of the most prominent person; throws NoPersonError when there is none. */
  fit(image: RgbaImage, options: PhotoFitOptions = {}): PipelineResult {
    if (this.disposed) throw new NbfError('NbfPipeline: used after dispose()');
    const t0 = performance.now();
    const fit = fitPhoto(this.landmarker, this.gpuModel, this.skeleton, image, options);
    return { ...fit, faces: this.bodyModel.faces, timings: { ...fit.timings, totalMs: performance.now() - t0 } };
  }

  /** Frees every texture the pipeline holds (its models); the runtime stays the caller's. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.landmarker.dispose();
    this.gpuModel.dispose();
  }
}
