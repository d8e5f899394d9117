// smpl_blend_grad_sum — last stage of the gradient w.r.t. the blend coefficients c = [β | R − I]:
//   dc[n, q] = Σ_{chunk} P[chunk, q, n],   P[chunk] = Dᵀ_chunk · G_chunkᵀ
// written as 2×2 blocks by the blend backward product, A = the chunked transposed blend directions
// [chunks, Q, 3·vc] (GpuBodyModel.blendDirsByChunk), Bt = smpl_blend_grad_pack's [chunks, N, 3·vc]:
// smpl_quad_product (QUAD_LAYOUT 1) or the team's matmul (matmulBlocks, QUAD_LAYOUT 0).
// Input: Blocks, block (chunk, qb, nb) = (P[2qb, 2nb], P[2qb, 2nb+1], P[2qb+1, 2nb], P[2qb+1, 2nb+1]) at
//   QUAD_LAYOUT 1: smpl_quad_product's quad layout (M = Q, N bodies, batch = chunk),
//   QUAD_LAYOUT 0: texel (chunk·⌈Q/2⌉ + qb)·⌈N/2⌉ + nb (matmul.glsl).
// Output: [N, Q] channel-packed. One fragment computes one texel (coefficients 4q4..4q4+3 of body n):
//   per chunk two block reads (q pairs 2q4 and 2q4+1), lanes picked by n's parity. Lanes past Q are 0.
uniform sampler2D Blocks;
uniform int u_bodies;        // N
uniform int u_coefficients;  // Q
uniform int u_chunks;

ivec2 blocksShape;  // texture size of Blocks
vec2 blockTexelSize;

// Texel index (QUAD_LAYOUT 0) or pixel (QUAD_LAYOUT 1) of block (chunk, qb, nb), as texture coordinates.
vec2 blockCoord(int chunk, int qb, int nb) {
#if QUAD_LAYOUT
  int superRows = (u_coefficients + 3) >> 2;
  int superColumns = (u_bodies + 3) >> 2;
  int s = (chunk * superRows + (qb >> 1)) * superColumns + (nb >> 1);
  int quadShift = log2PowerOfTwo(blocksShape.x) - 1;
  ivec2 pixel = 2 * ivec2(s & ((1 << quadShift) - 1), s >> quadShift) + ivec2(nb & 1, qb & 1);
#else
  int t = (chunk * ((u_coefficients + 1) >> 1) + qb) * ((u_bodies + 1) >> 1) + nb;
  ivec2 pixel = ivec2(t & (blocksShape.x - 1), t >> log2PowerOfTwo(blocksShape.x));
#endif
  return (vec2(pixel) + 0.5) * blockTexelSize;
}

vec4 kernel(int t) {
  blocksShape = textureSize(Blocks, 0);
  blockTexelSize = 1.0 / vec2(blocksShape);
  int q4Count = (u_coefficients + 3) >> 2;
  int n = t / q4Count;
  int q4 = t - n * q4Count;
  int nb = n >> 1;
  // The second q pair may not exist (Q ≤ 4q4 + 2): clamp the read, keepLanes drops its lanes.
  int secondPair = min(2 * q4 + 1, ((u_coefficients + 1) >> 1) - 1);
  // Even bodies sit in the blocks' lanes (x, z), odd ones in (y, w): sum both, select once at the end.
  vec4 evenBodies = vec4(0.0);
  vec4 oddBodies = vec4(0.0);
  for (int c = 0; c < u_chunks; c++) {
    vec4 a = textureLod(Blocks, blockCoord(c, 2 * q4, nb), 0.0);
    vec4 b = textureLod(Blocks, blockCoord(c, secondPair, nb), 0.0);
    evenBodies += vec4(a.xz, b.xz);
    oddBodies += vec4(a.yw, b.yw);
  }
  return keepLanes(mix(evenBodies, oddBodies, bvec4((n & 1) == 1)), q4, u_coefficients);
}
