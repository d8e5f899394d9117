// smpl_vertices_backward — gradient w.r.t. the posed rest vertices (before skinning):
//   dv_posed[n, v] = (Σ_k w_vk · R(A_{j_vk}))ᵀ · dV[n, v]   (R(A) the 3×3 part of A).
// Inputs: GradVertices [N·V, 3], SkinJoints [V, K], SkinWeights [V, K], RestRemoved [N·J, 12].
// Output: BODY-MAJOR [N·V, 3] (row n·V + v, as GradVertices), which smpl_blend_grad_pack repacks for
// the blend backward matmul. One fragment computes one vertex of one body.
uniform sampler2D GradVertices;
uniform sampler2D SkinJoints;
uniform sampler2D SkinWeights;
uniform sampler2D RestRemoved;
uniform int u_vertices;
uniform int u_bodies;
uniform int u_joints;
uniform int u_influences;

#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  // Power-of-two widths: mask-and-shift addressing, no per-read integer division; textureLod at texel
  // centres (NEAREST), which llvmpipe serves ~1.75× faster than texelFetch (docs/kernels/matmul.md).
  int skinShift = WIDTH_SHIFT(SkinJoints);
  int transformShift = WIDTH_SHIFT(RestRemoved);
  vec2 skinSize = TEXEL_SIZE(SkinJoints);
  vec2 transformSize = TEXEL_SIZE(RestRemoved);
  int n = t / u_vertices;
  int v = t - n * u_vertices;
  vec3 g = fetchTexel(GradVertices, t).xyz;
  int k4Count = (u_influences + 3) / 4;
  vec3 d = vec3(0.0);
  // Four influences per step, unrolled and without branches (a zero-weight slot adds 0, see smpl_skin).
  for (int k4 = 0; k4 < k4Count; k4++) {
    vec4 js = TEXEL(SkinJoints, skinShift, skinSize, v * k4Count + k4);
    vec4 ws = TEXEL(SkinWeights, skinShift, skinSize, v * k4Count + k4);
    ivec4 a = 3 * (n * u_joints + ivec4(js));
    // Rᵀ·g = Σ_r g_r · row_r of each transform.
    d += ws.x * (g.x * TEXEL(RestRemoved, transformShift, transformSize, a.x).xyz + g.y * TEXEL(RestRemoved, transformShift, transformSize, a.x + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, transformSize, a.x + 2).xyz);
    d += ws.y * (g.x * TEXEL(RestRemoved, transformShift, transformSize, a.y).xyz + g.y * TEXEL(RestRemoved, transformShift, transformSize, a.y + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, transformSize, a.y + 2).xyz);
    d += ws.z * (g.x * TEXEL(RestRemoved, transformShift, transformSize, a.z).xyz + g.y * TEXEL(RestRemoved, transformShift, transformSize, a.z + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, transformSize, a.z + 2).xyz);
    d += ws.w * (g.x * TEXEL(RestRemoved, transformShift, transformSize, a.w).xyz + g.y * TEXEL(RestRemoved, transformShift, transformSize, a.w + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, transformSize, a.w + 2).xyz);
  }
  return vec4(d, 0.0);
}
