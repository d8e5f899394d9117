/**
 * Reverse-mode automatic differentiation on the GPU.
 *
 * The API is one function: `valueAndGrad(f)` returns a function that, given named parameters (a
 * plain object of tensors or an array), runs `f` on them while a tape records every differentiable op
 * whose inputs depend on a parameter, then walks the tape backwards and returns the value of `f` and
 * the gradient of that value with respect to each parameter. Every step (forward, backward, gradient
 * accumulation) is a GPU kernel: nothing is read back to JavaScript.
 *
 * Differentiable ops are ordinary functions (see src/autodiff/grads/*.ts) that call a forward kernel
 * and then `recordOp()`: when no tape is active, or none of the inputs depends on a parameter, that is
 * a no-op, so the same network code runs for inference at no cost.
 *
 * Memory: the tape keeps every recorded op's output alive (out of any user scope) until the backward
 * pass is done, because backward kernels read them. Gradients are freed as soon as they are consumed;
 * when valueAndGrad returns, every intermediate it created is freed, leaving only the value and the
 * gradients (which the caller owns). See docs/autodiff.md.
 */
import type { Tensor } from '../runtime/tensor.js';
import type { Runtime } from '../runtime/runtime.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import { binary, unary } from '../kernels/elementwise.js';

/**
 * Backward function of one recorded op: given the gradient of the final value with respect to the
 * op's output (`dy`, same shape as the output), returns the gradient for each input, in input order,
 * or null where no gradient flows (integer labels, constants). `needsGrad[i]` says whether input i
 * depends on a parameter; a backward may skip (return null for) the others, e.g. the image input of
 * a first convolution. It must not dispose `dy`.
 */
export type BackwardFn = (dy: Tensor, needsGrad: readonly boolean[]) => readonly (Tensor | null)[];

export interface TapeNode {
  /** Op name, for error messages. */
  readonly op: string;
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  readonly backward: BackwardFn;
}

/** The record of one forward pass: the nodes in execution order and the tensors gradients flow to. */
export class Tape {
  readonly nodes: TapeNode[] = [];
  /** Parameters and every recorded op output (tensors whose gradient is wanted or flows through). */
  readonly tracked = new Set<Tensor>();
  /** Op outputs the tape keeps alive until backward is done. */
  readonly owned = new Set<Tensor>();

  constructor(readonly runtime: Runtime) {}

  watch(t: Tensor): void {
    this.tracked.add(t);
  }

  /** Frees every op output the tape kept, except `survivors`. */
  release(survivors: ReadonlySet<Tensor> = new Set()): void {
    for (const t of this.owned) if (!survivors.has(t)) t.dispose();
    this.owned.clear();
    this.nodes.length = 0;
    this.tracked.clear();
  }
}

const activeTapes: Tape[] = [];

/** The tape recording right now, if any (the innermost valueAndGrad). */
export function activeTape(): Tape | undefined {
  return activeTapes[activeTapes.length - 1];
}

/** Whether an op on these inputs would be recorded (a tape is active and one input is tracked). */
export function willRecord(inputs: readonly (Tensor | undefined | null)[]): boolean {
  const tape = activeTape();
  return !!tape && inputs.some((t) => !!t && tape.tracked.has(t));
}

/**
 * Records an op on the active tape when one of its inputs depends on a parameter. Returns `output`
 * so forward functions can end with `return recordOp(...)`. `saved` are intermediates that only the
 * backward function reads (e.g. a loss's normaliser): recordOp takes ownership of them — the tape
 * keeps them until backward is done, and when nothing is recorded they are freed right away.
 */
export function recordOp(op: string, inputs: readonly Tensor[], output: Tensor, backward: BackwardFn, saved: readonly Tensor[] = []): Tensor {
  const tape = activeTape();
  if (!tape || output.runtime !== tape.runtime || !inputs.some((t) => tape.tracked.has(t))) {
    for (const t of saved) t.dispose();
    return output;
  }
  for (const t of [output, ...saved]) {
    tape.runtime.keep(t);
    tape.owned.add(t);
  }
  tape.tracked.add(output);
  tape.nodes.push({ op, inputs: [...inputs], output, backward });
  return output;
}

