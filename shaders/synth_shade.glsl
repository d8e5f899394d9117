// synth_shade — RGB picture of a synthetic person from its G-buffer and surface buffer (src/synth/shade.ts):
//   occluded pixel:  mix(A, B, backdrop pattern of the occluder's own) · (0.8 + 0.4·valueNoise)
//                    (textured like a backdrop; pattern plain: the flat colour A)
//   body pixel:      base · (tint_a·ambient·(1 − hemisphere·n.y) + tint_l·diffuse·max(0, (n·l + wrap)/(1 + wrap)))
//                    (hemisphere ambient lit from image-up, −y; wrapped diffuse; both 0 give Lambert + ambient)
//   background:      backdrop pattern (gradient, noise, stripes, checks, blobs, plain) · (0.9 + 0.2·grain),
//                    grain = value noise of cells about 3 px wide (0.3·pixel coordinates);
//                    with PHOTO_BACKGROUND defined, examples whose Photo row is enabled show their photo
//                    crop instead: Background pixel as it is (synth_background.glsl)
// Everything on the body is placed by the pixel's rest-pose position r (Surface .xyz, the template
// surface point the rasteriser saw there) relative to the template's rest joints J (RestJoints), so
// textures and garment edges follow the body whatever its pose and view. Regions and their edge
// distance e (metres to the garment's edge, for seams):
//   ankles and feet: shoes; hands and neck: skin;
//   arm parts: top while b = |r.x| − |J_sh.x| − sleeve·(|J_wr.x| − |J_sh.x|) < 0 (e = −b), else skin;
//   torso, pelvis, legs: above the waist (w = r.y − J_pelvis.y − waist > 0) the top, but skin where
//     o = r.y − (J_neck.y + neckline + 4·r.x² − neckDip·max(0, 1 − |r.x|/0.08)·[r.z > J_neck.z]) > 0
//     (e = min(w, −o)); below it the bottom while h = r.y − J_hip.y − hem·(J_ankle.y − J_hip.y) > 0
//     (e = min(−w, h)), skin below the hem;
//   head: d = r − J_head, a = |atan2(d.x, d.z)| (0 at the face); hairline
//     L = mix(mix(front, side, smoothstep(0.6·F, F, a)), back, smoothstep(π/2, π, a))
//         + wave·(2·noise(3·d.xz/|d.xz| + 7) − 1)   (F: face opening half-angle);
//     hair where d.y > L: hair colour · (1 + strands·(2·noise3(d·(150, 18, 150)) − 1)); else skin with
//     face marks where d.z > 0.05 (front), blended by `face`: eye sockets skin·(1 − 0.18·exp(−ρ²)),
//     eyes (dark ellipses at (±0.032, 0.065)), brows (hair colour at (±0.034, 0.085)), a nose shadow
//     (0, 0.015) and the mouth (0, −0.01), in metres of (d.x, d.y) — the proportions of a head whose
//     joint sits at the skull's base.
//   Garment texture at limb-aligned rest coordinates q (metres): q = r − J_pelvis on torso and legs,
//   q = (±(r.y − J_sh.y), |J_sh.x| − |r.x|, r.z − J_sh.z) on the arms (an arm hanging down reads like
//   a leg), c = q·frequency, (s, t) = c.xy turned by the garment angle: stripes [fract(s) < duty],
//   checks (⌊s⌋ + ⌊t⌋ + ⌊c.z⌋) mod 2, plaid ½([fract(s) < duty] + [fract(t + ¼) < duty]), noise 3D fbm;
//   colour mix(A, B, value) · (1 + wrinkle·(2·noise3(q·(9, 24, 9)) − 1))
//          · (1 − seamDark·(1 − smoothstep(½·seamWidth, seamWidth, e)))   (a darker line at the edge);
//   skin · (1 + skinNoise·(2·noise3(35·r) − 1)).
// Noise comes from integer hashes (exactly reproducible on the CPU, synth.ref.ts), smoothed as value noise.
// With OTHER_PERSON defined, a second person drawn as an occluder: where PersonMask is 1 the pixel is
// shaded from OtherGBuffer / OtherSurface with appearance row N + n (its own look), as a body pixel.
// Inputs: GBuffer [N, H, W, 4] (code, Z, nx, ny), Surface [N, H, W, 4] (rest x, y, z, 1), Occluder
// [N, H, W, 1] mask, Appearance [N, 80] (offsets in src/synth/appearance.ts; [2N, 80] with
// OTHER_PERSON), RestJoints [24, 3] (the template's joints, metres); with PHOTO_BACKGROUND also
// Background [N, H, W, 3] and Photo [N, 8] (column 0: enabled; backgrounds.ts); with OTHER_PERSON
// also OtherGBuffer, OtherSurface [N, H, W, 4] and PersonMask [N, H, W, 1] (synth_person_occluder.glsl).
// Output [N, H, W, 3] in [0, 1] (lane .w 0). One fragment shades one pixel.
uniform sampler2D GBuffer;
uniform sampler2D Surface;
uniform sampler2D Occluder;
uniform sampler2D Appearance;
uniform sampler2D RestJoints;
#ifdef PHOTO_BACKGROUND
uniform sampler2D Background;
uniform sampler2D Photo;
#endif
#ifdef OTHER_PERSON
uniform sampler2D OtherGBuffer;
uniform sampler2D OtherSurface;
uniform sampler2D PersonMask;
uniform int u_batch;
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
// The same in 3D (trilinear blend of the 8 lattice corners, smoothstep weights).
float valueNoise3(vec3 p, int seed) {
  vec3 i = floor(p);
  vec3 f = p - i;
  vec3 w = f * f * (3.0 - 2.0 * f);
  int ix = int(i.x);
  int iy = int(i.y);
  int iz = int(i.z);
  float a = latticeHash3(ix, iy, iz, seed);
  float b = latticeHash3(ix + 1, iy, iz, seed);
  float c = latticeHash3(ix, iy + 1, iz, seed);
  float d = latticeHash3(ix + 1, iy + 1, iz, seed);
  float e = latticeHash3(ix, iy, iz + 1, seed);
  float g = latticeHash3(ix + 1, iy, iz + 1, seed);
  float h = latticeHash3(ix, iy + 1, iz + 1, seed);
  float k = latticeHash3(ix + 1, iy + 1, iz + 1, seed);
  float near = mix(mix(a, b, w.x), mix(c, d, w.x), w.y);
  float far = mix(mix(e, g, w.x), mix(h, k, w.x), w.y);
  return near + (far - near) * w.z;
}
float fbm3(vec3 p, int seed) {
  return 0.5 * valueNoise3(p, seed) + 0.3 * valueNoise3(2.0 * p, seed + 1) + 0.2 * valueNoise3(4.0 * p, seed + 2);
}
// Backdrop pattern value in [0, 1] at image coordinates q (already scaled to cycles) of a pattern code.
float patternValue(int pattern, vec2 q, float angle, int seed) {
  vec2 dir = vec2(cos(angle), sin(angle));
  vec2 r = vec2(dot(q, dir), dot(q, vec2(-dir.y, dir.x)));
  float noise = fbm(q, seed);   // once: llvmpipe executes every branch
  if (pattern == 1) return noise;
  if (pattern == 2) return fract(r.x) < 0.5 ? 0.0 : 1.0;
  if (pattern == 3) return mod(floor(r.x) + floor(r.y), 2.0);
  if (pattern == 4) return smoothstep(0.45, 0.55, noise);
  if (pattern == 5) return clamp(r.x + 0.5, 0.0, 1.0);
  return 0.0;
}
// Garment pattern value in [0, 1] at limb-aligned rest coordinates q (metres).
float garmentPattern(int pattern, vec3 q, float frequency, float angle, float duty, int seed) {
  vec3 c = q * frequency;
  vec2 dir = vec2(sin(angle), cos(angle));
  float s = dot(c.xy, dir);
  float t = dot(c.xy, vec2(dir.y, -dir.x));
  float noise = fbm3(c, seed);
  if (pattern == 1) return noise;
  if (pattern == 2) return fract(s) < duty ? 1.0 : 0.0;
  if (pattern == 3) return mod(floor(s) + floor(t) + floor(c.z), 2.0);
  if (pattern == 6) return 0.5 * ((fract(s) < duty ? 1.0 : 0.0) + (fract(t + 0.25) < duty ? 1.0 : 0.0));
  return 0.0;
}
float param(int n, int k) {
  return fetchElement(Appearance, n, k, 20);
}
vec3 param3(int n, int k) {
  return vec3(param(n, k), param(n, k + 1), param(n, k + 2));
}
vec3 restJoint(int j) {
  return fetchTexel(RestJoints, j).xyz;
}

