// project_points_backward — gradient of project_points with respect to the 3D points:
//   dP[k, v] = (sx·gx / Z,  sy·gy / Z,  −(sx·gx·X + sy·gy·Y) / Z²)     g = DY[k, v]
// Points [K, V, 3]; DY [K, V, 2]. Output [K, V, 3]. One fragment computes one point's gradient.
uniform sampler2D Points;
uniform sampler2D DY;
uniform vec4 u_map; // sx, sy, ox, oy

vec4 kernel(int t) {
  vec3 p = fetchTexel(Points, t).xyz;
  vec2 g = u_map.xy * fetchTexel(DY, t).xy;
  return vec4(g / p.z, -dot(g, p.xy) / (p.z * p.z), 0.0);
}
