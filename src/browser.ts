/** Browser entry point: the runtime plus canvas / OffscreenCanvas contexts. */
export * from './index.js';
export { createBrowserContext as createContext } from './runtime/browser-context.js';
