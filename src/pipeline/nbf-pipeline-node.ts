/** `NbfPipeline` from the files under weights/ (Node): the shipped landmark model, detector, body model and, with `parts`, the segmenter and fitter; with `landmarkNetwork`, the fitter that reads landmarks. */
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { loadGraphModel } from '../graph/load-node.js';
import { loadOpenBodyModel } from '../smpl/default-model.js';
import type { BodyModel } from '../smpl/types.js';
import { blazePoseModelPath, DEFAULT_BLAZEPOSE_VARIANT, fetchHint, personDetectorPath, type BlazePoseVariant } from '../landmarks/model-files.js';
import { NbfPipeline } from './nbf-pipeline.js';
import { existsSync, readFileSync } from 'node:fs';
import { loadFitterWeights, loadSegmenterWeights } from '../nn/weights-file.js';
import { fitPicture } from './fit-picture.js';
import { landmarkNetwork } from './fit-landmarks.js';
import { DEFAULT_FITTER_FILE, DEFAULT_LANDMARK_FITTER_FILE, DEFAULT_SEGMENTER_FILE, defaultFitterWeightsPath, defaultLandmarkFitterWeightsPath, defaultSegmenterWeightsPath } from '../nn/default-weights.js';

/**
 * `parts`: also load the segmenter and the fitting network (NbfPipeline.fitParts) from weights/ or the
 * given files; true needs the shipped files, an object names others. `landmarkNetwork`: the fitting
 * network that reads landmarks (NbfPipeline.fit starts from it): default the shipped file when it is
 * there, true requires it, a string names another file, false leaves it out.
 */
export function createNodePipeline(rt: Runtime, options: { variant?: BlazePoseVariant; bodyModel?: BodyModel; noDetector?: boolean; parts?: boolean | { segmenter?: string; fitter?: string }; landmarkNetwork?: boolean | string } = {}): NbfPipeline {
  const variant = options.variant ?? DEFAULT_BLAZEPOSE_VARIANT;
  const path = blazePoseModelPath(variant);
  if (!path) throw new NbfError(`the BlazePose ${variant} model is not under weights/blazepose/ (${fetchHint(variant)})`);
  const detectorPath = options.noDetector ? null : personDetectorPath();
  // The network files first (the likeliest to be missing or wrong); whatever loaded before a failure
  // is freed again, so a failed call leaves no textures behind.
  const owned: { dispose(): void }[] = [];
  try {
    let segmenter = null;
    let fitter = null;
    let landmarkFitter = null;
    const read = (file: string) => {
      if (!existsSync(file)) throw new NbfError(`${file}: no such file`);
      return new Uint8Array(readFileSync(file));
    };
    const shipped = defaultLandmarkFitterWeightsPath();
    const network = options.landmarkNetwork ?? shipped !== null;
    if (network) {
      const file = typeof network === 'string' ? network : shipped;
      if (!file) throw new NbfError(`no landmark fitter weights: weights/${DEFAULT_LANDMARK_FITTER_FILE} is not there (train one with nbf train fitter --input landmarks and pass its file)`);
      landmarkFitter = loadFitterWeights(rt, read(file), file, { inputs: ['landmarks'] }).network;
      owned.push(landmarkFitter);
    }
    if (options.parts) {
      const files = typeof options.parts === 'object' ? options.parts : {};
      const segmenterPath = files.segmenter ?? defaultSegmenterWeightsPath();
      const fitterPath = files.fitter ?? defaultFitterWeightsPath();
      if (!segmenterPath) throw new NbfError(`no segmenter weights: weights/${DEFAULT_SEGMENTER_FILE} is not there (train one with nbf train segmenter and pass its file)`);
      if (!fitterPath) throw new NbfError(`no fitter weights: weights/${DEFAULT_FITTER_FILE} is not there`);
      segmenter = loadSegmenterWeights(rt, read(segmenterPath), segmenterPath).network;
      owned.push(segmenter);
      fitter = loadFitterWeights(rt, read(fitterPath), fitterPath).network;
      owned.push(fitter);
    }
    const landmarks = loadGraphModel(rt, path);
    owned.push(landmarks);
    const detector = detectorPath ? loadGraphModel(rt, detectorPath) : null;
    if (detector) owned.push(detector);
    return new NbfPipeline(rt, { landmarks, landmarksVariant: variant, detector, bodyModel: options.bodyModel ?? loadOpenBodyModel(), segmenter, fitter, fitPicture, landmarkFitter, landmarkNetwork });
  } catch (e) {
    for (const o of owned) o.dispose();
    throw e;
  }
}
