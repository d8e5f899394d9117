import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { ParamStore, fans, initialValues } from '../src/nn/params.js';
import { decodeParamFile, encodeParamFile, float32ToHalfBits, halfBitsToFloat32, ParamFormatError } from '../src/nn/param-format.js';
import { adam, sgd } from '../src/optim/optimizers.js';
import { saveCheckpoint, loadCheckpoint } from '../src/optim/checkpoint.js';
import { valueAndGrad } from '../src/autodiff/tape.js';
import * as ad from '../src/autodiff/grads/elementwise.js';
import { l2Loss } from '../src/autodiff/grads/losses.js';
import type { Tensor } from '../src/runtime/tensor.js';

function stats(a: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0, q = 0, min = Infinity, max = -Infinity;
  for (const v of a) { s += v; q += v * v; min = Math.min(min, v); max = Math.max(max, v); }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(q / a.length - mean * mean), min, max };
}

describe('initialisers', () => {
  it('follow their definitions (HWIO fans) and are deterministic for a seed', () => {
    expect(fans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(fans([2048, 226])).toEqual({ fanIn: 2048, fanOut: 226 });
    const he = stats(initialValues([3, 3, 16, 32], 'he', new Rng(1)));
    expect(Math.abs(he.mean)).toBeLessThan(0.01);
    expect(he.std / Math.sqrt(2 / 144)).toBeGreaterThan(0.95);
    expect(he.std / Math.sqrt(2 / 144)).toBeLessThan(1.05);
    const limit = Math.sqrt(6 / (144 + 288));
    const xv = stats(initialValues([3, 3, 16, 32], 'xavier', new Rng(2)));
    expect(xv.max).toBeLessThanOrEqual(limit);
    expect(xv.min).toBeGreaterThanOrEqual(-limit);
    expect(xv.std / (limit / Math.sqrt(3))).toBeGreaterThan(0.95);
    const nm = stats(initialValues([5000], { kind: 'normal', std: 0.01, mean: 1 }, new Rng(3)));
    expect(nm.mean).toBeCloseTo(1, 3);
    expect(nm.std).toBeCloseTo(0.01, 3);
    expect(Array.from(initialValues([4], 'zeros', new Rng(1)))).toEqual([0, 0, 0, 0]);
    expect(Array.from(initialValues([2], { kind: 'constant', value: 3 }, new Rng(1)))).toEqual([3, 3]);
    expect(initialValues([50], 'he', new Rng(9))).toEqual(initialValues([50], 'he', new Rng(9)));
    expect(() => initialValues([2], { kind: 'bogus' } as never, new Rng(1))).toThrow(/unknown initialiser/);
  });

  it('the store creates, names and replaces parameters, with clear errors', () => {
    const rt = testRuntime();
    const store = new ParamStore(rt, { seed: 4 });
    store.create('conv1/w', [3, 3, 3, 5], 'he');
    store.create('conv1/b', [5], 'zeros');
    expect(store.names()).toEqual(['conv1/w', 'conv1/b']);
    expect(store.countValues()).toBe(135 + 5);
    expect(() => store.create('conv1/b', [5], 'zeros')).toThrow(/already exists/);
    expect(() => store.get('fc/w')).toThrow(/no parameter named "fc\/w" \(have: conv1\/w, conv1\/b\)/);
    expect(() => store.set('conv1/b', rt.keep(rt.zeros([6])))).toThrow(/shape \[5\]; cannot set a \[6\]/);
    const live = rt.memory().liveTextures;
    store.set('conv1/b', rt.fill([5], 2));
    expect(rt.memory().liveTextures).toBe(live); // the old tensor was freed
    expect(Array.from(store.get('conv1/b').readSync())).toEqual([2, 2, 2, 2, 2]);
    store.dispose();
  });
});

describe('parameter files', () => {
  it('float16 conversion rounds to nearest even and keeps specials', () => {
    for (const [v, bits] of [[1, 0x3c00], [-2, 0xc000], [65504, 0x7bff], [1e6, 0x7c00], [2 ** -24, 0x0001], [2 ** -26, 0], [0.1, 0x2e66], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02]] as const) {
      expect(float32ToHalfBits(v)).toBe(bits);
    }
    expect(Number.isNaN(halfBitsToFloat32(float32ToHalfBits(NaN)))).toBe(true);
    expect(halfBitsToFloat32(0xfc00)).toBe(-Infinity);
    expect(halfBitsToFloat32(0x3555)).toBeCloseTo(0.33325, 5);
  });

  it('saves and loads float32 exactly and float16 within half precision', () => {
    const rt = testRuntime();
    const a = new ParamStore(rt, { seed: 1 });
    a.create('w', [7, 5], 'he');
    a.create('b', [5], { kind: 'normal', std: 1 });
    a.create('big', [33, 65], 'xavier');
    const file = a.save({ meta: { arch: 'test' } });
    const b = new ParamStore(rt);
    b.load(file);
    for (const n of a.names()) expect(Array.from(b.get(n).readSync())).toEqual(Array.from(a.get(n).readSync()));
    expect(decodeParamFile(file).meta).toEqual({ arch: 'test' });
    const half = a.save({ dtype: 'float16' });
    expect(half.length).toBeLessThan(file.length * 0.6);
    const c = new ParamStore(rt);
    c.load(half);
    for (const n of a.names()) expectTensorClose(c.get(n), a.get(n).readSync(), a.get(n).shape, 1e-3, 1e-2);
    for (const s of [a, b, c]) s.dispose();
  });

  it('a truncated, corrupted or mismatched file fails clearly and leaves live parameters untouched', () => {
    const rt = testRuntime();
    const store = new ParamStore(rt, { seed: 2 });
    store.create('w', [4, 3], 'he');
    store.create('b', [3], 'zeros');
    const before = store.get('w').readSync();
    const good = store.save();
    const other = new ParamStore(rt, { seed: 3 });
    other.create('w', [4, 3], 'he');
    other.create('b', [3], 'ones');
    const texturesBefore = rt.memory().liveTextures;
    const attempts: [Uint8Array, RegExp][] = [
      [good.subarray(0, good.length - 5), /truncated: \d+ bytes, expected \d+/],
      [good.subarray(0, 20), /truncated/],
      [Uint8Array.from([...good.subarray(0, 60), 0x20 ^ good[60], ...good.subarray(61)]), /SHA-256|JSON header/],
      [Uint8Array.from([...good.subarray(0, good.length - 1), good[good.length - 1] ^ 1]), /failed its SHA-256 check/],
      [Uint8Array.from([0x50, ...good.subarray(1)]), /not an nbf-gl parameter file/],
      [encodeParamFile([{ name: 'w', shape: [3, 4], data: new Float32Array(12) }, { name: 'b', shape: [3], data: new Float32Array(3) }]), /"w" has shape \[3, 4\] in the file but \[4, 3\] in the model/],
      [encodeParamFile([{ name: 'w', shape: [4, 3], data: new Float32Array(12) }]), /missing "b"/],
    ];
    for (const [bytes, message] of attempts) {
      expect(() => store.load(bytes, 'model.nbfp')).toThrow(ParamFormatError);
      expect(() => store.load(bytes, 'model.nbfp')).toThrow(message);
      expect(Array.from(store.get('w').readSync())).toEqual(Array.from(before));
    }
    expect(rt.memory().liveTextures).toBe(texturesBefore);
    store.load(other.save());
    expect(Array.from(store.get('b').readSync())).toEqual([1, 1, 1]);
    store.dispose();
    other.dispose();
  });
});

