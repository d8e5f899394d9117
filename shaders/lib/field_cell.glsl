// The bilinear cell of a point in a one-channel view of a field [H, W, C] (sample_field*.glsl).
// A point (x, y) is in field pixels: pixel (row i, column j) covers [j, j+1) × [i, i+1), its value sits
// at its centre (j + ½, i + ½). u = clamp(x − ½, 0, W − 1), v = clamp(y − ½, 0, H − 1);
// the cell's corners are columns x0 = min(⌊u⌋, W − 2) and x0 + 1 (x0 = x1 = 0 when W = 1), rows
// likewise, and (fx, fy) the position inside the cell. inside.x is 0 where u was clamped (the sample
// is constant there along x), else 1; inside.y likewise.
struct FieldCell {
  float v00, v01, v10, v11; // (row, column): v01 is (y0, x1)
  vec2 frac;
  vec2 inside;
};

FieldCell fieldCell(sampler2D field, ivec3 size, int channel, vec2 point) {
  int H = size.x;
  int W = size.y;
  int texelsPerRow = (size.z + 3) / 4;
  vec2 limit = vec2(float(W - 1), float(H - 1));
  vec2 raw = point - 0.5;
  vec2 u = clamp(raw, vec2(0.0), limit);
  FieldCell cell;
  cell.inside = vec2(equal(u, raw)) * vec2(greaterThan(limit, vec2(0.0)));
  int x0 = min(int(floor(u.x)), max(W - 2, 0));
  int y0 = min(int(floor(u.y)), max(H - 2, 0));
  int x1 = min(x0 + 1, W - 1);
  int y1 = min(y0 + 1, H - 1);
  cell.frac = vec2(W > 1 ? u.x - float(x0) : 0.0, H > 1 ? u.y - float(y0) : 0.0);
  cell.v00 = fetchElement(field, y0 * W + x0, channel, texelsPerRow);
  cell.v01 = fetchElement(field, y0 * W + x1, channel, texelsPerRow);
  cell.v10 = fetchElement(field, y1 * W + x0, channel, texelsPerRow);
  cell.v11 = fetchElement(field, y1 * W + x1, channel, texelsPerRow);
  return cell;
}