// Region of a body pixel (0 skin, 1 top, 2 bottom, 3 shoes, 4 head) and, for garments, the distance
// `edge` (metres of the rest surface) to the garment's edge.
int bodyRegion(int n, int part, vec3 r, out float edge) {
  edge = 1.0;
  bool left = r.x > 0.0;   // the subject's left is +X in the rest pose
  if (part == 15) return 4;
  if (part == 7 || part == 8 || part == 10 || part == 11) return 3;
  if (part >= 16 && part <= 21) {
    vec3 shoulder = restJoint(left ? 16 : 17);
    vec3 wrist = restJoint(left ? 20 : 21);
    float beyond = abs(r.x) - abs(shoulder.x) - param(n, 12) * (abs(wrist.x) - abs(shoulder.x));
    edge = -beyond;
    return beyond < 0.0 ? 1 : 0;
  }
  if (part == 12 || part >= 22) return 0;
  vec3 pelvis = restJoint(0);
  float waist = r.y - pelvis.y - param(n, 48);
  if (waist > 0.0) {
    vec3 neck = restJoint(12);
    float dip = r.z > neck.z ? param(n, 50) * max(0.0, 1.0 - abs(r.x) / 0.08) : 0.0;
    float open = r.y - (neck.y + param(n, 49) + 4.0 * r.x * r.x - dip);
    edge = min(waist, -open);
    return open > 0.0 ? 0 : 1;
  }
  float hip = restJoint(left ? 1 : 2).y;
  float ankle = restJoint(left ? 7 : 8).y;
  float hem = r.y - hip - param(n, 13) * (ankle - hip);
  edge = min(-waist, hem);
  return hem > 0.0 ? 2 : 0;
}

