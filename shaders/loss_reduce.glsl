// loss_reduce — the loss value from the summed rows: out = Σy > 0 ? Σx / Σy : 0 (a weighted mean;
// 0 when every example is masked out rather than NaN).
// Input TOTALS [2]: (Σx, Σy) from loss_rows summed by reduce_to_shape. Output: a scalar [].
// One fragment.
uniform sampler2D TOTALS;

vec4 kernel(int t) {
  vec4 s = fetchTexel(TOTALS, 0);
  return vec4(s.y > 0.0 ? s.x / s.y : 0.0, 0.0, 0.0, 0.0);
}
