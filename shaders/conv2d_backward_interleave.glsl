// conv2d_backward_interleave — assembles a stride-(sy, sx) conv2d's input gradient from its phases
// (src/autodiff/kernels/conv-backward.ts, conv2dBackwardInputByPhases): slot k (< PHASES ≤ 4) holds
// phase (py, px) = u_phase[k] (as py·sx + px), a tensor P_k [N, u_rows[k], u_cols[k], C], and
//   dX[n, sy·u + py, sx·v + px, c] = P_k[n, u + u_offY[k], v + u_offX[k], c].
// Pixels of phases in no slot come from BASE (HAS_BASE: the previous pass, when there are more than 4
// phases) or are 0 (phases without taps, e.g. 3 of 4 for a 1×1 stride-2 filter).
// Inputs P_k, BASE and output dX [N, H, W, C]: channel-packed (4 channels per RGBA texel, padding lanes
// 0), all with C channels, so texels copy whole. One fragment computes one output texel: it copies one
// texel of the slot holding its pixel's phase (or of BASE, or writes 0).
#if PHASES > 0
uniform sampler2D P0;
#endif
#if PHASES > 1
uniform sampler2D P1;
#endif
#if PHASES > 2
uniform sampler2D P2;
#endif
#if PHASES > 3
uniform sampler2D P3;
#endif
#if HAS_BASE
uniform sampler2D BASE;
#endif
uniform ivec2 u_outSize;  // H, W of dX
uniform int u_channels;   // C
uniform ivec2 u_strides;  // sy, sx
uniform int u_phase[4];   // py·sx + px of slot k; −1 for an unused slot
uniform int u_rows[4];    // rows of P_k
uniform int u_cols[4];    // columns of P_k
uniform int u_offY[4];    // row of P_k that holds phase row 0
uniform int u_offX[4];    // column of P_k that holds phase column 0

// Sampler arrays take only constant indices in GLSL ES 3.00, hence the branch chain.
vec4 fetchFrom(int k, int t) {
#if PHASES > 3
  if (k == 3) return fetchTexel(P3, t);
#endif
#if PHASES > 2
  if (k == 2) return fetchTexel(P2, t);
#endif
#if PHASES > 1
  if (k == 1) return fetchTexel(P1, t);
#endif
#if PHASES > 0
  return fetchTexel(P0, t);
#else
  return vec4(0.0);
#endif
}

vec4 kernel(int t) {
  int c4s = (u_channels + 3) / 4;
  int pixel = t / c4s;
  int c4 = t - pixel * c4s;
  int x = pixel % u_outSize.y;
  int rest = pixel / u_outSize.y;
  int y = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  int u = y / u_strides.x;
  int v = x / u_strides.y;
  int phase = (y - u * u_strides.x) * u_strides.y + (x - v * u_strides.y);
  for (int k = 0; k < PHASES; k++) {
    if (u_phase[k] == phase) {
      return fetchFrom(k, ((n * u_rows[k] + u + u_offY[k]) * u_cols[k] + v + u_offX[k]) * c4s + c4);
    }
  }
#if HAS_BASE
  return fetchTexel(BASE, t);
#else
  return vec4(0.0);
#endif
}
