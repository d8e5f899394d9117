// nearest_point — for each target point, the squared distance to the nearest moving point of its group:
//   out[k, s] = (min_{v ∈ group(s)} |Points[k, v] − q_s|², argmin v)
// (ties: the first member in Members order; an empty group gives (0, −1)). The refinement uses it as
// the pixels → vertices half of a per-part chamfer distance: every sampled pixel of a body part should
// have a projected vertex of that part nearby (src/pipeline/refine.ts).
// Points [K, V, 2] (one texel per point: x, y); Targets [S, 1] (one texel per target: x, y, group);
// Members [M, 1] (x: a point index; the groups' members one group after another);
// Groups [G, 1] (x: first member, y: member count). Output [K, S, 2]: (d², nearest index as a float).
// One fragment computes one target of one batch entry, scanning its group's members.
uniform sampler2D Points;
uniform sampler2D Targets;
uniform sampler2D Members;
uniform sampler2D Groups;
uniform int u_points;  // V
uniform int u_targets; // S

vec4 kernel(int t) {
  int k = t / u_targets;
  int s = t - k * u_targets;
  vec3 target = fetchTexel(Targets, s).xyz;
  vec2 span = fetchTexel(Groups, int(target.z)).xy;
  int first = int(span.x);
  int count = int(span.y);
  float best = 3.0e38;
  float bestIndex = -1.0;
  for (int i = 0; i < count; i++) {
    float v = fetchTexel(Members, first + i).x;
    vec2 d = fetchTexel(Points, k * u_points + int(v)).xy - target.xy;
    float d2 = dot(d, d);
    if (d2 < best) {
      best = d2;
      bestIndex = v;
    }
  }
  return count > 0 ? vec4(best, bestIndex, 0.0, 0.0) : vec4(0.0, -1.0, 0.0, 0.0);
}
