// smpl_project_backward — gradient w.r.t. each posed joint X = t_j + trans (smpl_project):
//   dX = dJoints + (∂(u, v)/∂X)ᵀ·dJoints2d, with
//   PERSPECTIVE 1: ∂u/∂X = (fx/Z, 0, −fx·X/Z²), ∂v/∂X = (0, fy/Z, −fy·Y/Z²);
//   PERSPECTIVE 0: ∂u/∂X = (s, 0, 0), ∂v/∂X = (0, s, 0).
// The same dX is the gradient w.r.t. t_j (consumed by smpl_chain_backward_global) and, summed over
// joints, part of the gradient w.r.t. trans (smpl_camera_backward).
// Inputs: GradJoints [N·J, 3], GradProjected [N·J, 2], Transforms G [N·J, 12], Trans [N, 3], Camera.
// Output: [N·J, 3]; one fragment computes one joint.
uniform sampler2D GradJoints;
uniform sampler2D GradProjected;
uniform sampler2D Transforms;
uniform sampler2D Trans;
uniform sampler2D Camera;
uniform int u_joints;

vec4 kernel(int t) {
  int n = t / u_joints;
  vec3 x = vec3(fetchTexel(Transforms, 3 * t).w, fetchTexel(Transforms, 3 * t + 1).w, fetchTexel(Transforms, 3 * t + 2).w);
  x += fetchTexel(Trans, n).xyz;
  vec4 camera = fetchTexel(Camera, n);
  vec2 g = fetchTexel(GradProjected, t).xy;
  vec3 d = fetchTexel(GradJoints, t).xyz;
#if PERSPECTIVE
  vec2 scaled = camera.xy * g / x.z;  // (fx·du/Z, fy·dv/Z)
  d += vec3(scaled, -dot(scaled, x.xy) / x.z);
#else
  d += vec3(camera.x * g, 0.0);
#endif
  return vec4(d, 0.0);
}
