// unary_backward — dX = dY · f'(X) elementwise, for the unary op f chosen by OP (same codes as
// shaders/unary.glsl, see src/kernels/elementwise.ts UNARY_OPS). Derivatives:
//   relu x>0 ? 1 : 0 · leaky x≥0 ? 1 : α · elu x≥0 ? 1 : αeˣ · sigmoid s(1−s) · tanh 1−tanh² · exp eˣ
//   log 1/x · abs sign(x) · sqrt 1/(2√x) · square 2x · clamp α≤x≤β ? 1 : 0 · neg −1 · identity 1
//   x+α, x−α 1 · α−x −1 · x·α α · x/α 1/α · α/x −α/x² · x^α αx^(α−1) · max(x,α) x>α ? 1 : 0
//   min(x,α) x<α ? 1 : 0. At kinks (relu at 0, abs at 0, ties of max/min) the derivative is 0
//   (1 for leaky relu, elu and clamp's closed range), as in TensorFlow.
// Inputs X (the forward input) and DY (gradient of the output), output dX: all the same shape
// [..., C], channel-packed. One fragment computes one texel; lanes past C are forced to 0 (f'(0)
// can be inf, e.g. log, and 0·inf is NaN).
uniform sampler2D X;
uniform sampler2D DY;
uniform float u_alpha;
uniform float u_beta;
uniform int u_channels;

#include "lib/safe_math"

vec4 step1(bvec4 b) { return vec4(b); }

vec4 derivative(vec4 x) {
#if OP == 0
  return step1(greaterThan(x, vec4(0.0)));
#elif OP == 1
  return mix(vec4(u_alpha), vec4(1.0), greaterThanEqual(x, vec4(0.0)));
#elif OP == 2
  return mix(u_alpha * exp(min(x, 0.0)), vec4(1.0), greaterThanEqual(x, vec4(0.0)));
#elif OP == 3
  vec4 s = safeSigmoid(x);
  return s * (1.0 - s);
#elif OP == 4
  vec4 th = safeTanh(x);
  return 1.0 - th * th;
#elif OP == 5
  return exp(x);
#elif OP == 6
  return 1.0 / x;
#elif OP == 7
  return sign(x);
#elif OP == 8
  return 0.5 / sqrt(x);
#elif OP == 9
  return 2.0 * x;
#elif OP == 10
  return step1(greaterThanEqual(x, vec4(u_alpha))) * step1(lessThanEqual(x, vec4(u_beta)));
#elif OP == 11
  return vec4(-1.0);
#elif OP == 12 || OP == 13 || OP == 14
  return vec4(1.0);
#elif OP == 15
  return vec4(-1.0);
#elif OP == 16
  return vec4(u_alpha);
#elif OP == 17
  return vec4(1.0 / u_alpha);
#elif OP == 18
  return -u_alpha / (x * x);
#elif OP == 19
  if (u_alpha == 0.0) return vec4(0.0);
  float e = u_alpha - 1.0;
  return u_alpha * vec4(signedPow(x.x, e), signedPow(x.y, e), signedPow(x.z, e), signedPow(x.w, e));
#elif OP == 20
  return step1(greaterThan(x, vec4(u_alpha)));
#elif OP == 21
  return step1(lessThan(x, vec4(u_alpha)));
#else
#error unknown OP
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  return keepLanes(fetchTexel(DY, t) * derivative(fetchTexel(X, t)), t % texelsPerRow, u_channels);
}
