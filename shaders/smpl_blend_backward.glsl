// smpl_blend_backward — first stage of the gradient w.r.t. the blend coefficients c = [β | R − I]:
//   partial[chunk, n, q] = Σ_{v in chunk} Σ_axis D[v·3 + axis, q] · dv_posed[v, n, axis]
// (D = [shapedirs | posedirs], as in smpl_blend); smpl_chunk_sum then adds the chunks.
// Inputs: GradPosed [V·N, 3] (vertex-major, smpl_vertices_backward), BlendDirs [V·3, Q].
// Output: CHUNK-MAJOR [chunks·N, Q] (row chunk·N + n): neighbouring fragments of a 64×64 tile then
//   work on the same chunk for all bodies and share its direction texels in cache.
// One fragment computes one texel (4 coefficients) of one chunk and body: per vertex one gradient
//   texel and three direction texels, 12 multiply-adds.
uniform sampler2D GradPosed;
uniform sampler2D BlendDirs;
uniform int u_vertices;
uniform int u_bodies;
uniform int u_coefficients;  // Q
uniform int u_chunkSize;

// Power-of-two widths: mask-and-shift addressing, no per-read integer division; textureLod at texel
// centres (NEAREST), which llvmpipe serves faster than texelFetch (see smpl_blend).
#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  int gradShift = WIDTH_SHIFT(GradPosed);
  int dirShift = WIDTH_SHIFT(BlendDirs);
  vec2 gradSize = TEXEL_SIZE(GradPosed);
  vec2 dirSize = TEXEL_SIZE(BlendDirs);
  int q4Count = (u_coefficients + 3) / 4;
  int chunkRow = t / q4Count;
  int q4 = t - chunkRow * q4Count;
  int c = chunkRow / u_bodies;
  int n = chunkRow - c * u_bodies;
  int first = c * u_chunkSize;
  int last = min(first + u_chunkSize, u_vertices);
  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  int g = first * u_bodies + n;       // gradient texel of vertex v: v·N + n
  int row = 3 * first * q4Count + q4; // direction texel of (v, x): (3v)·Q4 + q4
  int v = first;
  // Two vertices per iteration: two independent accumulators for llvmpipe's SIMD pipelines.
  for (; v + 1 < last; v += 2) {
    vec3 g0 = TEXEL(GradPosed, gradShift, gradSize, g).xyz;
    vec3 g1 = TEXEL(GradPosed, gradShift, gradSize, g + u_bodies).xyz;
    acc += g0.x * TEXEL(BlendDirs, dirShift, dirSize, row) + g0.y * TEXEL(BlendDirs, dirShift, dirSize, row + q4Count)
         + g0.z * TEXEL(BlendDirs, dirShift, dirSize, row + 2 * q4Count);
    acc2 += g1.x * TEXEL(BlendDirs, dirShift, dirSize, row + 3 * q4Count) + g1.y * TEXEL(BlendDirs, dirShift, dirSize, row + 4 * q4Count)
          + g1.z * TEXEL(BlendDirs, dirShift, dirSize, row + 5 * q4Count);
    g += 2 * u_bodies;
    row += 6 * q4Count;
  }
  if (v < last) {
    vec3 g0 = TEXEL(GradPosed, gradShift, gradSize, g).xyz;
    acc += g0.x * TEXEL(BlendDirs, dirShift, dirSize, row) + g0.y * TEXEL(BlendDirs, dirShift, dirSize, row + q4Count)
         + g0.z * TEXEL(BlendDirs, dirShift, dirSize, row + 2 * q4Count);
  }
  return acc + acc2;
}
