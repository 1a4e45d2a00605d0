/**
 * Orthonormal fast Walsh–Hadamard transform per row (BitNet v2 H-BitLinear, docs/spec.md §4). Reference twins.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkHadamard } from './nn_checks.js';

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
