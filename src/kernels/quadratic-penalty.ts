/**
 * The refinement's priors on one parameter tensor, fused: shaders/quadratic_penalty.glsl (the value)
 * and shaders/quadratic_penalty_backward.glsl (its gradient). CPU reference: quadratic-penalty.ref.ts.
 *
 *   E = a·Σ x² + b·Σ (x − s)² + c·Σ (max(x − hi, 0)² + max(lo − x, 0)²)
 *
 * x [rows, C] (any rank: the last axis is C), s of x's shape, lo and hi C values each (the same
 * bounds for every row). A refinement step needs its β², pose², stay-near-start and joint-limit terms
 * on a few hundred numbers; as elementwise ops they were some forty draws a step, forward and
 * backward, each costing more to issue than to run.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';

export interface QuadraticPenaltyTerms {
  /** a, the weight of Σ x² (default 0). */
  weight?: number;
  /** s and b: Σ (x − s)² (b default 1 when s is given). */
  start?: Tensor;
  startWeight?: number;
  /** lo, hi (C values each) and c: Σ of the squared excess past them (c default 1 when given). */
  lo?: Tensor;
  hi?: Tensor;
  boundsWeight?: number;
}

const describe = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function plan(x: Tensor, terms: QuadraticPenaltyTerms) {
  if (x.rank < 1 || x.size === 0) throw new ShapeError(`quadraticPenalty: x must hold values with a last axis, got ${describe(x.shape)}`);
  const C = x.shape[x.rank - 1];
  const { start, lo, hi } = terms;
  if (start && (start.rank !== x.rank || start.shape.some((d, i) => d !== x.shape[i]))) {
    throw new ShapeError(`quadraticPenalty: start ${describe(start.shape)} differs from x ${describe(x.shape)}`);
  }
  if (!lo !== !hi) throw new NbfError('quadraticPenalty: give both bounds (lo and hi) or neither');
  for (const [name, b] of [['lo', lo], ['hi', hi]] as const) {
    if (b && (b.size !== C || b.shape[b.rank - 1] !== C)) throw new ShapeError(`quadraticPenalty: ${name} ${describe(b.shape)} must hold the ${C} values of x's last axis ${describe(x.shape)}`);
  }
  for (const t of [start, lo, hi]) if (t && t.runtime !== x.runtime) throw new NbfError('quadraticPenalty: the tensors live on different contexts');
  const inputs: Record<string, Tensor> = { X: x };
  if (start) inputs.S = start;
  if (lo && hi) {
    inputs.LO = lo;
    inputs.HI = hi;
  }
  return {
    defines: { HAS_START: !!start, HAS_BOUNDS: !!lo },
    inputs,
    uniforms: { u_rows: x.size / C, u_channels: C, u_a: terms.weight ?? 0, u_b: start ? terms.startWeight ?? 1 : 0, u_c: lo ? terms.boundsWeight ?? 1 : 0 },
  };
}

/** E (a scalar []). */
export function quadraticPenalty(x: Tensor, terms: QuadraticPenaltyTerms): Tensor {
  const p = plan(x, terms);
  return x.runtime.run({ kernel: 'quadratic_penalty', defines: p.defines, inputs: p.inputs, uniforms: p.uniforms, outShape: [] });
}

/** dy · dE/dx, x's shape (dy: one value, the gradient arriving at E). */
export function quadraticPenaltyBackward(x: Tensor, dy: Tensor, terms: QuadraticPenaltyTerms): Tensor {
  const p = plan(x, terms);
  if (dy.size !== 1) throw new ShapeError(`quadraticPenalty backward: dy must hold one value, got ${describe(dy.shape)}`);
  return x.runtime.run({ kernel: 'quadratic_penalty_backward', defines: p.defines, inputs: { ...p.inputs, DY: dy }, uniforms: p.uniforms, outShape: x.shape });
}
