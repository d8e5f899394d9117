/** Float64 CPU reference of sample_field (shaders/sample_field.glsl). */

export interface FieldCell {
  v00: number;
  v01: number;
  v10: number;
  v11: number;
  fx: number;
  fy: number;
  insideX: number;
  insideY: number;
}

/** The bilinear cell of (x, y) in channel c of a field [H, W, C] (rules: shaders/lib/field_cell.glsl). */
export function fieldCellRef(field: ArrayLike<number>, shape: readonly number[], c: number, x: number, y: number): FieldCell {
  const [H, W, C] = shape;
  const rawU = x - 0.5;
  const rawV = y - 0.5;
  const u = Math.min(Math.max(rawU, 0), W - 1);
  const v = Math.min(Math.max(rawV, 0), H - 1);
  const x0 = Math.min(Math.floor(u), Math.max(W - 2, 0));
  const y0 = Math.min(Math.floor(v), Math.max(H - 2, 0));
  const x1 = Math.min(x0 + 1, W - 1);
  const y1 = Math.min(y0 + 1, H - 1);
  const at = (row: number, col: number) => field[(row * W + col) * C + c];
  return {
    v00: at(y0, x0), v01: at(y0, x1), v10: at(y1, x0), v11: at(y1, x1),
    fx: W > 1 ? u - x0 : 0,
    fy: H > 1 ? v - y0 : 0,
    insideX: u === rawU && W > 1 ? 1 : 0,
    insideY: v === rawV && H > 1 ? 1 : 0,
  };
}

/** [K, P] samples of field [H, W, C] at points [K, P, 2], channel[p] per point. */
export function sampleFieldRef(field: ArrayLike<number>, fieldShape: readonly number[], points: ArrayLike<number>, k: number, p: number, channel: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k * p);
  for (let i = 0; i < k * p; i++) {
    const c = fieldCellRef(field, fieldShape, channel[i % p], points[2 * i], points[2 * i + 1]);
    const top = c.v00 + (c.v01 - c.v00) * c.fx;
    const bottom = c.v10 + (c.v11 - c.v10) * c.fx;
    out[i] = top + (bottom - top) * c.fy;
  }
  return out;
}
