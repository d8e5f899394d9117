/**
 * tableLookup(x, table): out = table[round(x)] elementwise, 0 where round(x) is outside the table
 * (shaders/table_lookup.glsl). What the segmenter's class-weighted loss needs: a weight per pixel from
 * its label, in one pass. CPU reference: table-lookup.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';

/** Entries the kernel's uniform array holds. */
export const TABLE_LOOKUP_MAX_ENTRIES = 64;

export function tableLookup(x: Tensor, table: ArrayLike<number>): Tensor {
  if (table.length < 1 || table.length > TABLE_LOOKUP_MAX_ENTRIES) {
    throw new NbfError(`tableLookup: the table needs 1..${TABLE_LOOKUP_MAX_ENTRIES} entries, got ${table.length}`);
  }
  for (let i = 0; i < table.length; i++) {
    if (!Number.isFinite(table[i])) throw new NbfError(`tableLookup: table entry ${i} must be finite, got ${table[i]}`);
  }
  const padded = new Float32Array(TABLE_LOOKUP_MAX_ENTRIES);
  padded.set(Array.from(table));
  return x.runtime.run({
    kernel: 'table_lookup',
    inputs: { X: x },
    uniforms: { u_table: padded, u_tableSize: table.length, u_channels: x.geometry.channels },
    outShape: x.shape,
  });
}
