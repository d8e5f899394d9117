// Shared helper (#include "lib/divmod"): (a / b, a % b) for a ≥ 0 and b ≥ 1, for the
// index decode of the written-out convolution kernels (conv2d_depthwise, conv2d_pointwise,
// conv2d_small), the pools and others; nhwcTexel decodes a whole NHWC texel index with it.
// FLOAT_DIVMOD (set by the caller while every a it divides is below 2^24, so exact in float32:
// src/kernels/float-index.ts): a float
// quotient corrected by one step. llvmpipe has no vector integer division (each `/` or `%` becomes
// one scalar division per lane); the integer decode measured ~10% of the whole kernel on the
// 256×256×8 3×3 depthwise layer.
ivec2 divmod(int a, int b) {
#if FLOAT_DIVMOD
  int q = int((float(a) + 0.5) / float(b));
  int r = a - q * b;
  if (r < 0) { q--; r += b; } else if (r >= b) { q++; r -= b; }
  return ivec2(q, r);
#else
  int q = a / b;
  return ivec2(q, a - q * b);
#endif
}

// (n, y, x, c4) of texel t of a channel-packed NHWC tensor [N, height, width, C], texelsPerRow = ⌈C/4⌉.
ivec4 nhwcTexel(int t, int texelsPerRow, int height, int width) {
  ivec2 split = divmod(t, texelsPerRow);
  int c4 = split.y;
  split = divmod(split.x, width);
  int x = split.y;
  split = divmod(split.x, height);
  return ivec4(split.x, split.y, x, c4);
}
