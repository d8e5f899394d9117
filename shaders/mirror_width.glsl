// mirror_width — a left–right mirror of NHWC maps, the channels reordered on the way:
//   out[n, y, x, c] = X[n, y, W − 1 − x, order[c]]
// Why the reorder: a mirrored picture of a person shows the left limbs where the right ones were, so
// the channels that name a side (the segmenter's twin parts, the left/right joints' heatmaps) swap
// when the map is mirrored (src/kernels/mirror.ts: test-time mirroring of the segmenter).
// Layouts (channel-packed): X and out [N, H, W, C], texel ((n·H + y)·W + x)·C4 + c4, C4 = ⌈C/4⌉.
//   u_order: source channel of each output channel (C ≤ MAX_CHANNELS entries; later ones unused).
// One fragment computes one output texel: 4 channels of one pixel, one texel read when the 4 source
// channels are the 4 lanes of one texel in order (u_order is the identity there: the common case),
// else one read per lane. Lanes past C are written as 0.
#define MAX_CHANNELS 64
uniform sampler2D X;
uniform int u_width;
uniform int u_channels;
uniform int u_order[MAX_CHANNELS];

vec4 kernel(int t) {
  int texelsPerPixel = (u_channels + 3) / 4;
  int pixel = t / texelsPerPixel;
  int c4 = t - pixel * texelsPerPixel;
  int x = pixel % u_width;
  int source = pixel + (u_width - 1 - 2 * x);
  ivec4 channel = ivec4(4 * c4) + ivec4(0, 1, 2, 3);
  ivec4 from = ivec4(0);
  for (int lane = 0; lane < 4; lane++) from[lane] = channel[lane] < u_channels ? u_order[channel[lane]] : channel[lane];
  vec4 v;
  if (from == channel) {
    v = fetchTexel(X, source * texelsPerPixel + c4);
  } else {
    for (int lane = 0; lane < 4; lane++) v[lane] = channel[lane] < u_channels ? fetchElement(X, source, from[lane], texelsPerPixel) : 0.0;
  }
  return keepLanes(v, c4, u_channels);
}
