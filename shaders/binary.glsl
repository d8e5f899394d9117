// binary — out = A ∘ B elementwise with numpy broadcasting; ∘ chosen by OP:
//   0 add · 1 sub · 2 mul · 3 div · 4 max · 5 min · 6 pow (numpy rules for negative bases)
//   7 squared difference (a−b)².
// Inputs A, B: channel-packed, each broadcastable to the output [..., C]. Output: channel-packed.
// One fragment computes one output texel. Its row is split into coordinates over the output's
// leading dims (u_outDims, right-aligned, padded with 1s) and mapped to each input's row through
// row strides (0 along broadcast dims). An input whose last dim is 1 while C > 1 is read as one
// element and splatted over the 4 lanes. BROADCAST 0 is the fast path for equal shapes.
uniform sampler2D A;
uniform sampler2D B;
uniform int u_channels;       // C
uniform int u_outDims[5];     // output dims except the last, right-aligned
uniform int u_aRowStrides[5]; // rows of A per step of each output dim (0 = broadcast)
uniform int u_bRowStrides[5];
uniform int u_aTexelsPerRow;  // ceil(C_A / 4)
uniform int u_bTexelsPerRow;
uniform bool u_aSplat;        // A's last dim is 1 and C > 1
uniform bool u_bSplat;

float signedPow(float x, float y) {
  if (y == 0.0) return 1.0;
  if (x >= 0.0) return pow(x, y);
  if (y != floor(y)) return intBitsToFloat(0x7fc00000);
  float r = pow(-x, y);
  return mod(y, 2.0) == 0.0 ? r : -r;
}

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
#else
  vec4 a = fetchTexel(A, t);
  vec4 b = fetchTexel(B, t);
#endif
  return keepLanes(combine(a, b), c4, u_channels);
}
