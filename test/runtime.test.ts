import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { testRuntime } from './helpers/gl.js';
import { DisposedError, ShapeError, ShaderError } from '../src/runtime/errors.js';
import { packChannels, unpackChannels, textureDims, sizeClass, packedGeometry, MIN_TEXTURE_WIDTH, WIDE_FROM_TEXELS } from '../src/runtime/layout.js';
import { relu, add, mulScalar, sigmoid } from '../src/kernels/elementwise.js';
import { Rng } from '../src/util/random.js';
import { SHADERS } from '../src/generated/shaders.js';
import { expectTensorClose } from './helpers/compare.js';

describe('layout', () => {
  it('packs channels four to a texel with zero padding and unpacks back', () => {
    const data = Float32Array.from({ length: 2 * 3 * 6 }, (_, i) => i + 1);
    const packed = packChannels(data, [2, 3, 6]);
    expect(packed.length).toBe(6 * 2 * 4);
    expect(Array.from(packed.subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 6, 0, 0]);
    expect(Array.from(unpackChannels(packed, [2, 3, 6]))).toEqual(Array.from(data));
  });
  it('chooses power-of-two widths and size classes that cover the request', () => {
    for (const n of [1, 5, 4097, 123457, 1 << 20]) {
      const { width, height } = textureDims(sizeClass(n), 16384);
      expect(width * height).toBeGreaterThanOrEqual(n);
      expect(sizeClass(n)).toBeLessThanOrEqual(Math.max(2 * n, n * 1.125 + 8));
    }
    expect(packedGeometry([]).texels).toBe(1);
  });
});

describe('texture height', () => {
  it('is never a power of two (llvmpipe compiles a program again for each mix of power-of-two and other sizes)', () => {
    const isPowerOfTwo = (n: number) => (n & (n - 1)) === 0;
    for (let texels = 1; texels < 70_000; texels = Math.ceil(texels * 1.07) + 1) {
      const { width, height } = textureDims(sizeClass(texels), 16384);
      expect(isPowerOfTwo(width), `width for ${texels}`).toBe(true);
      expect(isPowerOfTwo(height), `height for ${texels} texels: ${height}`).toBe(false);
      // One row more at most (3 rows for a 1-row texture).
      expect(width * height).toBeLessThanOrEqual(sizeClass(texels) + 2 * width);
    }
  });
});

describe('texture width', () => {
  it('textures past WIDE_FROM_TEXELS span at least two 64-texel llvmpipe tiles; small ones stay square-ish and wrap', () => {
    for (const texels of [WIDE_FROM_TEXELS + 1, 2304, 4096]) {
      const { width, height } = textureDims(sizeClass(texels), 16384);
      expect(width).toBeGreaterThanOrEqual(MIN_TEXTURE_WIDTH);
      expect(width * height).toBeGreaterThanOrEqual(texels);
    }
    expect(textureDims(sizeClass(100), 16384)).toEqual({ width: 16, height: 9 });
    expect(textureDims(1, 16384)).toEqual({ width: 1, height: 3 });
    // A context whose textures are narrower than MIN_TEXTURE_WIDTH still gets a legal width.
    expect(textureDims(2304, 64)).toEqual({ width: 64, height: 36 });
  });
});

