// synth_person_occluder — where a second person drawn as an occluder shows (src/synth/shade.ts):
//   out = 1 if Other.x > 0.5 (the other body covers the pixel) and Occluder < 0.5 (no box occluder in
//         front of it) and (Main.x < 0.5 (no main body there) or Other.y < Main.y (the other is nearer)),
//   else 0. Those pixels show the other person and are background in every map of the main one.
// Inputs: Main, Other [N, H, W, 4] G-buffers (label code, depth Z, nx, ny; 0 for the background),
// Occluder [N, H, W, 1] the box / ellipse occluder mask (synth_occluder.glsl).
// Output [N, H, W, 1], 1.0 or 0.0 (lanes .yzw 0). One fragment tests one pixel.
uniform sampler2D Main;
uniform sampler2D Other;
uniform sampler2D Occluder;

vec4 kernel(int t) {
  vec4 body = fetchTexel(Main, t);
  vec4 other = fetchTexel(Other, t);
  bool shows = other.x > 0.5 && fetchTexel(Occluder, t).x < 0.5 && (body.x < 0.5 || other.y < body.y);
  return vec4(shows ? 1.0 : 0.0, 0.0, 0.0, 0.0);
}
