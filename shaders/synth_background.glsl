// synth_background — photo backgrounds: per example, a crop of one photo tile of the atlas, resampled
// bilinearly onto the image (src/synth/shade.ts photoBackgrounds; parameters: src/synth/backgrounds.ts):
//   k = 2·half / max(W, H)  tile pixels per image pixel (the crop spans 2·half along the longer side)
//   s = (cx + f·(x + ½ − W/2)·k,  cy + (y + ½ − H/2)·k)   f = flip (±1), s in tile pixels
//   out = clamp(brightness · bilinear(tile, s), 0, 1)
// bilinear: tile texel centres at integer + ½, the four neighbours clamped to the tile's edge.
// Inputs: Atlas [M, T, T, 3] in [0, 1] (M tiles, T = u_tile); Params [N, 8] = (enabled, photo, cx, cy,
// half, flip, brightness, unused). Output [N, H, W, 3] (lane .w 0); examples with enabled < 0.5 are 0
// (synth_shade draws their procedural backdrop). One fragment, one pixel.
uniform sampler2D Atlas;
uniform sampler2D Params;
uniform int u_width;
uniform int u_height;
uniform int u_tile;

vec3 tileTexel(int photo, int x, int y) {
  int last = u_tile - 1;
  return fetchTexel(Atlas, (photo * u_tile + clamp(y, 0, last)) * u_tile + clamp(x, 0, last)).xyz;
}

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  vec4 p0 = fetchTexel(Params, 2 * n);
  vec4 p1 = fetchTexel(Params, 2 * n + 1);
  if (p0.x < 0.5) return vec4(0.0);
  int photo = int(p0.y + 0.5);
  float k = 2.0 * p1.x / float(max(u_width, u_height));
  vec2 s = vec2(p0.z + p1.y * (float(x) + 0.5 - 0.5 * float(u_width)) * k, p0.w + (float(y) + 0.5 - 0.5 * float(u_height)) * k);
  vec2 f = s - 0.5;
  vec2 i = floor(f);
  vec2 w = f - i;
  int ix = int(i.x);
  int iy = int(i.y);
  vec3 top = mix(tileTexel(photo, ix, iy), tileTexel(photo, ix + 1, iy), w.x);
  vec3 bottom = mix(tileTexel(photo, ix, iy + 1), tileTexel(photo, ix + 1, iy + 1), w.x);
  return vec4(clamp(p1.z * mix(top, bottom, w.y), 0.0, 1.0), 0.0);
}
