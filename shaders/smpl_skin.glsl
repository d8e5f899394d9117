// smpl_skin — linear blend skinning and the global translation, per vertex:
//   v_out[n, v] = Σ_k w_vk · A_{j_vk}[n] · [v_posed[n, v]; 1] + trans[n]
// Inputs: SkinJoints [V, K] (joint indices stored as floats, exact below 2^24), SkinWeights [V, K]
//   (0 in unused slots), RestRemoved [N·J, 12] (A_j of smpl_chain), Trans [N, 3], and v_posed:
//   POSED_FROM_BLOCKS 0: Posed [V·N, 3] (smpl_posed, vertex-major: row v·N + n);
//   POSED_FROM_BLOCKS 1: straight from the blend product's 2×2 blocks plus Template [V, 3], as
//     smpl_posed computes it (QUAD_LAYOUT as there) — the forward pass without keepForBackward then
//     skips smpl_posed's pass and its 220 k-texel write at N = 32 for two extra reads here.
// Output: vertices [N·V, 3]. One fragment computes one vertex.
uniform int u_vertices;
uniform int u_bodies;
uniform int u_joints;
uniform int u_influences;  // K

#if POSED_FROM_BLOCKS
uniform sampler2D Blocks;
uniform sampler2D Template;

// Block (rb, nb) of P = D·cᵀ: (P[2rb, 2nb], P[2rb, 2nb+1], P[2rb+1, 2nb], P[2rb+1, 2nb+1]); layouts as
// in smpl_quad_product (QUAD_LAYOUT 1) and matmul.glsl (QUAD_LAYOUT 0). Same code as smpl_posed.
vec4 fetchBlock(int rb, int nb) {
#if QUAD_LAYOUT
  int superColumns = (u_bodies + 3) >> 2;
  int s = (rb >> 1) * superColumns + (nb >> 1);
  int quadShift = log2PowerOfTwo(textureSize(Blocks, 0).x) - 1;
  ivec2 pixel = 2 * ivec2(s & ((1 << quadShift) - 1), s >> quadShift) + ivec2(nb & 1, rb & 1);
  return textureLod(Blocks, (vec2(pixel) + 0.5) / vec2(textureSize(Blocks, 0)), 0.0);
#else
  return fetchTexel(Blocks, rb * ((u_bodies + 1) >> 1) + nb);
#endif
}

vec3 posedVertex(int v, int n) {
  int rb0 = (3 * v) >> 1;
  vec4 first = fetchBlock(rb0, n >> 1);
  vec4 second = fetchBlock(rb0 + 1, n >> 1);
  vec4 rows = mix(vec4(first.xz, second.xz), vec4(first.yw, second.yw), bvec4((n & 1) == 1));
  return fetchTexel(Template, v).xyz + mix(rows.xyz, rows.yzw, bvec3((v & 1) == 1));
}
#else
uniform sampler2D Posed;

vec3 posedVertex(int v, int n) {
  return fetchTexel(Posed, v * u_bodies + n).xyz;
}
#endif

uniform sampler2D SkinJoints;
uniform sampler2D SkinWeights;
uniform sampler2D RestRemoved;
uniform sampler2D Trans;

#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
// textureLod at texel centres (NEAREST): llvmpipe serves it ~1.75× faster than texelFetch.
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  // Power-of-two widths: mask-and-shift addressing, shift and texel size computed once per fragment rather than per read.
  int skinShift = WIDTH_SHIFT(SkinJoints);
  vec2 skinSize = TEXEL_SIZE(SkinJoints);
  int transformShift = WIDTH_SHIFT(RestRemoved);
  vec2 transformSize = TEXEL_SIZE(RestRemoved);
  int n = t / u_vertices;
  int v = t - n * u_vertices;
  vec4 ph = vec4(posedVertex(v, n), 1.0);
  vec3 skinned = vec3(0.0);
  int k4Count = (u_influences + 3) / 4;
  int jointBase = n * u_joints;
  // Four influences per step, unrolled and without branches: a zero-weight slot (joint 0, weight 0)
  // adds 0·A_0·p, cheaper than a divergent branch in llvmpipe's SIMD lanes.
  for (int k4 = 0; k4 < k4Count; k4++) {
    vec4 js = TEXEL(SkinJoints, skinShift, skinSize, v * k4Count + k4);
    vec4 ws = TEXEL(SkinWeights, skinShift, skinSize, v * k4Count + k4);
    ivec4 a = 3 * (jointBase + ivec4(js));
    skinned += ws.x * vec3(dot(TEXEL(RestRemoved, transformShift, transformSize, a.x), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.x + 1), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.x + 2), ph));
    skinned += ws.y * vec3(dot(TEXEL(RestRemoved, transformShift, transformSize, a.y), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.y + 1), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.y + 2), ph));
    skinned += ws.z * vec3(dot(TEXEL(RestRemoved, transformShift, transformSize, a.z), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.z + 1), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.z + 2), ph));
    skinned += ws.w * vec3(dot(TEXEL(RestRemoved, transformShift, transformSize, a.w), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.w + 1), ph), dot(TEXEL(RestRemoved, transformShift, transformSize, a.w + 2), ph));
  }
  return vec4(skinned + fetchTexel(Trans, n).xyz, 0.0);
}
