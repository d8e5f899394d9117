// smpl_blend_grad_pack — the posed-vertex gradient as the k-contiguous operand of the blend backward
// matmul (src/smpl/gpu/kernels.ts blendBackward):
//   out[c, n, k] = dv_posed[n, c·u_chunkVertices + ⌊k/3⌋, k mod 3]   (0 past the last vertex),
//   k < 3·u_chunkVertices, so each chunk row holds its vertices' x, y, z back to back, 4 per texel.
// Input: GradPosed [N·V, 3] (body-major, smpl_vertices_backward; one vertex per texel, lane 3 = 0).
// Output: [chunks·N, 3·u_chunkVertices] (u_chunkVertices is a multiple of 4, so rows fill whole
//   texels and no lane is padding). One fragment computes one texel: its 4 values come from two
//   neighbouring vertices (the window starts at axis 4k4 mod 3 of the first), picked by selects.
uniform sampler2D GradPosed;
uniform int u_vertices;       // V
uniform int u_bodies;         // N
uniform int u_chunkVertices;  // vertices per chunk, a multiple of 4

vec4 kernel(int t) {
  int rowTexels = (3 * u_chunkVertices) >> 2;
  int row = t / rowTexels;          // c·N + n
  int k4 = t - row * rowTexels;
  int c = row / u_bodies;
  int n = row - c * u_bodies;
  int k = 4 * k4;
  int local = k / 3;
  int axis = k - 3 * local;
  int v = c * u_chunkVertices + local;
  // Reads past the last vertex land in another body or outside the tensor (pooled texture memory,
  // NaN in tests): selects, not multiplications, turn them into 0.
  vec3 first = mix(vec3(0.0), fetchTexel(GradPosed, n * u_vertices + v).xyz, bvec3(v < u_vertices));
  vec3 second = mix(vec3(0.0), fetchTexel(GradPosed, n * u_vertices + v + 1).xyz, bvec3(v + 1 < u_vertices));
  vec4 window0 = vec4(first, second.x);
  vec4 window1 = vec4(first.yz, second.xy);
  vec4 window2 = vec4(first.z, second);
  return mix(mix(window0, window1, bvec4(axis == 1)), window2, bvec4(axis == 2));
}
