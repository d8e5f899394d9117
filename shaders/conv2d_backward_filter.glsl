// conv2d_backward_filter — gradient of conv2d with respect to its HWIO filter:
//   dW[ky, kx, cig, co] = Σ_{n, oy, ox} X[n, iy, ix, g·CIg + cig] · DY[n, oy, ox, co]
//   iy = oy·sh + ky·dh − padTop, ix = ox·sw + kx·dw − padLeft (taps outside X add nothing),
//   g = co / COg the group of output channel co.
// Layouts (channel-packed, row = pixel): X [N, IH, IW, CI] (the forward input); DY [N, OH, OW, CO]
// (gradient of the forward output); out dW [KH, KW, CI/G, CO], one row per (ky, kx, cig).
// One fragment computes one texel of dW: 4 output channels co = 4·c4 … 4·c4+3 of one (ky, kx, cig),
// looping over every output pixel of the batch (one DY texel and one X element per pixel when the 4
// channels share a group — always without groups — else one X element per lane). Sums are blocked
// (256 terms) so float32 rounding stays small over long batches.
uniform sampler2D X;
uniform sampler2D DY;
uniform ivec3 u_inSize;         // IH, IW, CI
uniform ivec3 u_outSize;        // OH, OW, CO
uniform ivec2 u_kernel;         // KH, KW
uniform ivec2 u_strides;
uniform ivec2 u_dilations;
uniform ivec2 u_padStart;       // padTop, padLeft
uniform ivec2 u_groupChannels;  // CIg, COg
uniform int u_batch;

vec4 kernel(int t) {
  int CO = u_outSize.z;
  int coTexels = (CO + 3) / 4;
  int ciTexels = (u_inSize.z + 3) / 4;
  int row = t / coTexels;
  int c4 = t - row * coTexels;
  int cig = row % u_groupChannels.x;
  int tap = row / u_groupChannels.x;
  int kx = tap % u_kernel.y;
  int ky = tap / u_kernel.y;
  ivec4 co = ivec4(0, 1, 2, 3) + 4 * c4;
  ivec4 ci = (min(co, ivec4(CO - 1)) / u_groupChannels.y) * u_groupChannels.x + cig;
  bool oneGroup = ci.x == ci.w;
  vec4 total = vec4(0.0);
  vec4 block = vec4(0.0);
  int count = 0;
  for (int n = 0; n < u_batch; n++) {
    for (int oy = 0; oy < u_outSize.x; oy++) {
      int iy = oy * u_strides.x + ky * u_dilations.x - u_padStart.x;
      if (iy < 0 || iy >= u_inSize.x) continue;
      for (int ox = 0; ox < u_outSize.y; ox++) {
        int ix = ox * u_strides.y + kx * u_dilations.y - u_padStart.y;
        if (ix < 0 || ix >= u_inSize.y) continue;
        int inPixel = (n * u_inSize.x + iy) * u_inSize.y + ix;
        vec4 dy = fetchTexel(DY, ((n * u_outSize.x + oy) * u_outSize.y + ox) * coTexels + c4);
        vec4 x;
        if (oneGroup) {
          x = vec4(fetchElement(X, inPixel, ci.x, ciTexels));
        } else {
          x = vec4(fetchElement(X, inPixel, ci.x, ciTexels), fetchElement(X, inPixel, ci.y, ciTexels),
                   fetchElement(X, inPixel, ci.z, ciTexels), fetchElement(X, inPixel, ci.w, ciTexels));
        }
        block += x * dy;
        if (++count == 256) {
          total += block;
          block = vec4(0.0);
          count = 0;
        }
      }
    }
  }
  return keepLanes(total + block, c4, CO);
}
