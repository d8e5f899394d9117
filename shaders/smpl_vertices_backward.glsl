// smpl_vertices_backward — gradient w.r.t. the posed rest vertices (before skinning):
//   dv_posed[n, v] = (Σ_k w_vk · R(A_{j_vk}))ᵀ · dV[n, v]   (R(A) the 3×3 part of A).
// Inputs: GradVertices [N·V, 3], SkinJoints [V, K], SkinWeights [V, K], RestRemoved [N·J, 12].
// Output: VERTEX-MAJOR [V·N, 3] (row v·N + n), the layout smpl_blend_backward reads best (see
// smpl_blend). One fragment computes one vertex of one body.
uniform sampler2D GradVertices;
uniform sampler2D SkinJoints;
uniform sampler2D SkinWeights;
uniform sampler2D RestRemoved;
uniform int u_vertices;
uniform int u_bodies;
uniform int u_joints;
uniform int u_influences;

#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL(s, shift, t) texelFetch(s, ivec2((t) & ((1 << (shift)) - 1), (t) >> (shift)), 0)

vec4 kernel(int t) {
  // Power-of-two widths: mask-and-shift addressing, no per-read integer division (see smpl_blend).
  int skinShift = WIDTH_SHIFT(SkinJoints);
  int transformShift = WIDTH_SHIFT(RestRemoved);
  int v = t / u_bodies;
  int n = t - v * u_bodies;
  vec3 g = TEXEL(GradVertices, WIDTH_SHIFT(GradVertices), n * u_vertices + v).xyz;
  int k4Count = (u_influences + 3) / 4;
  vec3 d = vec3(0.0);
  // Four influences per step, unrolled and without branches (a zero-weight slot adds 0, see smpl_skin).
  for (int k4 = 0; k4 < k4Count; k4++) {
    vec4 js = TEXEL(SkinJoints, skinShift, v * k4Count + k4);
    vec4 ws = TEXEL(SkinWeights, skinShift, v * k4Count + k4);
    ivec4 a = 3 * (n * u_joints + ivec4(js));
    // Rᵀ·g = Σ_r g_r · row_r of each transform.
    d += ws.x * (g.x * TEXEL(RestRemoved, transformShift, a.x).xyz + g.y * TEXEL(RestRemoved, transformShift, a.x + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, a.x + 2).xyz);
    d += ws.y * (g.x * TEXEL(RestRemoved, transformShift, a.y).xyz + g.y * TEXEL(RestRemoved, transformShift, a.y + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, a.y + 2).xyz);
    d += ws.z * (g.x * TEXEL(RestRemoved, transformShift, a.z).xyz + g.y * TEXEL(RestRemoved, transformShift, a.z + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, a.z + 2).xyz);
    d += ws.w * (g.x * TEXEL(RestRemoved, transformShift, a.w).xyz + g.y * TEXEL(RestRemoved, transformShift, a.w + 1).xyz + g.z * TEXEL(RestRemoved, transformShift, a.w + 2).xyz);
  }
  return vec4(d, 0.0);
}