// Height of the hairline above the head joint at head-relative rest position d.
float hairline(int n, vec3 d, int seed) {
  float around = length(d.xz);
  float a = around > 1e-6 ? abs(atan(d.x, d.z)) : 0.0;
  float opening = param(n, 57);
  float line = mix(param(n, 11), param(n, 55), smoothstep(0.6 * opening, opening, a));
  line = mix(line, param(n, 56), smoothstep(1.5707963, 3.1415927, a));
  vec2 ring = around > 1e-6 ? d.xz / around : vec2(0.0, 1.0);
  return line + param(n, 58) * (2.0 * valueNoise(3.0 * ring + 7.0, seed + 11) - 1.0);
}

// Inside the ellipse of centre c and half-axes h (metres of (d.x, d.y))?
bool inEllipse(vec2 p, vec2 c, vec2 h) {
  vec2 u = (p - c) / h;
  return dot(u, u) < 1.0;
}

// Skin of the face with its marks (eyes, brows, nose shadow, mouth) at head-relative position d.
vec3 faceMarks(vec3 skin, vec3 hair, vec3 d, float strength) {
  if (strength <= 0.0 || d.z <= 0.05) return skin;
  vec2 p = vec2(abs(d.x), d.y);
  vec2 socket = (p - vec2(0.032, 0.063)) / vec2(0.02, 0.014);
  vec3 c = skin * (1.0 - 0.18 * strength * exp(-dot(socket, socket)));
  if (inEllipse(p, vec2(0.032, 0.065), vec2(0.012, 0.0055))) return mix(c, vec3(0.1, 0.08, 0.07), strength);
  if (inEllipse(p, vec2(0.034, 0.085), vec2(0.02, 0.0045))) return mix(c, 0.8 * hair, strength);
  if (inEllipse(p, vec2(0.0, 0.015), vec2(0.011, 0.005))) return mix(c, 0.7 * skin, strength);
  if (inEllipse(p, vec2(0.0, -0.01), vec2(0.022, 0.0045))) return mix(c, skin * vec3(0.75, 0.5, 0.5), strength);
  return c;
}

