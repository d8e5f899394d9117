/**
 * The fitting network's mirrored second look (src/pipeline/fit-parts.ts): the class map mirrored with
 * its twin parts swapped, the mirrored answer's latent mirrored back (unmirrorLatent), the two averaged.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { Rng } from '../src/util/random.js';
import { fitPartMap, mirroredLabels, unmirrorLatent } from '../src/pipeline/fit-parts.js';
import { loadFitterWeights } from '../src/nn/weights-file.js';
import { GpuBodyModel } from '../src/smpl/gpu/model.js';
import { loadOpenBodyModel } from '../src/smpl/default-model.js';
import { NBF_MIRRORED_PARTS, SMPL_MIRRORED_JOINTS } from '../src/smpl/types.js';

const rt = testRuntime();
const path = 'weights/nbf-fitter-compact.nbfw';
const fitter = loadFitterWeights(rt, new Uint8Array(readFileSync(path)), path).network;
const model = new GpuBodyModel(rt, loadOpenBodyModel());
afterAll(() => {
  fitter.dispose();
  model.dispose();
});
const S = fitter.config.inputSize;
const B = fitter.config.shapeCount;

/** A blobby class map: rectangles of random parts on background. */
function blobMap(seed: number): Uint8Array {
  const rng = new Rng(seed);
  const labels = new Uint8Array(S * S);
  for (let r = 0; r < 14; r++) {
    const [x0, y0] = [Math.floor(rng.uniform(0, S - 8)), Math.floor(rng.uniform(0, S - 8))];
    const [w, h] = [Math.floor(rng.uniform(3, S / 3)), Math.floor(rng.uniform(3, S / 3))];
    const k = 1 + Math.floor(rng.uniform(0, 12));
    for (let y = y0; y < Math.min(S, y0 + h); y++) for (let x = x0; x < Math.min(S, x0 + w); x++) labels[y * S + x] = k;
  }
  return labels;
}

/** Joints [24·3] mirrored through the camera's x = 0 plane, each joint taking its twin's place. */
function mirroredJoints(j: ArrayLike<number>): number[] {
  return Array.from({ length: 72 }, (_, i) => {
    const k = SMPL_MIRRORED_JOINTS[Math.floor(i / 3)];
    return (i % 3 === 0 ? -1 : 1) * j[3 * k + (i % 3)];
  });
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('the fitting network\'s mirrored look', () => {
  it('mirroredLabels: pixel x takes pixel S−1−x with its twin part; twice gives the map back', () => {
    const labels = blobMap(1);
    const once = mirroredLabels(labels, S);
    for (let p = 0; p < S * S; p += 37) {
      const [y, x] = [Math.floor(p / S), p % S];
      expect(once[p]).toBe(NBF_MIRRORED_PARTS[labels[y * S + S - 1 - x]]);
    }
    expect(Array.from(mirroredLabels(once, S))).toEqual(Array.from(labels));
  });

  it('unmirrorLatent: twice is the identity; its body is the mirrored body (the open model is symmetric to < 2 mm)', () => {
    rt.scope(() => {
      const colours = new Float32Array(S * S * 3).map((_, i) => Math.sin(0.37 * i));
      const p = fitter.forward(fitter.params.toRecord(), rt.tensor(colours, [1, S, S, 3]), false);
      const latent = p.latent.readSync();
      const once = unmirrorLatent(latent, B);
      expect(maxDiff(unmirrorLatent(once, B), latent)).toBe(0);
      expect(maxDiff(once, latent)).toBeGreaterThan(1e-3);
      const joints = fitter.body(model, p).joints.readSync();
      const mirrored = fitter.body(model, fitter.decode(rt.tensor(once, [1, fitter.latentSize]))).joints.readSync();
      expect(maxDiff(mirrored, mirroredJoints(joints))).toBeLessThan(2e-3);
    });
  });

  it('fitPartMap with mirror: the mean of both looks, and the answer to a mirrored map is the mirrored answer', () => {
    const labels = blobMap(2);
    const map = { width: S, height: S, labels };
    const one = fitPartMap(fitter, model, map, { framing: 'image' });
    const two = fitPartMap(fitter, model, map, { framing: 'image', mirror: true });
    const mirroredMap = { width: S, height: S, labels: Uint8Array.from(mirroredLabels(labels, S)) };
    const twoOfMirrored = fitPartMap(fitter, model, mirroredMap, { framing: 'image', mirror: true });
    const oneOfMirrored = fitPartMap(fitter, model, mirroredMap, { framing: 'image' });
    // The two looks' mean: β (linear in the latent) is the mean of one look's and the mirrored look's.
    expect(maxDiff(two.betas, one.betas.map((b, i) => 0.5 * (b + oneOfMirrored.betas[i])))).toBeLessThan(1e-5);
    expect(maxDiff(two.betas, one.betas)).toBeGreaterThan(1e-4);
    expect(maxDiff(two.joints3d, one.joints3d)).toBeGreaterThan(1e-3);
    // Equivariance: reading both looks, a mirrored map gets the mirrored body.
    expect(maxDiff(twoOfMirrored.joints3d, mirroredJoints(two.joints3d))).toBeLessThan(3e-3);
    expect(twoOfMirrored.betas.map((b, i) => Math.abs(b - two.betas[i])).every((d) => d < 1e-4)).toBe(true);
  });
});

