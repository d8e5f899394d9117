/** Float64 CPU references of one optimizer step (shaders/optim_sgd.glsl, shaders/optim_adam.glsl). */

export function sgdStepRef(
  w: ArrayLike<number>, g: ArrayLike<number>, velocity: ArrayLike<number> | null,
  o: { lr: number; momentum: number; nesterov: boolean; weightDecay: number },
): { w: Float64Array; velocity: Float64Array } {
  const nw = new Float64Array(w.length);
  const nv = new Float64Array(w.length);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i] + o.weightDecay * w[i];
    if (o.momentum === 0) {
      nw[i] = w[i] - o.lr * gi;
      continue;
    }
    nv[i] = o.momentum * (velocity ? velocity[i] : 0) + gi;
    nw[i] = w[i] - o.lr * (o.nesterov ? gi + o.momentum * nv[i] : nv[i]);
  }
  return { w: nw, velocity: nv };
}

export function adamStepRef(
  w: ArrayLike<number>, g: ArrayLike<number>, m: ArrayLike<number>, v: ArrayLike<number>, step: number,
  o: { lr: number; beta1: number; beta2: number; epsilon: number; weightDecay: number; decoupled: boolean },
): { w: Float64Array; m: Float64Array; v: Float64Array } {
  const nw = new Float64Array(w.length);
  const nm = new Float64Array(w.length);
  const nv = new Float64Array(w.length);
  const c1 = 1 - o.beta1 ** step;
  const c2 = 1 - o.beta2 ** step;
  for (let i = 0; i < w.length; i++) {
    const gi = o.decoupled ? g[i] : g[i] + o.weightDecay * w[i];
    nm[i] = o.beta1 * m[i] + (1 - o.beta1) * gi;
    nv[i] = o.beta2 * v[i] + (1 - o.beta2) * gi * gi;
    const decayed = o.decoupled ? w[i] * (1 - o.lr * o.weightDecay) : w[i];
    nw[i] = decayed - (o.lr * (nm[i] / c1)) / (Math.sqrt(nv[i] / c2) + o.epsilon);
  }
  return { w: nw, m: nm, v: nv };
}
