/**
 * corruptPartLabels (shaders/synth_part_noise.glsl) against its CPU reference, exactly: every
 * quantity is an integer or a hash compared with a packed float. The test runtime poisons outputs
 * with NaN, so an unwritten texel fails.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { ShapeError } from '../src/runtime/errors.js';
import {
  corruptPartLabels, identityPartNoise, packPartNoise, PART_NOISE_SIZE, samplePartNoise, type PartNoise, type PartNoiseOptions,
} from '../src/synth/part-noise.js';
import { corruptPartLabelsRef } from '../src/synth/part-noise.ref.js';

const rng = new Rng(77);
const ALL_ON: PartNoiseOptions = { boundaryRate: 1, swapRate: 1, dropRate: 1, blobRate: 1, limbRate: 1, noiseRate: 1 };

/** Label maps [N, H, W] of random rectangles and ellipses of parts 1..12 on background. */
function randomLabels(N: number, H: number, W: number): Float32Array {
  const out = new Float32Array(N * H * W);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < 10; k++) {
      const [cx, cy, hx, hy, label, ellipse] = [rng.uniform(0, W), rng.uniform(0, H), rng.uniform(2, W / 3), rng.uniform(2, H / 3), rng.int(1, 12), rng.next() < 0.5];
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const [u, v] = [(x - cx) / hx, (y - cy) / hy];
          if (ellipse ? u * u + v * v <= 1 : Math.abs(u) <= 1 && Math.abs(v) <= 1) out[(n * H + y) * W + x] = label;
        }
      }
    }
  }
  return out;
}

function pack(list: PartNoise[]): Float32Array {
  const out = new Float32Array(list.length * PART_NOISE_SIZE);
  list.forEach((p, n) => packPartNoise(p, out, n * PART_NOISE_SIZE));
  return out;
}

/** GPU result [N·H·W] of the params; checks it against the reference on the way. */
function corrupt(labels: Float32Array, params: Float32Array, N: number, H: number, W: number): Float32Array {
  const rt = testRuntime();
  return rt.scope(() => {
    const out = corruptPartLabels(rt.tensor(labels, [N, H, W, 1]), rt.tensor(params, [N, PART_NOISE_SIZE]));
    expectTensorClose(out, corruptPartLabelsRef(labels, params, N, H, W), [N, H, W, 1], 0);
    return out.readSync();
  });
}

describe('corruptPartLabels', () => {
  it('matches the CPU reference exactly: every effect, sampled defaults and the identity, 3×37×29', () => {
    const [N, H, W] = [3, 37, 29];
    const labels = randomLabels(N, H, W);
    const params = pack([samplePartNoise(rng, 33, ALL_ON), samplePartNoise(rng, 33), identityPartNoise(5)]);
    const got = corrupt(labels, params, N, H, W);
    expect(got.slice(0, H * W)).not.toEqual(labels.slice(0, H * W));
    expect(got.slice(2 * H * W)).toEqual(labels.slice(2 * H * W));
    expect(got.every((v) => Number.isInteger(v) && v >= 0 && v <= 12)).toBe(true);
  });

  it('matches the reference at a larger size with strong boundary noise and big blobs, 2×70×53', () => {
    const [N, H, W] = [2, 70, 53];
    const labels = randomLabels(N, H, W);
    const heavy = (): PartNoise => ({ ...samplePartNoise(rng, 300, { ...ALL_ON, limbRate: 0 }), boundaryPart: 0.9, boundaryGrow: 0.9, noiseRate: 0.5, blobRadius: [3, 20] });
    const got = corrupt(labels, pack([heavy(), heavy()]), N, H, W);
    expect(got.every((v) => Number.isInteger(v) && v >= 0 && v <= 12)).toBe(true);
  });

  it('strength 0 is the identity', () => {
    const [N, H, W] = [4, 21, 17];
    const labels = randomLabels(N, H, W);
    const list = Array.from({ length: N }, () => samplePartNoise(rng, 21, { ...ALL_ON, strength: 0 }));
    for (const p of list) expect({ ...p, seed: 0 }).toEqual(identityPartNoise());
    expect(corrupt(labels, pack(list), N, H, W)).toEqual(labels);
  });

  it('is reproducible from the rng seed; another seed gives another result', () => {
    const [N, H, W] = [2, 31, 23];
    const labels = randomLabels(N, H, W);
    const draw = (seed: number) => { const r = new Rng(seed); return pack([samplePartNoise(r, 31, ALL_ON), samplePartNoise(r, 31, ALL_ON)]); };
    const a = corrupt(labels, draw(9), N, H, W);
    expect(corrupt(labels, draw(9), N, H, W)).toEqual(a);
    expect(corrupt(labels, draw(10), N, H, W)).not.toEqual(a);
  });

  it('swaps left and right parts, whole example or one pair; drops a limb or a part', () => {
    const W = 13;
    const labels = Float32Array.from({ length: W }, (_, i) => i);
    const params = pack([
      { ...identityPartNoise(), swapMask: 15 },
      { ...identityPartNoise(), swapMask: 1 }, // 3 ↔ 10 only
      { ...identityPartNoise(), limb: 3 }, // left leg: 5 and 11
      { ...identityPartNoise(), dropPart: 2, dropTo: 8 },
    ]);
    const got = corrupt(new Float32Array([...labels, ...labels, ...labels, ...labels]), params, 4, 1, W);
    expect([...got.slice(0, W)]).toEqual([0, 1, 2, 10, 9, 6, 5, 7, 8, 4, 3, 12, 11]);
    expect([...got.slice(W, 2 * W)]).toEqual([0, 1, 2, 10, 4, 5, 6, 7, 8, 9, 3, 11, 12]);
    expect([...got.slice(2 * W, 3 * W)]).toEqual([0, 1, 2, 3, 4, 0, 6, 7, 8, 9, 10, 0, 12]);
    expect([...got.slice(3 * W)]).toEqual([0, 1, 8, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('person dilation only (pGrow 1): background next to the person becomes part, parts never background', () => {
    const [H, W] = [25, 25];
    const labels = randomLabels(1, H, W);
    const p = { ...identityPartNoise(3), boundaryRadius: 2, boundaryCell: 1, boundaryGrow: 1 };
    const got = corrupt(labels, pack([p]), 1, H, W);
    let grown = 0;
    for (let i = 0; i < H * W; i++) {
      if (labels[i] !== 0) expect(got[i]).toBe(labels[i]);
      else if (got[i] !== 0) grown++;
    }
    expect(grown).toBeGreaterThan(0);
  });

  it('rejects bad shapes with a ShapeError', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const params = rt.zeros([2, PART_NOISE_SIZE]);
      expect(() => corruptPartLabels(rt.zeros([2, 5, 5, 2]), params)).toThrow(ShapeError);
      expect(() => corruptPartLabels(rt.zeros([2, 5, 5]), params)).toThrow(/labels should be \[N, H, W, 1\]/);
      expect(() => corruptPartLabels(rt.zeros([3, 5, 5, 1]), params)).toThrow(/params should be \[3, 16\]/);
      expect(() => corruptPartLabels(rt.zeros([2, 5, 5, 1]), rt.zeros([2, 8]))).toThrow(ShapeError);
    });
  });
});
