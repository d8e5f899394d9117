// pool — 2D pooling over NHWC, window KH×KW, strides (sh, sw), padding (top, left) before each axis.
//   MODE 0 (avg): out[n,oy,ox,c] = Σ_{valid (ky,kx)} X[n, oy·sh − top + ky, ox·sw − left + kx, c] / count
//                 where count = number of window positions inside the input (padding not counted, TF).
//   MODE 1 (max): out = max over the same valid positions (padding ignored, never a 0 candidate).
//   MODE 2 (argmax): ky·KW + kx of the first maximum (row-major window order) among the valid
//                 positions, as a float (a window-local index, exact). A separate pass rather than a
//                 second render target: multiple draw buffers fail in headless-gl 9.0.0-rc.10.
// Input X: [N, H, W, C] channel-packed (row = pixel). Outputs: [N, OH, OW, C] channel-packed.
// One fragment computes one output texel: 4 channels of one output pixel, looping over the window.
uniform sampler2D X;
uniform ivec3 u_inSize;    // H, W, C
uniform ivec2 u_outSize;   // OH, OW
uniform ivec2 u_window;    // KH, KW
uniform ivec2 u_strides;   // sh, sw
uniform ivec2 u_padStart;  // top, left

// Pools output texel t; argmax gets the window-local index of the max (MODE 1 and 2).
vec4 pool(int t, out vec4 argmax) {
  int channels = u_inSize.z;
  int texelsPerRow = (channels + 3) / 4;
  int row = t / texelsPerRow;
  int c4 = t - row * texelsPerRow;
  int ox = row % u_outSize.y;
  int rest = row / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  int y0 = oy * u_strides.x - u_padStart.x;
  int x0 = ox * u_strides.y - u_padStart.y;
  // Clip the window to the input once instead of testing every position.
  int kyStart = max(0, -y0);
  int kyEnd = min(u_window.x, u_inSize.x - y0);
  int kxStart = max(0, -x0);
  int kxEnd = min(u_window.y, u_inSize.y - x0);
  argmax = vec4(0.0);
#if MODE == 0
  vec4 sum = vec4(0.0);
#else
  vec4 best = vec4(0.0);  // replaced by the first valid position
  bool first = true;
#endif
  for (int ky = kyStart; ky < kyEnd; ky++) {
    int pixelRow = (n * u_inSize.x + y0 + ky) * u_inSize.y + x0;
    for (int kx = kxStart; kx < kxEnd; kx++) {
      vec4 v = fetchTexel(X, (pixelRow + kx) * texelsPerRow + c4);
#if MODE == 0
      sum += v;
#else
      // Strictly greater keeps the first maximum; the first valid position always wins so the
      // argmax points inside the input even when every value is -inf.
      bvec4 better = first ? bvec4(true) : greaterThan(v, best);
      best = mix(best, v, better);
      argmax = mix(argmax, vec4(float(ky * u_window.y + kx)), better);
      first = false;
#endif
    }
  }
#if MODE == 0
  float count = float((kyEnd - kyStart) * (kxEnd - kxStart));
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
