// sample_field — bilinear samples of a constant field at moving points, one channel per point:
//   out[k, p] = bilinear(Field[:, :, channel[p]], Points[k, p])
// with the cell and clamping rules of lib/field_cell.glsl (points in field pixels, values at pixel
// centres, clamped to the outermost centres). Used by the refinement to read a distance transform of
// each body part at the projected vertices of that part (src/pipeline/refine.ts).
// Field [H, W, C] channel-packed (row = pixel); Points [K, P, 2] (one texel per point: x, y);
// Channel [P, 1] (one texel per point: the channel index as a float). Output [K, P, 1].
// One fragment computes one point's sample.
uniform sampler2D Field;
uniform sampler2D Points;
uniform sampler2D Channel;
uniform ivec3 u_fieldSize; // H, W, C
uniform int u_points;      // P

#include "lib/field_cell"

vec4 kernel(int t) {
  int p = t % u_points;
  FieldCell c = fieldCell(Field, u_fieldSize, int(fetchTexel(Channel, p).x), fetchTexel(Points, t).xy);
  float top = c.v00 + (c.v01 - c.v00) * c.frac.x;
  float bottom = c.v10 + (c.v11 - c.v10) * c.frac.x;
  return vec4(top + (bottom - top) * c.frac.y, 0.0, 0.0, 0.0);
}
