/**
 * Platform-independent API, all of it: the inference API (src/inference.ts, which is what the small
 * browser bundle `nbf-gl/browser` ships) plus training, the networks, NBF's route's functions,
 * synthetic data, evaluation and the SMPL file loaders. Import from 'nbf-gl' (Node) or
 * `nbf-gl/browser-full` for createContext().
 */
export * from './inference.js';
// Time per kernel (NBF_PROFILE=1 in Node does this for every context).
export { KernelProfiler, type KernelTiming, type KernelProfile } from './runtime/profiler.js';
// The body model on the CPU, writing .nbfm files, reading your own SMPL .pkl/.npz, 24 → 12 parts.
export { encodeBodyModel, type EncodeOptions } from './smpl/format.js';
export { loadBodyModel, loadBodyModelWithNotes, type LoadedBodyModel } from './smpl/load.js';
export { smplForward as smplForwardCpu, smplForwardFromRotations as smplForwardFromRotationsCpu, rodrigues as rodriguesCpu, inverseRodrigues, absoluteToRelative, absoluteToRelativeRotations, relativeToAbsoluteRotations, globalRotationsOf, projectPerspective, projectWeakPerspective, nbfCamera, type PoseParameters, type ForwardResult, type PinholeCamera } from './smpl/cpu-forward.js';
export { PARTS24_TO_PARTS12, partsFromWeights, parts12FromParts24 } from './smpl/parts.js';
export { sha256, sha256Hex, Sha256 } from './util/sha256.js';
export { SynthGenerator, generateBatch, disposeBatch, FLAG_COLUMNS, type SynthBatch, type BatchOptions } from './synth/generate.js';
export { sampleExample, exampleSeed, detailSeed, otherPersonSeed, nbfFocalLength, type ExampleParams, type SamplerOptions, type OtherPerson } from './synth/sampler.js';
export { POSE_FAMILIES, JOINT_LIMITS } from './synth/pose.js';
// Autodiff and training: `ad` holds the differentiable ops (ad.conv2d, ad.l1Loss, ad.smpl, ...).
export * as ad from './autodiff/index.js';
export { maxPoolWithArgmax, maxPoolBackward, avgPoolBackward } from './kernels/pool.js';
export { valueAndGrad, GradientAccumulator, recordOp } from './autodiff/tape.js';
export * from './optim/index.js';
export { ParamStore, initialValues, fans, type Initializer } from './nn/params.js';
export { TensorStore } from './nn/tensor-store.js';
export { encodeParamFile, decodeParamFile, ParamFormatError, type ParamDtype, type NamedArray, type ParamFile } from './nn/param-format.js';
export { loss, lossForward, lossBackward, LOSS_KINDS, type LossKind, type LossOptions } from './kernels/losses.js';
export { Conv2dLayer, BatchNormLayer, DenseLayer, requireParam, type ParamRecord, type Conv2dLayerOptions, type BatchNormLayerOptions, type DenseLayerOptions } from './nn/layers.js';
export { SmallResNet, trainStep, type SmallResNetConfig, type LossFn } from './nn/small-resnet.js';
// The fitting network (part map → body), its weights file, losses, evaluation and the part-map stage.
export { ResNet, BasicBlock, BottleneckBlock, ConvNorm, RESNET_CONFIGS, checkResNetConfig, resnetStride, type ResNetConfig, type BlockKind } from './nn/resnet.js';
export { FitterNetwork, FITTER_CONFIGS, fitterConfig, checkFitterConfig, fitterConfigWithInput, latentSize, cameraLatent, translationOfLatent, fitterCamera, FITTER_PART_SCALE, FITTER_PART_OFFSET, type FitterConfig, type FitterConfigName, type FitterPrediction } from './nn/fitter.js';
export { FITTER_INPUT_TYPES, DEFAULT_FITTER_INPUT, JOINT_HEATMAP_SIGMA_FRACTION, heatmapSigma, fitterInputInfo, fitterInputChannels, fitterInputType, checkFitterInputType, corruptibleInput, type FitterInputType, type FitterInputInfo } from './nn/fitter-inputs.js';
export { jointHeatmaps } from './kernels/joint-heatmaps.js';
export { fitterLoss, DEFAULT_FITTER_LOSS, type FitterLossWeights, type FitterTargets, type FitterLoss } from './nn/fitter-loss.js';
export { SegmenterNetwork, SEGMENTER_CONFIGS, SEGMENTER_CLASSES, SEGMENTER_INPUT_SCALE, SEGMENTER_INPUT_OFFSET, segmenterConfig, checkSegmenterConfig, segmenterLoss, predictLabels, pixelClassWeights, ResidualConvUnit, MultiResolutionFusion, ChainedResidualPooling, RefineNetBlock, LightRefineBlock, RefineNetDecoder, LightRefineNetDecoder, type SegmenterConfig, type SegmenterConfigName, type DecoderConfig, type DecoderKind, type SegmenterLossOptions } from './nn/refinenet.js';
export { encodeFitterWeights, loadFitterWeights, encodeSegmenterWeights, loadSegmenterWeights, readWeightsMeta, readAnyWeightsMeta, WEIGHTS_KIND, WEIGHTS_VERSION, WEIGHTS_NETWORKS, type WeightsMeta, type SegmenterWeightsMeta, type AnyWeightsMeta, type WeightsNetwork, type WeightsConfigs, type LoadFitterOptions, type LoadSegmenterOptions, segmenterLogitOffsets, SEGMENTER_PRIOR_CORRECTION } from './nn/weights-file.js';
export { classifyPartColours, cropPerson, cropCamera, cropToImage, PartMapError, type ClassMap, type PersonCrop } from './pipeline/part-map.js';
export { fitPartMap, type BodyFit } from './pipeline/fit-parts.js';
// NBF's route, picture → body (NbfPipeline.fitParts runs it; the small browser bundle loads it on demand).
export { fitPicture, fitLabels, pictureParts, DEFAULT_PICTURE_REFINE_STEPS, SEGMENTER_MAP_REFINEMENT } from './pipeline/fit-picture.js';
export { fuseWithPersonMask, maskBox, PERSON_MASK_THRESHOLD } from './pipeline/person-mask.js';
export { sidesFromLandmarks, LIMB_LANDMARK_CHAINS } from './pipeline/landmark-sides.js';
export { segmentPerson, segmentPicture, labelsToPicture, partsImage, labelIndexImage, segmentationOverlay } from './pipeline/segment.js';
export { evaluateFitter, type FitterEvaluation, type FitterSummary } from './eval/fitter-eval.js';
export * from './eval/metrics.js';
export { corruptPartLabels, samplePartNoise, packPartNoise, identityPartNoise, PART_NOISE_DEFAULTS, PART_NOISE_SIZE, type PartNoise, type PartNoiseOptions } from './synth/part-noise.js';
export { fitterBatch, fitterInput, targetLatent, meanLatent, partNoiseCorruptor, type FitterBatch, type FitterDataOptions } from './train/fitter-data.js';
// The segmenter's data, evaluation and picture → part labels (its network: refinenet.ts above).
export { segmenterBatch, disposeSegmenterBatch, classPixelCounts, inverseSqrtClassWeights, type SegmenterBatch, type SegmenterDataOptions } from './train/segmenter-data.js';
export { evaluateSegmenter, confusionMetrics, accumulateConfusion, allBackgroundConfusion, rowNormalise, SEGMENTER_CLASS_NAMES, type SegmenterEvaluation, type SegmenterSummary, type SegmenterEvalOptions, type SegmentationMetrics } from './eval/segmenter-eval.js';
// Landmarks drawn over a picture (the CLI's overlay.png and mask.png).
export { drawLandmarks, maskImage } from './landmarks/draw.js';
