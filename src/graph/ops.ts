/**
 * TensorFlow graph ops → this runtime's kernels. Each entry takes the node's input values (GPU
 * tensors, or host values: constants and folded shape arithmetic) and returns one value. An op whose
 * inputs are all host values and that only does shape arithmetic runs on the CPU (host-ops.ts).
 *
 * Layouts need no conversion: TF graphs are NHWC with HWIO filters, which is what the kernels take.
 * Depthwise filters [KH, KW, C, M] are the grouped layout [KH, KW, 1, C·M] with the same bytes.
 */
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { conv2d, conv2dGeometry, type Conv2dOptions, type Conv2dPadding } from '../kernels/conv2d.js';
import { conv2dTranspose } from '../kernels/conv2d-transpose.js';
import type { Activation } from '../kernels/activation.js';
import { binary, unary, type BinaryOp } from '../kernels/elementwise.js';
import { pad } from '../kernels/pad.js';
import { avgPool, maxPool } from '../kernels/pool.js';
import { resizeBilinear, resizeNearest } from '../kernels/resize.js';
import { reshape } from '../kernels/reshape.js';
import { concat } from '../kernels/concat.js';
import { transpose } from '../kernels/transpose.js';
import type { Attrs, HostTensor, NodeDef } from './model-file.js';
import { host, hostBinary, hostConcat, hostPack, hostStridedSlice, resolveReshape, shapeOf } from './host-ops.js';

export type Value = Tensor | HostTensor;

/** Nodes the plan fused into a convolution (graph-model.ts fusePlan). */
export interface ConvFusion {
  /** A Pad before it: [top, bottom, left, right] zeros, replacing its VALID padding. */
  padding?: [number, number, number, number];
  /** An Add after it: its last input is the Add's other operand, added before the activation. */
  residual?: boolean;
  /** A Relu/Relu6 after that Add. */
  activation?: 'relu' | 'relu6';
}

export interface OpContext {
  rt: Runtime;
  node: NodeDef;
  attrs: Attrs;
  fusion?: ConvFusion;
  /** The value as a GPU tensor (constants uploaded once and cached; `shape` re-views a constant). */
  gpu(v: Value, shape?: readonly number[]): Tensor;
}

export type OpFn = (ctx: OpContext, inputs: Value[]) => Value;

export const isHost = (v: Value): v is HostTensor => !(v instanceof Tensor);

function hostInput(ctx: OpContext, v: Value, what: string): HostTensor {
  if (!isHost(v)) ctx.attrs.fail(`its ${what} must be a constant (computed from constants and shapes), not a tensor computed on the GPU`);
  return v;
}

function expectInputs(ctx: OpContext, inputs: Value[], min: number, max = min): void {
  if (inputs.length < min || inputs.length > max) ctx.attrs.fail(`expects ${min === max ? min : `${min}–${max}`} inputs, has ${inputs.length}`);
}

function nhwcOnly(ctx: OpContext): void {
  const format = ctx.attrs.string('data_format', 'NHWC');
  if (format !== 'NHWC') ctx.attrs.fail(`data_format ${format} is not supported (NHWC only)`);
}

/** [1, a, b, 1] attribute lists → [a, b]. */
function spatial(ctx: OpContext, key: string, fallback: number[]): [number, number] {
  const v = ctx.attrs.ints(key, fallback);
  if (v.length !== 4) ctx.attrs.fail(`attribute ${key} must have 4 entries (NHWC), has [${v.join(', ')}]`);
  if (v[0] !== 1 || v[3] !== 1) ctx.attrs.fail(`attribute ${key} [${v.join(', ')}] acts on the batch or channel dimension`);
  return [v[1], v[2]];
}

function convPadding(ctx: OpContext): Conv2dPadding {
  const p = ctx.attrs.string('padding');
  if (p === 'SAME') return 'same';
  if (p === 'VALID') return 'valid';
  if (p === 'EXPLICIT') {
    const e = ctx.attrs.ints('explicit_paddings');
    if (e.length !== 8 || e[0] || e[1] || e[6] || e[7]) ctx.attrs.fail(`explicit_paddings [${e.join(', ')}] must pad only H and W`);
    return [e[2], e[3], e[4], e[5]];
  }
  return ctx.attrs.fail(`padding ${p} is not supported`);
}

