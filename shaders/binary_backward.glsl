// binary_backward — the two partial gradients of out = A ∘ B (shaders/binary.glsl, same OP codes),
// in the output's (broadcast) shape:  dA = dY · ∂(A∘B)/∂A,  dB = dY · ∂(A∘B)/∂B.
//   add 1, 1 · sub 1, −1 · mul b, a · div 1/b, −a/b² · max [a≥b], [a<b] · min [a≤b], [a>b]
//   pow b·a^(b−1), a^b·ln a (0 where a ≤ 0) · squared difference 2(a−b), −2(a−b)
// (ties of max/min send the whole gradient to A). The caller sums each over A's / B's broadcast dims
// (reduce_to_shape) to get the gradients of the inputs.
// Inputs A, B: channel-packed, broadcastable to the output [..., C] as in binary.glsl; DY: the output
// shape. Output: dA (u_output = 0) or dB (u_output = 1) in the output shape — two draws, because
// multiple render targets fail in headless-gl 9.0.0-rc.10. One fragment computes one texel.
#include "lib/broadcast_operands"
uniform sampler2D DY;
uniform int u_output;          // 0: write dA, 1: write dB

#include "lib/safe_math"

vec4 pow4(vec4 a, vec4 b) {
  return vec4(signedPow(a.x, b.x), signedPow(a.y, b.y), signedPow(a.z, b.z), signedPow(a.w, b.w));
}

// Partial derivatives with respect to a (returned) and b (in db).
vec4 partials(vec4 a, vec4 b, out vec4 db) {
#if OP == 0
  db = vec4(1.0);
  return vec4(1.0);
#elif OP == 1
  db = vec4(-1.0);
  return vec4(1.0);
#elif OP == 2
  db = a;
  return b;
#elif OP == 3
  db = -a / (b * b);
  return 1.0 / b;
#elif OP == 4
  bvec4 aWins = greaterThanEqual(a, b);
  db = vec4(not(aWins));
  return vec4(aWins);
#elif OP == 5
  bvec4 aWins = lessThanEqual(a, b);
  db = vec4(not(aWins));
  return vec4(aWins);
#elif OP == 6
  vec4 safeA = max(a, vec4(1e-30));
  db = mix(vec4(0.0), pow4(a, b) * log(safeA), greaterThan(a, vec4(0.0)));
  vec4 e = b - 1.0;
  return mix(b * pow4(a, e), vec4(0.0), equal(b, vec4(0.0)));
#elif OP == 7
  db = -2.0 * (a - b);
  return 2.0 * (a - b);
#else
#error unknown OP
#endif
}

vec4 kernel(int t) {
  int texelsPerRow = (u_channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  vec4 a;
  vec4 b;
  broadcastOperands(row, c4, a, b);
  vec4 db;
  vec4 da = partials(a, b, db);
  return keepLanes(fetchTexel(DY, t) * (u_output == 0 ? da : db), c4, u_channels);
}
