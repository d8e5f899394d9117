/**
 * Optimizers as GPU kernels (shaders/optim_sgd.glsl, shaders/optim_adam.glsl): each step reads the
 * parameter, its gradient and the optimizer's state textures and writes new ones; no value is read
 * back to JavaScript. Parameters live in a ParamStore (or a plain TensorStore), which the step updates (tensors are immutable:
 * the store gets new tensors and the old ones are freed). CPU reference: optimizers.ref.ts.
 */
import type { Tensor } from '../runtime/tensor.js';
import { NbfError, ShapeError } from '../runtime/errors.js';
import type { TensorStore } from '../nn/tensor-store.js';
import { constantSchedule, type Schedule } from './schedules.js';

export type OptimizerType = 'sgd' | 'adam' | 'adamw';

export interface SgdOptions {
  /** A fixed rate or a schedule of the step index. */
  lr: number | Schedule;
  momentum?: number;
  nesterov?: boolean;
  /** Coupled L2 decay added to the gradient (λ·w). */
  weightDecay?: number;
}

export interface AdamOptions {
  lr: number | Schedule;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Adam: coupled (added to the gradient). AdamW: decoupled (w ← w − lr·λ·w). */
  weightDecay?: number;
}

/** State slot names per optimizer type (checkpoints store them as "<slot>/<param>"). */
const SLOTS: Record<OptimizerType, readonly string[]> = { sgd: ['velocity'], adam: ['m', 'v'], adamw: ['m', 'v'] };

export abstract class Optimizer {
  abstract readonly type: OptimizerType;
  /** Steps taken so far; the next step uses schedule(stepCount). */
  stepCount = 0;
  protected readonly schedule: Schedule;
  /** slot → parameter name → state tensor (kept out of scopes, freed by dispose()). */
  protected readonly state = new Map<string, Map<string, Tensor>>();

  constructor(lr: number | Schedule) {
    this.schedule = typeof lr === 'number' ? constantSchedule(lr) : lr;
  }

  /** The rate the next step will use. */
  learningRate(): number {
    return this.schedule(this.stepCount);
  }

  /** The optimizer's hyper-parameters (stored in checkpoints and checked on resume). */
  abstract config(): Record<string, number | boolean>;

  protected abstract update(param: Tensor, grad: Tensor, name: string, lr: number): Tensor;

  /** Slots this optimizer keeps per parameter. */
  get slots(): readonly string[] {
    return SLOTS[this.type];
  }

  /** Applies one step to every parameter that has a gradient in `grads` (caller keeps the grads). */
  step(params: TensorStore, grads: Readonly<Record<string, Tensor>>): void {
    const lr = this.learningRate();
    if (!Number.isFinite(lr)) throw new NbfError(`${this.type}: the learning rate at step ${this.stepCount} is ${lr}`);
    for (const [name, grad] of Object.entries(grads)) {
      if (!params.has(name)) throw new NbfError(`${this.type}: gradient for "${name}", which is not a parameter in the store`);
      const param = params.get(name);
      if (param.rank !== grad.rank || param.shape.some((d, i) => d !== grad.shape[i])) {
        throw new ShapeError(`${this.type}: gradient for "${name}" has shape [${grad.shape.join(', ')}], the parameter [${param.shape.join(', ')}]`);
      }
      params.set(name, this.update(param, grad, name, lr));
    }
    this.stepCount++;
  }

  /** State tensor `slot` of a parameter, created as zeros on first use. */
  protected slot(slot: string, name: string, like: Tensor): Tensor {
    let bySlot = this.state.get(slot);
    if (!bySlot) this.state.set(slot, (bySlot = new Map()));
    let t = bySlot.get(name);
    if (!t) bySlot.set(name, (t = like.runtime.keep(like.runtime.zeros(like.shape))));
    return t;
  }

  protected replaceSlot(slot: string, name: string, value: Tensor): void {
    const bySlot = this.state.get(slot)!;
    bySlot.get(name)?.dispose();
    bySlot.set(name, value.runtime.keep(value));
  }

