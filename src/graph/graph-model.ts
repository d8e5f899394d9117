/**
 * Runs a TensorFlow.js graph model on this runtime's kernels — no TensorFlow.js at run time.
 *
 * Loading parses model.json, decodes the weights (model-file.ts) and checks that every node the
 * signature's outputs need has a supported op (ops.ts), so an unsupported model fails at load with
 * the node and op named, not halfway through a picture. A plan per set of requested outputs is made
 * once and reused: the needed nodes in dependency order and, for every intermediate, the step after
 * which nothing reads it, so its texture returns to the pool at once (peak memory ≈ the widest layer,
 * not the whole network). Constants are uploaded on first use and kept until dispose().
 *
 * The plan also fuses what the converter left as separate nodes (fusePlan; `{ fuse: false }` keeps
 * the graph as written, for tests and benchmarks): a zero Pad of H and W read only by a VALID
 * convolution becomes that convolution's own padding, and an Add of a convolution's result (read by
 * nothing else, its own epilogue at most a bias) and another tensor — with a Relu or Relu6 after it
 * when nothing else reads the sum — runs as the convolution's residual and activation (conv2d's
 * `residual`): one pass instead of three. MobileNet-style graphs (BlazePose) end every residual block
 * this way.
 */
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../runtime/tensor.js';
import { NbfError } from '../runtime/errors.js';
import { Attrs, decodeWeights, GraphModelError, parseModelJson, type GraphModelJson, type HostTensor, type NodeDef } from './model-file.js';
import { CONV_OPS, isHost, OPS, type ConvFusion, type OpContext, type Value } from './ops.js';

interface PlanStep {
  node: NodeDef;
  attrs: Attrs;
  /** Indices into the step list of the values this node reads (in input order). */
  inputs: number[];
  /** Values (step indices) whose last reader is this step: freed after it runs. */
  frees: number[];
  /** A convolution with nodes fused into it (fusePlan): it runs at this step, whose value it gives. */
  fusion?: ConvFusion;
  /** Folded into a later step (fusePlan): runs nothing and has no value. */
  skip?: boolean;
}

export interface GraphModelOptions {
  /** Fuse Pad → convolution and convolution → Add (→ Relu/Relu6) (default true). */
  fuse?: boolean;
}

/** What the plan of a set of outputs runs (tests, benchmarks). */
export interface PlanSummary {
  /** Op nodes run (Const and Placeholder not counted). */
  ops: number;
  /** Pads folded into a convolution's padding. */
  fusedPads: number;
  /** Adds run as a convolution's residual. */
  fusedAdds: number;
  /** Relu/Relu6 after such an Add run as the convolution's activation. */
  fusedActivations: number;
}

interface Plan {
  steps: PlanStep[];
  /** Requested output name → step index. */
  outputs: Map<string, number>;
}

export interface GraphInputInfo {
  name: string;
  /** The declared shape; -1 for a dimension the model leaves free (usually the batch). */
  shape: number[];
}

export class GraphModel {
  readonly source: string;
  readonly inputs: GraphInputInfo[];
  /** Output names: the signature's keys (e.g. "ld_3d"), or the sink nodes' names without a signature. */
  readonly outputNames: string[];
  private readonly nodes = new Map<string, NodeDef>();
  private readonly outputNodes = new Map<string, string>();
  private readonly weights: Map<string, HostTensor>;
  private readonly weightValues: Set<HostTensor>;
  private readonly uploaded = new Map<HostTensor, Map<string, Tensor>>();
  private readonly plans = new Map<string, Plan>();
  private readonly fuse: boolean;
  private disposed = false;

  /** From model.json's content (text or parsed) and the weight shards' bytes in manifest order. */
  constructor(readonly runtime: Runtime, json: string | object, shards: readonly Uint8Array[], source = 'model.json', options: GraphModelOptions = {}) {
    this.source = source;
    this.fuse = options.fuse ?? true;
    const model: GraphModelJson = parseModelJson(json, source);
    this.weights = decodeWeights(model, shards, source);
    this.weightValues = new Set(this.weights.values());
    for (const node of model.modelTopology.node) {
      if (this.nodes.has(node.name)) throw new GraphModelError(`${source}: two nodes are named "${node.name}"`);
      this.nodes.set(node.name, node);
    }
    const placeholders = model.modelTopology.node.filter((n) => n.op === 'Placeholder');
    this.inputs = placeholders.map((n) => ({ name: n.name, shape: (n.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size)) }));
    const signatureOutputs = model.signature?.outputs;
    if (signatureOutputs && Object.keys(signatureOutputs).length) {
      for (const [key, info] of Object.entries(signatureOutputs)) this.outputNodes.set(key, stripOutputIndex(info.name, source));
    } else {
      const read = new Set(model.modelTopology.node.flatMap((n) => (n.input ?? []).map((i) => stripOutputIndex(i.replace(/^\^/, ''), source))));
      for (const n of model.modelTopology.node) if (!read.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp') this.outputNodes.set(n.name, n.name);
    }
    this.outputNames = [...this.outputNodes.keys()];
    for (const [key, nodeName] of this.outputNodes) {
      if (!this.nodes.has(nodeName)) throw new GraphModelError(`${source}: the signature's output "${key}" names node "${nodeName}", which is not in the graph`);
    }
    this.plan(this.outputNames); // checks every op the outputs need, now rather than mid-run
  }

