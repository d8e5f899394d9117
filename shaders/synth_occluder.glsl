// synth_occluder — mask of each image's partial occluder (a rotated box or ellipse):
//   q = Rot(−angle)·(p − centre), p = (x + ½, y + ½) the pixel centre (origin top-left);
//   box: |q.x| ≤ hx and |q.y| ≤ hy;  ellipse: (q.x/hx)² + (q.y/hy)² ≤ 1;  mask = enabled ? inside : 0.
// Input Params [N, 8] = (enabled, shape 0 box / 1 ellipse, cx, cy, hx, hy, angle, unused), pixels.
// Output [N, H, W, 1], 1.0 inside, 0.0 outside (lanes .yzw 0). One fragment tests one pixel.
uniform sampler2D Params;
uniform int u_width;
uniform int u_height;

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  vec4 a = fetchTexel(Params, 2 * n);
  vec4 b = fetchTexel(Params, 2 * n + 1);
  if (a.x < 0.5) return vec4(0.0);
  vec2 d = vec2(float(x) + 0.5, float(y) + 0.5) - a.zw;
  float c = cos(b.z);
  float s = sin(b.z);
  vec2 q = vec2(c * d.x + s * d.y, -s * d.x + c * d.y);
  vec2 r = q / b.xy;
  bool inside = a.y < 0.5 ? (abs(r.x) <= 1.0 && abs(r.y) <= 1.0) : dot(r, r) <= 1.0;
  return vec4(inside ? 1.0 : 0.0, 0.0, 0.0, 0.0);
}