const ACTIVATIONS: Record<string, (a: Attrs) => Activation> = {
  Relu: () => 'relu',
  Relu6: () => 'relu6',
  Elu: () => 'elu',
  Sigmoid: () => 'sigmoid',
  Tanh: () => 'tanh',
  LeakyRelu: (a) => ({ type: 'leakyRelu', alpha: a.float('leakyrelu_alpha', 0.2) }),
};

/** fused_ops of _FusedConv2D / FusedDepthwiseConv2dNative → bias input and activation. */
function fusedEpilogue(ctx: OpContext, inputs: Value[]): { bias?: Tensor; activation: Activation; prelu?: Tensor } {
  const ops = ctx.attrs.strings('fused_ops');
  const args = inputs.slice(2);
  if (ops.length === 0) return { activation: 'none' };
  if (ops[0] !== 'BiasAdd') ctx.attrs.fail(`fused_ops [${ops.join(', ')}] is not supported (BiasAdd first, then one activation)`);
  if (args.length < 1) ctx.attrs.fail('fused BiasAdd has no bias input');
  const bias = ctx.gpu(args[0]);
  if (ops.length === 1) return { bias, activation: 'none' };
  if (ops.length > 2) ctx.attrs.fail(`fused_ops [${ops.join(', ')}] is not supported`);
  if (ops[1] === 'Prelu') {
    if (args.length < 2) ctx.attrs.fail('fused Prelu has no alpha input');
    return { bias, activation: 'none', prelu: ctx.gpu(args[1]) };
  }
  const act = ACTIVATIONS[ops[1]];
  if (!act) ctx.attrs.fail(`fused activation ${ops[1]} is not supported (${Object.keys(ACTIVATIONS).join(', ')}, Prelu)`);
  return { bias, activation: act(ctx.attrs) };
}

/** The graph's Relu and Relu6 ops (also after a fused Add that falls back to separate passes). */
const relu = (x: Tensor) => unary('relu', x);
const relu6 = (x: Tensor) => unary('clamp', x, 0, 6);

/** max(x, 0) + alpha · min(x, 0). */
function prelu(x: Tensor, alpha: Tensor): Tensor {
  return binary('add', relu(x), binary('mul', alpha, unary('minScalar', x, 0)));
}

function convOp(depthwise: boolean): OpFn {
  return (ctx, given) => {
    const fusion = ctx.fusion;
    const inputs = fusion?.residual ? given.slice(0, -1) : given;
    expectInputs(ctx, inputs, 2, 4);
    nhwcOnly(ctx);
    const x = ctx.gpu(inputs[0]);
    const filter = inputs[1];
    const fShape = isHost(filter) ? filter.shape : filter.shape;
    if (fShape.length !== 4) ctx.attrs.fail(`filter must be 4-D, got [${fShape.join(', ')}]`);
    const w = depthwise ? ctx.gpu(filter, [fShape[0], fShape[1], 1, fShape[2] * fShape[3]]) : ctx.gpu(filter);
    if (depthwise && x.shape[3] !== fShape[2]) ctx.attrs.fail(`input has ${x.shape[3]} channels, the depthwise filter [${fShape.join(', ')}] needs ${fShape[2]}`);
    const { bias, activation, prelu: alpha } = fusedEpilogue(ctx, inputs);
    const options: Conv2dOptions = {
      strides: spatial(ctx, 'strides', [1, 1, 1, 1]),
      dilations: spatial(ctx, 'dilations', [1, 1, 1, 1]),
      padding: fusion?.padding ?? convPadding(ctx),
      groups: depthwise ? x.shape[3] : 1,
      bias,
      activation,
      cacheWeights: isHost(filter),
    };
    if (fusion?.residual) {
      // The plan fuses only convolutions whose own epilogue is at most a bias.
      const residual = ctx.gpu(given[given.length - 1]);
      const after = fusion.activation ?? 'none';
      if (residual.shape.join() === conv2dGeometry(x.shape, w.shape, options).outShape.join()) {
        return conv2d(x, w, { ...options, residual, activation: after });
      }
      // The Add broadcasts: add and activate as separate passes, as the graph wrote them.
      const sum = binary('add', conv2d(x, w, options), residual);
      return after === 'none' ? sum : after === 'relu' ? relu(sum) : relu6(sum);
    }
    const y = conv2d(x, w, options);
    return alpha ? prelu(y, alpha) : y;
  };
}

