/** Comparison helpers for GPU results against float64 CPU references. */
import { expect } from 'vitest';
import type { Tensor } from '../../src/runtime/tensor.js';

/**
 * Largest error of `got` against `want`, relative per element: |g − w| / max(|w|, floor).
 * A NaN or inf where the reference is finite counts as Infinity; matching NaNs count as 0.
 */
export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, floor = 1): number {
  if (got.length !== want.length) throw new Error(`length ${got.length} vs reference ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    const err = Number.isFinite(g) ? Math.abs(g - w) / Math.max(Math.abs(w), floor) : Infinity;
    if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
  }
  return worst;
}

/** Asserts a tensor equals a reference within tol, that every texel was written and padding is 0. */
export function expectTensorClose(t: Tensor, want: ArrayLike<number>, wantShape: readonly number[], tol = 1e-5, floor = 1): void {
  expect([...t.shape]).toEqual([...wantShape]);
  const raw = t.runtime.readTexels(t);
  const { texelsPerRow, channels } = t.geometry;
  for (let i = 0; i < raw.length; i++) {
    const lane = i % (texelsPerRow * 4);
    if (lane >= channels && raw[i] !== 0) {
      throw new Error(`padding lane ${lane} of row ${Math.floor(i / (texelsPerRow * 4))} holds ${raw[i]}, not 0`);
    }
  }
  const got = t.readSync();
  const err = maxRelError(got, want, floor);
  if (!(err <= tol)) {
    let at = 0;
    let worst = -1;
    for (let i = 0; i < want.length; i++) {
      const e = Number.isNaN(got[i]) && !Number.isNaN(want[i]) ? Infinity : Math.abs(got[i] - want[i]);
      if (e > worst) { worst = e; at = i; }
    }
    throw new Error(`max relative error ${err} > ${tol}; worst at ${at}: got ${got[at]}, want ${want[at]}`);
  }
}

/** Random shapes for kernel tests: odd sizes, channels not multiples of 4, batch > 1. */
export const ODD_SHAPES: number[][] = [[1], [3], [7, 5], [2, 3, 5], [3, 7, 9, 6], [2, 5, 3, 13]];

/** max |got − want| / max |scaleOf| (scaleOf: `want` unless given); NaN anywhere → Infinity. */
export function normwiseError(got: ArrayLike<number>, want: ArrayLike<number>, scaleOf: ArrayLike<number> = want): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(scaleOf[i]));
  }
  return diff / Math.max(scale, 1e-30);
}

/**
 * Like expectTensorClose, for kernels with discontinuities (stripes, checks, mask edges): padding
 * lanes must be 0 and every value written, but up to `maxFraction` of the values may differ by more
 * than `tol` — pixels whose pattern boundary float32 rounding puts on the other side.
 */
export function expectMostlyClose(t: Tensor, want: ArrayLike<number>, shape: number[], tol: number, maxFraction: number): void {
  expect([...t.shape]).toEqual(shape);
  const raw = t.runtime.readTexels(t);
  const { texelsPerRow, channels } = t.geometry;
  for (let i = 0; i < raw.length; i++) if (i % (texelsPerRow * 4) >= channels) expect(raw[i]).toBe(0);
  const got = t.readSync();
  let bad = 0;
  for (let i = 0; i < want.length; i++) {
    expect(Number.isFinite(got[i])).toBe(true);
    if (!(Math.abs(got[i] - want[i]) <= tol * Math.max(1, Math.abs(want[i])))) bad++;
  }
  expect(bad / want.length).toBeLessThanOrEqual(maxFraction);
}
