import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose, maxRelError } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { conv2dTranspose, planConv2dTranspose, type Conv2dTransposeOptions } from '../src/kernels/conv2d-transpose.js';
import { conv2dTransposeRef } from '../src/kernels/conv2d-transpose.ref.js';
import { conv2dRef } from '../src/kernels/conv2d.ref.js';
import { ShapeError } from '../src/runtime/errors.js';
import { conv2d } from '../src/kernels/conv2d.js';
import type { Activation } from '../src/kernels/activation.js';

const rng = new Rng(2018);
const sizeOf = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

interface Case {
  x: number[];
  w: number[];
  options: Omit<Conv2dTransposeOptions, 'bias'>;
  bias?: boolean;
}

// Odd sizes, channel counts not multiples of 4, batch > 1, strides 1–3, every padding form, dilation,
// groups (incl. depthwise), explicit output shapes where the stride makes the size ambiguous.
const CASES: Case[] = [
  { x: [2, 4, 5, 3], w: [3, 3, 5, 3], options: { strides: 2, padding: 'same' } },
  { x: [2, 3, 4, 6], w: [2, 3, 7, 6], options: { strides: [2, 3], padding: 'valid' } },
  { x: [1, 5, 5, 5], w: [3, 3, 3, 5], options: { strides: 1, padding: 'same', dilations: 2 } },
  { x: [3, 4, 3, 2], w: [3, 2, 6, 2], options: { strides: 2, padding: 'same', outputShape: [3, 7, 6, 6] } },
  { x: [2, 3, 3, 7], w: [4, 3, 1, 7], options: { strides: 3, padding: [1, 0, 2, 1] } },
  { x: [2, 4, 5, 4], w: [3, 3, 9, 4], options: { strides: [1, 2], padding: 1, dilations: [2, 1], outputShape: [6, 10] } },
  { x: [2, 4, 4, 6], w: [3, 3, 5, 6], options: { strides: 2, padding: 'same', groups: 2 } },
  { x: [2, 5, 4, 5], w: [3, 3, 1, 5], options: { strides: 1, padding: 'same', groups: 5 } },
  { x: [2, 3, 5, 9], w: [2, 2, 3, 9], options: { strides: 2, padding: 'valid', groups: 3, activation: 'relu' }, bias: true },
  { x: [2, 5, 3, 3], w: [1, 1, 6, 3], options: { strides: 2, padding: 'valid', activation: { type: 'leakyRelu', alpha: 0.1 } }, bias: true },
  { x: [1, 6, 6, 37], w: [3, 3, 19, 37], options: { strides: 2, padding: 'same', activation: 'sigmoid' }, bias: true },
];

function describeCase(c: Case): string {
  return `x [${c.x.join(',')}] w [${c.w.join(',')}] ${JSON.stringify(c.options)}${c.bias ? ' +bias' : ''}`;
}

describe('conv2dTranspose vs float64 reference', () => {
  for (const c of CASES) {
    it(describeCase(c), () => {
      const rt = testRuntime();
      const x = rng.uniformArray(sizeOf(c.x));
      const w = rng.uniformArray(sizeOf(c.w));
      const plan = planConv2dTranspose(c.x, c.w, c.options);
      const bias = c.bias ? rng.uniformArray(plan.outShape[3]) : undefined;
      const ref = conv2dTransposeRef(x, c.x, w, c.w, { ...c.options, bias });
      rt.scope(() => {
        const out = conv2dTranspose(rt.tensor(x, c.x), rt.tensor(w, c.w), { ...c.options, bias: bias && rt.tensor(bias, [bias.length]) });
        expectTensorClose(out, ref.data, ref.shape);
      });
    });
  }

  it('runs every activation', () => {
    const rt = testRuntime();
    const c = CASES[0];
    const x = rng.uniformArray(sizeOf(c.x), -2, 2);
    const w = rng.uniformArray(sizeOf(c.w));
    const activations: Activation[] = ['none', 'relu', 'relu6', 'leakyRelu', 'sigmoid', 'tanh', { type: 'elu', alpha: 0.7 }];
    for (const activation of activations) {
      const ref = conv2dTransposeRef(x, c.x, w, c.w, { ...c.options, activation });
      rt.scope(() => expectTensorClose(conv2dTranspose(rt.tensor(x, c.x), rt.tensor(w, c.w), { ...c.options, activation }), ref.data, ref.shape));
    }
  });
});

