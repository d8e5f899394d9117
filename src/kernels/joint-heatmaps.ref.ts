/**
 * Float64 CPU reference of jointHeatmaps (joint-heatmaps.ts): out[n, y, x, j] =
 * exp(−((x + ½ − u)² + (y + ½ − v)²) / (2σ²)) for joint j of example n at (u, v) pixels; 0 where the
 * joint's coordinates are not finite.
 */
export function jointHeatmapsRef(joints2d: ArrayLike<number>, N: number, J: number, height: number, width: number, sigma: number): Float64Array {
  if (joints2d.length !== N * J * 2) throw new Error(`jointHeatmapsRef: ${joints2d.length} values for [${N}, ${J}, 2]`);
  const out = new Float64Array(N * height * width * J);
  const k = 1 / (2 * sigma * sigma);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < J; j++) {
      const u = joints2d[(n * J + j) * 2];
      const v = joints2d[(n * J + j) * 2 + 1];
      if (!Number.isFinite(u) || !Number.isFinite(v)) continue;
      for (let y = 0; y < height; y++) {
        const dy = y + 0.5 - v;
        for (let x = 0; x < width; x++) {
          const dx = x + 0.5 - u;
          out[((n * height + y) * width + x) * J + j] = Math.exp(-(dx * dx + dy * dy) * k);
        }
      }
    }
  }
  return out;
}
