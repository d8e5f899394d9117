/** Platform-independent API. Import from 'nbf-gl' (Node) or the browser bundle for createContext(). */
export { Runtime } from './runtime/runtime.js';
export type { KernelCall, RuntimeOptions, MemoryInfo } from './runtime/runtime.js';
export { Tensor } from './runtime/tensor.js';
export * from './runtime/errors.js';
export * from './kernels/elementwise.js';
export * from './kernels/conv2d-transpose.js';
export * from './kernels/pool.js';
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
