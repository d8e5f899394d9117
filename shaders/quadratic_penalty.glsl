// quadratic_penalty — the refinement's priors on one parameter tensor in one draw:
//   E = a·Σ x² + b·Σ (x − s)² + c·Σ (max(x − hi, 0)² + max(lo − x, 0)²)
// summed over every element of X. The s term with HAS_START, the bounds term with HAS_BOUNDS (the
// same bounds for every row). Replaces a chain of some fifteen elementwise draws per prior and step.
// Inputs (lib/quadratic_penalty) X [rows, C]; S [rows, C] (HAS_START); LO, HI [1, C] (HAS_BOUNDS).
// Lanes past C are 0 in all of them, so they add 0 to every term. Output: a scalar []. One fragment
// computes the whole sum (the parameters of a refinement are a few hundred numbers).
#include "lib/quadratic_penalty"

uniform int u_rows;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  vec4 acc = vec4(0.0);
  for (int r = 0; r < u_rows; r++) {
    for (int i = 0; i < texelsPerRow; i++) {
      int texel = r * texelsPerRow + i;
      acc += penaltyTexel(fetchTexel(X, texel), texel, i, false);
    }
  }
  return vec4(dot(acc, vec4(1.0)), 0.0, 0.0, 0.0);
}
