/** Float64 CPU reference of mirrorWidth (shaders/mirror_width.glsl). */
export function mirrorWidthRef(x: ArrayLike<number>, shape: readonly number[], order?: readonly number[]): Float64Array {
  const [N, H, W, C] = shape;
  const out = new Float64Array(N * H * W * C);
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < H; y++) {
      for (let ox = 0; ox < W; ox++) {
        for (let c = 0; c < C; c++) {
          const from = order ? order[c] : c;
          out[((n * H + y) * W + ox) * C + c] = x[((n * H + y) * W + (W - 1 - ox)) * C + from];
        }
      }
    }
  }
  return out;
}
