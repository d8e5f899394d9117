// quadratic_penalty_backward — dE/dX of shaders/quadratic_penalty.glsl, times the arriving gradient:
//   dX = dy · (2a·x + 2b·(x − s) + 2c·(max(x − hi, 0) − max(lo − x, 0)))
// (the s term with HAS_START, the bounds term with HAS_BOUNDS; at a bound the excess is 0, and so is
// its derivative). Inputs (lib/quadratic_penalty) X [rows, C]; S [rows, C] (HAS_START); LO, HI [1, C]
// (HAS_BOUNDS); DY [] (or any one-value tensor). Output dX [rows, C], channel-packed. One fragment
// computes one texel; lanes past C stay 0 (every input is 0 there).
#include "lib/quadratic_penalty"

uniform sampler2D DY;

vec4 kernel(int t) {
  int c4 = t % ((u_channels + 3) / 4); // the texel's place in its row (tiny tensors: % is cheap here)
  return keepLanes(penaltyTexel(fetchTexel(X, t), t, c4, true) * fetchTexel(DY, 0).x, c4, u_channels);
}