  /**
   * Runs the graph. `feeds` maps input names to tensors (a single tensor for a one-input model);
   * returns the requested outputs (default all), which the caller owns. The feeds are not consumed.
   */
  execute(feeds: Record<string, Tensor> | Tensor, outputs: readonly string[] = this.outputNames): Record<string, Tensor> {
    if (this.disposed) throw new NbfError(`${this.source}: the model was disposed`);
    const feedMap = feeds instanceof Tensor ? this.singleFeed(feeds) : feeds;
    const plan = this.plan(outputs);
    const rt = this.runtime;
    const values: (Value | undefined)[] = new Array(plan.steps.length);
    const owned = new Set<Tensor>();
    const keep = new Set(plan.outputs.values());
    try {
      for (let i = 0; i < plan.steps.length; i++) {
        const step = plan.steps[i];
        if (step.skip) continue;
        const node = step.node;
        let value: Value;
        if (node.op === 'Placeholder') {
          const feed = feedMap[node.name];
          if (!(feed instanceof Tensor)) throw new GraphModelError(`${this.source}: no tensor given for input "${node.name}" (inputs: ${this.inputs.map((x) => x.name).join(', ')})`);
          this.checkFeed(node.name, feed);
          value = feed;
        } else if (node.op === 'Const') {
          value = this.constant(node);
        } else {
          const inputs = step.inputs.map((k) => values[k]!);
          const ctx = this.context(step);
          try {
            value = rt.scope(() => OPS[node.op](ctx, inputs));
          } catch (e) {
            if (e instanceof GraphModelError) throw e;
            const shapes = inputs.map((v) => `[${v.shape.join(', ')}]`).join(', ');
            throw new GraphModelError(`${this.source}: node "${node.name}" (${node.op}) on inputs ${shapes}: ${(e as Error).message}`);
          }
          if (!isHost(value)) owned.add(value);
        }
        values[i] = value;
        for (const k of step.frees) {
          if (keep.has(k)) continue; // a requested output that later nodes also read
          const v = values[k];
          if (v && !isHost(v) && owned.has(v)) {
            v.dispose();
            owned.delete(v);
          }
          values[k] = undefined;
        }
      }
      const result: Record<string, Tensor> = {};
      for (const [name, k] of plan.outputs) {
        const v = values[k]!;
        if (isHost(v)) {
          result[name] = rt.tensor(v.data, v.shape.length ? v.shape : [1]);
        } else if (owned.has(v)) {
          result[name] = v;
          owned.delete(v);
        } else {
          result[name] = rt.view(v, v.shape); // an input or constant passed through: give the caller its own handle
        }
      }
      return result;
    } finally {
      for (const t of owned) t.dispose();
    }
  }

  /** Frees the uploaded constants; the model cannot run afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const byShape of this.uploaded.values()) for (const t of byShape.values()) if (!t.isDisposed) t.dispose();
    this.uploaded.clear();
    this.plans.clear();
  }

  /** What the plan for `outputs` (default all) runs: op count and fusions (tests, benchmarks). */
  planSummary(outputs: readonly string[] = this.outputNames): PlanSummary {
    const steps = this.plan(outputs).steps.filter((s) => !s.skip && s.node.op !== 'Const' && s.node.op !== 'Placeholder');
    return {
      ops: steps.length,
      fusedPads: steps.filter((s) => s.fusion?.padding).length,
      fusedAdds: steps.filter((s) => s.fusion?.residual).length,
      fusedActivations: steps.filter((s) => s.fusion?.activation).length,
    };
  }

  /** Texture count the model's constants hold (tests, memory reports). */
  get constantTensors(): number {
    let n = 0;
    for (const m of this.uploaded.values()) n += m.size;
    return n;
  }

  private singleFeed(t: Tensor): Record<string, Tensor> {
    if (this.inputs.length !== 1) throw new GraphModelError(`${this.source}: the model has ${this.inputs.length} inputs (${this.inputs.map((x) => x.name).join(', ')}); pass them by name`);
    return { [this.inputs[0].name]: t };
  }

