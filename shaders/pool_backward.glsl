// pool_backward — gradients of avgPool and maxPool with respect to their input, as a gather: every
// input pixel collects the output gradients of the windows that contain it. No scatter.
//   Windows containing input row y: oy ∈ [⌈(y + top − KH + 1) / sh⌉, ⌊(y + top) / sh⌋] ∩ [0, OH), with
//   in-window offset ky = y + top − oy·sh (same for columns).
//   MODE 0 (avg): dX[n,y,x,c] = Σ_windows dY[n,oy,ox,c] / count(oy,ox), count = the window's positions
//                 inside the input (as the forward pass divided by).
//   MODE 1 (max): dX[n,y,x,c] = Σ_windows dY[n,oy,ox,c] · [Argmax[n,oy,ox,c] == ky·KW + kx], with Argmax
//                 the window-local index written by pool.glsl MODE 2 (ties already resolved there, so
//                 each window routes its gradient to exactly one pixel).
// Inputs: DY [N, OH, OW, C], Argmax [N, OH, OW, C] (MODE 1), channel-packed. Output: dX [N, H, W, C].
// One fragment computes one output texel: 4 channels of one input pixel. The index decode uses
// lib/divmod (llvmpipe divides integers one lane at a time). The window KH×KW is compile-time;
// UNIT_STRIDES (stride 1 on both axes, the CRP's pools) loops over it with constant bounds.
#include "lib/divmod"

uniform sampler2D DY;
#if MODE == 1
uniform sampler2D Argmax;
#endif
uniform ivec3 u_inSize;    // H, W, C of the forward input (this kernel's output)
uniform ivec2 u_outSize;   // OH, OW of the forward output
uniform ivec2 u_strides;   // sh, sw
uniform ivec2 u_padStart;  // top, left

// ⌈a / b⌉ for b > 0 and any sign of a (GLSL's / on negative ints is not a floor).
int ceilDiv(int a, int b) {
  return a > 0 ? (a + b - 1) / b : -((-a) / b);
}

// Positions of a window starting at `start` (may be negative) that fall inside [0, size).
int validCount(int start, int window, int size) {
  return min(start + window, size) - max(start, 0);
}

vec4 kernel(int t) {
  int channels = u_inSize.z;
  int texelsPerRow = (channels + 3) / 4;
  ivec4 pixel = nhwcTexel(t, texelsPerRow, u_inSize.x, u_inSize.y);
  int n = pixel.x, y = pixel.y, x = pixel.z, c4 = pixel.w;
  int py = y + u_padStart.x;
  int px = x + u_padStart.y;
  vec4 acc = vec4(0.0);
#if UNIT_STRIDES
  // Stride 1: the window at offset (ky, kx) that covers this pixel is output (py − ky, px − kx). A loop
  // of constant bounds (KH×KW, unrolled) over those, clamped into the output and not counted outside.
  int lastRow = u_outSize.x - 1;
  int lastColumn = u_outSize.y - 1;
  for (int ky = 0; ky < KH; ky++) {
    int oy = py - ky;
    bool rowInside = oy >= 0 && oy <= lastRow;
    int outRow = (n * u_outSize.x + clamp(oy, 0, lastRow)) * u_outSize.y;
    for (int kx = 0; kx < KW; kx++) {
      int ox = px - kx;
      bool inside = rowInside && ox >= 0 && ox <= lastColumn;
      int at = (outRow + clamp(ox, 0, lastColumn)) * texelsPerRow + c4;
      vec4 g = fetchTexel(DY, at);
#if MODE == 1
      bvec4 routed = equal(fetchTexel(Argmax, at), vec4(float(ky * KW + kx)));
      acc += inside ? mix(vec4(0.0), g, routed) : vec4(0.0);
#else
      int count = validCount(oy - u_padStart.x, KH, u_inSize.x) * validCount(ox - u_padStart.y, KW, u_inSize.y);
      acc += inside ? g / float(count) : vec4(0.0);
#endif
    }
  }
#else
  int oyStart = max(ceilDiv(py - KH + 1, u_strides.x), 0);
  int oyEnd = min(py / u_strides.x + 1, u_outSize.x);
  int oxStart = max(ceilDiv(px - KW + 1, u_strides.y), 0);
  int oxEnd = min(px / u_strides.y + 1, u_outSize.y);
  for (int oy = oyStart; oy < oyEnd; oy++) {
    int ky = py - oy * u_strides.x;
    int outRow = (n * u_outSize.x + oy) * u_outSize.y;
    for (int ox = oxStart; ox < oxEnd; ox++) {
      int kx = px - ox * u_strides.y;
      int at = (outRow + ox) * texelsPerRow + c4;
      vec4 g = fetchTexel(DY, at);
#if MODE == 1
      acc += mix(vec4(0.0), g, equal(fetchTexel(Argmax, at), vec4(float(ky * KW + kx))));
#else
      int count = validCount(oy * u_strides.x - u_padStart.x, KH, u_inSize.x) *
                  validCount(ox * u_strides.y - u_padStart.y, KW, u_inSize.y);
      acc += g / float(count);
#endif
    }
  }
#endif
  return keepLanes(acc, c4, channels);
}
