import { describe, expect, it } from 'vitest';
import { testRuntime } from './helpers/gl.js';
import { expectTensorClose, ODD_SHAPES } from './helpers/compare.js';
import { Rng } from '../src/util/random.js';
import { binary, unary, UNARY_OPS, BINARY_OPS, type UnaryOp, type BinaryOp } from '../src/kernels/elementwise.js';
import { binaryRef, unaryRef } from '../src/kernels/elementwise.ref.js';
import { ShapeError } from '../src/runtime/errors.js';

const rng = new Rng(1234);

function inputFor(op: UnaryOp | BinaryOp, n: number): Float32Array {
  // Domains where the op is defined; near-zero values avoided for division and log.
  if (op === 'log' || op === 'sqrt' || op === 'rdivScalar') return rng.uniformArray(n, 0.05, 4);
  if (op === 'exp') return rng.uniformArray(n, -8, 8);
  return rng.uniformArray(n, -3, 3);
}

describe('unary kernels', () => {
  const params: Partial<Record<UnaryOp, [number, number]>> = {
    leakyRelu: [0.2, 0], elu: [1.3, 0], clamp: [-0.5, 0.7], addScalar: [1.5, 0], subScalar: [0.25, 0],
    rsubScalar: [2, 0], mulScalar: [-1.75, 0], divScalar: [3, 0], rdivScalar: [2, 0], powScalar: [3, 0],
    maxScalar: [0.1, 0], minScalar: [-0.1, 0],
  };
  for (const op of Object.keys(UNARY_OPS) as UnaryOp[]) {
    it(`${op} matches the CPU reference on odd shapes`, () => {
      const rt = testRuntime();
      for (const shape of ODD_SHAPES) {
        const n = shape.reduce((a, b) => a * b, 1);
        const x = inputFor(op, n);
        const [alpha, beta] = params[op] ?? [0, 0];
        rt.scope(() => {
          const out = unary(op, rt.tensor(x, shape), alpha, beta);
          expectTensorClose(out, unaryRef(op, x, alpha, beta), shape);
        });
      }
    });
  }

  it('sigmoid and tanh stay finite for large inputs', () => {
    const rt = testRuntime();
    const x = [-200, -90, 90, 200];
    rt.scope(() => {
      expectTensorClose(unary('sigmoid', rt.tensor(x, [4])), unaryRef('sigmoid', x), [4]);
      expectTensorClose(unary('tanh', rt.tensor(x, [4])), unaryRef('tanh', x), [4]);
    });
  });
});

describe('binary kernels with broadcasting', () => {
  const pairs: [number[], number[]][] = [
    [[7, 5], [7, 5]],
    [[2, 3, 5], [5]],
    [[2, 3, 5], [3, 1]],
    [[3, 1, 6], [1, 4, 6]],
    [[2, 5, 3, 13], [2, 1, 1, 13]],
    [[1], [3, 7, 9, 6]],
    [[4, 1], [1, 9]],
    [[2, 2, 3, 5, 6], [2, 1, 3, 1, 1]],
  ];
  for (const op of Object.keys(BINARY_OPS) as BinaryOp[]) {
    it(`${op} matches the CPU reference`, () => {
      const rt = testRuntime();
      for (const [sa, sb] of pairs) {
        const a = op === 'pow' ? rng.uniformArray(sa.reduce((p, d) => p * d, 1), 0.1, 3) : inputFor(op, sa.reduce((p, d) => p * d, 1));
        const b = op === 'div' ? rng.uniformArray(sb.reduce((p, d) => p * d, 1), 0.5, 3) : inputFor(op, sb.reduce((p, d) => p * d, 1));
        const ref = binaryRef(op, a, sa, b, sb);
        rt.scope(() => expectTensorClose(binary(op, rt.tensor(a, sa), rt.tensor(b, sb)), ref.data, ref.shape));
      }
    });
  }

  it('pow follows numpy for negative bases', () => {
    const rt = testRuntime();
    const a = [-2, -2, -2, 0, 3];
    const b = [2, 3, 0.5, 0, -1];
    rt.scope(() => expectTensorClose(binary('pow', rt.tensor(a, [5]), rt.tensor(b, [5])), binaryRef('pow', a, [5], b, [5]).data, [5]));
  });

  it('rejects shapes that do not broadcast, naming both', () => {
    const rt = testRuntime();
    rt.scope(() => {
      expect(() => binary('add', rt.tensor(new Float32Array(6), [2, 3]), rt.tensor(new Float32Array(8), [2, 4]))).toThrow(ShapeError);
      expect(() => binary('add', rt.tensor(new Float32Array(6), [2, 3]), rt.tensor(new Float32Array(8), [2, 4]))).toThrow(/\[2, 3\] and \[2, 4\]/);
    });
  });
});
