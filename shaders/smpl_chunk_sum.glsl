// smpl_chunk_sum — second stage of the split reductions of the backward pass:
//   out[n, i] = Σ_{c < u_chunks} X[(n·u_chunks + c)·u_blockTexels + i],   i < u_blockTexels (texels).
// X holds, per body n, u_chunks consecutive blocks of u_blockTexels texels (partial sums over chunks
// of vertices); the output holds one block per body, in X's channel layout. With one "body" this sums
// chunk-major partials ([chunks, N, ...] → [N, ...]); with blocks of one row it sums a per-vertex
// gradient over all vertices. One fragment computes one output texel. Lanes past C are 0 in every
// block, so the sums keep them 0.
uniform sampler2D X;
uniform int u_chunks;
uniform int u_blockTexels;

// Power-of-two widths: mask-and-shift addressing, shift and texel size computed once per fragment rather than per read.
#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
// textureLod at texel centres (NEAREST): llvmpipe serves it ~1.75× faster than texelFetch.
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  int shift = WIDTH_SHIFT(X);
  vec2 size = TEXEL_SIZE(X);
  int n = t / u_blockTexels;
  int i = t - n * u_blockTexels;
  int first = n * u_chunks * u_blockTexels + i;
  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  int c = 0;
  for (; c + 1 < u_chunks; c += 2) {
    acc += TEXEL(X, shift, size, first + c * u_blockTexels);
    acc2 += TEXEL(X, shift, size, first + (c + 1) * u_blockTexels);
  }
  if (c < u_chunks) acc += TEXEL(X, shift, size, first + c * u_blockTexels);
  return acc + acc2;
}
