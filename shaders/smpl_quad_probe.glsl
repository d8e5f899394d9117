// smpl_quad_probe — checks, once per context, what smpl_quad_product relies on: fine derivatives
// (per pixel row for dFdx, per pixel column for dFdy) with dFdx = right − left and dFdy = upper − lower
// pixel row. llvmpipe computes them so; GLSL ES allows coarse ones (one difference per quad), and a
// GPU doing that would hand smpl_quad_product wrong neighbours, so kernels.ts checks this output
// against the expected neighbours before choosing that kernel.
// Input: X [texels, 1] (values). Output: [texels, 4]: (own, neighbour in x, neighbour in y, 0) where
// the neighbours are recovered as smpl_quad_product does (own ± derivative). One fragment per texel.
uniform sampler2D X;

vec4 kernel(int t) {
  ivec2 pixel = ivec2(gl_FragCoord.xy);
  float own = fetchTexel(X, t).x;
  float towardX = (pixel.x & 1) == 0 ? 1.0 : -1.0;
  float towardY = (pixel.y & 1) == 0 ? 1.0 : -1.0;
  return vec4(own, own + towardX * dFdx(own), own + towardY * dFdy(own), 0.0);
}
