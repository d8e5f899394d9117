/**
 * Browser entry point (`nbf-gl/browser`, dist/nbf-gl.browser.js): the inference API (src/inference.ts)
 * plus canvas / OffscreenCanvas contexts — what the web page runs. Built split: NBF's route is a file
 * of its own that NbfPipeline.create({ parts: true }) fetches on demand (scripts/browser-bundle.mjs).
 * Training, the networks, NBF's route's functions, synthetic data and the SMPL file loaders are in
 * src/browser-full.ts.
 */
export * from './inference.js';
export { createBrowserContext as createContext } from './runtime/browser-context.js';
