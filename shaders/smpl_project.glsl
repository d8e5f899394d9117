// smpl_project — posed joints and their projection, per joint:
//   X = t_j + trans  (t_j the translation of G_j),
//   PERSPECTIVE 1 (camera [N, 4] = fx, fy, cx, cy; x right, y down, z forward):
//     (u, v) = (fx·X/Z + cx, fy·Y/Z + cy)
//   PERSPECTIVE 0, weak perspective (camera [N, 3] = s, tx, ty): (u, v) = (s·X + tx, s·Y + ty).
// Inputs: Transforms G [N·J, 12] (smpl_chain), Trans [N, 3], Camera [N, 4] or [N, 3].
// Output: joints [N·J, 3], or joints2d [N·J, 2] when PROJECTED is 1 (two draws: multiple render
// targets fail in headless-gl 9.0.0-rc.10). One fragment computes one joint. No depth check here: a point at Z ≤ 0 gives inf or a mirrored
// image, as the maths says; the layer documents that trans must put the body in front of the camera.
uniform sampler2D Transforms;
uniform sampler2D Trans;
uniform sampler2D Camera;
uniform int u_joints;

vec4 kernel(int t) {
  int n = t / u_joints;
  vec3 x = vec3(fetchTexel(Transforms, 3 * t).w, fetchTexel(Transforms, 3 * t + 1).w, fetchTexel(Transforms, 3 * t + 2).w);
  x += fetchTexel(Trans, n).xyz;
#if PROJECTED
  vec4 camera = fetchTexel(Camera, n);
#if PERSPECTIVE
  vec2 uv = camera.xy * x.xy / x.z + camera.zw;
#else
  vec2 uv = camera.x * x.xy + camera.yz;
#endif
  return vec4(uv, 0.0, 0.0);
#else
  return vec4(x, 0.0);
#endif
}
