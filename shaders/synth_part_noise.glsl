// synth_part_noise — corrupts 12-part label maps the way a segmenter errs (src/synth/part-noise.ts),
// per example, with integer hashes h(x, y, s) = hashUint(x' ^ hashUint(y' ^ hashUint(16·seed + s)))
// (x' = x + 2^20; u = (h >> 8) / 2^24 in [0, 1)), L = the input label at a pixel, in this order:
//   (a) boundary: hk = h(x div c, y div c, k) per cell; o = (h0 mod (2r+1) − r, h1 mod (2r+1) − r);
//       with q = L(clamp(p + o)) ≠ s = L(p): a = q if u2 < (s = 0 ? pGrow : q = 0 ? pShrink : pPart),
//       else a = s (r = 0: a = s);
//   (e) limb k (1 left arm {9, 3}, 2 right arm {4, 10}, 3 left leg {5, 11}, 4 right leg {6, 12}) → 0;
//   (c) a = dropPart (≥ 1) → dropTo;  (b) swap bit k of swapMask: 3↔10, 4↔9, 5↔6, 11↔12;
//   (d) blob k < count (≤ 3): h(k, f, s=5), f = 0..4: centre (h mod W, h mod H), radii
//       rx, ry = rMin + h mod (rMax − rMin + 1) (clamped to 1..180), label h mod 13; inside when
//       dx²·ry² + dy²·rx² ≤ rx²·ry² (uint, exact); later blobs win;
//   (f) hk = h(x, y, k) per pixel: if a 4-neighbour (in the image) has L ≠ L(p) and u3 < noiseRate,
//       label h4 mod 13.
// Inputs: Labels [N, H, W, 1] (exact integers 0..12); Params [N, 16] = (seed, r, c, pPart | pGrow,
// pShrink, noiseRate, swapMask | limb, dropPart, dropTo, blobCount | rMin, rMax, 0, 0).
// Output [N, H, W, 1], exact integers 0..12 (lanes .yzw 0). One fragment labels one pixel.
uniform sampler2D Labels;
uniform sampler2D Params;
uniform int u_width;
uniform int u_height;

#include "lib/lattice_hash"

const int SWAP_A[4] = int[4](3, 4, 5, 11);
const int SWAP_B[4] = int[4](10, 9, 6, 12);
const int LIMB_UPPER[4] = int[4](9, 4, 5, 6);
const int LIMB_LOWER[4] = int[4](3, 10, 11, 12);

uint pnHash(int x, int y, int seed, int stream) {
  return hashUint(uint(x + 1048576) ^ hashUint(uint(y + 1048576) ^ hashUint(uint(seed * 16 + stream))));
}

float pnUniform(int x, int y, int seed, int stream) {
  return float(pnHash(x, y, seed, stream) >> 8) / 16777216.0;
}

int labelAt(int n, int x, int y) {
  return int(fetchTexel(Labels, (n * u_height + y) * u_width + x).x + 0.5);
}

vec4 kernel(int t) {
  int x = t % u_width;
  int y = (t / u_width) % u_height;
  int n = t / (u_width * u_height);
  vec4 p0 = fetchTexel(Params, 4 * n);
  vec4 p1 = fetchTexel(Params, 4 * n + 1);
  vec4 p2 = fetchTexel(Params, 4 * n + 2);
  vec4 p3 = fetchTexel(Params, 4 * n + 3);
  int seed = int(p0.x);
  int r = int(p0.y);
  int s = labelAt(n, x, y);
  int a = s;
  // (a) boundary erosion / dilation: the cell's offset and decision.
  if (r > 0) {
    int c = max(int(p0.z), 1);
    int cx = x / c;
    int cy = y / c;
    uint span = uint(2 * r + 1);
    int qx = clamp(x + int(pnHash(cx, cy, seed, 0) % span) - r, 0, u_width - 1);
    int qy = clamp(y + int(pnHash(cx, cy, seed, 1) % span) - r, 0, u_height - 1);
    int q = labelAt(n, qx, qy);
    float threshold = s == 0 ? p1.x : (q == 0 ? p1.y : p0.w);
    if (q != s && pnUniform(cx, cy, seed, 2) < threshold) a = q;
  }
  // (e) missing limb, (c) dropped part, (b) left-right swaps.
  int limb = int(p2.x);
  if (limb >= 1 && limb <= 4 && (a == LIMB_UPPER[limb - 1] || a == LIMB_LOWER[limb - 1])) a = 0;
  int dropPart = int(p2.y);
  if (dropPart >= 1 && a == dropPart) a = int(p2.z);
  int swapMask = int(p1.w);
  for (int k = 0; k < 4; k++) {
    if (((swapMask >> k) & 1) == 0) continue;
    if (a == SWAP_A[k]) a = SWAP_B[k];
    else if (a == SWAP_B[k]) a = SWAP_A[k];
  }
  // (d) blobs.
  int count = int(p2.w);
  int rMin = clamp(int(p3.x), 1, 180);
  int rMax = clamp(int(p3.y), rMin, 180);
  uint rSpan = uint(rMax - rMin + 1);
  for (int k = 0; k < 3; k++) {
    if (k >= count) break;
    int dx = x - int(pnHash(k, 0, seed, 5) % uint(u_width));
    int dy = y - int(pnHash(k, 1, seed, 5) % uint(u_height));
    int rx = rMin + int(pnHash(k, 2, seed, 5) % rSpan);
    int ry = rMin + int(pnHash(k, 3, seed, 5) % rSpan);
    if (abs(dx) > rx || abs(dy) > ry) continue;
    uint ex = uint(abs(dx) * ry);
    uint ey = uint(abs(dy) * rx);
    uint rr = uint(rx * ry);
    if (ex * ex + ey * ey <= rr * rr) a = int(pnHash(k, 4, seed, 5) % 13u);
  }
  // (f) sparse label noise next to boundaries of the input map.
  bool edge = (x > 0 && labelAt(n, x - 1, y) != s) || (x < u_width - 1 && labelAt(n, x + 1, y) != s) ||
              (y > 0 && labelAt(n, x, y - 1) != s) || (y < u_height - 1 && labelAt(n, x, y + 1) != s);
  if (edge && pnUniform(x, y, seed, 3) < p1.z) a = int(pnHash(x, y, seed, 4) % 13u);
  return vec4(float(a), 0.0, 0.0, 0.0);
}