// llvmpipe runs a fragment shader on a block of pixels with execution masks: every branch costs
// every pixel. So the occluder and the backdrop share one pattern and one grain evaluation, and the
// body one 3D noise (cloth wrinkles, hair strands or skin blotches, whichever the pixel shows).
vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int image = t / (u_width * u_height);
  int n = image;   // appearance row
  vec4 g = fetchTexel(GBuffer, t);
  vec3 r = fetchTexel(Surface, t).xyz;
#ifdef OTHER_PERSON
  if (fetchTexel(PersonMask, t).x > 0.5) {
    n = u_batch + image;
    g = fetchTexel(OtherGBuffer, t);
    r = fetchTexel(OtherSurface, t).xyz;
  }
#endif
  int seed = int(param(n, 44));
  vec2 uv = vec2((float(x) + 0.5) / float(u_width), (float(y) + 0.5) / float(u_height));
  bool occluded = fetchTexel(Occluder, t).x > 0.5;
#ifdef PHOTO_BACKGROUND
  if (!occluded && g.x < 0.5 && fetchTexel(Photo, 2 * image).x > 0.5) return vec4(fetchTexel(Background, t).xyz, 0.0);
#endif
  vec3 rgb;
  if (occluded || g.x < 0.5) {
    float v = patternValue(int(param(n, occluded ? 75 : 41)), uv * param(n, occluded ? 76 : 42), param(n, occluded ? 77 : 43), seed + (occluded ? 13 : 3));
    float grain = valueNoise(occluded ? uv * 23.0 : 0.3 * vec2(float(x), float(y)), seed + (occluded ? 9 : 5));
    rgb = mix(param3(n, occluded ? 45 : 35), param3(n, occluded ? 72 : 38), v) * (occluded ? 0.8 + 0.4 * grain : 0.9 + 0.2 * grain);
  } else {
    int part = (int(g.x + 0.5) - 1) & 31;
    float edge;
    int region = bodyRegion(n, part, r, edge);
    bool garment = region == 1 || region == 2;
    vec3 q = r - restJoint(0);
    if (part >= 16) {
      vec3 shoulder = restJoint(r.x > 0.0 ? 16 : 17);
      q = vec3((r.x > 0.0 ? 1.0 : -1.0) * (r.y - shoulder.y), abs(shoulder.x) - abs(r.x), r.z - shoulder.z);
    }
    vec3 d = r - restJoint(15);
    bool hair = region == 4 && d.y > hairline(n, d, seed);
    float noise = 2.0 * valueNoise3(garment ? q * vec3(9.0, 24.0, 9.0) : hair ? d * vec3(150.0, 18.0, 150.0) : 35.0 * r, seed + (garment ? 7 : hair ? 12 : 8)) - 1.0;
    vec3 skin = param3(n, 5) * (1.0 + param(n, 54) * noise);
    vec3 base;
    if (garment) {
      int k = region == 1 ? 14 : 23;
      float v = garmentPattern(int(param(n, k + 6)), q, param(n, k + 7), param(n, k + 8), param(n, region == 1 ? 51 : 52), seed + 10 * region);
      float seam = 1.0 - param(n, 60) * (1.0 - smoothstep(0.5 * param(n, 61), param(n, 61), edge));
      base = mix(param3(n, k), param3(n, k + 3), v) * (1.0 + param(n, 53) * noise) * seam;
    } else if (region == 3) {
      base = param3(n, 32);
    } else if (hair) {
      base = param3(n, 8) * (1.0 + param(n, 59) * noise);
    } else if (region == 4) {
      base = faceMarks(skin, param3(n, 8), d, param(n, 70));
    } else {
      base = skin;
    }
    vec3 normal = vec3(g.z, g.w, -sqrt(max(0.0, 1.0 - g.z * g.z - g.w * g.w)));
    float wrap = param(n, 62);
    float diffuse = max(0.0, (dot(normal, param3(n, 0)) + wrap) / (1.0 + wrap));
    float ambient = 1.0 - param(n, 63) * normal.y;
    rgb = base * (param3(n, 67) * (param(n, 3) * ambient) + param3(n, 64) * (param(n, 4) * diffuse));
  }
  return vec4(clamp(rgb, 0.0, 1.0), 0.0);
}
