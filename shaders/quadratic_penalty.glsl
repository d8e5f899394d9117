// quadratic_penalty — the refinement's priors on one parameter tensor in one draw:
//   E = a·Σ x² + b·Σ (x − s)² + c·Σ (max(x − hi, 0)² + max(lo − x, 0)²)
// summed over every element of X. The s term with HAS_START, the bounds term with HAS_BOUNDS (the
// same bounds for every row). Replaces a chain of some fifteen elementwise draws per prior and step.
// Inputs X [rows, C]; S [rows, C] (HAS_START); LO, HI [1, C] (HAS_BOUNDS). Lanes past C are 0 in all
// of them, so they add 0 to every term. Output: a scalar []. One fragment computes the whole sum
// (the parameters of a refinement are a few hundred numbers).
uniform sampler2D X;
#if HAS_START
uniform sampler2D S;
#endif
#if HAS_BOUNDS
uniform sampler2D LO;
uniform sampler2D HI;
#endif
uniform int u_rows;
uniform int u_channels;
uniform float u_a;
uniform float u_b;
uniform float u_c;

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  vec4 acc = vec4(0.0);
  for (int r = 0; r < u_rows; r++) {
    for (int i = 0; i < texelsPerRow; i++) {
      vec4 x = fetchTexel(X, r * texelsPerRow + i);
      vec4 e = u_a * x * x;
#if HAS_START
      vec4 d = x - fetchTexel(S, r * texelsPerRow + i);
      e += u_b * d * d;
#endif
#if HAS_BOUNDS
      vec4 over = max(x - fetchTexel(HI, i), 0.0);
      vec4 under = max(fetchTexel(LO, i) - x, 0.0);
      e += u_c * (over * over + under * under);
#endif
      acc += e;
    }
  }
  return vec4(dot(acc, vec4(1.0)), 0.0, 0.0, 0.0);
}
