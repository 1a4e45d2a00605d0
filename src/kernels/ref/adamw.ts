/** The AdamW optimizer step. Reference twin of wasm/assembly/nn_adamw.ts. */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkAdamw, checkElementwise, checkFinite } from './nn_checks.js';

/**
 * One AdamW step in place (PyTorch torch.optim.AdamW semantics, decoupled weight decay), step ≥ 1:
 *   m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;  m̂ = m/(1−β1^step);  v̂ = v/(1−β2^step)
 *   p −= lr · (m̂ / (√v̂ + eps) + wd · p)
 * param, grad, m, v: (n).
 */
export function adamwStep(param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number,
                          lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
  checkAdamw('adamwStep', false, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step);
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  for (let i = 0; i < n; i++) {
    const g = grad[i]!;
    const mi = beta1 * m[i]! + (1 - beta1) * g;
    const vi = beta2 * v[i]! + (1 - beta2) * g * g;
    m[i] = mi;
    v[i] = vi;
    const p = param[i]!;
    param[i] = p - lr * ((mi / bc1) / (Math.sqrt(vi / bc2) + eps) + weightDecay * p);
  }
}

/** Elements per chunk of sumSquares: equals NN_CHUNK in wasm/assembly/nn_act.ts. */
export const SUMSQ_CHUNK = 4096;

/**
 * Σ x² in f64 (the global gradient norm's square), in an order that does not depend on threads: chunk c of
 * SUMSQ_CHUNK elements keeps four sums s_j over its elements i ≡ j (mod 4), each in element order; the chunk
 * adds (s0 + s1) + (s2 + s3), and the chunks are added in order. x: (n).
 */
export function sumSquares(x: FloatArray, n: number): number {
  checkElementwise('sumSquares', false, { x }, n);
  let total = 0;
  for (let c0 = 0; c0 < n; c0 += SUMSQ_CHUNK) {
    const s = [0, 0, 0, 0];
    const e = Math.min(n, c0 + SUMSQ_CHUNK);
    for (let i = c0; i < e; i++) s[(i - c0) & 3]! += x[i]! * x[i]!;
    total += (s[0]! + s[1]!) + (s[2]! + s[3]!);
  }
  return total;
}

/** out = x · s, s rounded to the arrays' precision first (one f32 multiply per element for f32). out may alias x. */
export function scale(out: FloatArray, x: FloatArray, s: number, n: number): void {
  checkElementwise('scale', false, { out, x }, n);
  checkFinite('scale', { s });
  const sf = out instanceof Float32Array ? Math.fround(s) : s;
  for (let i = 0; i < n; i++) out[i] = x[i]! * sf;
}
