/**
 * Differentiable matmul, conv2d and conv2dTranspose (forward kernels: src/kernels/matmul.ts,
 * conv2d.ts, conv2d-transpose.ts). Backward passes:
 *   matmul          dA, dB: two more matmuls with transposes (batch dims that broadcast are summed);
 *                   dBias: Σ over rows
 *   conv2d          dX: stride 1, no groups: conv2d(dY, flipped W) (conv2d_backward_phase_filter.glsl); stride > 1,
 *                   dilation 1, no groups: one stride-1 conv2d per output phase + an interleave
 *                   (conv2dBackwardInputByPhases); else conv2dTranspose(dY, W) with the forward
 *                   geometry; dW: im2col + matmul (groups 1)
 *                   or conv2d_backward_filter.glsl; dBias: Σ over N·H·W
 *   conv2dTranspose dX: conv2d(dY, W); dW: conv2d_backward_filter with the roles of X and dY swapped
 * A fused activation is kept fused when nothing is recorded; on a tape it runs as a separate
 * differentiable unary op so its derivative has the pre-activation value.
 */
import type { Tensor } from '../../runtime/tensor.js';
import { matmul as matmulKernel, type MatmulOptions } from '../../kernels/matmul.js';
import { conv2d as conv2dKernel, conv2dGeometry, type Conv2dOptions } from '../../kernels/conv2d.js';
import { conv2dTranspose as conv2dTransposeKernel, planConv2dTranspose, type Conv2dTransposeOptions } from '../../kernels/conv2d-transpose.js';
import { resolveActivation, type Activation, type ResolvedActivation } from '../../kernels/activation.js';
import { recordOp, willRecord } from '../tape.js';
import { sumToShape, reduceToShape } from '../kernels/reduce-to-shape.js';
import { conv2dBackwardFilter, conv2dBackwardInputByConv, conv2dBackwardInputByPhases } from '../kernels/conv-backward.js';
import { unaryOp } from './elementwise.js';

/** Applies a resolved activation as a differentiable unary op (identity for 'none'). */
export function activate(z: Tensor, activation: ResolvedActivation): Tensor {
  switch (activation.name) {
    case 'none': return z;
    case 'relu': return unaryOp('relu', z);
    case 'relu6': return unaryOp('clamp', z, 0, 6);
    case 'leakyRelu': return unaryOp('leakyRelu', z, activation.alpha);
    case 'sigmoid': return unaryOp('sigmoid', z);
    case 'tanh': return unaryOp('tanh', z);
    case 'elu': return unaryOp('elu', z, activation.alpha);
  }
}

function withBias(inputs: Tensor[], bias: Tensor | undefined): Tensor[] {
  return bias ? [...inputs, bias] : inputs;
}

/** out = act(a' · b' + bias); see src/kernels/matmul.ts. */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const { transposeA = false, transposeB = false, bias } = options;
  if (!willRecord([a, b, bias])) return matmulKernel(a, b, options);
  const activation = resolveActivation(options.activation, 'matmul');
  const z = matmulKernel(a, b, { transposeA, transposeB, bias });
  const recorded = recordOp('matmul', withBias([a, b], bias), z, (dy, needs) => {
    const rt = dy.runtime;
    let da: Tensor | null = null;
    let db: Tensor | null = null;
    if (needs[0]) {
      const full = !transposeA
        ? transposeB ? matmulKernel(dy, b) : matmulKernel(dy, b, { transposeB: true })
        : transposeB ? matmulKernel(b, dy, { transposeA: true, transposeB: true }) : matmulKernel(b, dy, { transposeB: true });
      da = sumToShape(full, a.shape);
    }
    if (needs[1]) {
      if (b.rank === 2 && a.rank > 2 && !transposeA) {
        // A shared weight matrix: fold a's batch into its rows (free views) and do one matmul.
        const K = a.shape[a.rank - 1];
        const aRows = rt.view(a, [a.size / K, K]);
        const dyRows = rt.view(dy, [dy.size / dy.shape[dy.rank - 1], dy.shape[dy.rank - 1]]);
        db = transposeB ? matmulKernel(dyRows, aRows, { transposeA: true }) : matmulKernel(aRows, dyRows, { transposeA: true });
      } else {
        const full = !transposeB
          ? transposeA ? matmulKernel(a, dy) : matmulKernel(a, dy, { transposeA: true })
          : transposeA ? matmulKernel(dy, a, { transposeA: true, transposeB: true }) : matmulKernel(dy, a, { transposeA: true });
        db = sumToShape(full, b.shape);
      }
    }
    const dBias = bias && needs[2] ? reduceToShape(dy, bias.shape) : null;
    return bias ? [da, db, dBias] : [da, db];
  });
  return activate(recorded, activation);
}

/** conv2d(x [N, H, W, Cin], w [KH, KW, Cin/groups, Cout]) → [N, OH, OW, Cout]; see src/kernels/conv2d.ts. */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const { bias } = options;
  if (!willRecord([x, w, bias])) return conv2dKernel(x, w, options);
  const activation = resolveActivation(options.activation, 'conv2d');
  const g = conv2dGeometry(x.shape, w.shape, { ...options, biasShape: bias?.shape });
  const z = conv2dKernel(x, w, { ...options, activation: 'none' });
  const window = { strides: g.stride, dilations: g.dilation, padding: g.padding, groups: g.groups };
  const recorded = recordOp('conv2d', withBias([x, w], bias), z, (dy, needs) => {
    const dx = needs[0]
      ? conv2dBackwardInputByConv(dy, w, x.shape, window) ??
        conv2dBackwardInputByPhases(dy, w, x.shape, window) ??
        conv2dTransposeKernel(dy, w, { strides: g.stride, dilations: g.dilation, padding: g.padding, groups: g.groups, outputShape: x.shape })
      : null;
    const dw = needs[1] ? conv2dBackwardFilter(x, dy, w.shape, window) : null;
    const dBias = bias && needs[2] ? reduceToShape(dy, bias.shape) : null;
    return bias ? [dx, dw, dBias] : [dx, dw];
  });
  return activate(recorded, activation);
}

/** Transposed convolution with the forward conv's filter; see src/kernels/conv2d-transpose.ts. */
export function conv2dTranspose(x: Tensor, w: Tensor, options: Conv2dTransposeOptions = {}): Tensor {
  const { bias } = options;
  if (!willRecord([x, w, bias])) return conv2dTransposeKernel(x, w, options);
  const activation = resolveActivation(options.activation as Activation | undefined, 'conv2dTranspose');
  const plan = planConv2dTranspose(x.shape, w.shape, { ...options, biasShape: bias?.shape });
  const f = plan.forward;
  const padding = [f.padTop, f.padBottom, f.padLeft, f.padRight] as const;
  const z = conv2dTransposeKernel(x, w, { ...options, activation: 'none' });
  const recorded = recordOp('conv2dTranspose', withBias([x, w], bias), z, (dy, needs) => {
    const dx = needs[0] ? conv2dKernel(dy, w, { strides: plan.strides, dilations: plan.dilations, padding, groups: plan.groups }) : null;
    const dw = needs[1]
      ? conv2dBackwardFilter(dy, x, w.shape, { strides: plan.strides, dilations: plan.dilations, padding, groups: plan.groups })
      : null;
    const dBias = bias && needs[2] ? reduceToShape(dy, bias.shape) : null;
    return bias ? [dx, dw, dBias] : [dx, dw];
  });
  return activate(recorded, activation);
}
