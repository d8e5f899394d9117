// smpl_blend — shape and pose blend shapes, per vertex, as one matrix–vector product:
//   v_posed[n, v] = v_template[v] + D[v]·c[n],  D = [shapedirs | posedirs] (rows v·3 + axis),
//   c = [β | R − I] (smpl_coefficients).
// Inputs: Coefficients [N, Q], BlendDirs [V·3, Q], Template [V, 3].
// Output: v_posed VERTEX-MAJOR, [V·N, 3] (row v·N + n), unlike the body-major [N, V, 3] of the final
// vertices: neighbouring fragments then share a vertex, so llvmpipe's 64×64 tiles read each vertex's
// 3·Q/4 direction texels from cache for all N bodies instead of streaming D (18 MB at SMPL's size)
// from memory once per body.
// One fragment computes one vertex of one body: Q/4 steps, each one coefficient texel against three
// direction texels (the x, y, z rows of D), 12 multiply-adds per 4 texel reads. Two accumulators
// give llvmpipe two independent dependency chains.
uniform sampler2D Coefficients;
uniform sampler2D BlendDirs;
uniform sampler2D Template;
uniform int u_bodies;        // N
uniform int u_coefficients;  // Q

// Texture widths are powers of two (runtime/layout.ts), so texel coordinates are a mask and a shift
// computed once per fragment: the prelude's fetchTexel divides by the width per read, and llvmpipe
// has no vector integer division.
// Reads are textureLod at texel centres (NEAREST filtering), which llvmpipe serves faster than texelFetch.
#define WIDTH_SHIFT(s) int(log2(float(textureSize(s, 0).x)) + 0.5)
#define TEXEL_SIZE(s) (1.0 / vec2(textureSize(s, 0)))
#define TEXEL(s, shift, size, t) textureLod(s, (vec2((t) & ((1 << (shift)) - 1), (t) >> (shift)) + 0.5) * (size), 0.0)

vec4 kernel(int t) {
  int dirShift = WIDTH_SHIFT(BlendDirs);
  int coefShift = WIDTH_SHIFT(Coefficients);
  vec2 dirSize = TEXEL_SIZE(BlendDirs);
  vec2 coefSize = TEXEL_SIZE(Coefficients);
  int v = t / u_bodies;
  int n = t - v * u_bodies;
  int q4Count = (u_coefficients + 3) / 4;
  int dirRow = 3 * v * q4Count;
  int coefRow = n * q4Count;
  vec3 p = fetchTexel(Template, v).xyz;
  vec3 acc2 = vec3(0.0);
  int q4 = 0;
  for (; q4 + 1 < q4Count; q4 += 2) {
    vec4 c0 = TEXEL(Coefficients, coefShift, coefSize, coefRow + q4);
    vec4 c1 = TEXEL(Coefficients, coefShift, coefSize, coefRow + q4 + 1);
    p.x += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4));
    p.y += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4Count + q4));
    p.z += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + 2 * q4Count + q4));
    acc2.x += dot(c1, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4 + 1));
    acc2.y += dot(c1, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4Count + q4 + 1));
    acc2.z += dot(c1, TEXEL(BlendDirs, dirShift, dirSize, dirRow + 2 * q4Count + q4 + 1));
  }
  if (q4 < q4Count) {
    vec4 c0 = TEXEL(Coefficients, coefShift, coefSize, coefRow + q4);
    p.x += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4));
    p.y += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + q4Count + q4));
    p.z += dot(c0, TEXEL(BlendDirs, dirShift, dirSize, dirRow + 2 * q4Count + q4));
  }
  return vec4(p + acc2, 0.0);
}