  /** Every state tensor as "<slot>/<param>" → tensor (live; do not dispose). */
  stateTensors(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [slot, bySlot] of this.state) for (const [name, t] of bySlot) out[`${slot}/${name}`] = t;
    return out;
  }

  /** Replaces all state (e.g. from a checkpoint); takes ownership of the tensors. */
  setState(stepCount: number, tensors: Readonly<Record<string, Tensor>>): void {
    for (const key of Object.keys(tensors)) {
      const slot = key.slice(0, key.indexOf('/'));
      if (!this.slots.includes(slot)) throw new NbfError(`${this.type}: unknown state slot "${slot}" in "${key}" (have ${this.slots.join(', ')})`);
    }
    this.dispose();
    for (const [key, t] of Object.entries(tensors)) {
      const cut = key.indexOf('/');
      const slot = key.slice(0, cut);
      let bySlot = this.state.get(slot);
      if (!bySlot) this.state.set(slot, (bySlot = new Map()));
      bySlot.set(key.slice(cut + 1), t.runtime.keep(t));
    }
    this.stepCount = stepCount;
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const bySlot of this.state.values()) for (const t of bySlot.values()) t.dispose();
    this.state.clear();
  }
}

export class Sgd extends Optimizer {
  readonly type = 'sgd' as const;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;

  constructor(options: SgdOptions) {
    super(options.lr);
    this.momentum = options.momentum ?? 0;
    this.nesterov = options.nesterov ?? false;
    this.weightDecay = options.weightDecay ?? 0;
    if (this.momentum < 0 || this.momentum >= 1) throw new NbfError(`sgd: momentum must be in [0, 1), got ${this.momentum}`);
    if (this.nesterov && this.momentum === 0) throw new NbfError('sgd: Nesterov momentum needs momentum > 0');
  }

  config(): Record<string, number | boolean> {
    return { momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }

  protected update(param: Tensor, grad: Tensor, name: string, lr: number): Tensor {
    const rt = param.runtime;
    const hasMomentum = this.momentum > 0;
    const inputs: Record<string, Tensor> = { W: param, G: grad };
    if (hasMomentum) inputs.V = this.slot('velocity', name, param);
    const draw = (output: number) => rt.run({
      kernel: 'optim_sgd',
      defines: { MOMENTUM: hasMomentum },
      inputs,
      uniforms: { u_lr: lr, u_momentum: this.momentum, u_weightDecay: this.weightDecay, u_nesterov: this.nesterov, u_output: output, u_channels: param.geometry.channels },
      outShape: param.shape,
    });
    const next = draw(0);
    if (hasMomentum) this.replaceSlot('velocity', name, draw(1));
    return next;
  }
}

export class Adam extends Optimizer {
  readonly type: 'adam' | 'adamw';
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;

  constructor(options: AdamOptions, decoupled = false) {
    super(options.lr);
    this.type = decoupled ? 'adamw' : 'adam';
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? (decoupled ? 0.01 : 0);
    for (const [k, v] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(v >= 0 && v < 1)) throw new NbfError(`${this.type}: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.epsilon > 0)) throw new NbfError(`${this.type}: epsilon must be > 0, got ${this.epsilon}`);
  }

  config(): Record<string, number | boolean> {
    return { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay };
  }

  protected update(param: Tensor, grad: Tensor, name: string, lr: number): Tensor {
    const rt = param.runtime;
    const t = this.stepCount + 1;
    const inputs = { W: param, G: grad, M: this.slot('m', name, param), V: this.slot('v', name, param) };
    const draw = (output: number) => rt.run({
      kernel: 'optim_adam',
      defines: { DECOUPLED: this.type === 'adamw' },
      inputs,
      uniforms: {
        u_lr: lr, u_beta1: this.beta1, u_beta2: this.beta2, u_epsilon: this.epsilon, u_weightDecay: this.weightDecay,
        u_biasCorrection1: 1 - this.beta1 ** t, u_biasCorrection2: 1 - this.beta2 ** t,
        u_output: output, u_channels: param.geometry.channels,
      },
      outShape: param.shape,
    });
    const next = draw(0);
    const m = draw(1);
    const v = draw(2);
    this.replaceSlot('m', name, m);
    this.replaceSlot('v', name, v);
    return next;
  }
}

export const sgd = (options: SgdOptions) => new Sgd(options);
export const adam = (options: AdamOptions) => new Adam(options, false);
export const adamw = (options: AdamOptions) => new Adam(options, true);
