// Shared helper (#include "lib/quadratic_penalty"): the inputs of quadratic_penalty.glsl and its
// backward, and the penalty's terms per texel, so that the value and its gradient read them alike.
// Declares X [rows, C], S [rows, C] (HAS_START), LO and HI [1, C] (HAS_BOUNDS), C and the weights a, b, c.
uniform sampler2D X;
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

// x of texel t (its place c4 in its row): a·x² + b·(x − s)² + c·(max(x − hi, 0)² + max(lo − x, 0)²)
// per lane (0 in lanes past C, where every input is 0), and with `derivative` d/dx of that instead.
vec4 penaltyTexel(vec4 x, int t, int c4, bool derivative) {
  vec4 e = derivative ? 2.0 * u_a * x : u_a * x * x;
#if HAS_START
  vec4 d = x - fetchTexel(S, t);
  e += derivative ? 2.0 * u_b * d : u_b * d * d;
#endif
#if HAS_BOUNDS
  vec4 over = max(x - fetchTexel(HI, c4), 0.0);
  vec4 under = max(fetchTexel(LO, c4) - x, 0.0);
  e += derivative ? 2.0 * u_c * (over - under) : u_c * (over * over + under * under);
#endif
  return e;
}