describe('runtime', () => {
  it('round-trips data through upload and download, wrapping past a texture row', () => {
    const rt = testRuntime();
    const rng = new Rng(7);
    for (const shape of [[1], [5], [3, 7, 9, 6], [2, 33, 17, 5]]) {
      const data = rng.uniformArray(shape.reduce((a, b) => a * b, 1));
      const t = rt.tensor(data, shape);
      expect(t.texture.width).toBeLessThan(t.geometry.texels + 1);
      expect(Array.from(t.readSync())).toEqual(Array.from(data));
      t.dispose();
    }
  });

  it('reads asynchronously after a fence', async () => {
    const rt = testRuntime();
    const t = rt.tensor([1, 2, 3], [3]);
    expect(Array.from(await t.read())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('poisons outputs: a kernel that leaves texels unwritten is caught', () => {
    const rt = testRuntime();
    // A test-only kernel that writes even texels only (discard leaves the rest untouched).
    SHADERS['test/even-only'] = `#define CUSTOM_MAIN
void main() { int t = outputTexelIndex(); if (t % 2 == 1) discard; outColor = vec4(1.0); }`;
    const out = rt.run({ kernel: 'test/even-only', outShape: [6, 4] });
    const values = out.readSync();
    expect(Array.from(values.subarray(0, 4))).toEqual([1, 1, 1, 1]);
    expect(Array.from(values.subarray(4, 8)).every(Number.isNaN)).toBe(true);
    expect(() => expectTensorClose(out, new Float32Array(24).fill(1), [6, 4])).toThrow(/error Infinity/);
    out.dispose();
  });

  it('rejects bad shapes, data and names with clear errors', () => {
    const rt = testRuntime();
    expect(() => rt.tensor([1, 2, 3], [2, 2])).toThrow(/3 values but shape \[2, 2\] needs 4/);
    expect(() => rt.tensor([1, 2], [2, 0])).toThrow(ShapeError);
    expect(() => rt.tensor([1, 2], [1.5])).toThrow(/positive integers/);
    expect(() => rt.tensor(['a', 'b'] as unknown as number[], [2])).toThrow(/element 0 is string/);
    expect(() => rt.tensor(new BigInt64Array(2) as unknown as number[], [2])).toThrow(/BigInt64Array/);
    expect(() => rt.run({ kernel: 'no-such-kernel', outShape: [1] })).toThrow(ShaderError);
    expect(() => rt.run({ kernel: 'copy', outShape: [1] })).toThrow(/needs an input named "X"/);
    const t = rt.tensor([1], [1]);
    t.dispose();
    expect(() => relu(t)).toThrow(DisposedError);
  });

  it('scopes free intermediates: 1000 mixed kernel calls leave memory where it started', () => {
    const rt = testRuntime();
    const x = rt.keep(rt.tensor(new Rng(3).uniformArray(7 * 9 * 5), [7, 9, 5]));
    const before = rt.memory();
    for (let i = 0; i < 250; i++) {
      rt.scope(() => {
        const a = relu(x);
        const b = add(a, x);
        const c = mulScalar(b, 0.5);
        return sigmoid(c);
      }).dispose();
    }
    const after = rt.memory();
    expect(after.liveTextures).toBe(before.liveTextures);
    expect(after.liveBytes).toBe(before.liveBytes);
    expect(after.tensors).toBe(before.tensors);
    x.dispose();
  });

  it('the pool keeps released textures under its budget and frees beyond it', () => {
    const rt = testRuntime();
    const budget = rt.pool.budgetBytes;
    rt.pool.budgetBytes = 1 << 20;
    const ts = Array.from({ length: 8 }, () => rt.zeros([256, 256]));
    ts.forEach((t) => t.dispose());
    expect(rt.memory().pooledBytes).toBeLessThanOrEqual(1 << 20);
    rt.pool.budgetBytes = budget;
  });

  it('a reshaped view shares storage and keeps it alive until both are disposed', () => {
    const rt = testRuntime();
    const t = rt.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
    const live = rt.memory().liveTextures;
    const v = rt.view(t, [1, 2, 3]);
    expect(rt.memory().liveTextures).toBe(live);
    t.dispose();
    expect(Array.from(v.readSync())).toEqual([1, 2, 3, 4, 5, 6]);
    v.dispose();
    expect(rt.memory().liveTextures).toBe(live - 1);
    expect(() => rt.view(rt.tensor([1, 2], [2]), [1, 2, 1])).toThrow(/reshape\(\)/);
  });

  it('compiles one program per kernel variant, whatever the shapes; warmup() compiles ahead', () => {
    const rt = testRuntime();
    rt.warmup([{ kernel: 'binary', defines: { OP: 0, BROADCAST: 1 } }]);
    const programs = rt.memory().programs;
    for (const [sa, sb] of [[[3, 5], [5]], [[2, 7, 9], [1, 9]], [[4, 1, 6], [3, 6]]]) {
      rt.scope(() => add(rt.tensor(new Float32Array(sa.reduce((p, d) => p * d, 1)), sa), rt.tensor(new Float32Array(sb.reduce((p, d) => p * d, 1)), sb)));
    }
    expect(rt.memory().programs).toBe(programs);
  });

  it('without an X display, context creation fails with advice instead of a null context', () => {
    const script = `import('./src/runtime/node-context.ts').then(m => { try { m.createNodeContext(); console.log('created'); } catch (e) { console.log(e.name + ': ' + e.message); } })`;
    const env = { ...process.env };
    delete env.DISPLAY;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { env, encoding: 'utf8' });
    expect(out).toMatch(/ContextError: no X display.*xvfb-run -a/);
  });

  it('runs kernels with several outputs (one draw per output, as headless-gl lacks multiple draw buffers)', () => {
    const rt = testRuntime();
    SHADERS['test/two-outputs'] = `#define CUSTOM_MAIN
uniform sampler2D X;
void main() {
  int t = outputTexelIndex();
  vec4 x = fetchTexel(X, t);
  outColor = x * 2.0;
  outColor1 = x + 10.0;
}`;
    const x = rt.tensor([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const [a, b] = rt.runMulti({ kernel: 'test/two-outputs', inputs: { X: x }, outShapes: [[2, 4], [1, 2, 4]] });
    expect(Array.from(a.readSync())).toEqual([2, 4, 6, 8, 10, 12, 14, 16]);
    expect(b.shape).toEqual([1, 2, 4]);
    expect(Array.from(b.readSync())).toEqual([11, 12, 13, 14, 15, 16, 17, 18]);
    expect(() => rt.runMulti({ kernel: 'test/two-outputs', inputs: { X: x }, outShapes: [[2, 4], [3]] })).toThrow(/equal texel counts/);
    [x, a, b].forEach((t) => t.dispose());
  });
});
