/**
 * Learning-rate (and weight-decay) schedules, as pure functions of the step, so a
 * resumed run gets exactly the same values.
 *
 *   cosine      linear warmup to `lr`, cosine decay to `minLr` at `steps`
 *   linear      linear warmup, linear decay to `minLr`
 *   poly        linear warmup, polynomial decay (power `power`) to `minLr` (BitNet v1, Table 6)
 *   constant    linear warmup, then `lr`
 *   two-stage   BitNet b1.58 2B4T (docs/spec.md §3.4): stage 1 = warmup + cosine from the high peak `lr`,
 *               for the first `splitFrac` of the steps; stage 2 (cooldown) = cosine from `lr2` to `minLr`.
 *               Weight decay follows a cosine peaking at `weightDecay` in stage 1 and is 0 in stage 2.
 */
import { ArgumentError } from '../errors.js';

export type ScheduleKind = 'cosine' | 'linear' | 'poly' | 'constant' | 'two-stage';
export const SCHEDULES: readonly ScheduleKind[] = ['cosine', 'linear', 'poly', 'constant', 'two-stage'];

export interface ScheduleConfig {
  kind: ScheduleKind;
  lr: number;
  minLr: number;
  warmup: number;
  steps: number;
  power?: number;
  /** two-stage: peak LR of the cooldown stage. */
  lr2?: number;
  /** two-stage: fraction of steps in stage 1. */
  splitFrac?: number;
  weightDecay: number;
}

export function validateSchedule(s: ScheduleConfig): void {
  if (!SCHEDULES.includes(s.kind)) throw new ArgumentError(`schedule.kind must be one of ${SCHEDULES.join(', ')}, got '${String(s.kind)}'`);
  for (const k of ['lr', 'minLr', 'weightDecay'] as const) if (!(s[k] >= 0)) throw new ArgumentError(`${k} must be ≥ 0, got ${s[k]}`);
  if (!Number.isInteger(s.steps) || s.steps < 1) throw new ArgumentError(`steps must be a positive integer, got ${s.steps}`);
  if (!Number.isInteger(s.warmup) || s.warmup < 0) throw new ArgumentError(`warmup must be a non-negative integer, got ${s.warmup}`);
  if (s.splitFrac !== undefined && !(s.splitFrac > 0 && s.splitFrac < 1)) throw new ArgumentError(`splitFrac must be in (0, 1), got ${s.splitFrac}`);
}

const cosine = (t: number) => 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, t))));

/** LR and weight decay at `step` (0-based). */
export function scheduleAt(s: ScheduleConfig, step: number): { lr: number; weightDecay: number } {
  const warm = s.warmup > 0 && step < s.warmup ? (step + 1) / s.warmup : 1;
  const decayT = s.steps > s.warmup ? (step - s.warmup) / (s.steps - s.warmup) : 1;
  const span = (peak: number, f: number) => s.minLr + (peak - s.minLr) * f;
  switch (s.kind) {
    case 'constant':
      return { lr: s.lr * warm, weightDecay: s.weightDecay };
    case 'cosine':
      return { lr: step < s.warmup ? s.lr * warm : span(s.lr, cosine(decayT)), weightDecay: s.weightDecay };
    case 'linear':
      return { lr: step < s.warmup ? s.lr * warm : span(s.lr, 1 - Math.min(1, decayT)), weightDecay: s.weightDecay };
    case 'poly':
      return { lr: step < s.warmup ? s.lr * warm : span(s.lr, Math.pow(1 - Math.min(1, decayT), s.power ?? 1)), weightDecay: s.weightDecay };
    case 'two-stage': {
      const split = Math.round(s.steps * (s.splitFrac ?? 0.5));
      const lr2 = s.lr2 ?? s.lr / 2;
      if (step < split) {
        const t = split > s.warmup ? (step - s.warmup) / (split - s.warmup) : 1;
        // Stage 1 decays from lr towards lr2 (it is cut at the split, then restarts lower).
        const lr = step < s.warmup ? s.lr * warm : lr2 + (s.lr - lr2) * cosine(t);
        return { lr, weightDecay: s.weightDecay * cosine(step / split) };
      }
      const t = (step - split) / Math.max(1, s.steps - split);
      return { lr: span(lr2, cosine(t)), weightDecay: 0 };
    }
  }
}

/** λ of warmup quantization at `step`: min(step / rampSteps, 1) (HF 1.58-bit fine-tuning blog). */
export function lambdaAt(step: number, rampSteps: number): number {
  return rampSteps <= 0 ? 1 : Math.min(1, step / rampSteps);
}
