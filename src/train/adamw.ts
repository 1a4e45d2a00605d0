/**
 * AdamW over a model's flat parameter buffer, in two groups: matrices (decayed)
 * then norm weights (no decay). Global-norm gradient clipping. State (m, v, step)
 * is part of every checkpoint so a resumed run continues exactly.
 */
import { ArgumentError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import type { FloatArray } from '../tensor/dtype.js';
import type { Arena } from '../tensor/arena.js';

export interface AdamWConfig {
  beta1: number;
  beta2: number;
  eps: number;
  /** Clip the global gradient norm to this (0 = off). */
  gradClip: number;
}

export const DEFAULT_ADAMW: AdamWConfig = { beta1: 0.9, beta2: 0.95, eps: 1e-8, gradClip: 1.0 };

export class AdamW {
  readonly m: FloatArray;
  readonly v: FloatArray;
  /** Steps taken so far. */
  step = 0;

  constructor(private readonly be: Backend, arena: Arena, readonly n: number, readonly decaySize: number, readonly cfg: AdamWConfig, dtype: 'f32' | 'f64' = 'f32') {
    if (!(cfg.beta1 >= 0 && cfg.beta1 < 1)) throw new ArgumentError(`beta1 must be in [0, 1), got ${cfg.beta1}`);
    if (!(cfg.beta2 >= 0 && cfg.beta2 < 1)) throw new ArgumentError(`beta2 must be in [0, 1), got ${cfg.beta2}`);
    if (!(cfg.eps > 0)) throw new ArgumentError(`eps must be > 0, got ${cfg.eps}`);
    if (!(cfg.gradClip >= 0)) throw new ArgumentError(`gradClip must be ≥ 0, got ${cfg.gradClip}`);
    this.m = arena.alloc(dtype, n);
    this.v = arena.alloc(dtype, n);
  }

  /** Scale grads so their global L2 norm is at most gradClip; returns the norm before clipping. */
  clip(grads: FloatArray): number {
    // Both on the kernels (threaded; the sum's order is fixed, src/kernels/ref/adamw.ts): a JS loop here was
    // ~1.6 % of a two-thread training step, serial.
    const norm = Math.sqrt(this.be.sumSquares(grads, this.n));
    if (this.cfg.gradClip > 0 && norm > this.cfg.gradClip) this.be.scale(grads, grads, this.cfg.gradClip / (norm + 1e-6), this.n);
    return norm;
  }

  /** One update with the given LR and weight decay (decay only on params[0 : decaySize]). */
  update(params: FloatArray, grads: FloatArray, lr: number, weightDecay: number): void {
    this.step++;
    const { beta1, beta2, eps } = this.cfg;
    const d = this.decaySize;
    const sub = (a: FloatArray, s: number, e: number) => a.subarray(s, e);
    if (d > 0) this.be.adamwStep(sub(params, 0, d), sub(grads, 0, d), sub(this.m, 0, d), sub(this.v, 0, d), d, lr, beta1, beta2, eps, weightDecay, this.step);
    const r = this.n - d;
    if (r > 0) this.be.adamwStep(sub(params, d, this.n), sub(grads, d, this.n), sub(this.m, d, this.n), sub(this.v, d, this.n), r, lr, beta1, beta2, eps, 0, this.step);
  }
}
