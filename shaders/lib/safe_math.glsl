// Shared helper (#include "lib/safe_math"): the elementwise functions that the forward kernels
// (unary, binary) and their backward kernels must evaluate identically.
// Sigmoid and tanh in forms that never overflow to inf/inf for large |x|.
vec4 safeSigmoid(vec4 x) {
  vec4 e = exp(-abs(x));
  return mix(e / (1.0 + e), 1.0 / (1.0 + e), greaterThanEqual(x, vec4(0.0)));
}
vec4 safeTanh(vec4 x) {
  vec4 e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
// x^y for any sign of x, as numpy: negative bases need integer exponents (else NaN); 0^0 = 1.
float signedPow(float x, float y) {
  if (y == 0.0) return 1.0;
  if (x >= 0.0) return pow(x, y);
  if (y != floor(y)) return intBitsToFloat(0x7fc00000);
  float r = pow(-x, y);
  return mod(y, 2.0) == 0.0 ? r : -r;
}
