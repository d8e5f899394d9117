// smpl_posed — v_posed from the blend product's 2×2 blocks:
//   v_posed[v, n, axis] = v_template[v, axis] + P[3v + axis, n],   P = D·cᵀ  (D = BlendDirs [V·3, Q],
//   c = Coefficients [N, Q]): smpl_quad_product (QUAD_LAYOUT 1) or the team's matmul (matmulBlocks,
//   QUAD_LAYOUT 0), A = D and Bt = c in both (already k-contiguous: no pack pass).
// Inputs: Blocks, block (rb, nb) = (P[2rb, 2nb], P[2rb, 2nb+1], P[2rb+1, 2nb], P[2rb+1, 2nb+1]) at
//   QUAD_LAYOUT 1: smpl_quad_product's quad layout (see there; M = 3V, one batch),
//   QUAD_LAYOUT 0: texel rb·⌈N/2⌉ + nb (matmul.glsl);
//   Template [V, 3].
// Output: v_posed VERTEX-MAJOR [V·N, 3] (row v·N + n; smpl_skin and smpl_skin_backward read it).
// One fragment computes one vertex of one body: rows 3v..3v+2 of P lie in blocks rb0 = ⌊3v/2⌋ and
// rb0 + 1 (two reads); lanes are picked by selects on the parities of v and n, not by branches.
uniform sampler2D Blocks;
uniform sampler2D Template;
uniform int u_bodies;  // N

vec4 fetchBlock(int rb, int nb) {
#if QUAD_LAYOUT
  int superColumns = (u_bodies + 3) >> 2;
  int s = (rb >> 1) * superColumns + (nb >> 1);
  int width = textureSize(Blocks, 0).x;
  int quadShift = log2PowerOfTwo(width) - 1;
  ivec2 pixel = 2 * ivec2(s & ((1 << quadShift) - 1), s >> quadShift) + ivec2(nb & 1, rb & 1);
  return textureLod(Blocks, (vec2(pixel) + 0.5) / vec2(textureSize(Blocks, 0)), 0.0);
#else
  return fetchTexel(Blocks, rb * ((u_bodies + 1) >> 1) + nb);
#endif
}

vec4 kernel(int t) {
  int v = t / u_bodies;
  int n = t - v * u_bodies;
  int rb0 = (3 * v) >> 1;
  int nb = n >> 1;
  vec4 first = fetchBlock(rb0, nb);
  vec4 second = fetchBlock(rb0 + 1, nb);
  // P rows 2rb0 .. 2rb0+3 for body n: lanes (x, z) of a block for even n, (y, w) for odd n.
  vec4 rows = mix(vec4(first.xz, second.xz), vec4(first.yw, second.yw), bvec4((n & 1) == 1));
  // 3v = 2rb0 for even v (rows 0..2 of the four), 2rb0 + 1 for odd v (rows 1..3).
  vec3 blend = mix(rows.xyz, rows.yzw, bvec3((v & 1) == 1));
  return vec4(fetchTexel(Template, v).xyz + blend, 0.0);
}
