/**
 * The inference API, platform-independent: the runtime and its forward kernels, the body model on the
 * GPU, mesh export, the renderer, TF.js graph models, BlazePose and the photo → body pipeline. The
 * browser bundle (`nbf-gl/browser`, src/browser.ts) ships exactly this; src/index.ts adds training,
 * the networks, NBF's route's functions, synthetic data, evaluation, the CPU body model and the SMPL
 * file loaders. What is here costs bytes on every page that loads the bundle (docs/performance.md,
 * "Browser bundle size"), and so does every file it reaches: the bundle is split by file.
 */
export { Runtime } from './runtime/runtime.js';
export type { KernelCall, RuntimeOptions, MemoryInfo } from './runtime/runtime.js';
export { Tensor } from './runtime/tensor.js';
export * from './runtime/errors.js';
// Forward kernels.
export * from './kernels/elementwise.js';
export * from './kernels/conv2d-transpose.js';
export { maxPool, avgPool, globalAvgPool, windowGeometry, toPair, GLOBAL_POOL_SINGLE_PASS_MAX, type Padding, type Pair, type WindowGeometry, type PoolOptions } from './kernels/pool.js';
export * from './kernels/batchnorm.js';
export * from './kernels/resize.js';
export { transpose } from './kernels/transpose.js';
export { slice } from './kernels/slice.js';
export { pad } from './kernels/pad.js';
export { concat } from './kernels/concat.js';
export { reshape } from './kernels/reshape.js';
export { reduce, sum, mean, max, min, type ReduceOp } from './kernels/reduce.js';
export { softmax, logSoftmax } from './kernels/softmax.js';
export { argmax } from './kernels/argmax.js';
export { matmul, type MatmulOptions } from './kernels/matmul.js';
export { conv2d, conv2dGeometry, type Conv2dOptions, type Conv2dPadding, type Conv2dGeometry } from './kernels/conv2d.js';
export type { Activation, ActivationName } from './kernels/activation.js';
// The body model: .nbfm files, the GPU layer, meshes for export.
export type { BodyModel, SparseRows, SkinWeights } from './smpl/types.js';
export { SMPL_JOINT_NAMES, SMPL_PARENTS, NBF_PARTS } from './smpl/types.js';
export { decodeBodyModel, validateBodyModel, isBodyModelFile } from './smpl/format.js';
export { BodyModelError } from './smpl/errors.js';
export { FileFormatError } from './io/errors.js';
export { encodeObj } from './io/obj.js';
export { encodeGlb } from './io/glb.js';
export { vertexNormals, partColors, cameraToViewerPositions, fittedBodyMesh, type Mesh } from './io/mesh.js';
export { GpuBodyModel, MAX_JOINTS } from './smpl/gpu/model.js';
export { smplForward as smplForwardGpu, smplBackward as smplBackwardGpu, absoluteToRelativeAxisAngle as absoluteToRelativeAxisAngleGpu, SmplSaved } from './smpl/gpu/layer.js';
export type { SmplCamera, SmplGpuInputs, SmplGpuResult, SmplGradients, SmplOutputGradients } from './smpl/gpu/layer.js';
// Rendering: part, label and depth maps of a posed body.
export { MeshRenderer, atlasLayout, MAX_IMAGE_SIZE, type RenderOptions, type AtlasLayout, type RenderLayers, type RenderableMesh } from './render/renderer.js';
export { partLabelMap, partColourMap, depthMap, type ColourOptions } from './render/maps.js';
export { GRANULARITIES, partPalette, partTable, classCount, type Granularity } from './render/parts.js';
// TF.js graph models on our kernels, BlazePose landmarks on them, and the photo → body route.
export { GraphModel, type GraphInputInfo } from './graph/graph-model.js';
export { fetchGraphModel, type FetchLike } from './graph/load.js';
export { GraphModelError, parseModelJson, decodeWeights, type GraphModelJson, type HostTensor } from './graph/model-file.js';
export { OPS as GRAPH_OPS } from './graph/ops.js';
export { PoseLandmarker, NoPersonError, BLAZEPOSE_LANDMARKS, BLAZEPOSE_SKELETON, BLAZEPOSE_INPUT, type PoseLandmarks, type DetectOptions } from './landmarks/blazepose.js';
export { PersonDetector, detectorAnchors, DETECTOR_INPUT, type PersonDetection } from './landmarks/detector.js';
export { bodyJointTargets, type BodyJointTargets } from './landmarks/to-body-joints.js';
export { Skeleton } from './synth/skeleton.js';
export { refineBody, type RefineTarget, type RefineStart, type RefineOptions, type RefineResult } from './pipeline/refine.js';
export { wholePictureRoi, alignmentRoi, cropPicture, cropToPicture, pictureToCrop, cropMapToPicture, type Roi } from './landmarks/roi.js';
export type { RgbaImage } from './io/image.js';
export { fitPhoto, type PhotoFit, type PhotoFitOptions } from './pipeline/fit-photo.js';
export { NbfPipeline, PIPELINE_FILES, type NbfPipelineOptions, type PipelineResult, type PipelineParts, type PartsPipelineResult, type FitPartsOptions } from './pipeline/nbf-pipeline.js';
// NBF's route (segmenter → part map → fitting network → refinement on the part map) runs through
// NbfPipeline.create({ parts: true }), which loads its code on demand (pipeline/parts-route.ts); its
// functions and networks are exported by src/index.ts. Here: its types, and the part-map terms that
// refineBody takes.
export type { PictureFit, PictureFitOptions } from './pipeline/fit-picture.js';
export type { PictureSegmentation, PersonSegmentation } from './pipeline/segment.js';
export { partEvidence, type PartEvidence, type PartEvidenceOptions } from './pipeline/part-evidence.js';
export type { FittedBody } from './pipeline/fitted-body.js';
