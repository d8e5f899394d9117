// loss_rows — per-row loss terms and their share of the mean's denominator, for the loss chosen by
// LOSS (0 L1, 1 L2, 2 smooth L1, 3 per-row Euclidean distance, 4 softmax cross-entropy):
//   L1        x = w·Σ_c |p−t|                         y = w·C
//   L2        x = w·Σ_c (p−t)²                        y = w·C
//   smooth L1 x = w·Σ_c (|d|<β ? ½d²/β : |d|−½β)      y = w·C      (d = p−t)
//   Euclidean x = w·‖p−t‖₂ over the row               y = w
//   softmax CE x = w·(log Σ_c e^{z_c} − z_k)          y = w        (k = round(label); a label outside
//              [0, C) is ignored: x = y = 0)
// w is the row's example weight W[row / u_rowsPerExample] (WEIGHTED), else 1. The loss is Σx / Σy.
// Inputs P: predictions / logits [..., C]; T: targets of P's shape, or (CE) labels with one value per
// row of P, any shape, read by flat index; W: weights, one per example, any shape, read by flat index.
// Output [rows, 2]: one texel per row, (x, y, 0, 0). One fragment computes one row.
#include "lib/divmod"
#include "lib/loss_row"

vec4 kernel(int row) {
  int texelsPerRow = (u_channels + 3) / 4;
  int first = row * texelsPerRow;
  float w = rowWeight(row);
  float loss = 0.0;
  float count = 1.0;
#if LOSS <= 3
  vec4 acc = vec4(0.0);
  for (int i = 0; i < texelsPerRow; i++) {
    // Padding lanes are 0 in P and T, so they add 0 to every one of these sums.
    vec4 d = fetchTexel(P, first + i) - fetchTexel(T, first + i);
#if LOSS == 0
    acc += abs(d);
#elif LOSS == 1 || LOSS == 3
    acc += d * d;
#else
    vec4 a = abs(d);
    acc += mix(a - 0.5 * u_beta, 0.5 * d * d / u_beta, lessThan(a, vec4(u_beta)));
#endif
  }
  loss = dot(acc, vec4(1.0));
#if LOSS == 3
  loss = sqrt(loss);
#else
  count = float(u_channels);
#endif
#elif LOSS == 4
  int k;
  float m;
  float s;
  if (!crossEntropyRow(row, first, texelsPerRow, k, m, s)) return vec4(0.0);
  loss = m + log(s) - fetchElement(P, row, k, texelsPerRow);
#else
#error unknown LOSS
#endif
  return vec4(w * loss, w * count, 0.0, 0.0);
}
