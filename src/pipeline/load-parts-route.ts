/**
 * NBF's route's code (parts-route.ts) for NbfPipeline.create: a dynamic import, so that the split browser
 * bundle (`nbf-gl/browser`) fetches that code only when a page asks for the route. Builds that put
 * everything in one file (`nbf-gl/browser-full`, the Node library) swap this module for a static import
 * (scripts/browser-bundle.mjs, staticPartsRoute): there esbuild would wrap the dynamically imported
 * modules in lazy initialisers, which cost bytes and load nothing later.
 */
export const loadPartsRoute = () => import('./parts-route.js');