export type Params = Readonly<Record<string, Tensor>> | readonly Tensor[];
export type GradsOf<P extends Params> = P extends readonly Tensor[] ? Tensor[] : Record<keyof P & string, Tensor>;

export interface ValueAndGrad<P extends Params> {
  /** The value of f (a new tensor the caller owns). */
  value: Tensor;
  /** d(seed · value)/d(param) for every parameter, same keys/order and shapes; the caller owns them. */
  grads: GradsOf<P>;
}

/**
 * `valueAndGrad(f)(params, seed?)`: runs f(params) on a fresh tape and returns its value and the
 * gradients with respect to every parameter. A scalar value is seeded with 1; a non-scalar value needs
 * a `seed` tensor of its shape (the vector of the vector-Jacobian product). Parameters f does not
 * depend on get zero gradients.
 *
 * f must be synchronous; tensors it creates are freed when this returns (except the value).
 */
export function valueAndGrad<P extends Params>(f: (params: P) => Tensor): (params: P, seed?: Tensor) => ValueAndGrad<P> {
  return (params: P, seed?: Tensor) => {
    const list: Tensor[] = Array.isArray(params) ? [...(params as readonly Tensor[])] : Object.values(params as Record<string, Tensor>);
    if (list.length === 0) throw new NbfError('valueAndGrad: no parameters given');
    const runtime = list[0].runtime;
    for (const p of list) {
      if (p.runtime !== runtime) throw new NbfError('valueAndGrad: the parameters live on different contexts');
      void p.texture; // throws DisposedError naming the tensor
    }
    const tape = new Tape(runtime);
    for (const p of list) tape.watch(p);
    return runtime.scope(() => {
      activeTapes.push(tape);
      let value: Tensor;
      try {
        value = f(params);
      } catch (e) {
        tape.release();
        throw e;
      } finally {
        activeTapes.splice(activeTapes.lastIndexOf(tape), 1);
      }
      try {
        const gradMap = backward(tape, value, seed, list);
        const valueOut = runtime.view(value, value.shape);
        const grads = list.map((p) => gradMap.get(p) ?? runtime.zeros(p.shape));
        const named = Array.isArray(params)
          ? grads
          : Object.fromEntries(Object.keys(params as Record<string, Tensor>).map((k, i) => [k, grads[i]]));
        return { value: valueOut, grads: named as GradsOf<P> };
      } finally {
        tape.release();
      }
    });
  };
}

/**
 * Walks the tape backwards from `value`. Returns the gradient of each wanted tensor; every other
 * gradient it made is freed on the way (a node's output gradient right after its backward ran).
 */