describe('conv2dTranspose is the input gradient of conv2d', () => {
  // L(x) = Σ g ⊙ conv2d(x, w); dL/dx must equal conv2dTranspose(g, w). Checked element by element by
  // central finite differences of the float64 forward conv.
  const fdCases = CASES.filter((c) => !c.bias && sizeOf(planConv2dTranspose(c.x, c.w, c.options).outShape) <= 1600);
  for (const c of fdCases) {
    it(`central differences agree on ${describeCase(c)}`, () => {
      const plan = planConv2dTranspose(c.x, c.w, c.options);
      const fwdShape = plan.outShape;
      const g = Float64Array.from(rng.uniformArray(sizeOf(c.x)));
      const w = Float64Array.from(rng.uniformArray(sizeOf(c.w)));
      const xf = Float64Array.from(rng.uniformArray(sizeOf(fwdShape)));
      const convOptions = { strides: c.options.strides, padding: c.options.padding, dilations: c.options.dilations, groups: c.options.groups };
      const loss = (input: Float64Array) => {
        const y = conv2dRef(input, fwdShape, w, c.w, convOptions);
        expect(y.shape).toEqual(c.x);
        let s = 0;
        for (let i = 0; i < y.data.length; i++) s += g[i] * y.data[i];
        return s;
      };
      const analytic = conv2dTransposeRef(g, c.x, w, c.w, c.options).data;
      const numeric = new Float64Array(xf.length);
      const h = 1e-3;
      for (let i = 0; i < xf.length; i++) {
        const keep = xf[i];
        xf[i] = keep + h;
        const up = loss(xf);
        xf[i] = keep - h;
        const down = loss(xf);
        xf[i] = keep;
        numeric[i] = (up - down) / (2 * h);
      }
      expect(maxRelError(analytic, numeric)).toBeLessThan(1e-8);
    });
  }

  it('the GPU kernel matches the finite-difference gradient directly', () => {
    const rt = testRuntime();
    const c = CASES[6]; // strided, grouped
    const plan = planConv2dTranspose(c.x, c.w, c.options);
    const g = rng.uniformArray(sizeOf(c.x));
    const w = rng.uniformArray(sizeOf(c.w));
    const xf = Float64Array.from(rng.uniformArray(sizeOf(plan.outShape)));
    const loss = (input: Float64Array) => {
      const y = conv2dRef(input, plan.outShape, w, c.w, { strides: c.options.strides, padding: c.options.padding, groups: c.options.groups });
      return y.data.reduce((s, v, i) => s + g[i] * v, 0);
    };
    const numeric = new Float64Array(xf.length);
    for (let i = 0; i < xf.length; i++) {
      const keep = xf[i];
      xf[i] = keep + 1e-3;
      const up = loss(xf);
      xf[i] = keep - 1e-3;
      numeric[i] = (up - loss(xf)) / 2e-3;
      xf[i] = keep;
    }
    rt.scope(() => expectTensorClose(conv2dTranspose(rt.tensor(g, c.x), rt.tensor(w, c.w), c.options), numeric, plan.outShape));
  });
});

describe('conv2dTranspose and the GPU conv2d are adjoint', () => {
  // ⟨conv2d(x, w), g⟩ = ⟨x, conv2dTranspose(g, w)⟩ with both GPU kernels: the two share the filter
  // layout and the option meanings, so autodiff can pair them.
  for (const c of CASES.filter((k) => !k.bias)) {
    it(describeCase(c), () => {
      const rt = testRuntime();
      const plan = planConv2dTranspose(c.x, c.w, c.options);
      const g = rng.uniformArray(sizeOf(c.x));
      const w = rng.uniformArray(sizeOf(c.w));
      const xf = rng.uniformArray(sizeOf(plan.outShape));
      const { strides, padding, dilations, groups } = c.options;
      rt.scope(() => {
        const wt = rt.tensor(w, c.w);
        const y = conv2d(rt.tensor(xf, plan.outShape), wt, { strides, padding, dilations, groups }).readSync();
        const dx = conv2dTranspose(rt.tensor(g, c.x), wt, c.options).readSync();
        let forward = 0;
        let backward = 0;
        let scale = 0;
        for (let i = 0; i < y.length; i++) { forward += y[i] * g[i]; scale += Math.abs(y[i] * g[i]); }
        for (let i = 0; i < dx.length; i++) backward += dx[i] * xf[i];
        expect(Math.abs(forward - backward) / scale).toBeLessThan(1e-5);
      });
    });
  }
});

