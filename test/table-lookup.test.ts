/**
 * tableLookup (shaders/table_lookup.glsl) against its float64 reference on odd shapes, channels not
 * multiples of 4 and batches > 1 (outputs poisoned by the test runtime, so an unwritten texel fails),
 * values between, on and outside the table's indices; and its errors.
 */
import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { tableLookup, TABLE_LOOKUP_MAX_ENTRIES } from '../src/kernels/table-lookup.js';
import { tableLookupRef } from '../src/kernels/table-lookup.ref.js';

const rng = new Rng(4242);
const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

describe('tableLookup', () => {
  const cases: { shape: number[]; entries: number }[] = [
    { shape: [29], entries: 1 },
    { shape: [3, 5, 7, 1], entries: 13 },
    { shape: [2, 9, 11, 3], entries: 5 },
    { shape: [3, 13], entries: TABLE_LOOKUP_MAX_ENTRIES },
    { shape: [2, 3, 4, 6], entries: 40 },
  ];
  for (const { shape, entries } of cases) {
    it(`matches the reference on [${shape}] with ${entries} entries`, () => {
      const rt = testRuntime();
      const table = rng.uniformArray(entries, -3, 3);
      // Integer labels (the use), values near them, and some out of range on both sides.
      const x = Float32Array.from({ length: sizeOf(shape) }, () => {
        const k = Math.floor(rng.uniform(-2, entries + 2));
        return rng.uniform(0, 1) < 0.7 ? k : k + rng.uniform(-0.45, 0.45);
      });
      const ref = tableLookupRef(x, table);
      expect(ref.some((v) => v !== 0)).toBe(true);
      rt.scope(() => expectTensorClose(tableLookup(rt.tensor(x, shape), table), Float64Array.from(ref, Math.fround), shape, 0));
    });
  }

  it('gives 0 for NaN and ±∞', () => {
    const rt = testRuntime();
    const x = Float32Array.from([NaN, Infinity, -Infinity, 1]);
    rt.scope(() => expect(Array.from(tableLookup(rt.tensor(x, [4]), [5, 6]).readSync())).toEqual([0, 0, 0, 6]));
  });

  it('names a bad table', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(3), [3]);
      expect(() => tableLookup(x, [])).toThrow(/1\.\.64 entries, got 0/);
      expect(() => tableLookup(x, new Array(65).fill(1))).toThrow(/got 65/);
      expect(() => tableLookup(x, [1, NaN])).toThrow(/entry 1 must be finite/);
    });
  });
});
