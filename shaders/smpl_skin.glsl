// smpl_skin — linear blend skinning and the global translation, per vertex:
//   v_out[n, v] = Σ_k w_vk · A_{j_vk}[n] · [v_posed[n, v]; 1] + trans[n]
// Inputs: Posed [V·N, 3] (smpl_blend, vertex-major: row v·N + n), SkinJoints [V, K] (joint indices stored as floats, exact below
//   2^24), SkinWeights [V, K] (0 in unused slots), RestRemoved [N·J, 12] (A_j of smpl_chain), Trans [N, 3].
// Output: vertices [N·V, 3]. One fragment computes one vertex.
uniform sampler2D Posed;
uniform sampler2D SkinJoints;
uniform sampler2D SkinWeights;
uniform sampler2D RestRemoved;
uniform sampler2D Trans;
uniform int u_vertices;
uniform int u_bodies;
uniform int u_joints;
uniform int u_influences;  // K

#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL(s, shift, t) texelFetch(s, ivec2((t) & ((1 << (shift)) - 1), (t) >> (shift)), 0)

vec4 kernel(int t) {
  // Power-of-two widths: mask-and-shift addressing, no per-read integer division (see smpl_blend).
  int skinShift = WIDTH_SHIFT(SkinJoints);
  int transformShift = WIDTH_SHIFT(RestRemoved);
  int n = t / u_vertices;
  int v = t - n * u_vertices;
  vec4 ph = vec4(fetchTexel(Posed, v * u_bodies + n).xyz, 1.0);
  vec3 skinned = vec3(0.0);
  int k4Count = (u_influences + 3) / 4;
  int jointBase = n * u_joints;
  // Four influences per step, unrolled and without branches: a zero-weight slot (joint 0, weight 0)
  // adds 0·A_0·p, cheaper than a divergent branch in llvmpipe's SIMD lanes.
  for (int k4 = 0; k4 < k4Count; k4++) {
    vec4 js = TEXEL(SkinJoints, skinShift, v * k4Count + k4);
    vec4 ws = TEXEL(SkinWeights, skinShift, v * k4Count + k4);
    ivec4 a = 3 * (jointBase + ivec4(js));
    skinned += ws.x * vec3(dot(TEXEL(RestRemoved, transformShift, a.x), ph), dot(TEXEL(RestRemoved, transformShift, a.x + 1), ph), dot(TEXEL(RestRemoved, transformShift, a.x + 2), ph));
    skinned += ws.y * vec3(dot(TEXEL(RestRemoved, transformShift, a.y), ph), dot(TEXEL(RestRemoved, transformShift, a.y + 1), ph), dot(TEXEL(RestRemoved, transformShift, a.y + 2), ph));
    skinned += ws.z * vec3(dot(TEXEL(RestRemoved, transformShift, a.z), ph), dot(TEXEL(RestRemoved, transformShift, a.z + 1), ph), dot(TEXEL(RestRemoved, transformShift, a.z + 2), ph));
    skinned += ws.w * vec3(dot(TEXEL(RestRemoved, transformShift, a.w), ph), dot(TEXEL(RestRemoved, transformShift, a.w + 1), ph), dot(TEXEL(RestRemoved, transformShift, a.w + 2), ph));
  }
  return vec4(skinned + fetchTexel(Trans, n).xyz, 0.0);
}