  private checkFeed(name: string, t: Tensor): void {
    const declared = this.inputs.find((x) => x.name === name)?.shape ?? [];
    const ok = declared.length === 0 || (declared.length === t.rank && declared.every((d, i) => d < 0 || d === t.shape[i]));
    if (!ok) throw new GraphModelError(`${this.source}: input "${name}" must have shape [${declared.map((d) => (d < 0 ? '?' : d)).join(', ')}], got [${t.shape.join(', ')}]`);
  }

  private constant(node: NodeDef): HostTensor {
    const w = this.weights.get(node.name);
    if (w) return w;
    throw new GraphModelError(`${this.source}: constant node "${node.name}" has no weight in the manifest`);
  }

  private context(step: PlanStep): OpContext {
    return {
      rt: this.runtime,
      node: step.node,
      attrs: step.attrs,
      fusion: step.fusion,
      gpu: (v, shape) => this.gpu(v, shape),
    };
  }

  /** A host value as a GPU tensor: weights are uploaded once (per shape view) and cached; others are temporaries. */
  private gpu(v: Value, shape?: readonly number[]): Tensor {
    if (!isHost(v)) return shape && shape.join() !== v.shape.join() ? this.runtime.view(v, shape) : v;
    const s = shape ? [...shape] : v.shape.length ? v.shape : [1];
    if (!this.weightValues.has(v)) return this.runtime.tensor(v.data, s);
    let byShape = this.uploaded.get(v);
    if (!byShape) this.uploaded.set(v, (byShape = new Map()));
    const key = s.join(',');
    let t = byShape.get(key);
    if (!t || t.isDisposed) {
      t = this.runtime.keep(this.runtime.tensor(v.data, s));
      byShape.set(key, t);
    }
    return t;
  }

  private plan(outputs: readonly string[]): Plan {
    const key = outputs.join('\u0000');
    const cached = this.plans.get(key);
    if (cached) return cached;
    const order: string[] = [];
    const index = new Map<string, number>();
    const visiting = new Set<string>();
    const visit = (name: string, from: string) => {
      if (index.has(name)) return;
      const node = this.nodes.get(name);
      if (!node) throw new GraphModelError(`${this.source}: node "${from}" reads "${name}", which is not in the graph`);
      if (visiting.has(name)) throw new GraphModelError(`${this.source}: the graph has a cycle through node "${name}"`);
      visiting.add(name);
      if (node.op !== 'Const' && node.op !== 'Placeholder' && !OPS[node.op]) {
        throw new GraphModelError(`${this.source}: node "${name}" uses op ${node.op}, which this runtime does not support (supported: ${Object.keys(OPS).sort().join(', ')})`);
      }
      // Iterative over inputs, recursive over depth: graph depth is a few hundred nodes at most.
      for (const input of node.input ?? []) {
        if (input.startsWith('^')) continue; // control dependency: no data
        visit(stripOutputIndex(input, this.source), name);
      }
      visiting.delete(name);
      index.set(name, order.length);
      order.push(name);
    };
    const outputMap = new Map<string, number>();
    for (const out of outputs) {
      const nodeName = this.outputNodes.get(out) ?? (this.nodes.has(out) ? out : undefined);
      if (!nodeName) throw new GraphModelError(`${this.source}: no output "${out}" (outputs: ${this.outputNames.join(', ')})`);
      visit(nodeName, '(outputs)');
      outputMap.set(out, index.get(nodeName)!);
    }
    const steps: PlanStep[] = order.map((name) => {
      const node = this.nodes.get(name)!;
      const inputs = (node.input ?? []).filter((i) => !i.startsWith('^')).map((i) => index.get(stripOutputIndex(i, this.source))!);
      return { node, attrs: new Attrs(node, this.source), inputs, frees: [] } as PlanStep;
    });
    if (this.fuse) fusePlan(steps, new Set(outputMap.values()), (name) => this.weights.get(name));
    const lastReader = new Map<number, number>();
    steps.forEach((s, i) => {
      if (!s.skip) s.inputs.forEach((k) => lastReader.set(k, i));
    });
    for (const [k, i] of lastReader) steps[i].frees.push(k);
    const plan = { steps, outputs: outputMap };
    this.plans.set(key, plan);
    return plan;
  }
}

