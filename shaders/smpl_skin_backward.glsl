// smpl_skin_backward — first stage of dL/dA_j (A_j the 3×4 skinning transforms):
//   partial[c, n, j, r, :] = Σ_{(v, w) in chunk c of joint j's list} w · dV[n, v, r] · [v_posed[v, n]; 1]
// Joint j's list holds the (vertex, weight) pairs of the vertices it influences (built once at upload,
// GpuBodyModel.jointInfluences), cut into u_chunks chunks of u_chunkSize pairs, padded with weight 0.
// So each fragment touches only vertices that matter (about V·K/J per joint) instead of testing all V.
// smpl_chunk_sum then adds the chunks.
// Inputs: GradVertices [N·V, 3], Posed [V·N, 3] (vertex-major, smpl_posed), JointInfluences
//   [J·chunks·chunkSize, 2] (vertex index as float, weight). Output: CHUNK-MAJOR [chunks·N·J, 12]
//   (texel r = row r of the 3×4 gradient). One fragment computes one texel (c, n, j, r).
uniform sampler2D GradVertices;
uniform sampler2D Posed;
uniform sampler2D JointInfluences;
uniform int u_vertices;
uniform int u_bodies;
uniform int u_joints;
uniform int u_chunkSize;  // pairs per chunk
uniform int u_chunks;     // chunks per joint

// Power-of-two widths: mask-and-shift addressing, shift and texel size computed once per fragment rather than per read.
#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
// textureLod at texel centres (NEAREST): llvmpipe serves it ~1.75× faster than texelFetch.
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  int gradShift = WIDTH_SHIFT(GradVertices);
  vec2 gradSize = TEXEL_SIZE(GradVertices);
  int posedShift = WIDTH_SHIFT(Posed);
  vec2 posedSize = TEXEL_SIZE(Posed);
  int listShift = WIDTH_SHIFT(JointInfluences);
  vec2 listSize = TEXEL_SIZE(JointInfluences);
  int row = t / 3;
  int r = t - row * 3;
  int j = row % u_joints;
  int rest = row / u_joints;  // c·N + n
  int c = rest / u_bodies;
  int n = rest - c * u_bodies;
  int first = (j * u_chunks + c) * u_chunkSize;
  vec4 acc = vec4(0.0);
  for (int e = first; e < first + u_chunkSize; e++) {
    vec2 pair = TEXEL(JointInfluences, listShift, listSize, e).xy;
    if (pair.y == 0.0) break;  // padding: the rest of the chunk is empty
    int v = int(pair.x);
    float g = TEXEL(GradVertices, gradShift, gradSize, n * u_vertices + v)[r];
    acc += (pair.y * g) * vec4(TEXEL(Posed, posedShift, posedSize, v * u_bodies + n).xyz, 1.0);
  }
  return acc;
}
