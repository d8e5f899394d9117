/** Platform-independent API. Import from 'nbf-gl' (Node) or the browser bundle for createContext(). */
export { Runtime } from './runtime/runtime.js';
export type { KernelCall, RuntimeOptions, MemoryInfo } from './runtime/runtime.js';
export { Tensor } from './runtime/tensor.js';
export * from './runtime/errors.js';
export * from './kernels/elementwise.js';
