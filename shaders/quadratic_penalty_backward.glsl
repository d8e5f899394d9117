// quadratic_penalty_backward — dE/dX of shaders/quadratic_penalty.glsl, times the arriving gradient:
//   dX = dy · (2a·x + 2b·(x − s) + 2c·(max(x − hi, 0) − max(lo − x, 0)))
// (the s term with HAS_START, the bounds term with HAS_BOUNDS; at a bound the excess is 0, and so is
// its derivative). Inputs X [rows, C]; S [rows, C] (HAS_START); LO, HI [1, C] (HAS_BOUNDS); DY [] (or
// any one-value tensor). Output dX [rows, C], channel-packed. One fragment computes one texel; lanes
// past C stay 0 (every input is 0 there).
uniform sampler2D X;
uniform sampler2D DY;
#if HAS_START
uniform sampler2D S;
#endif
#if HAS_BOUNDS
uniform sampler2D LO;
uniform sampler2D HI;
#endif
uniform int u_channels;
uniform float u_a;
uniform float u_b;
uniform float u_c;

vec4 kernel(int t) {
  int c4 = t % ((u_channels + 3) / 4); // the texel's place in its row (tiny tensors: % is cheap here)
  vec4 x = fetchTexel(X, t);
  vec4 g = 2.0 * u_a * x;
#if HAS_START
  g += 2.0 * u_b * (x - fetchTexel(S, t));
#endif
#if HAS_BOUNDS
  g += 2.0 * u_c * (max(x - fetchTexel(HI, c4), 0.0) - max(fetchTexel(LO, c4) - x, 0.0));
#endif
  return keepLanes(g * fetchTexel(DY, 0).x, c4, u_channels);
}
