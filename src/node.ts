/** Node entry point: the runtime plus headless-gl contexts. */
export * from './index.js';
export { createNodeContext as createContext } from './runtime/node-context.js';
export { openBodyModelPath, loadOpenBodyModel, OPEN_BODY_MODEL_FILE } from './smpl/default-model.js';
export { defaultFitterWeightsPath, DEFAULT_FITTER_FILE } from './nn/default-weights.js';
export { trainFitter, type TrainFitterOptions, type TrainResult } from './train/fitter-trainer.js';
export { trainSegmenter, type TrainSegmenterOptions, type TrainSegmenterResult } from './train/segmenter-trainer.js';
export { runTraining, resolveRunSettings, readLog, CHECKPOINT_FILE, BEST_FILE, LAST_FILE, LOG_FILE, CURVES_FILE, type TrainingTask, type TrainingRunOptions, type RunSettings, type RunResult, type ProgressInfo } from './train/training-run.js';
export { confusionPng } from './eval/confusion-png.js';
export { loadGraphModel } from './graph/load-node.js';
export { createPoseLandmarker, blazePoseModelPath, personDetectorPath, BLAZEPOSE_VARIANTS, type BlazePoseVariant } from './landmarks/model-files.js';
export { decodeImage, encodePng, ImageError, type DecodeImageOptions } from './io/image.js';
export { readImageFile } from './io/image-file.js';
export { createNodePipeline } from './pipeline/nbf-pipeline-node.js';