/** The ops convOp runs (graph-model.ts fuses Pad before and Add / Relu after them). */
export const CONV_OPS = new Set(['Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'FusedDepthwiseConv2dNative']);

function binaryOp(op: BinaryOp, hostFn: (a: number, b: number) => number): OpFn {
  return (ctx, inputs) => {
    expectInputs(ctx, inputs, 2);
    const [a, b] = inputs;
    if (isHost(a) && isHost(b)) return hostBinary(a, b, hostFn, ctx.attrs);
    return binary(op, ctx.gpu(a), ctx.gpu(b));
  };
}

function unaryOp(f: (x: Tensor, ctx: OpContext) => Tensor): OpFn {
  return (ctx, inputs) => {
    expectInputs(ctx, inputs, 1);
    return f(ctx.gpu(inputs[0]), ctx);
  };
}

function poolOp(kind: 'max' | 'avg'): OpFn {
  return (ctx, inputs) => {
    expectInputs(ctx, inputs, 1);
    nhwcOnly(ctx);
    const p = ctx.attrs.string('padding');
    if (p !== 'SAME' && p !== 'VALID') ctx.attrs.fail(`padding ${p} is not supported`);
    const options = { size: spatial(ctx, 'ksize', [1, 1, 1, 1]), strides: spatial(ctx, 'strides', [1, 1, 1, 1]), padding: p === 'SAME' ? 'same' as const : 'valid' as const };
    const x = ctx.gpu(inputs[0]);
    return kind === 'max' ? maxPool(x, options) : avgPool(x, options);
  };
}

function resizeOp(kind: 'bilinear' | 'nearest'): OpFn {
  return (ctx, inputs) => {
    expectInputs(ctx, inputs, 2);
    const size = hostInput(ctx, inputs[1], 'size');
    if (size.data.length !== 2) ctx.attrs.fail(`size must hold [height, width], got [${Array.from(size.data).join(', ')}]`);
    const options = { alignCorners: ctx.attrs.bool('align_corners', false), halfPixelCenters: ctx.attrs.bool('half_pixel_centers', false) };
    const x = ctx.gpu(inputs[0]);
    const hw: [number, number] = [size.data[0], size.data[1]];
    return kind === 'bilinear' ? resizeBilinear(x, hw, options) : resizeNearest(x, hw, options);
  };
}

function padOp(ctx: OpContext, inputs: Value[]): Value {
  expectInputs(ctx, inputs, 2, 3);
  const p = hostInput(ctx, inputs[1], 'paddings');
  const x = ctx.gpu(inputs[0]);
  if (p.shape.length !== 2 || p.shape[0] !== x.rank || p.shape[1] !== 2) ctx.attrs.fail(`paddings [${p.shape.join(', ')}] do not match the rank-${x.rank} input`);
  const value = inputs[2] ? hostInput(ctx, inputs[2], 'constant value').data[0] : 0;
  const pairs = x.shape.map((_, d) => [p.data[2 * d], p.data[2 * d + 1]] as [number, number]);
  if (value === 0 && x.rank === 4 && pairs[0].every((v) => v === 0) && pairs[3].every((v) => v === 0) && pairs.every(([b, a]) => b >= 0 && a >= 0)) {
    // Zero padding of H and W (MobileNet-style graphs pad before their stride-2 VALID convolutions):
    // a 1×1 depthwise convolution with weight 1 and that padding gives the same values (x · 1 + 0)
    // and runs conv2d_depthwise.glsl, ~1.9× faster than the general window copy (pad.glsl) on
    // BlazePose's pads (docs/kernels/conv2d.md).
    const C = x.shape[3];
    const ones = ctx.rt.tensor(new Float32Array(C).fill(1), [1, 1, 1, C]);
    return conv2d(x, ones, { groups: C, padding: [pairs[1][0], pairs[1][1], pairs[2][0], pairs[2][1]] });
  }
  return pad(x, pairs, value);
}

function reshapeOp(ctx: OpContext, inputs: Value[]): Value {
  expectInputs(ctx, inputs, 2);
  const target = hostInput(ctx, inputs[1], 'shape');
  const x = inputs[0];
  const size = isHost(x) ? x.data.length : x.size;
  const shape = resolveReshape(size, target.data, ctx.attrs);
  if (isHost(x)) return { ...x, shape };
  return reshape(x, shape);
}

function concatOp(ctx: OpContext, inputs: Value[]): Value {
  if (inputs.length < 2) ctx.attrs.fail('expects at least one tensor and an axis');
  const axis = hostInput(ctx, inputs[inputs.length - 1], 'axis').data[0];
  const parts = inputs.slice(0, -1);
  if (parts.every(isHost)) return hostConcat(parts as HostTensor[], axis, ctx.attrs);
  const tensors = parts.map((v) => ctx.gpu(v));
  return tensors.length === 1 ? ctx.rt.view(tensors[0], tensors[0].shape) : concat(tensors, axis);
}

/** DepthToSpace (NHWC, DCR): out[n, h·b + i, w·b + j, c] = in[n, h, w, (i·b + j)·C + c]. */
function depthToSpaceOp(ctx: OpContext, inputs: Value[]): Value {
  expectInputs(ctx, inputs, 1);
  nhwcOnly(ctx);
  const b = ctx.attrs.int('block_size');
  const x = ctx.gpu(inputs[0]);
  const [n, h, w, c] = x.shape;
  if (x.rank !== 4 || c % (b * b) !== 0) ctx.attrs.fail(`input [${x.shape.join(', ')}] has channels not divisible by block_size² = ${b * b}`);
  const C = c / (b * b);
  return reshape(transpose(reshape(x, [n, h, w, b, b, C]), [0, 1, 3, 2, 4, 5]), [n, h * b, w * b, C]);
}

export const OPS: Record<string, OpFn> = {
  Identity: (ctx, [x]) => (isHost(x) ? x : ctx.rt.view(x, x.shape)),
  StopGradient: (ctx, [x]) => (isHost(x) ? x : ctx.rt.view(x, x.shape)),
  Conv2D: convOp(false),
  _FusedConv2D: convOp(false),
  DepthwiseConv2dNative: convOp(true),
  FusedDepthwiseConv2dNative: convOp(true),
  Conv2DBackpropInput: (ctx, inputs) => {
    expectInputs(ctx, inputs, 3);
    nhwcOnly(ctx);
    const sizes = hostInput(ctx, inputs[0], 'input_sizes');
    return conv2dTranspose(ctx.gpu(inputs[2]), ctx.gpu(inputs[1]), {
      strides: spatial(ctx, 'strides', [1, 1, 1, 1]),
      dilations: spatial(ctx, 'dilations', [1, 1, 1, 1]),
      padding: convPadding(ctx) as never,
      outputShape: Array.from(sizes.data),
    });
  },
  BiasAdd: binaryOp('add', (a, b) => a + b),
  Add: binaryOp('add', (a, b) => a + b),
  AddV2: binaryOp('add', (a, b) => a + b),
  Sub: binaryOp('sub', (a, b) => a - b),
  Mul: binaryOp('mul', (a, b) => a * b),
  RealDiv: binaryOp('div', (a, b) => a / b),
  Maximum: binaryOp('max', Math.max),
  Minimum: binaryOp('min', Math.min),
  SquaredDifference: binaryOp('squaredDifference', (a, b) => (a - b) ** 2),
  FloorDiv: (ctx, inputs) => {
    expectInputs(ctx, inputs, 2);
    return hostBinary(hostInput(ctx, inputs[0], 'x'), hostInput(ctx, inputs[1], 'y'), (a, b) => Math.floor(a / b), ctx.attrs);
  },
  AddN: (ctx, inputs) => {
    if (inputs.length < 1) ctx.attrs.fail('has no inputs');
    let sum = ctx.gpu(inputs[0]);
    for (const v of inputs.slice(1)) sum = binary('add', sum, ctx.gpu(v));
    return inputs.length === 1 ? ctx.rt.view(sum, sum.shape) : sum;
  },
  Relu: unaryOp(relu),
  Relu6: unaryOp(relu6),
  Elu: unaryOp((x) => unary('elu', x, 1)),
  LeakyRelu: unaryOp((x, ctx) => unary('leakyRelu', x, ctx.attrs.float('alpha', 0.2))),
  Sigmoid: unaryOp((x) => unary('sigmoid', x)),
  Tanh: unaryOp((x) => unary('tanh', x)),
  Exp: unaryOp((x) => unary('exp', x)),
  Log: unaryOp((x) => unary('log', x)),
  Sqrt: unaryOp((x) => unary('sqrt', x)),
  Square: unaryOp((x) => unary('square', x)),
  Neg: unaryOp((x) => unary('neg', x)),
  Abs: unaryOp((x) => unary('abs', x)),
  Prelu: (ctx, inputs) => {
    expectInputs(ctx, inputs, 2);
    return prelu(ctx.gpu(inputs[0]), ctx.gpu(inputs[1]));
  },
  Pad: padOp,
  PadV2: padOp,
  MaxPool: poolOp('max'),
  AvgPool: poolOp('avg'),
  ResizeBilinear: resizeOp('bilinear'),
  ResizeNearestNeighbor: resizeOp('nearest'),
  Reshape: reshapeOp,
  Squeeze: (ctx, inputs) => {
    expectInputs(ctx, inputs, 1);
    const x = inputs[0];
    const shape = isHost(x) ? x.shape : x.shape;
    const dims = ctx.attrs.ints('squeeze_dims', []).map((d) => (d < 0 ? d + shape.length : d));
    const out = shape.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1));
    return isHost(x) ? { ...x, shape: out } : reshape(x, out);
  },
  ConcatV2: concatOp,
  DepthToSpace: depthToSpaceOp,
  Transpose: (ctx, inputs) => {
    expectInputs(ctx, inputs, 2);
    return transpose(ctx.gpu(inputs[0]), Array.from(hostInput(ctx, inputs[1], 'perm').data));
  },
  Shape: (ctx, inputs) => {
    expectInputs(ctx, inputs, 1);
    return shapeOf(inputs[0].shape);
  },
  StridedSlice: (ctx, inputs) => {
    expectInputs(ctx, inputs, 4);
    const [x, b, e, s] = inputs.map((v, i) => hostInput(ctx, v, ['input', 'begin', 'end', 'strides'][i]));
    return hostStridedSlice(x, b, e, s, ctx.attrs);
  },
  Pack: (ctx, inputs) => hostPack(inputs.map((v) => hostInput(ctx, v, 'input')), ctx.attrs.int('axis', 0), ctx.attrs),
  Cast: (ctx, inputs) => {
    expectInputs(ctx, inputs, 1);
    const x = inputs[0];
    const to = ctx.attrs.has('DstT') ? (ctx.node.attr!.DstT.type ?? '') : 'DT_FLOAT';
    if (!isHost(x)) {
      if (to !== 'DT_FLOAT') ctx.attrs.fail(`casting a GPU tensor to ${to} is not supported (tensors are float)`);
      return ctx.rt.view(x, x.shape);
    }
    if (to === 'DT_FLOAT') return host('float32', x.shape, x.data);
    if (to === 'DT_INT32') return host('int32', x.shape, Array.from(x.data, Math.trunc));
    return ctx.attrs.fail(`Cast to ${to} is not supported`);
  },
};

/** Ops whose result is always a host value (never touch the GPU). */
export const HOST_ONLY = new Set(['Shape', 'StridedSlice', 'Pack', 'FloorDiv']);
