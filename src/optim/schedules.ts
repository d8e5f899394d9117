/**
 * Learning-rate schedules: functions from the optimizer's step index (0 for the first step) to a rate.
 * They are plain numbers computed on the CPU and passed to the update kernels as uniforms.
 */
import { NbfError } from '../runtime/errors.js';

export type Schedule = (step: number) => number;

function positive(value: number, name: string, schedule: string): void {
  if (!(value > 0) || !Number.isFinite(value)) throw new NbfError(`${schedule} schedule: ${name} must be a positive number, got ${value}`);
}

export function constantSchedule(lr: number): Schedule {
  return () => lr;
}

/** lr · factor^⌊step / every⌋ (e.g. ×0.1 every 30 epochs' worth of steps). */
export function stepSchedule(options: { lr: number; every: number; factor: number }): Schedule {
  positive(options.every, 'every', 'step');
  return (step) => options.lr * options.factor ** Math.floor(step / options.every);
}

/**
 * Polynomial decay from lr to endLr over totalSteps: (lr − endLr)·(1 − step/total)^power + endLr,
 * then endLr (NBF: power 0.9 down to 0).
 */
export function polynomialSchedule(options: { lr: number; totalSteps: number; power?: number; endLr?: number }): Schedule {
  positive(options.totalSteps, 'totalSteps', 'polynomial');
  const power = options.power ?? 0.9;
  const end = options.endLr ?? 0;
  return (step) => (options.lr - end) * (1 - Math.min(step, options.totalSteps) / options.totalSteps) ** power + end;
}

/**
 * Linear warm-up from lr/warmupSteps to lr over warmupSteps steps, then cosine decay to minLr at
 * totalSteps (and minLr after).
 */
export function cosineSchedule(options: { lr: number; totalSteps: number; warmupSteps?: number; minLr?: number }): Schedule {
  positive(options.totalSteps, 'totalSteps', 'cosine');
  const warmup = options.warmupSteps ?? 0;
  const min = options.minLr ?? 0;
  if (warmup < 0 || warmup >= options.totalSteps) throw new NbfError(`cosine schedule: warmupSteps ${warmup} must be in [0, totalSteps ${options.totalSteps})`);
  return (step) => {
    if (step < warmup) return (options.lr * (step + 1)) / warmup;
    const progress = Math.min(1, (step - warmup) / (options.totalSteps - warmup));
    return min + (options.lr - min) * 0.5 * (1 + Math.cos(Math.PI * progress));
  };
}
