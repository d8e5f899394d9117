// nearest_point_backward — gradient of nearest_point's squared distances with respect to the points:
//   dPoints[k, v] = Σ_{s ∈ targets of group(v), nearest(k, s) = v} DY[k, s] · 2·(Points[k, v] − q_s)
// Only a target's nearest point moves its distance; a point in no group gets 0.
// Points [K, V, 2]; Targets [S, 1] (x, y, group; sorted by group); Nearest [K, S, 2] (nearest_point's
// output: d², index); DY [K, S, 1]; PointGroup [V, 1] (x: the point's group, −1 for none);
// TargetSpans [G, 1] (x: first target of the group, y: its target count). Output [K, V, 2].
// One fragment computes one point's gradient, scanning its group's targets.
uniform sampler2D Points;
uniform sampler2D Targets;
uniform sampler2D Nearest;
uniform sampler2D DY;
uniform sampler2D PointGroup;
uniform sampler2D TargetSpans;
uniform int u_points;  // V
uniform int u_targets; // S

vec4 kernel(int t) {
  int k = t / u_points;
  int v = t - k * u_points;
  int group = int(fetchTexel(PointGroup, v).x);
  if (group < 0) return vec4(0.0);
  vec2 span = fetchTexel(TargetSpans, group).xy;
  int first = int(span.x);
  int count = int(span.y);
  vec2 p = fetchTexel(Points, t).xy;
  vec2 grad = vec2(0.0);
  for (int i = 0; i < count; i++) {
    int s = first + i;
    if (int(fetchTexel(Nearest, k * u_targets + s).y) == v) {
      grad += fetchTexel(DY, k * u_targets + s).x * 2.0 * (p - fetchTexel(Targets, s).xy);
    }
  }
  return vec4(grad, 0.0, 0.0);
}
