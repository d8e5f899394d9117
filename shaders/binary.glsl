// binary — out = A ∘ B elementwise with numpy broadcasting; ∘ chosen by OP:
//   0 add · 1 sub · 2 mul · 3 div · 4 max · 5 min · 6 pow (numpy rules for negative bases)
//   7 squared difference (a−b)².
// Inputs A, B: channel-packed, each broadcastable to the output [..., C]. Output: channel-packed.
// One fragment computes one output texel. Its row is split into coordinates over the output's
// leading dims (u_outDims, right-aligned, padded with 1s) and mapped to each input's row through
// row strides (0 along broadcast dims). An input whose last dim is 1 while C > 1 is read as one
// element and splatted over the 4 lanes. BROADCAST 0 is the fast path for equal shapes.
#include "lib/broadcast_operands"
#include "lib/safe_math"

vec4 combine(vec4 a, vec4 b) {
#if OP == 0
  return a + b;
#elif OP == 1
  return a - b;
#elif OP == 2
  return a * b;
#elif OP == 3
  return a / b;
#elif OP == 4
  return max(a, b);
#elif OP == 5
  return min(a, b);
#elif OP == 6
  return vec4(signedPow(a.x, b.x), signedPow(a.y, b.y), signedPow(a.z, b.z), signedPow(a.w, b.w));
#elif OP == 7
  return (a - b) * (a - b);
#else
#error unknown OP
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
#if BROADCAST
  vec4 a;
  vec4 b;
  broadcastOperands(row, c4, a, b);
#else
  vec4 a = fetchTexel(A, t);
  vec4 b = fetchTexel(B, t);
#endif
  return keepLanes(combine(a, b), c4, u_channels);
}
