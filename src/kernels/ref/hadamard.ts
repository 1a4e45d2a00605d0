/**
 * Orthonormal fast Walsh–Hadamard transform per row (BitNet v2 H-BitLinear, SPEC.md §4), and
 * the AdamW optimizer step. Reference twins.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkAdamw, checkHadamard } from './nn_checks.js';

/** In-place unnormalised butterflies on a row in f64, then the overall 1/√n. */
function fwht(x: Float64Array, n: number): void {
  for (let h = 1; h < n; h *= 2) {
    for (let i = 0; i < n; i += 2 * h) {
      for (let j = i; j < i + h; j++) {
        const a = x[j]!;
        const b = x[j + h]!;
        x[j] = a + b;
        x[j + h] = a - b;
      }
    }
  }
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) x[i] = x[i]! * s;
}

/**
 * Hadamard forward: out[i, :] = H_n · inp[i, :], H_n = (1/√2)[[H, H], [H, −H]] (orthonormal, symmetric,
 * overall scale 1/√n, Sylvester order). out, inp: (M, n), n a power of two; out may alias inp.
 */
export function hadamardForward(out: FloatArray, inp: FloatArray, M: number, n: number): void {
  checkHadamard('hadamardForward', false, out, 'out', inp, 'inp', M, n);
  const x = new Float64Array(n);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < n; i++) x[i] = inp[m * n + i]!;
    fwht(x, n);
    for (let i = 0; i < n; i++) out[m * n + i] = x[i]!;
  }
}

/**
 * Hadamard backward (accumulates): dinp += Hᵀ · dout = H · dout, since H is symmetric and orthonormal.
 * dinp, dout: (M, n).
 */
export function hadamardBackward(dinp: FloatArray, dout: FloatArray, M: number, n: number): void {
  checkHadamard('hadamardBackward', false, dinp, 'dinp', dout, 'dout', M, n);
  const x = new Float64Array(n);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < n; i++) x[i] = dout[m * n + i]!;
    fwht(x, n);
    for (let i = 0; i < n; i++) dinp[m * n + i] = dinp[m * n + i]! + x[i]!;
  }
}

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