function backward(tape: Tape, value: Tensor, seed: Tensor | undefined, wanted: readonly Tensor[]): Map<Tensor, Tensor> {
  const rt = tape.runtime;
  if (seed) {
    if (!sameShape(seed.shape, value.shape)) {
      throw new ShapeError(`valueAndGrad: seed has shape [${seed.shape.join(', ')}] but the value has shape [${value.shape.join(', ')}]`);
    }
  } else if (value.size !== 1) {
    throw new ShapeError(`valueAndGrad: the value has shape [${value.shape.join(', ')}]; a non-scalar value needs a seed tensor of that shape`);
  }
  const grads = new Map<Tensor, Tensor>();
  if (!tape.tracked.has(value)) return grads; // f does not depend on the parameters
  // The seed is the caller's: work on a view of it so freeing gradients never frees the seed.
  grads.set(value, seed ? rt.view(seed, seed.shape) : rt.fill(value.shape, 1));
  const wantedSet = new Set(wanted);

  for (let n = tape.nodes.length - 1; n >= 0; n--) {
    const node = tape.nodes[n];
    const dy = grads.get(node.output);
    if (!dy) continue; // the value does not depend on this op
    grads.delete(node.output);
    const inputGrads = rt.scope(() => node.backward(dy, node.inputs.map((t) => tape.tracked.has(t))));
    if (inputGrads.length !== node.inputs.length) {
      throw new NbfError(`backward of ${node.op} returned ${inputGrads.length} gradients for ${node.inputs.length} inputs`);
    }
    // First give every gradient that aliases dy, an input, the output or another gradient its own
    // tensor object (a view: same texture, no copy), so each stored gradient can be freed on its own.
    const owned = new Set<Tensor>();
    const incoming: [Tensor, Tensor][] = [];
    inputGrads.forEach((g, i) => {
      const x = node.inputs[i];
      if (!g || !tape.tracked.has(x)) return;
      if (!sameShape(g.shape, x.shape)) {
        throw new ShapeError(`backward of ${node.op}: gradient for input ${i} has shape [${g.shape.join(', ')}], the input [${x.shape.join(', ')}]`);
      }
      if (g === dy || g === node.output || node.inputs.includes(g) || owned.has(g)) g = rt.view(g, g.shape);
      owned.add(g);
      incoming.push([x, g]);
    });
    // Gradients returned for inputs that lead to no parameter are not needed.
    for (const g of inputGrads) {
      if (g && !owned.has(g) && g !== dy && g !== node.output && !node.inputs.includes(g)) g.dispose();
    }
    for (const [x, g] of incoming) {
      const previous = grads.get(x);
      if (previous) {
        const sum = binary('add', previous, g);
        previous.dispose();
        g.dispose();
        grads.set(x, sum);
      } else {
        grads.set(x, g);
      }
    }
    dy.dispose();
  }
  for (const [t, g] of grads) if (!wantedSet.has(t)) g.dispose();
  return grads;
}

/**
 * Sums gradients over micro-batches on the GPU. `add()` takes ownership of the gradients it is given;
 * `take()` hands back the sums (or means) and starts over.
 */
export class GradientAccumulator {
  private sums = new Map<string, Tensor>();
  private batches = 0;

  /** Number of gradient sets added since the last take(). */
  get count(): number {
    return this.batches;
  }

  add(grads: Readonly<Record<string, Tensor>>): void {
    const names = Object.keys(grads);
    if (this.batches > 0) {
      const missing = [...this.sums.keys()].filter((k) => !(k in grads));
      const extra = names.filter((k) => !this.sums.has(k));
      if (missing.length || extra.length) {
        throw new NbfError(`GradientAccumulator.add: parameter names differ from the first batch (missing: ${missing.join(', ') || '-'}; new: ${extra.join(', ') || '-'})`);
      }
    }
    for (const name of names) {
      const g = grads[name];
      const previous = this.sums.get(name);
      if (!previous) {
        this.sums.set(name, g.runtime.keep(g));
        continue;
      }
      if (!sameShape(previous.shape, g.shape)) {
        throw new ShapeError(`GradientAccumulator.add: gradient "${name}" has shape [${g.shape.join(', ')}], earlier [${previous.shape.join(', ')}]`);
      }
      const sum = g.runtime.keep(binary('add', previous, g));
      previous.dispose();
      g.dispose();
      this.sums.set(name, sum);
    }
    this.batches++;
  }

  /** The accumulated gradients (mean over the batches when `average`), owned by the caller; resets. */
  take(options: { average?: boolean } = {}): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, g] of this.sums) {
      if (options.average && this.batches > 1) {
        const scaled = unary('mulScalar', g, 1 / this.batches);
        g.dispose();
        out[name] = scaled;
      } else {
        out[name] = g;
      }
    }
    this.sums = new Map();
    this.batches = 0;
    return out;
  }

  /** Frees the accumulated gradients. */
  dispose(): void {
    for (const g of this.sums.values()) g.dispose();
    this.sums = new Map();
    this.batches = 0;
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
