/** Float64 CPU reference of shaders/quadratic_penalty.glsl and its backward (quadratic-penalty.ts). */
export interface QuadraticPenaltyRefTerms {
  weight?: number;
  start?: ArrayLike<number>;
  startWeight?: number;
  lo?: ArrayLike<number>;
  hi?: ArrayLike<number>;
  boundsWeight?: number;
}

/** E and dE/dx for x of `channels` values a row. */
export function quadraticPenaltyRef(x: ArrayLike<number>, channels: number, terms: QuadraticPenaltyRefTerms): { value: number; grad: Float64Array } {
  const a = terms.weight ?? 0;
  const b = terms.startWeight ?? 1;
  const c = terms.boundsWeight ?? 1;
  let value = 0;
  const grad = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    value += a * v * v;
    grad[i] = 2 * a * v;
    if (terms.start) {
      const d = v - terms.start[i];
      value += b * d * d;
      grad[i] += 2 * b * d;
    }
    if (terms.lo && terms.hi) {
      const over = Math.max(v - terms.hi[i % channels], 0);
      const under = Math.max(terms.lo[i % channels] - v, 0);
      value += c * (over * over + under * under);
      grad[i] += 2 * c * (over - under);
    }
  }
  return { value, grad };
}
