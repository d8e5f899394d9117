/**
 * Browser entry point with the whole API (`nbf-gl/browser-full`, dist/nbf-gl.browser-full.js): what
 * src/index.ts exports (autodiff, optimizers, the networks, synthetic data, evaluation, …) plus canvas /
 * OffscreenCanvas contexts.
 */
export * from './index.js';
export { createBrowserContext as createContext } from './runtime/browser-context.js';
