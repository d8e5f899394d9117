// loss_backward — dP = dy · w / Σy · ∂ℓ/∂P for the loss chosen by LOSS (codes as in loss_rows.glsl):
//   L1 sign(p−t) · L2 2(p−t) · smooth L1 |d|<β ? d/β : sign(d) · Euclidean (p−t)/‖p−t‖ (0 at 0)
//   softmax CE softmax(z)_c − [c = k] (0 for ignored labels).
// w: the row's example weight (WEIGHTED) else 1; Σy: the denominator from the forward pass; dy: the
// gradient of the scalar loss (a 1-element tensor, so no value is read back to JavaScript).
// Inputs P, T, W as in loss_rows.glsl; TOTALS [2] = (Σx, Σy); DY []. Output: P's shape.
// One fragment computes one texel of dP (Euclidean and CE loop over the fragment's row).
#include "lib/divmod"
#include "lib/loss_row"
uniform sampler2D TOTALS;
uniform sampler2D DY;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  ivec2 rowAndTexel = divmod(t, texelsPerRow);
  int row = rowAndTexel.x;
  int c4 = rowAndTexel.y;
  int first = row * texelsPerRow;
  float w = rowWeight(row);
  float denominator = fetchTexel(TOTALS, 0).y;
  float scale = denominator > 0.0 ? fetchTexel(DY, 0).x * w / denominator : 0.0;
  vec4 grad;
#if LOSS <= 3
  vec4 d = fetchTexel(P, t) - fetchTexel(T, t);
#if LOSS == 0
  grad = sign(d);
#elif LOSS == 1
  grad = 2.0 * d;
#elif LOSS == 2
  grad = mix(sign(d), d / u_beta, lessThan(abs(d), vec4(u_beta)));
#else
  float sq = 0.0;
  for (int i = 0; i < texelsPerRow; i++) {
    vec4 e = fetchTexel(P, first + i) - fetchTexel(T, first + i);
    sq += dot(e, e);
  }
  grad = sq > 0.0 ? d * inversesqrt(sq) : vec4(0.0);
#endif
#elif LOSS == 4
  int k;
  float m;
  float s;
  if (!crossEntropyRow(row, first, texelsPerRow, k, m, s)) return vec4(0.0);
  vec4 oneHot = vec4(equal(ivec4(0, 1, 2, 3) + 4 * c4, ivec4(k)));
  grad = exp(fetchTexel(P, t) - m) / s - oneHot;
#else
#error unknown LOSS
#endif
  return keepLanes(scale * grad, c4, u_channels);
}
