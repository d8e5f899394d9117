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

// Power-of-two widths: mask-and-shift addressing, no per-read integer division (see smpl_blend).
#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL(s, shift, t) texelFetch(s, ivec2((t) & ((1 << (shift)) - 1), (t) >> (shift)), 0)

vec4 kernel(int t) {
  int shift = WIDTH_SHIFT(X);
  int n = t / u_blockTexels;
  int i = t - n * u_blockTexels;
  int first = n * u_chunks * u_blockTexels + i;
  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  int c = 0;
  for (; c + 1 < u_chunks; c += 2) {
    acc += TEXEL(X, shift, first + c * u_blockTexels);
    acc2 += TEXEL(X, shift, first + (c + 1) * u_blockTexels);
  }
  if (c < u_chunks) acc += TEXEL(X, shift, first + c * u_blockTexels);
  return acc + acc2;
}
