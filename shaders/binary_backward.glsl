// binary_backward — the two partial gradients of out = A ∘ B (shaders/binary.glsl, same OP codes),
// in the output's (broadcast) shape:  dA = dY · ∂(A∘B)/∂A,  dB = dY · ∂(A∘B)/∂B.
//   add 1, 1 · sub 1, −1 · mul b, a · div 1/b, −a/b² · max [a≥b], [a<b] · min [a≤b], [a>b]
//   pow b·a^(b−1), a^b·ln a (0 where a ≤ 0) · squared difference 2(a−b), −2(a−b)
// (ties of max/min send the whole gradient to A). The caller sums each over A's / B's broadcast dims
// (reduce_to_shape) to get the gradients of the inputs.
// Inputs A, B: channel-packed, broadcastable to the output [..., C] as in binary.glsl; DY: the output
// shape. Output: dA (u_output = 0) or dB (u_output = 1) in the output shape — two draws, because
// multiple render targets fail in headless-gl 9.0.0-rc.10. One fragment computes one texel.
uniform sampler2D A;
uniform sampler2D B;
uniform sampler2D DY;
uniform int u_channels;
uniform int u_outDims[5];
uniform int u_aRowStrides[5];
uniform int u_bRowStrides[5];
uniform int u_aTexelsPerRow;
uniform int u_bTexelsPerRow;
uniform bool u_aSplat;
uniform bool u_bSplat;
uniform int u_output;          // 0: write dA, 1: write dB

float signedPow(float x, float y) {
  if (y == 0.0) return 1.0;
  if (x >= 0.0) return pow(x, y);
  if (y != floor(y)) return intBitsToFloat(0x7fc00000);
  float r = pow(-x, y);
  return mod(y, 2.0) == 0.0 ? r : -r;
}
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
  int aRow = 0;
  int bRow = 0;
  int rest = row;
  for (int i = 4; i >= 0; i--) {
    int coord = rest % u_outDims[i];
    rest /= u_outDims[i];
    aRow += coord * u_aRowStrides[i];
    bRow += coord * u_bRowStrides[i];
  }
  vec4 a = u_aSplat ? vec4(fetchTexel(A, aRow * u_aTexelsPerRow).x) : fetchTexel(A, aRow * u_aTexelsPerRow + c4);
  vec4 b = u_bSplat ? vec4(fetchTexel(B, bRow * u_bTexelsPerRow).x) : fetchTexel(B, bRow * u_bTexelsPerRow + c4);
  vec4 db;
  vec4 da = partials(a, b, db);
  return keepLanes(fetchTexel(DY, t) * (u_output == 0 ? da : db), c4, u_channels);
}
