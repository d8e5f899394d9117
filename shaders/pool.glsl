// pool — 2D pooling over NHWC, window KH×KW, strides (sh, sw), padding (top, left) before each axis.
//   MODE 0 (avg): out[n,oy,ox,c] = Σ_{valid (ky,kx)} X[n, oy·sh − top + ky, ox·sw − left + kx, c] / count
//                 where count = number of window positions inside the input (padding not counted, TF).
//   MODE 1 (max): out = max over the same valid positions (padding ignored, never a 0 candidate).
//   MODE 2 (argmax): ky·KW + kx of the first maximum (row-major window order) among the valid
//                 positions, as a float (a window-local index, exact). A separate pass rather than a
//                 second render target: multiple draw buffers fail in headless-gl 9.0.0-rc.10.
// Input X: [N, H, W, C] channel-packed (row = pixel). Outputs: [N, OH, OW, C] channel-packed.
// One fragment computes one output texel: 4 channels of one output pixel, looping over the window.
// The index decode uses lib/divmod (float quotients under FLOAT_DIVMOD): with llvmpipe's scalar integer
// division it was most of the kernel's time on small windows (1×1: 3.3 ms against 1.0 for a ReLU).
#include "lib/divmod"

uniform sampler2D X;
uniform ivec3 u_inSize;    // H, W, C
uniform ivec2 u_outSize;   // OH, OW
uniform ivec2 u_strides;   // sh, sw
uniform ivec2 u_padStart;  // top, left

// Pools output texel t; argmax gets the window-local index of the max (MODE 1 and 2).
vec4 pool(int t, out vec4 argmax) {
  int channels = u_inSize.z;
  int texelsPerRow = (channels + 3) / 4;
  ivec4 pixel = nhwcTexel(t, texelsPerRow, u_outSize.x, u_outSize.y);
  int n = pixel.x, oy = pixel.y, ox = pixel.z, c4 = pixel.w;
  int y0 = oy * u_strides.x - u_padStart.x;
  int x0 = ox * u_strides.y - u_padStart.y;
  argmax = vec4(0.0);
#if MODE == 0
  vec4 sum = vec4(0.0);
#else
  vec4 best = vec4(0.0);  // replaced by the first valid position
  bool first = true;
#endif
  // A KH×KW loop of constant bounds (unrolled by the compiler) over positions clamped into the input;
  // positions outside it are read but not counted. Bounds clipped per fragment measured slower.
  int lastRow = u_inSize.x - 1;
  int lastColumn = u_inSize.y - 1;
  for (int ky = 0; ky < KH; ky++) {
    int y = y0 + ky;
    bool rowInside = y >= 0 && y <= lastRow;
    int pixelRow = (n * u_inSize.x + clamp(y, 0, lastRow)) * u_inSize.y;
    for (int kx = 0; kx < KW; kx++) {
      int x = x0 + kx;
      bool inside = rowInside && x >= 0 && x <= lastColumn;
      vec4 v = fetchTexel(X, (pixelRow + clamp(x, 0, lastColumn)) * texelsPerRow + c4);
#if MODE == 0
      sum += inside ? v : vec4(0.0);
#else
      // Strictly greater keeps the first maximum; the first valid position always wins so the
      // argmax points inside the input even when every value is -inf.
      bvec4 better = inside ? (first ? bvec4(true) : greaterThan(v, best)) : bvec4(false);
      best = mix(best, v, better);
      argmax = mix(argmax, vec4(float(ky * KW + kx)), better);
      first = first && !inside;
#endif
    }
  }
#if MODE == 0
  int rowsInside = min(y0 + KH, u_inSize.x) - max(y0, 0);
  int columnsInside = min(x0 + KW, u_inSize.y) - max(x0, 0);
  float count = float(rowsInside * columnsInside);
  return keepLanes(sum / count, c4, channels);
#else
  argmax = keepLanes(argmax, c4, channels);
  return keepLanes(best, c4, channels);
#endif
}

vec4 kernel(int t) {
  vec4 argmax;
  vec4 pooled = pool(t, argmax);
#if MODE == 2
  return argmax;
#else
  return pooled;
#endif
}
