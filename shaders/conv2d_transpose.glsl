// conv2d_transpose — the gradient of conv2d with respect to its input (TF conv2d_transpose), as a
// gather: every output pixel collects the input pixels whose forward window touched it. No scatter.
//   out[n, y, x, co] = act( bias[co] + Σ_{ky, kx} Σ_{ci ∈ group(co)} X[n, iy, ix, ci] · W[ky, kx, co − g·COg, ci] )
//   iy = (y + padTop − ky·dh) / sh, ix = (x + padLeft − kx·dw) / sw; a tap counts only when the
//   division is exact and 0 ≤ iy < IH, 0 ≤ ix < IW (the forward conv read out[y, x] through that tap).
//   g = co / COg is the group of output channel co; group g reads input channels [g·CIg, (g+1)·CIg).
// Layouts (channel-packed, row = pixel):
//   X    [N, IH, IW, CI]   — the forward conv's output (its gradient, in autodiff)
//   W    [KH, KW, CO/G, CI] — the forward conv's HWIO filter, unchanged (TF conv2d_transpose's
//                            [KH, KW, outC, inC]); a row of W is one (ky, kx, co), its texels hold 4 ci
//   Bias [CO] (HAS_BIAS);  out [N, OH, OW, CO] — the forward conv's input shape
// One fragment computes one output texel: 4 output channels co = 4·c4 … 4·c4+3 of one output pixel.
// Ungrouped, per valid tap and per 4 input channels: 1 texel of X and the 4 W texels of the 4 output
// channels' rows, 16 multiply-adds as 4 dot products. GROUPED == 2 (depthwise with multiplier 1,
// groups = CI = CO): co reads only ci = co, so per tap one X texel times one W texel (row = tap).
// GROUPED == 1 (other groups) reads single elements, since a group's channel range need not start on
// a texel boundary. Texture widths are powers of two, so
// texel coordinates in the inner loop are a mask and a shift (integer division is slow on llvmpipe).
uniform sampler2D X;
uniform sampler2D W;
#if HAS_BIAS
uniform sampler2D Bias;
#endif
uniform ivec3 u_inSize;         // IH, IW, CI
uniform ivec3 u_outSize;        // OH, OW, CO
uniform ivec2 u_kernel;         // KH, KW
uniform ivec2 u_strides;        // sh, sw
uniform ivec2 u_dilations;      // dh, dw
uniform ivec2 u_padStart;       // padTop, padLeft of the forward conv
uniform ivec2 u_groupChannels;  // CIg = CI/G, COg = CO/G
uniform float u_activationAlpha;
uniform int u_xWidthLog2;       // log2 of X's texture width
uniform int u_wWidthLog2;       // log2 of W's texture width

// textureLod at texel centres: on llvmpipe (via ANGLE) about 1.75× cheaper per read than texelFetch.
vec2 xTexelSize;
vec2 wTexelSize;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & ((1 << u_xWidthLog2) - 1), t >> u_xWidthLog2) + 0.5) * xTexelSize, 0.0); }
vec4 fetchW(int t) { return textureLod(W, (vec2(t & ((1 << u_wWidthLog2) - 1), t >> u_wWidthLog2) + 0.5) * wTexelSize, 0.0); }
float lane(vec4 v, int i) { return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w; }

vec4 kernel(int t) {
  xTexelSize = 1.0 / vec2(textureSize(X, 0));
  wTexelSize = 1.0 / vec2(textureSize(W, 0));
  int outChannels = u_outSize.z;
  int outTexelsPerRow = (outChannels + 3) / 4;
  int inTexelsPerRow = (u_inSize.z + 3) / 4;
  int row = t / outTexelsPerRow;
  int c4 = t - row * outTexelsPerRow;
  int ox = row % u_outSize.y;
  int rest = row / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  vec4 acc = vec4(0.0);
#if GROUPED == 0
  // Lanes past CO read the last real row (never memory past the tensor); keepLanes zeroes them.
  ivec4 laneChannel = min(ivec4(0, 1, 2, 3) + 4 * c4, ivec4(outChannels - 1));
#endif
  for (int ky = 0; ky < u_kernel.x; ky++) {
    int ny = oy + u_padStart.x - ky * u_dilations.x;
    if (ny < 0) break;  // ny only decreases with ky
    int iy = ny / u_strides.x;
    if (iy * u_strides.x != ny || iy >= u_inSize.x) continue;
    for (int kx = 0; kx < u_kernel.y; kx++) {
      int nx = ox + u_padStart.y - kx * u_dilations.y;
      if (nx < 0) break;
      int ix = nx / u_strides.y;
      if (ix * u_strides.y != nx || ix >= u_inSize.y) continue;
      int pixel = (n * u_inSize.x + iy) * u_inSize.y + ix;
      int tap = ky * u_kernel.y + kx;
#if GROUPED == 2
      acc += fetchX(pixel * inTexelsPerRow + c4) * fetchW(tap * inTexelsPerRow + c4);
#elif GROUPED == 1
      for (int j = 0; j < 4; j++) {
        int co = 4 * c4 + j;
        if (co >= outChannels) break;
        int g = co / u_groupChannels.y;
        int wRow = tap * u_groupChannels.y + (co - g * u_groupChannels.y);
        float sum = 0.0;
        for (int ci = g * u_groupChannels.x; ci < (g + 1) * u_groupChannels.x; ci++) {
          sum += lane(fetchX(pixel * inTexelsPerRow + (ci >> 2)), ci & 3) * lane(fetchW(wRow * inTexelsPerRow + (ci >> 2)), ci & 3);
        }
        acc[j] += sum;
      }
#else
      int xBase = pixel * inTexelsPerRow;
      ivec4 wBase = (tap * outChannels + laneChannel) * inTexelsPerRow;
      for (int ci4 = 0; ci4 < inTexelsPerRow; ci4++) {
        vec4 xv = fetchX(xBase + ci4);
        acc += vec4(dot(xv, fetchW(wBase.x + ci4)), dot(xv, fetchW(wBase.y + ci4)),
                    dot(xv, fetchW(wBase.z + ci4)), dot(xv, fetchW(wBase.w + ci4)));
      }
#endif
    }
  }
#if HAS_BIAS
  acc += fetchTexel(Bias, c4);
#endif
  acc = ACTIVATE(acc);
  return keepLanes(acc, c4, outChannels);
}
