/**
 * Fused activations shared by matmul and conv2d.
 *
 * Convention: a kernel that fuses an activation calls the function-like macro `ACTIVATE(v)` on a vec4
 * variable (always a plain variable, since the macro may name its argument several times) and declares
 * `uniform float u_activationAlpha;` (leaky-ReLU slope, ELU scale). `activationDefines()` supplies the
 * macro as a compile-time define, so each activation is one program variant and the GLSL for it is
 * written once, here, rather than copied into every shader file. Lanes past C must still be zeroed by
 * the kernel afterwards (sigmoid(0) = 0.5).
 */
import { NbfError } from '../runtime/errors.js';
import type { Defines } from '../runtime/program-cache.js';
import type { Tensor } from '../runtime/tensor.js';

export type ActivationName = 'none' | 'relu' | 'relu6' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'elu';

/** An activation, optionally with its parameter: 'relu', { type: 'leakyRelu', alpha: 0.1 }, … */
export type Activation = ActivationName | { type: ActivationName; alpha?: number };

/**
 * GLSL expression per activation. Sigmoid and tanh are written through exp so that large |v| gives
 * exactly 0/±1 instead of inf/inf = NaN (exp overflows to inf, and 1/inf = 0).
 */
const GLSL: Record<ActivationName, string> = {
  none: '(v)',
  relu: 'max((v), 0.0)',
  relu6: 'clamp((v), 0.0, 6.0)',
  leakyRelu: 'mix(u_activationAlpha * (v), (v), greaterThanEqual((v), vec4(0.0)))',
  sigmoid: '(1.0 / (1.0 + exp(-(v))))',
  tanh: '(1.0 - 2.0 / (exp(2.0 * (v)) + 1.0))',
  elu: 'mix(u_activationAlpha * (exp(min((v), 0.0)) - 1.0), (v), greaterThanEqual((v), vec4(0.0)))',
};

/** Default parameter: leaky-ReLU slope 0.2 (as tfjs), ELU scale 1. */
const DEFAULT_ALPHA: Record<ActivationName, number> = { none: 0, relu: 0, relu6: 0, leakyRelu: 0.2, sigmoid: 0, tanh: 0, elu: 1 };

export interface ResolvedActivation {
  name: ActivationName;
  alpha: number;
}

export function resolveActivation(activation: Activation | undefined, op: string): ResolvedActivation {
  const spec = activation ?? 'none';
  const name = typeof spec === 'string' ? spec : spec?.type;
  if (typeof name !== 'string' || !(name in GLSL)) {
    throw new NbfError(`${op}: unknown activation ${JSON.stringify(spec)}; use one of ${Object.keys(GLSL).join(', ')}`);
  }
  const alpha = typeof spec === 'object' && spec.alpha !== undefined ? spec.alpha : DEFAULT_ALPHA[name as ActivationName];
  if (!Number.isFinite(alpha)) throw new NbfError(`${op}: activation alpha must be a finite number, got ${alpha}`);
  return { name: name as ActivationName, alpha };
}

/** The compile-time define that makes `ACTIVATE(v)` apply this activation. */
export function activationDefines(a: ResolvedActivation): Defines {
  return { 'ACTIVATE(v)': GLSL[a.name] };
}

/**
 * The epilogue's tensor inputs of a kernel that fuses a bias (HAS_BIAS: sampler Bias, [C]) and a
 * residual (HAS_RESIDUAL: sampler Residual, a tensor of the output's shape read at the output texel,
 * added after the bias and before the activation: act(sum + bias + residual), a residual connection
 * fused into the layer that feeds it).
 */
export function epilogueInputs(bias: Tensor | undefined, residual: Tensor | undefined): Record<string, Tensor> {
  const inputs: Record<string, Tensor> = {};
  if (bias) inputs.Bias = bias;
  if (residual) inputs.Residual = residual;
  return inputs;
}

/** Float64 reference of one activation value. */
export function activateRef(a: ResolvedActivation, v: number): number {
  switch (a.name) {
    case 'none': return v;
    case 'relu': return Math.max(v, 0);
    case 'relu6': return Math.min(Math.max(v, 0), 6);
    case 'leakyRelu': return v >= 0 ? v : a.alpha * v;
    case 'sigmoid': return 1 / (1 + Math.exp(-v));
    case 'tanh': return Math.tanh(v);
    case 'elu': return v >= 0 ? v : a.alpha * (Math.exp(v) - 1);
  }
}
