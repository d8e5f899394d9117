/**
 * The differentiable ops refine.ts uses, each from its own module. Not from autodiff/index.ts: the
 * browser bundle is split by file, and that index reaches every op family (batch norm, the convolution
 * backward passes, …), which would then load with every page instead of only with NBF's route.
 */
export { valueAndGrad } from '../autodiff/tape.js';
export { add, sub, mul, div, addScalar, mulScalar, square } from '../autodiff/grads/elementwise.js';
export { mean } from '../autodiff/grads/reduce.js';
export { concat, slice } from '../autodiff/grads/shape.js';
export { l2Loss, quadraticPenalty } from '../autodiff/grads/losses.js';
export { projectPoints, sampleField, nearestPointDistance } from '../autodiff/grads/geometry.js';
export { smpl, type SmplOutputs } from '../smpl/gpu/differentiable.js';
