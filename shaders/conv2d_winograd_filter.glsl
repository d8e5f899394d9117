// conv2d_winograd_filter — the weight transform of Winograd F(2×2, 3×3), U = G · g · Gᵀ per
// (output channel co, input channel ci), as the right operands of the 16 products the convolution runs:
//   U[co, ξ, ci] = Σ_{a, b < 3} G[i, a] · G[j, b] · w[a, b, ci, co],   ξ = 4i + j  (i, j < 4),
//   G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]].
// Layouts (channel-packed, Cin4 = ⌈Cin/4⌉): input w packed by matmul_pack.glsl from HWIO
//   [3, 3, Cin, Cout] to Wp [Cout, 9, Cin] (the direct kernel's layout): texel (co·9 + 3a + b)·Cin4 +
//   ci4. Output U [Cout, 4·P] with a row pitch of P = 16·Cin4 + 1 texels: texel co·P + ξ·Cin4 + ci4
//   (ci contiguous, as conv2d_winograd_product.glsl reads it); the last texel of each row is 0. The
//   pitch is odd on purpose: with a power-of-two pitch the product's reads of neighbouring output
//   channels all fell into the same cache sets (1.4× slower at Cin = Cout = 128).
// One fragment computes one output texel: one (co, ξ) × 4 input channels, from all 9 taps of its co
// with the coefficients G[i, a]·G[j, b] (5 to 8 of them 0): neighbouring texture rows hold other ξ,
// and llvmpipe shades blocks of fragments in lock step, so skipping the taps a ξ does not need would
// run every branch. co is the slowest index, so the fragments reading one co's taps run close
// together. The coefficients are powers of two: the products are exact. Reads: textureLod at texel
// centres, mask/shift addressing, texel size from a uniform; FLOAT_DIVMOD: lib/divmod's float index
// decode (exact below 2^24 output texels).
#define CUSTOM_MAIN
uniform sampler2D Wp;
uniform int u_inChannels;   // Cin
uniform int u_wWidthLog2;
uniform vec2 u_wTexelSize;  // 1 / (width, height) of Wp's texture

int wMask, wShift;
vec4 fetchW(int t) { return textureLod(Wp, (vec2(t & wMask, t >> wShift) + 0.5) * u_wTexelSize, 0.0); }

#include "lib/divmod"

// Row i of G.
vec3 gRow(int i) {
  return i == 0 ? vec3(1.0, 0.0, 0.0) : i == 3 ? vec3(0.0, 0.0, 1.0) : vec3(0.5, i == 1 ? 0.5 : -0.5, 0.5);
}

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  wShift = u_wWidthLog2; wMask = (1 << wShift) - 1;
  int cin4 = (u_inChannels + 3) >> 2;
  ivec2 coR = divmod(t, 16 * cin4 + 1);
  ivec2 xiC = divmod(coR.y, cin4);
  // The pitch's extra texel (xi = 16) reads taps of position 15 and is zeroed below.
  int xi = min(xiC.x, 15);
  vec3 gi = gRow(xi >> 2), gj = gRow(xi & 3);
  int base = coR.x * 9 * cin4 + xiC.y;
  // Row a of g·Gᵀ, then G·(g·Gᵀ).
#define ROW(a) (gj.x * fetchW(base + (3 * (a)) * cin4) + gj.y * fetchW(base + (3 * (a) + 1) * cin4) + gj.z * fetchW(base + (3 * (a) + 2) * cin4))
  vec4 u = gi.x * ROW(0) + gi.y * ROW(1) + gi.z * ROW(2);
  outColor = xiC.x < 16 ? u : vec4(0.0);
}
