/** The AdamW optimizer step. Reference twin of wasm/assembly/nn_adamw.ts. */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkAdamw } from './nn_checks.js';

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