describe('conv2dTranspose shapes and errors', () => {
  it("derives TF's default output sizes", () => {
    expect(planConv2dTranspose([1, 4, 5, 3], [3, 3, 2, 3], { strides: 2, padding: 'same' }).outShape).toEqual([1, 8, 10, 2]);
    expect(planConv2dTranspose([1, 4, 5, 3], [3, 3, 2, 3], { strides: 2, padding: 'valid' }).outShape).toEqual([1, 9, 11, 2]);
    expect(planConv2dTranspose([1, 4, 5, 3], [3, 3, 2, 3], { strides: 1, padding: 'valid', dilations: 2 }).outShape).toEqual([1, 8, 9, 2]);
    expect(planConv2dTranspose([1, 4, 5, 3], [3, 3, 2, 3], { strides: 2, padding: [1, 1, 0, 2] }).outShape).toEqual([1, 7, 9, 2]);
  });

  it('rejects mismatched shapes with errors naming them', () => {
    const rt = testRuntime();
    rt.scope(() => {
      const x = rt.tensor(new Float32Array(2 * 4 * 4 * 3), [2, 4, 4, 3]);
      const w = rt.tensor(new Float32Array(3 * 3 * 5 * 3), [3, 3, 5, 3]);
      const wrongC = rt.tensor(new Float32Array(3 * 3 * 5 * 4), [3, 3, 5, 4]);
      expect(() => conv2dTranspose(x, wrongC)).toThrow(ShapeError);
      expect(() => conv2dTranspose(x, wrongC)).toThrow(/filter \[3, 3, 5, 4\] expects 4 input channels.*\[2, 4, 4, 3\] has 3/);
      expect(() => conv2dTranspose(rt.view(x, [8, 4, 3]), w)).toThrow(/NHWC.*\[8, 4, 3\]/);
      expect(() => conv2dTranspose(x, w, { strides: 2, padding: 'same', outputShape: [2, 9, 8, 5] })).toThrow(/output 9×8 does not fit input \[2, 4, 4, 3\].*maps 9×8 to 5×4/);
      expect(() => conv2dTranspose(x, w, { outputShape: [3, 6, 6, 5] })).toThrow(/batch 2 and the filter's 5 output channels/);
      expect(() => conv2dTranspose(x, w, { groups: 2 })).toThrow(/groups 2 does not divide the input's 3 channels/);
      expect(() => conv2dTranspose(x, w, { bias: rt.tensor([1, 2, 3], [3]) })).toThrow(/bias must have shape \[5\].*\[3\]/);
      expect(() => conv2dTranspose(x, w, { padding: 'full' as 'same' })).toThrow(/padding must be 'same', 'valid'/);
      expect(() => conv2dTranspose(x, w, { strides: 0 })).toThrow(/strides must be positive integers/);
      expect(() => conv2dTranspose(x, w, { padding: 3 })).toThrow(/leaves no output/);
    });
  });

  it('does not leak tensors', () => {
    const rt = testRuntime();
    const before = rt.memory().tensors;
    rt.scope(() => {
      const x = rt.tensor(rng.uniformArray(2 * 3 * 3 * 3), [2, 3, 3, 3]);
      const w = rt.tensor(rng.uniformArray(3 * 3 * 2 * 3), [3, 3, 2, 3]);
      conv2dTranspose(x, w, { strides: 2, padding: 'same', bias: rt.tensor([1, 2], [2]), activation: 'relu' });
    });
    expect(rt.memory().tensors).toBe(before);
  });
});
