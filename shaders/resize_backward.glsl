// resize_backward — gradient of resize_bilinear (KIND 0) or resize_nearest (KIND 1) with respect to
// the input, as a gather (no scatter): each input pixel sums the output gradients that sampled it,
//   dX[n, iy, ix, c] = Σ_{oy, ox} wy(oy, iy) · wx(ox, ix) · DY[n, oy, ox, c]
// with the forward pass's own per-axis weights (same integer maps A, B, D as the forward shaders):
//   bilinear  w(o, i) = (1 − f)·[lower(o) = i] + f·[upper(o) = i]
//   nearest   w(o, i) = [source(o) = i]
// The source coordinate is monotone in o, so only a short run of outputs (about out/in + 3) can touch
// input index i; the fragment walks that run per axis and tests each tap exactly.
// Input DY [N, OH, OW, C] (the forward output's gradient); output [N, H, W, C] (the forward input's
// shape); channel-packed, row = pixel. One fragment computes one texel: 4 channels of one input pixel.
#include "lib/divmod"

uniform sampler2D DY;
uniform ivec3 u_inSize;  // H, W, C of the forward input
uniform ivec2 u_outSize; // OH, OW of the forward output
uniform ivec3 u_mapY;    // A, B, D for rows
uniform ivec3 u_mapX;    // A, B, D for columns

// The forward weight of input index i in output index o along one axis.
float axisWeight(int o, int i, ivec3 map, int size) {
  int num = o * map.x + map.y;
#if KIND == 0
  ivec2 split = divmod(max(num, 0), map.z);
  int whole = split.x;
  int rem = split.y;
  int lower = min(whole, size - 1);
  int upper = min(whole + (rem > 0 ? 1 : 0), size - 1);
  float frac = float(rem) / float(map.z);
  return (lower == i ? 1.0 - frac : 0.0) + (upper == i ? frac : 0.0);
#else
  return min(num / map.z, size - 1) == i ? 1.0 : 0.0;
#endif
}

// Outputs [first, last] along one axis that can reach input index i (a superset; weights decide).
ivec2 outputRun(int i, ivec3 map, int inSize, int outSize) {
  if (map.x == 0) return ivec2(0, outSize - 1);
  int first = i == 0 ? 0 : divmod(max(0, (i - 1) * map.z - map.y), map.x).x - 1;
  int last = i == inSize - 1 ? outSize - 1 : divmod(max(0, (i + 1) * map.z - map.y), map.x).x + 1;
  return ivec2(max(first, 0), min(last, outSize - 1));
}

vec4 kernel(int t) {
  int channels = u_inSize.z;
  int texelsPerRow = (channels + 3) / 4;
  ivec4 pixel = nhwcTexel(t, texelsPerRow, u_inSize.x, u_inSize.y);
  int n = pixel.x, iy = pixel.y, ix = pixel.z, c4 = pixel.w;
  ivec2 runY = outputRun(iy, u_mapY, u_inSize.x, u_outSize.x);
  ivec2 runX = outputRun(ix, u_mapX, u_inSize.y, u_outSize.y);
  vec4 sum = vec4(0.0);
  for (int oy = runY.x; oy <= runY.y; oy++) {
    float wy = axisWeight(oy, iy, u_mapY, u_inSize.x);
    if (wy == 0.0) continue;
    for (int ox = runX.x; ox <= runX.y; ox++) {
      float wx = axisWeight(ox, ix, u_mapX, u_inSize.y);
      if (wx == 0.0) continue;
      sum += (wy * wx) * fetchTexel(DY, ((n * u_outSize.x + oy) * u_outSize.y + ox) * texelsPerRow + c4);
    }
  }
  return keepLanes(sum, c4, channels);
}
