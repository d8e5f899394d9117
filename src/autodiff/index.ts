/**
 * Reverse-mode autodiff: valueAndGrad, the tape, and differentiable ops. Forward kernels live in
 * src/kernels; each family's gradients in src/autodiff/grads/. See docs/autodiff.md.
 */
export { valueAndGrad, recordOp, willRecord, activeTape, GradientAccumulator, Tape } from './tape.js';
export type { BackwardFn, TapeNode, Params, GradsOf, ValueAndGrad } from './tape.js';
export {
  unaryOp, binaryOp, sumTo, broadcastTo, view,
  relu, leakyRelu, elu, sigmoid, tanh, exp, log, abs, sqrt, square, neg, clamp,
  addScalar, subScalar, rsubScalar, mulScalar, divScalar, rdivScalar, powScalar, maxScalar, minScalar,
  add, sub, mul, div, maximum, minimum, pow, squaredDifference,
} from './grads/elementwise.js';
export { matmul, conv2d, conv2dTranspose, activate } from './grads/linear.js';
export { maxPool, avgPool, globalAvgPool, resizeBilinear, resizeNearest } from './grads/spatial.js';
export { reduce, sum, mean, max, min, softmax, logSoftmax } from './grads/reduce.js';
export { reshape, transpose, slice, pad, concat } from './grads/shape.js';
export { projectPoints, sampleField, nearestPointDistance } from './grads/geometry.js';
export { batchNormTraining, batchNormFrozen, type RunningStats, type BatchNormTrainingOptions } from './grads/norm.js';
export {
  l1Loss, l2Loss, meanSquaredError, smoothL1Loss, euclideanLoss, softmaxCrossEntropy, l2Regularization, type LossOptions,
} from './grads/losses.js';
export { reduceToShape, sumToShape } from './kernels/reduce-to-shape.js';
export { unaryBackward, binaryBackward } from './kernels/elementwise-backward.js';
export { conv2dBackwardFilter, type ConvWindow } from './kernels/conv-backward.js';
export { resizeBackward } from './kernels/resize-backward.js';
export { smpl, type SmplOutputs } from '../smpl/gpu/differentiable.js';
