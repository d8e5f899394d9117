// unary — out = f(X) elementwise, f chosen at compile time by OP (see src/kernels/elementwise.ts).
//   relu max(x,0) · leaky x≥0 ? x : αx · elu x≥0 ? x : α(eˣ−1) · sigmoid 1/(1+e⁻ˣ) · tanh · exp · log
//   abs · sqrt · square x² · clamp min(max(x,α),β) · neg −x · identity x, and the scalar forms
//   x+α, x−α, α−x, x·α, x/α, α/x, x^α, max(x,α), min(x,α).
// Input X and output: the same shape [..., C], channel-packed. One fragment maps one texel
// (4 channels); lanes past C are forced back to 0 (f(0) is not always 0, e.g. sigmoid).
uniform sampler2D X;
uniform float u_alpha;   // scalar operand / slope / lower bound
uniform float u_beta;    // upper bound (clamp)
uniform int u_channels;  // C

#include "lib/safe_math"

vec4 powScalar(vec4 x, float y) {
  return vec4(signedPow(x.x, y), signedPow(x.y, y), signedPow(x.z, y), signedPow(x.w, y));
}

vec4 apply(vec4 x) {
#if OP == 0
  return max(x, 0.0);
#elif OP == 1
  return mix(u_alpha * x, x, greaterThanEqual(x, vec4(0.0)));
#elif OP == 2
  return mix(u_alpha * (exp(min(x, 0.0)) - 1.0), x, greaterThanEqual(x, vec4(0.0)));
#elif OP == 3
  return safeSigmoid(x);
#elif OP == 4
  return safeTanh(x);
#elif OP == 5
  return exp(x);
#elif OP == 6
  return log(x);
#elif OP == 7
  return abs(x);
#elif OP == 8
  return sqrt(x);
#elif OP == 9
  return x * x;
#elif OP == 10
  return min(max(x, u_alpha), u_beta);
#elif OP == 11
  return -x;
#elif OP == 12
  return x;
#elif OP == 13
  return x + u_alpha;
#elif OP == 14
  return x - u_alpha;
#elif OP == 15
  return u_alpha - x;
#elif OP == 16
  return x * u_alpha;
#elif OP == 17
  return x / u_alpha;
#elif OP == 18
  return u_alpha / x;
#elif OP == 19
  return powScalar(x, u_alpha);
#elif OP == 20
  return max(x, u_alpha);
#elif OP == 21
  return min(x, u_alpha);
#else
#error unknown OP
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  return keepLanes(apply(fetchTexel(X, t)), t % texelsPerRow, u_channels);
}
