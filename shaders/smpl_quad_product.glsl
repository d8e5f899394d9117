// smpl_quad_product — batched product of two k-contiguous operands, as 2×2 blocks, with the operand
// texels shared inside each 2×2 fragment quad through fine derivatives:
//   P[b, m, n] = Σ_k A[b, m, k] · Bt[b, n, k]     (rows past M or N are clamped; consumers drop them)
// Used for the blend shapes: forward D·cᵀ (A = BlendDirs [V·3, Q], Bt = coefficients [N, Q], one
// batch) and backward Dᵀ·dv_posed per chunk of vertices (A = [chunks, Q, 3·vc], Bt = [chunks, N, 3·vc]).
//
// Layouts: A [.., M, K], Bt [.., N, K] channel-packed (texel = 4 consecutive k; lanes past K are 0 in
//   both, so no K tail). Batch b uses matrix b·u_aBatchStride of A and b·u_bBatchStride of Bt
//   (stride 0 = shared).
// Output "quad layout": super-block s = (b·M4 + sm)·N4 + sn (M4 = ⌈M/4⌉, N4 = ⌈N/4⌉) covers rows
//   4sm..4sm+3 × columns 4sn..4sn+3 and is drawn by the fragment quad (qx, qy) = (s mod W/2, s div W/2)
//   of the W-wide output (W = u_outWidth); the fragment at (px, py) of that quad (pixel
//   (2qx + px, 2qy + py)) holds block (mb, nb) = (2sm + py, 2sn + px) as
//   (P[2mb, 2nb], P[2mb, 2nb+1], P[2mb+1, 2nb], P[2mb+1, 2nb+1]) — matmul.glsl's block lanes.
//   Texels of quads past the last super-block are 0. smpl_posed and smpl_blend_grad_sum read it.
//
// One fragment computes one block. Per k4 step it reads ONE texel of A (row 4sm + 2py + px) and ONE of
// Bt (row 4sn + 2px + py); the horizontal neighbour read the other A row of the same pair and the
// vertical neighbour the other Bt row, and dFdx / dFdy hand them over: other = own ± d(own). So each
// fragment has its block's 2 A rows and 2 Bt rows for 2 reads per 16 multiply-adds, half the 4 reads
// of matmul.glsl — on llvmpipe the reads (per-lane gathers), not the arithmetic, bound the speed, and
// its derivatives are fine (per row / per column) shuffles inside the quad. A neighbour's value
// comes back within an ulp of the larger of the two (one rounded subtraction, one rounded add).
// src/smpl/gpu/kernels.ts proves at run time (smpl_quad_probe) that the context computes fine
// derivatives with these signs, and otherwise uses the team's matmul instead.
// Two k4 steps per iteration. Control flow is uniform inside every quad (a quad shares s), so the
// derivatives are defined; quads past the end return together.
#define CUSTOM_MAIN
uniform sampler2D A;
uniform sampler2D Bt;
uniform int u_M;
uniform int u_N;
uniform int u_K;
uniform int u_superBlocks;    // batches · M4 · N4
uniform int u_aBatchStride;   // A matrices per batch step (0: one matrix for every batch)
uniform int u_bBatchStride;

void main() {
  ivec2 pixel = ivec2(gl_FragCoord.xy);
  int px = pixel.x & 1;
  int py = pixel.y & 1;
  int quadsPerRow = u_outWidth >> 1;
  int s = (pixel.y >> 1) * quadsPerRow + (pixel.x >> 1);
  if (s >= u_superBlocks) { outColor = vec4(0.0); return; }
  int M4 = (u_M + 3) >> 2;
  int N4 = (u_N + 3) >> 2;
  int blockRow = s / N4;
  int sn = s - blockRow * N4;
  int b = blockRow / M4;
  int sm = blockRow - b * M4;
  int K4 = (u_K + 3) >> 2;
  int aRow = min(4 * sm + 2 * py + px, u_M - 1);
  int bRow = min(4 * sn + 2 * px + py, u_N - 1);
  int aStart = (b * u_aBatchStride * u_M + aRow) * K4;
  int bStart = (b * u_bBatchStride * u_N + bRow) * K4;

  // Mask-and-shift addressing (power-of-two widths) and textureLod at texel centres, as matmul.glsl.
  ivec2 aSize = textureSize(A, 0);
  ivec2 bSize = textureSize(Bt, 0);
  int aShift = log2PowerOfTwo(aSize.x);
  int bShift = log2PowerOfTwo(bSize.x);
  int aMask = aSize.x - 1;
  int bMask = bSize.x - 1;
  vec2 aTexel = 1.0 / vec2(aSize);
  vec2 bTexel = 1.0 / vec2(bSize);
  // Neighbour = own + sign · derivative: dFdx is (right − left), dFdy is (upper − lower) in pixel rows.
  float towardX = px == 0 ? 1.0 : -1.0;
  float towardY = py == 0 ? 1.0 : -1.0;

  // acc = (own A·own Bt, own A·other Bt, other A·own Bt, other A·other Bt), reordered at the end.
  vec4 acc = vec4(0.0);
  vec4 acc2 = vec4(0.0);
  int k4 = 0;
  for (; k4 + 1 < K4; k4 += 2) {
    int ta = aStart + k4;
    int tb = bStart + k4;
    vec4 a0 = textureLod(A, (vec2(ta & aMask, ta >> aShift) + 0.5) * aTexel, 0.0);
    vec4 b0 = textureLod(Bt, (vec2(tb & bMask, tb >> bShift) + 0.5) * bTexel, 0.0);
    vec4 a1 = textureLod(A, (vec2((ta + 1) & aMask, (ta + 1) >> aShift) + 0.5) * aTexel, 0.0);
    vec4 b1 = textureLod(Bt, (vec2((tb + 1) & bMask, (tb + 1) >> bShift) + 0.5) * bTexel, 0.0);
    vec4 a0Other = a0 + towardX * dFdx(a0);
    vec4 b0Other = b0 + towardY * dFdy(b0);
    vec4 a1Other = a1 + towardX * dFdx(a1);
    vec4 b1Other = b1 + towardY * dFdy(b1);
    acc += vec4(dot(a0, b0), dot(a0, b0Other), dot(a0Other, b0), dot(a0Other, b0Other));
    acc2 += vec4(dot(a1, b1), dot(a1, b1Other), dot(a1Other, b1), dot(a1Other, b1Other));
  }
  if (k4 < K4) {
    int ta = aStart + k4;
    int tb = bStart + k4;
    vec4 a0 = textureLod(A, (vec2(ta & aMask, ta >> aShift) + 0.5) * aTexel, 0.0);
    vec4 b0 = textureLod(Bt, (vec2(tb & bMask, tb >> bShift) + 0.5) * bTexel, 0.0);
    vec4 a0Other = a0 + towardX * dFdx(a0);
    vec4 b0Other = b0 + towardY * dFdy(b0);
    acc += vec4(dot(a0, b0), dot(a0, b0Other), dot(a0Other, b0), dot(a0Other, b0Other));
  }
  acc += acc2;
  // Own A row is member px of the block's row pair, own Bt row member py of its column pair.
  acc = px == 1 ? acc.zwxy : acc;
  outColor = py == 1 ? acc.yxwz : acc;
}