describe('checkpoints', () => {
  function makeRun(seed: number) {
    const rt = testRuntime();
    const store = new ParamStore(rt, { seed });
    store.create('w', [6, 5], 'he');
    store.create('b', [5], 'zeros');
    const opt = adam({ lr: 0.05, beta1: 0.5 });
    const data = new Rng(seed + 100);
    const step = valueAndGrad((p: Record<string, Tensor>) => {
      const x = rt.tensor(data.uniformArray(30), [6, 5]);
      const y = rt.tensor(data.uniformArray(30), [6, 5]);
      return l2Loss(ad.add(ad.mul(x, p.w), p.b), y);
    });
    const train = (n: number) => {
      for (let i = 0; i < n; i++) {
        rt.scope(() => {
          const { grads } = step(store.toRecord());
          opt.step(store, grads);
        });
      }
    };
    return { rt, store, opt, data, train };
  }

  it('resume continues exactly where the run left off (params, Adam state, step, RNG)', () => {
    const a = makeRun(11);
    a.train(3);
    const ckpt = saveCheckpoint({ params: a.store, optimizer: a.opt, step: 3, rngs: { data: a.data }, extra: { epoch: 1 } });
    a.train(3);
    const b = makeRun(999); // different init and data stream: everything must come from the checkpoint
    const restored = loadCheckpoint(ckpt, { params: b.store, optimizer: b.opt, rngs: { data: b.data } });
    expect(restored).toEqual({ step: 3, extra: { epoch: 1 } });
    expect(b.opt.stepCount).toBe(3);
    b.train(3);
    for (const n of ['w', 'b']) expect(Array.from(b.store.get(n).readSync())).toEqual(Array.from(a.store.get(n).readSync()));
    expect(b.data.getState()).toBe(a.data.getState());
    for (const r of [a, b]) { r.opt.dispose(); r.store.dispose(); }
  });

  it('refuses a checkpoint of another optimizer or model, changing nothing', () => {
    const a = makeRun(1);
    a.train(1);
    const ckpt = saveCheckpoint({ params: a.store, optimizer: a.opt, step: 1 });
    const rt = a.rt;
    const wrongOpt = sgd({ lr: 0.1, momentum: 0.9 });
    const before = a.store.get('w').readSync();
    expect(() => loadCheckpoint(ckpt, { params: a.store, optimizer: wrongOpt })).toThrow(/written by a adam optimizer; resuming with sgd/);
    const otherModel = new ParamStore(rt);
    otherModel.create('w', [6, 5], 'he');
    const otherOpt = adam({ lr: 0.05, beta1: 0.5 });
    expect(() => loadCheckpoint(ckpt, { params: otherModel, optimizer: otherOpt })).toThrow(/unknown "b"/);
    expect(otherOpt.stepCount).toBe(0);
    expect(() => loadCheckpoint(ckpt, { params: a.store, optimizer: adam({ lr: 0.05, beta1: 0.9 }) })).toThrow(/beta1 was 0.5 when saved, 0.9 now/);
    expect(() => loadCheckpoint(a.store.save(), { params: a.store, optimizer: a.opt })).toThrow(/not a checkpoint/);
    expect(Array.from(a.store.get('w').readSync())).toEqual(Array.from(before));
    for (const o of [wrongOpt, otherOpt, a.opt]) o.dispose();
    otherModel.dispose();
    a.store.dispose();
  });
});
