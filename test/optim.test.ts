import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { ParamStore } from '../src/nn/params.js';
import { sgd, adam, adamw, type Optimizer } from '../src/optim/optimizers.js';
import { sgdStepRef, adamStepRef } from '../src/optim/optimizers.ref.js';
import { constantSchedule, stepSchedule, polynomialSchedule, cosineSchedule } from '../src/optim/schedules.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(77);
const SHAPES: Record<string, number[]> = { a: [7, 5], b: [3], c: [2, 3, 13], d: [40, 70] }; // d: 2800 values, wraps rows

function setup(seed: number) {
  const rt = testRuntime();
  const store = new ParamStore(rt, { seed });
  for (const [name, shape] of Object.entries(SHAPES)) store.create(name, shape, { kind: 'normal', std: 1 });
  return { rt, store };
}

function randomGrads(): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(SHAPES).map(([n, s]) => [n, rng.uniformArray(s.reduce((p, d) => p * d, 1), -2, 2)]));
}

/** Runs 3 GPU steps and the float64 reference side by side; compares parameters and state. */
function compareSteps(make: () => Optimizer, refStep: (w: Float64Array, g: Float32Array, state: Record<string, Float64Array>, step: number, lr: number) => Float64Array) {
  const { rt, store } = setup(5);
  const opt = make();
  const cpu: Record<string, Float64Array> = Object.fromEntries(store.names().map((n) => [n, Float64Array.from(store.get(n).readSync())]));
  const cpuState: Record<string, Record<string, Float64Array>> = Object.fromEntries(store.names().map((n) => [n, {}]));
  for (let step = 1; step <= 3; step++) {
    const lr = opt.learningRate();
    const grads = randomGrads();
    rt.scope(() => {
      const gpuGrads = Object.fromEntries(Object.entries(grads).map(([n, g]) => [n, rt.tensor(g, SHAPES[n])]));
      opt.step(store, gpuGrads);
    });
    for (const n of store.names()) cpu[n] = refStep(cpu[n], grads[n], cpuState[n], step, lr);
  }
  expect(opt.stepCount).toBe(3);
  for (const n of store.names()) expectTensorClose(store.get(n), cpu[n], SHAPES[n], 1e-5);
  const state = opt.stateTensors();
  for (const [key, t] of Object.entries(state)) {
    const [slot, name] = key.split('/');
    expectTensorClose(t, cpuState[name][slot], SHAPES[name], 1e-5);
  }
  opt.dispose();
  store.dispose();
}

describe('optimizer steps match the CPU reference of the update rule', () => {
  for (const o of [
    { momentum: 0, nesterov: false, weightDecay: 0 },
    { momentum: 0, nesterov: false, weightDecay: 0.01 },
    { momentum: 0.9, nesterov: false, weightDecay: 0 },
    { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  ]) {
    it(`SGD momentum ${o.momentum}${o.nesterov ? ' Nesterov' : ''} decay ${o.weightDecay}`, () => {
      const schedule = stepSchedule({ lr: 0.1, every: 2, factor: 0.5 });
      compareSteps(() => sgd({ lr: schedule, ...o }), (w, g, state, _step, lr) => {
        const r = sgdStepRef(w, g, state.velocity ?? null, { lr, ...o });
        if (o.momentum > 0) state.velocity = r.velocity;
        return r.w;
      });
    });
  }
  for (const decoupled of [false, true]) {
    it(`${decoupled ? 'AdamW' : 'Adam'} (β1 0.5 as NBF, weight decay, polynomial schedule)`, () => {
      const schedule = polynomialSchedule({ lr: 4e-2, totalSteps: 10, power: 0.9 });
      const o = { beta1: 0.5, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.05 };
      compareSteps(() => (decoupled ? adamw : adam)({ lr: schedule, ...o }), (w, g, state, step, lr) => {
        const r = adamStepRef(w, g, state.m ?? new Float64Array(w.length), state.v ?? new Float64Array(w.length), step, { lr, ...o, decoupled });
        state.m = r.m;
        state.v = r.v;
        return r.w;
      });
    });
  }

  it('rejects gradients for unknown parameters or of the wrong shape, and bad settings', () => {
    const { rt, store } = setup(1);
    const opt = adam({ lr: 1e-3 });
    rt.scope(() => {
      expect(() => opt.step(store, { nope: rt.zeros([3]) })).toThrow(/"nope", which is not a parameter/);
      expect(() => opt.step(store, { b: rt.zeros([4]) })).toThrow(ShapeError);
    });
    expect(() => sgd({ lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum needs momentum > 0/);
    expect(() => adam({ lr: 0.1, beta1: 1 })).toThrow(/beta1 must be in \[0, 1\)/);
    opt.dispose();
    store.dispose();
  });
});

describe('learning-rate schedules', () => {
  it('constant, step, polynomial (power 0.9) and cosine with warm-up', () => {
    expect(constantSchedule(0.3)(1000)).toBe(0.3);
    const step = stepSchedule({ lr: 1, every: 10, factor: 0.1 });
    expect([step(0), step(9), step(10), step(25)]).toEqual([1, 1, 0.1, 1 * 0.1 ** 2]);
    const poly = polynomialSchedule({ lr: 4e-5, totalSteps: 100, power: 0.9 });
    expect(poly(0)).toBe(4e-5);
    expect(poly(50)).toBeCloseTo(4e-5 * 0.5 ** 0.9, 15);
    expect(poly(100)).toBe(0);
    expect(poly(150)).toBe(0);
    const cos = cosineSchedule({ lr: 1, totalSteps: 110, warmupSteps: 10, minLr: 0.1 });
    expect(cos(0)).toBeCloseTo(0.1, 12);
    expect(cos(9)).toBeCloseTo(1, 12);
    expect(cos(10)).toBeCloseTo(1, 12);
    expect(cos(60)).toBeCloseTo(0.55, 12);
    expect(cos(110)).toBeCloseTo(0.1, 12);
    expect(cos(500)).toBeCloseTo(0.1, 12);
    expect(() => cosineSchedule({ lr: 1, totalSteps: 10, warmupSteps: 10 })).toThrow(/warmupSteps/);
  });
});
