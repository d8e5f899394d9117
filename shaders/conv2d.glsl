// conv2d — direct convolution producing 2×2 blocks (2 output pixels × 2 output channels):
//   P[p, co] = Σ_{ky, kx, ci < Cg} x[n, iy, ix, g·Cg + ci] · w[co, ky·KW + kx, ci]
//   (p = (n·OH + oy)·OW + ox, iy = oy·sy − padTop + ky·dy, ix = ox·sx − padLeft + kx·dx; taps outside
//   the image add 0; g = co / CoutG is the group of co, Cg = Cin / groups).
//   block[pb, cb] = ( P[2pb, 2cb], P[2pb, 2cb+1], P[2pb+1, 2cb], P[2pb+1, 2cb+1] ); rows past the last
//   pixel or channel are clamped (their lanes are dropped by matmul_unblock.glsl, which also adds
//   bias and activation and writes the NHWC result).
// Used for groups = 1, and for groups whose Cg is a multiple of 4 and CoutG even (a block's two
// channels then share one group, whose input channels start at a texel boundary); other grouped and
// depthwise convolutions use conv2d_grouped.glsl.
//
// Layouts (channel-packed): x [N, H, W, Cin]: texel ((n·H + iy)·W + ix)·Cin4 + ci4.
//   w packed by matmul_pack.glsl from HWIO to [Cout, KH·KW, Cg]: texel (co·KH·KW + tap)·Cg4 + ci4
//   (each tap padded to whole texels with zeros, like the input pixels, so no channel tail is needed).
//   out blocks [⌈P/2⌉·⌈Cout/2⌉, 4]: texel pb·⌈Cout/2⌉ + cb.
//
// One fragment computes one block. Loops: ky, kx, then input channels 4 at a time: 2 texels of x (the
// two pixels) + 2 texels of w (the two channels) → 4 dot products = 16 multiply-adds per 4 reads
// (two such steps per iteration). A tap outside the image is read at the clamped position and
// dropped with a select: the loop stays uniform across fragments, which llvmpipe runs faster than a
// per-fragment `continue`. Reads are textureLod at texel centres, mask/shift addressing (matmul.glsl).
#define CUSTOM_MAIN
uniform sampler2D X;
uniform sampler2D Wp;
uniform ivec2 u_inSize;       // H, W
uniform ivec2 u_outSize;      // OH, OW
uniform ivec2 u_kernelSize;   // KH, KW
uniform ivec2 u_stride;       // sy, sx
uniform ivec2 u_dilation;     // dy, dx
uniform ivec2 u_padBefore;    // top, left
uniform int u_inChannels;     // Cin
uniform int u_groupInChannels;   // Cg
uniform int u_outChannels;    // Cout
uniform int u_groupOutChannels;  // CoutG
uniform int u_pixels;         // P = N·OH·OW
uniform int u_xWidthLog2;
uniform int u_wWidthLog2;

int xMask, xShift, wMask, wShift;
vec2 xTexelSize, wTexelSize;
vec4 fetchX(int t) { return textureLod(X, (vec2(t & xMask, t >> xShift) + 0.5) * xTexelSize, 0.0); }
vec4 fetchW(int t) { return textureLod(Wp, (vec2(t & wMask, t >> wShift) + 0.5) * wTexelSize, 0.0); }

// Top-left input position of output pixel p and its image's first input row.
ivec3 pixelOrigin(int p) {
  int ox = p % u_outSize.y;
  int rest = p / u_outSize.y;
  int oy = rest % u_outSize.x;
  int n = rest / u_outSize.x;
  return ivec3(oy * u_stride.x - u_padBefore.x, ox * u_stride.y - u_padBefore.y, n * u_inSize.x);
}

void main() {
  int t = outputTexelIndex();
  if (t >= u_outTexels) { outColor = vec4(0.0); return; }
  xShift = u_xWidthLog2; xMask = (1 << xShift) - 1;
  wShift = u_wWidthLog2; wMask = (1 << wShift) - 1;
  xTexelSize = 1.0 / vec2(textureSize(X, 0));
  wTexelSize = 1.0 / vec2(textureSize(Wp, 0));

  int cin4 = (u_inChannels + 3) >> 2;
  int cg4 = (u_groupInChannels + 3) >> 2;
  int C2 = (u_outChannels + 1) >> 1;
  int pb = t / C2;
  int cb = t - pb * C2;
  ivec3 origin0 = pixelOrigin(2 * pb);
  ivec3 origin1 = pixelOrigin(min(2 * pb + 1, u_pixels - 1));
  int c0 = 2 * cb;
  int c1 = min(2 * cb + 1, u_outChannels - 1);
  int groupTexel = (c0 / u_groupOutChannels) * (u_groupInChannels >> 2);
  int taps = u_kernelSize.x * u_kernelSize.y;
  int w0Base = c0 * taps * cg4;
  int w1Base = c1 * taps * cg4;

  vec4 acc = vec4(0.0);
  // A tap outside the image is read at the clamped position and dropped with a select.
  int tap = 0;
  for (int ky = 0; ky < u_kernelSize.x; ky++) {
    int dy = ky * u_dilation.x;
    int iy0 = origin0.x + dy, iy1 = origin1.x + dy;
    int cy0 = clamp(iy0, 0, u_inSize.x - 1), cy1 = clamp(iy1, 0, u_inSize.x - 1);
    for (int kx = 0; kx < u_kernelSize.y; kx++, tap++) {
      int dx = kx * u_dilation.y;
      int ix0 = origin0.y + dx, ix1 = origin1.y + dx;
      int cx0 = clamp(ix0, 0, u_inSize.y - 1), cx1 = clamp(ix1, 0, u_inSize.y - 1);
      int x0 = ((origin0.z + cy0) * u_inSize.y + cx0) * cin4 + groupTexel;
      int x1 = ((origin1.z + cy1) * u_inSize.y + cx1) * cin4 + groupTexel;
      int w0 = w0Base + tap * cg4;
      int w1 = w1Base + tap * cg4;
      vec4 tapAcc = vec4(0.0);
      int s = 0;
      for (; s + 1 < cg4; s += 2) {
        vec4 a0 = fetchX(x0 + s), a1 = fetchX(x1 + s), b0 = fetchW(w0 + s), b1 = fetchW(w1 + s);
        tapAcc += vec4(dot(a0, b0), dot(a0, b1), dot(a1, b0), dot(a1, b1));
        a0 = fetchX(x0 + s + 1); a1 = fetchX(x1 + s + 1); b0 = fetchW(w0 + s + 1); b1 = fetchW(w1 + s + 1);
        tapAcc += vec4(dot(a0, b0), dot(a0, b1), dot(a1, b0), dot(a1, b1));
      }
      if (s < cg4) {
        vec4 a0 = fetchX(x0 + s), a1 = fetchX(x1 + s), b0 = fetchW(w0 + s), b1 = fetchW(w1 + s);
        tapAcc += vec4(dot(a0, b0), dot(a0, b1), dot(a1, b0), dot(a1, b1));
      }
      bool inside0 = iy0 == cy0 && ix0 == cx0;
      bool inside1 = iy1 == cy1 && ix1 == cx1;
      acc += mix(vec4(0.0), tapAcc, bvec4(inside0, inside0, inside1, inside1));
    }
  }
  outColor = acc;
}
