// smpl_camera_backward — per body, the camera gradient:
//   PERSPECTIVE 1 (camera fx, fy, cx, cy): dfx = Σ_j du_j·X_j/Z_j, dfy = Σ_j dv_j·Y_j/Z_j,
//     dcx = Σ_j du_j, dcy = Σ_j dv_j;
//   PERSPECTIVE 0 (camera s, tx, ty): ds = Σ_j du_j·X_j + dv_j·Y_j, dtx = Σ_j du_j, dty = Σ_j dv_j;
// (The joints' share of the trans gradient, Σ_j dX_j, is a smpl_chunk_sum of smpl_project_backward's
// output.) Inputs: GradProjected [N·J, 2], Transforms, Trans, Camera. Output: the camera's shape,
// [N, 4] or [N, 3]; one fragment computes one body, looping over its J joints.
uniform sampler2D GradProjected;
uniform sampler2D Transforms;
uniform sampler2D Trans;
uniform sampler2D Camera;
uniform int u_joints;

vec4 kernel(int n) {
  vec3 trans = fetchTexel(Trans, n).xyz;
  vec4 camera = fetchTexel(Camera, n);
  vec4 cameraGrad = vec4(0.0);
  for (int j = 0; j < u_joints; j++) {
    int t = n * u_joints + j;
    vec3 x = vec3(fetchTexel(Transforms, 3 * t).w, fetchTexel(Transforms, 3 * t + 1).w, fetchTexel(Transforms, 3 * t + 2).w) + trans;
    vec2 g = fetchTexel(GradProjected, t).xy;
#if PERSPECTIVE
    cameraGrad += vec4(g * x.xy / x.z, g);
#else
    cameraGrad += vec4(dot(g, x.xy), g, 0.0);
#endif
  }
#if PERSPECTIVE
  return cameraGrad;
#else
  return vec4(cameraGrad.xyz, 0.0);
#endif
}
