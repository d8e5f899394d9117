/** `NbfPipeline` from the files under weights/ (Node): the shipped landmark model, detector and body model. */
import type { Runtime } from '../runtime/runtime.js';
import { NbfError } from '../runtime/errors.js';
import { loadGraphModel } from '../graph/load-node.js';
import { loadOpenBodyModel } from '../smpl/default-model.js';
import type { BodyModel } from '../smpl/types.js';
import { blazePoseModelPath, personDetectorPath, type BlazePoseVariant } from '../landmarks/model-files.js';
import { NbfPipeline } from './nbf-pipeline.js';

export function createNodePipeline(rt: Runtime, options: { variant?: BlazePoseVariant; bodyModel?: BodyModel; noDetector?: boolean } = {}): NbfPipeline {
  const variant = options.variant ?? 'lite';
  const path = blazePoseModelPath(variant);
  if (!path) throw new NbfError(`the BlazePose ${variant} model is not under weights/blazepose/${variant === 'lite' ? '' : ` (bash scripts/fetch-blazepose.sh ${variant})`}`);
  const detectorPath = options.noDetector ? null : personDetectorPath();
  const landmarks = loadGraphModel(rt, path);
  const detector = detectorPath ? loadGraphModel(rt, detectorPath) : null;
  return new NbfPipeline(rt, { landmarks, detector, bodyModel: options.bodyModel ?? loadOpenBodyModel() });
}
