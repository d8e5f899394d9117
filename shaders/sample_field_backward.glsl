// sample_field_backward — gradient of sample_field with respect to the points:
//   dPoints[k, p] = DY[k, p] · (∂s/∂x, ∂s/∂y)
//   ∂s/∂x = inside.x · ((1 − fy)·(v01 − v00) + fy·(v11 − v10))
//   ∂s/∂y = inside.y · ((1 − fx)·(v10 − v00) + fx·(v11 − v01))
// (lib/field_cell.glsl: the derivative is 0 along an axis where the point lies beyond the outermost
// centres; at a cell boundary it is the right-hand cell's, one side of the kink). The field is a
// constant: it gets no gradient.
// Field [H, W, C] channel-packed; Points [K, P, 2]; Channel [P, 1]; DY [K, P, 1]. Output [K, P, 2].
// One fragment computes one point's two derivatives.
uniform sampler2D Field;
uniform sampler2D Points;
uniform sampler2D Channel;
uniform sampler2D DY;
uniform ivec3 u_fieldSize; // H, W, C
uniform int u_points;      // P

#include "lib/field_cell"

vec4 kernel(int t) {
  int p = t % u_points;
  FieldCell c = fieldCell(Field, u_fieldSize, int(fetchTexel(Channel, p).x), fetchTexel(Points, t).xy);
  float dx = (1.0 - c.frac.y) * (c.v01 - c.v00) + c.frac.y * (c.v11 - c.v10);
  float dy = (1.0 - c.frac.x) * (c.v10 - c.v00) + c.frac.x * (c.v11 - c.v01);
  return vec4(fetchTexel(DY, t).x * c.inside * vec2(dx, dy), 0.0, 0.0);
}