/**
 * Graph-level fusions on a plan's steps (in dependency order), in place: folded steps get `skip`, the
 * step that runs the fused convolution gets its node, inputs and `fusion`. A step is folded only if
 * its one reader is the step it folds into and no requested output (`kept`) is its value.
 *   Pad (zeros, H and W only, constant paddings) → a VALID convolution reading it as its input 0:
 *     the convolution pads by itself (explicit [top, bottom, left, right]).
 *   convolution (fused_ops at most BiasAdd) → Add/AddV2 → optionally Relu/Relu6: the convolution
 *     runs where the last of them was, with the Add's other input as its residual (the add order does
 *     not change a float sum) and the activation as its own.
 */
function fusePlan(steps: PlanStep[], kept: Set<number>, constant: (name: string) => HostTensor | undefined): void {
  // Who reads each value, recounted after every rewrite (a few hundred steps, a few dozen fusions).
  let readers = new Map<number, number[]>();
  const recount = () => {
    readers = new Map();
    steps.forEach((s, i) => {
      if (!s.skip) s.inputs.forEach((k) => readers.set(k, [...(readers.get(k) ?? []), i]));
    });
  };
  recount();
  const soleReader = (k: number): number | undefined => {
    const r = readers.get(k) ?? [];
    return r.length === 1 && !kept.has(k) ? r[0] : undefined;
  };
  steps.forEach((step, i) => {
    if (step.node.op !== 'Pad' && step.node.op !== 'PadV2') return;
    const reader = soleReader(i);
    if (reader === undefined) return;
    const conv = steps[reader];
    if (!CONV_OPS.has(conv.node.op) || conv.inputs[0] !== i || conv.inputs.indexOf(i, 1) >= 0 || conv.attrs.string('padding', '') !== 'VALID') return;
    const padding = zeroSpatialPadding(step, steps, constant);
    if (!padding) return;
    conv.inputs = [step.inputs[0], ...conv.inputs.slice(1)];
    conv.fusion = { ...conv.fusion, padding };
    step.skip = true;
    recount();
  });
  steps.forEach((step, i) => {
    if (step.skip || !CONV_OPS.has(step.node.op) || !biasAtMost(step) || step.fusion?.residual) return;
    const add = soleReader(i);
    if (add === undefined || !['Add', 'AddV2'].includes(steps[add].node.op) || steps[add].inputs.length !== 2) return;
    const others = steps[add].inputs.filter((k) => k !== i);
    if (others.length !== 1) return; // x + x
    let last = add;
    let activation: ConvFusion['activation'];
    const after = soleReader(add);
    if (after !== undefined && (steps[after].node.op === 'Relu' || steps[after].node.op === 'Relu6')) {
      activation = steps[after].node.op === 'Relu' ? 'relu' : 'relu6';
      steps[add].skip = true;
      last = after;
    }
    const target = steps[last];
    target.node = step.node;
    target.attrs = step.attrs;
    target.inputs = [...step.inputs, others[0]];
    target.fusion = { ...step.fusion, residual: true, activation };
    step.skip = true;
    recount();
  });
}

/** A Pad step's [top, bottom, left, right] when it pads only H and W of a 4-D tensor with zeros by constants. */
function zeroSpatialPadding(step: PlanStep, steps: PlanStep[], constant: (name: string) => HostTensor | undefined): [number, number, number, number] | undefined {
  const node = (k: number | undefined) => (k === undefined ? undefined : steps[k].node);
  const paddings = node(step.inputs[1]);
  const p = paddings?.op === 'Const' ? constant(paddings.name) : undefined;
  if (!p || p.shape.join() !== '4,2') return undefined;
  if (step.inputs.length > 2) {
    const value = node(step.inputs[2]);
    const v = value?.op === 'Const' ? constant(value.name) : undefined;
    if (!v || v.data.length !== 1 || v.data[0] !== 0) return undefined;
  }
  const d = Array.from(p.data);
  if (d[0] || d[1] || d[6] || d[7] || d.some((x) => x < 0 || !Number.isInteger(x))) return undefined;
  return [d[2], d[3], d[4], d[5]];
}

/** A convolution whose own epilogue is nothing or a bias (so a residual and activation can follow it). */
function biasAtMost(step: PlanStep): boolean {
  const ops = step.attrs.has('fused_ops') ? step.attrs.strings('fused_ops') : [];
  return ops.length === 0 || (ops.length === 1 && ops[0] === 'BiasAdd');
}

/** "name:0" → "name"; a later output ("name:1") of a node is refused: every supported op has one. */
function stripOutputIndex(ref: string, source: string): string {
  const m = /^(.*):(\d+)$/.exec(ref);
  if (!m) return ref;
  if (m[2] !== '0') throw new GraphModelError(`${source}: "${ref}" reads output ${m[2]} of a node; only single-output ops are supported`);
  return m[1];
}
