// conv2d_grouped — direct grouped convolution for any channel counts, including depthwise:
//   out[n, oy, ox, co] = act( bias[co] + Σ_{ky, kx, ci < Cg} x[n, iy, ix, g(co)·Cg + ci] · w[ky, kx, ci, co] )
//   g(co) = co / CoutG, Cg = Cin / groups, CoutG = Cout / groups; iy, ix, padding as in conv2d.glsl.
// Layouts as conv2d.glsl: x [N, H, W, Cin], w [KH, KW, Cg, Cout] (HWIO), bias [Cout], out [N, OH, OW, Cout].
//
// One fragment computes one output texel (one pixel × 4 output channels). The 4 lanes may belong to
// different groups, so each lane gathers its own input channel: per (ky, kx, ci) it reads 1 texel of w
// (row ci, texel co4: the weights of all 4 lanes) and the 4 lanes' input values, and does 4
// multiply-adds. DEPTHWISE (groups = Cin = Cout, so g(co) = co and Cg = 1) reads the 4 input
// channels as one texel instead. Lanes past Cout are computed on a clamped channel and zeroed at the end.
// HAS_RESIDUAL: Residual, a tensor of out's shape and layout (texel t), is added after the bias and
// before the activation — a residual connection fused into the layer that feeds it.
#define CUSTOM_MAIN
uniform sampler2D X;
uniform sampler2D Wt;
#if HAS_BIAS
uniform sampler2D Bias;
#endif
#if HAS_RESIDUAL
uniform sampler2D Residual;
#endif
uniform ivec2 u_inSize;
uniform ivec2 u_outSize;
uniform ivec2 u_kernelSize;
uniform ivec2 u_stride;
uniform ivec2 u_dilation;
uniform ivec2 u_padBefore;
uniform int u_inChannels;
uniform int u_groupInChannels;
uniform int u_outChannels;
uniform int u_groupOutChannels;
uniform float u_activationAlpha;

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  int cin4 = (u_inChannels + 3) >> 2;
  int cout4 = (u_outChannels + 3) >> 2;
  int pixel = t / cout4;
  int co4 = t - pixel * cout4;
  int ox = pixel % u_outSize.y;
  int rest = pixel / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  // First input channel of each lane's group (lanes past Cout clamped to the last channel).
  ivec4 co = min(4 * co4 + ivec4(0, 1, 2, 3), ivec4(u_outChannels - 1));
  ivec4 groupStart = (co / u_groupOutChannels) * u_groupInChannels;
  int iy0 = oy * u_stride.x - u_padBefore.x;
  int ix0 = ox * u_stride.y - u_padBefore.y;

  vec4 acc = vec4(0.0);
  for (int ky = 0; ky < u_kernelSize.x; ky++) {
    int iy = iy0 + ky * u_dilation.x;
    if (iy < 0 || iy >= u_inSize.x) continue;
    for (int kx = 0; kx < u_kernelSize.y; kx++) {
      int ix = ix0 + kx * u_dilation.y;
      if (ix < 0 || ix >= u_inSize.y) continue;
      int inRow = (n * u_inSize.x + iy) * u_inSize.y + ix;
      int wT = (ky * u_kernelSize.y + kx) * u_groupInChannels * cout4 + co4;
#if DEPTHWISE
      acc += fetchTexel(X, inRow * cin4 + co4) * fetchTexel(Wt, wT);
#else
      for (int ci = 0; ci < u_groupInChannels; ci++) {
        ivec4 c = groupStart + ci;
        vec4 xv = vec4(fetchElement(X, inRow, c.x, cin4), fetchElement(X, inRow, c.y, cin4),
                       fetchElement(X, inRow, c.z, cin4), fetchElement(X, inRow, c.w, cin4));
        acc += xv * fetchTexel(Wt, wT + ci * cout4);
      }
#endif
    }
  }
#if HAS_BIAS
  acc += fetchTexel(Bias, co4);
#endif
#if HAS_RESIDUAL
  acc += fetchTexel(Residual, t);
#endif
  outColor = keepLanes(ACTIVATE(acc), co4, u_outChannels);
}
