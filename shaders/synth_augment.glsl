// synth_augment — photometric augmentations of a batch of RGB images, per example:
//   blur:   c = Σ w·I(x+dx, y+dy) / Σ w over a 5×5 window, w = exp(−(dx² + dy²) / 2σ²), edges clamped
//           to the image (σ < 0.05: no blur);
//   colour: c = (c − ½)·contrast + ½ + brightness;  c = grey + (c − grey)·saturation,
//           grey = 0.299 r + 0.587 g + 0.114 b;
//   noise:  c += std·(h1 + h2 + h3 − 1.5)·2 per channel (h uniform lattice hashes: mean 0, std 1);
//   out = clamp(c, 0, 1).
// Inputs: Image [N, H, W, 3] in [0, 1]; Params [N, 8] = (σ, noise std, brightness, contrast,
// saturation, noise seed, unused, unused). Output [N, H, W, 3] (lane .w 0). One fragment, one pixel.
uniform sampler2D Image;
uniform sampler2D Params;
uniform int u_width;
uniform int u_height;

#include "lib/lattice_hash"

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  vec4 a = fetchTexel(Params, 2 * n);
  vec4 b = fetchTexel(Params, 2 * n + 1);
  float sigma = a.x;
  vec3 c;
  if (sigma < 0.05) {
    c = fetchTexel(Image, t).xyz;
  } else {
    vec3 sum = vec3(0.0);
    float total = 0.0;
    int imageStart = n * u_width * u_height;
    for (int dy = -2; dy <= 2; dy++) {
      for (int dx = -2; dx <= 2; dx++) {
        float w = exp(-float(dx * dx + dy * dy) / (2.0 * sigma * sigma));
        int xx = clamp(x + dx, 0, u_width - 1);
        int yy = clamp(y + dy, 0, u_height - 1);
        sum += w * fetchTexel(Image, imageStart + yy * u_width + xx).xyz;
        total += w;
      }
    }
    c = sum / total;
  }
  c = (c - 0.5) * a.w + 0.5 + a.z;
  float grey = dot(c, vec3(0.299, 0.587, 0.114));
  c = grey + (c - grey) * b.x;
  int seed = int(b.y);
  for (int k = 0; k < 3; k++) {
    float h = latticeHash(x, y, seed + 3 * k) + latticeHash(x, y, seed + 3 * k + 1) + latticeHash(x, y, seed + 3 * k + 2);
    c[k] += a.y * (h - 1.5) * 2.0;
  }
  return vec4(clamp(c, 0.0, 1.0), 0.0);
}
