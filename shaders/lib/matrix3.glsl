// Shared helper (#include "lib/matrix3"): a 3×3 matrix stored row-major as 9 consecutive channels
// from texel `first` on: (m00 m01 m02 m10) (m11 m12 m20 m21) (m22 · · ·). GLSL's mat3 is
// column-major (m[col][row]), hence the transpose.
mat3 fetchMatrix3(sampler2D source, int first) {
  vec4 t0 = fetchTexel(source, first);
  vec4 t1 = fetchTexel(source, first + 1);
  vec4 t2 = fetchTexel(source, first + 2);
  return transpose(mat3(t0.xyz, vec3(t0.w, t1.xy), vec3(t1.zw, t2.x)));
}
