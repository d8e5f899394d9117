// synth_shade — RGB picture of a synthetic person from its G-buffer (src/synth/shade.ts):
//   occluded pixel:  occluder colour · (0.8 + 0.4·valueNoise)
//   body pixel:      base(region, texture) · (ambient + diffuse·max(0, n·l))      (Lambert + ambient)
//   background:      backdrop pattern (gradient, noise, stripes, checks, blobs, plain) · (0.9 + 0.2·grain),
//                    grain = value noise of cells about 3 px wide (0.3·pixel coordinates);
//                    with PHOTO_BACKGROUND defined, examples whose Photo row is enabled show their photo
//                    crop instead: Background pixel as it is (synth_background.glsl)
// Regions by skinning part (shaders and docs/synth.md agree): skin, top (torso; arms by sleeve length),
// bottom (pelvis, thighs; shins with trousers), shoes (ankles, feet), head (hair above the hairline
// along the neck→head axis, skin below). Garment textures are functions of the camera-frame position
// relative to the pelvis, P − pelvis, with P = ((x + ½ − cx)·Z/fx, (y + ½ − cy)·Z/fy, Z). Noise comes
// from an integer hash (exactly reproducible on the CPU, synth.ref.ts), smoothed as value noise.
// Inputs: GBuffer [N, H, W, 4] (code, Z, nx, ny), Occluder [N, H, W, 1] mask, Appearance [N, 48]
// (offsets in src/synth/appearance.ts), Joints [N, 24, 3] camera frame, Camera [N, 4] (fx, fy, cx, cy);
// with PHOTO_BACKGROUND also Background [N, H, W, 3] and Photo [N, 8] (column 0: enabled; backgrounds.ts).
// Output [N, H, W, 3] in [0, 1] (lane .w 0). One fragment shades one pixel.
uniform sampler2D GBuffer;
uniform sampler2D Occluder;
uniform sampler2D Appearance;
uniform sampler2D Joints;
uniform sampler2D Camera;
#ifdef PHOTO_BACKGROUND
uniform sampler2D Background;
uniform sampler2D Photo;
#endif
uniform int u_width;
uniform int u_height;

#include "lib/lattice_hash"

// Value noise in [0, 1): smoothstep-interpolated lattice hashes.
float valueNoise(vec2 p, int seed) {
  vec2 i = floor(p);
  vec2 f = p - i;
  vec2 w = f * f * (3.0 - 2.0 * f);
  int ix = int(i.x);
  int iy = int(i.y);
  float a = latticeHash(ix, iy, seed);
  float b = latticeHash(ix + 1, iy, seed);
  float c = latticeHash(ix, iy + 1, seed);
  float d = latticeHash(ix + 1, iy + 1, seed);
  float top = a + (b - a) * w.x;
  float bottom = c + (d - c) * w.x;
  return top + (bottom - top) * w.y;
}
float fbm(vec2 p, int seed) {
  return 0.5 * valueNoise(p, seed) + 0.3 * valueNoise(2.0 * p, seed + 1) + 0.2 * valueNoise(4.0 * p, seed + 2);
}
// Pattern value in [0, 1] at texture coordinates q (already scaled to cycles) of a pattern code.
float patternValue(int pattern, vec2 q, float angle, int seed) {
  vec2 dir = vec2(cos(angle), sin(angle));
  vec2 r = vec2(dot(q, dir), dot(q, vec2(-dir.y, dir.x)));
  if (pattern == 1) return fbm(q, seed);
  if (pattern == 2) return fract(r.x) < 0.5 ? 0.0 : 1.0;
  if (pattern == 3) return mod(floor(r.x) + floor(r.y), 2.0);
  if (pattern == 4) return smoothstep(0.45, 0.55, fbm(q, seed));
  if (pattern == 5) return clamp(r.x + 0.5, 0.0, 1.0);
  return 0.0;
}
float param(int n, int k) {
  return fetchElement(Appearance, n, k, 12);
}
vec3 param3(int n, int k) {
  return vec3(param(n, k), param(n, k + 1), param(n, k + 2));
}
vec3 joint(int n, int j) {
  return fetchTexel(Joints, n * 24 + j).xyz;
}

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  int seed = int(param(n, 44));
  vec2 uv = vec2((float(x) + 0.5) / float(u_width), (float(y) + 0.5) / float(u_height));
  vec4 g = fetchTexel(GBuffer, t);
  vec3 rgb;
  if (fetchTexel(Occluder, t).x > 0.5) {
    rgb = param3(n, 45) * (0.8 + 0.4 * valueNoise(uv * 23.0, seed + 9));
  } else if (g.x < 0.5) {
#ifdef PHOTO_BACKGROUND
    if (fetchTexel(Photo, 2 * n).x > 0.5) return vec4(fetchTexel(Background, t).xyz, 0.0);
#endif
    float freq = param(n, 42);
    float v = patternValue(int(param(n, 41)), uv * freq, param(n, 43), seed + 3);
    rgb = mix(param3(n, 35), param3(n, 38), v) * (0.9 + 0.2 * valueNoise(0.3 * vec2(float(x), float(y)), seed + 5));
  } else {
    int part = (int(g.x + 0.5) - 1) & 31;
    vec4 camera = fetchTexel(Camera, n);
    float z = g.y;
    vec3 p = vec3((float(x) + 0.5 - camera.z) * z / camera.x, (float(y) + 0.5 - camera.w) * z / camera.y, z);
    vec3 local = p - joint(n, 0);
    int sleeves = int(param(n, 12) + 0.5);
    bool trousers = param(n, 13) > 0.5;
    // 0 skin, 1 top, 2 bottom, 3 shoes, 4 head
    int region = 0;
    if (part == 0 || part == 1 || part == 2) region = 2;
    else if (part == 3 || part == 6 || part == 9 || part == 13 || part == 14) region = 1;
    else if (part == 4 || part == 5) region = trousers ? 2 : 0;
    else if (part == 7 || part == 8 || part == 10 || part == 11) region = 3;
    else if (part == 15) region = 4;
    else if (part == 16 || part == 17) region = sleeves >= 1 ? 1 : 0;
    else if (part == 18 || part == 19) region = sleeves >= 2 ? 1 : 0;
    vec3 base;
    if (region == 1 || region == 2) {
      int k = region == 1 ? 14 : 23;
      float v = patternValue(int(param(n, k + 6)), local.xy * param(n, k + 7), param(n, k + 8), seed + 10 * region);
      base = mix(param3(n, k), param3(n, k + 3), v);
    } else if (region == 3) {
      base = param3(n, 32);
    } else if (region == 4) {
      vec3 head = joint(n, 15);
      vec3 axis = normalize(head - joint(n, 12));
      base = dot(p - head, axis) > param(n, 11) ? param3(n, 8) : param3(n, 5);
    } else {
      base = param3(n, 5);
    }
    vec3 normal = vec3(g.z, g.w, -sqrt(max(0.0, 1.0 - g.z * g.z - g.w * g.w)));
    float lambert = max(0.0, dot(normal, param3(n, 0)));
    rgb = base * (param(n, 3) + param(n, 4) * lambert);
  }
  return vec4(clamp(rgb, 0.0, 1.0), 0.0);
}
