/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, arXiv 2210.17323, Algorithm 1): quantize the
 * columns of W (N, K) one at a time in a fixed order, and after each column spread its rounding
 * error over the not-yet-quantized columns through the inverse Hessian of the layer's
 * reconstruction loss ‖XWᵀ − XŴᵀ‖², H = 2XᵀX (K × K), from calibration activations X (M, K).
 *
 *   H ← H + λI  (λ = damp · mean diag H);  dead inputs (H_jj = 0) get H_jj = 1 and W[:, j] = 0
 *   act-order: permute columns by decreasing H_jj
 *   U = chol(H⁻¹)ᵀ (upper)                                       (the Cholesky reformulation, §4)
 *   for each block of B columns (lazy batch updates, §4):
 *     for column j in the block:  q = quant(w_j);  e = (w_j − q)/U_jj;  W[:, j:blockEnd] −= e · U[j, j:blockEnd]
 *     W[:, blockEnd:] −= E · U[block, blockEnd:]
 *
 * Grid: asymmetric uniform min–max per output row (or per group of `groupSize` columns, whose
 * parameters are fitted when the group's first column is reached, as in the reference code).
 */
import { ArgumentError } from '../errors.js';
import { upperCholeskyOfInverse } from './linalg.js';

export interface GptqOptions {
  bits: number;
  /** Columns per quantization group (0 = one group per row). */
  groupSize: number;
  /** Lazy-batch block size B. */
  blockSize: number;
  /** Dampening as a fraction of the mean Hessian diagonal. */
  damp: number;
  /** Quantize columns in order of decreasing Hessian diagonal. */
  actOrder: boolean;
}

export const DEFAULT_GPTQ: GptqOptions = { bits: 4, groupSize: 0, blockSize: 128, damp: 0.01, actOrder: false };

/** Asymmetric min–max grid for one row segment (the range always includes 0, as in GPTQ's quantizer). */
export interface Grid { scale: number; zero: number; maxq: number }

export function minMaxGrid(w: ArrayLike<number>, off: number, n: number, stride: number, bits: number): Grid {
  const maxq = 2 ** bits - 1;
  let lo = 0, hi = 0;
  for (let i = 0; i < n; i++) {
    const v = w[off + i * stride]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === 0 && hi === 0) return { scale: 1, zero: 0, maxq };
  const scale = (hi - lo) / maxq;
  return { scale, zero: Math.round(-lo / scale), maxq };
}

export function quantGrid(v: number, g: Grid): number {
  const q = Math.min(g.maxq, Math.max(0, Math.round(v / g.scale) + g.zero));
  return g.scale * (q - g.zero);
}

/** Round-to-nearest on the same grid (per row or per group): the baseline GPTQ improves on. */
export function rtnMinMax(w: ArrayLike<number>, N: number, K: number, bits: number, groupSize = 0): Float64Array {
  const out = new Float64Array(N * K);
  const gs = groupSize > 0 ? groupSize : K;
  for (let r = 0; r < N; r++) {
    for (let c0 = 0; c0 < K; c0 += gs) {
      const n = Math.min(gs, K - c0);
      const g = minMaxGrid(w, r * K + c0, n, 1, bits);
      for (let j = 0; j < n; j++) out[r * K + c0 + j] = quantGrid(w[r * K + c0 + j]!, g);
    }
  }
  return out;
}

/**
 * GPTQ-quantize W (N, K) given H (K, K) = 2XᵀX (or any positive semi-definite proxy).
 * Returns the dequantized weights Ŵ (N, K) in the original column order.
 */
export function gptqQuantize(W: ArrayLike<number>, N: number, K: number, Hin: ArrayLike<number>, opts: Partial<GptqOptions> = {}): Float64Array {
  const o = { ...DEFAULT_GPTQ, ...opts };
  if (!(Number.isInteger(o.bits) && o.bits >= 1 && o.bits <= 8)) throw new ArgumentError(`gptq: bits must be an integer in [1, 8], got ${o.bits}`);
  if (!(Number.isInteger(o.groupSize) && o.groupSize >= 0)) throw new ArgumentError(`gptq: groupSize must be a non-negative integer, got ${o.groupSize}`);
  if (!(Number.isInteger(o.blockSize) && o.blockSize >= 1)) throw new ArgumentError(`gptq: blockSize must be a positive integer, got ${o.blockSize}`);
  if (W.length !== N * K || Hin.length !== K * K) throw new ArgumentError(`gptq: W must be ${N}×${K} and H ${K}×${K}`);
  const H = Float64Array.from(Hin);
  const w = Float64Array.from(W);
  for (let j = 0; j < K; j++) {
    if (H[j * K + j] === 0) {
      H[j * K + j] = 1;
      for (let r = 0; r < N; r++) w[r * K + j] = 0;
    }
  }
  let meanDiag = 0;
  for (let j = 0; j < K; j++) meanDiag += H[j * K + j]! / K;
  for (let j = 0; j < K; j++) H[j * K + j]! += o.damp * meanDiag;
  // Column permutation (act-order) — perm[i] = original column at position i.
  const perm = Array.from({ length: K }, (_, i) => i);
  if (o.actOrder) perm.sort((a, b) => H[b * K + b]! - H[a * K + a]! || a - b);
  const Wp = new Float64Array(N * K);
  const Hp = new Float64Array(K * K);
  for (let i = 0; i < K; i++) {
    for (let r = 0; r < N; r++) Wp[r * K + i] = w[r * K + perm[i]!]!;
    for (let j = 0; j < K; j++) Hp[i * K + j] = H[perm[i]! * K + perm[j]!]!;
  }
  const U = upperCholeskyOfInverse(Hp, K);
  const Q = new Float64Array(N * K);
  const grids: Grid[] = new Array(N);
  const gs = o.groupSize;
  for (let r = 0; r < N; r++) grids[r] = minMaxGrid(Wp, r * K, K, 1, o.bits);
  const B = o.blockSize;
  const E = new Float64Array(N * B);
  for (let i1 = 0; i1 < K; i1 += B) {
    const i2 = Math.min(K, i1 + B);
    E.fill(0);
    for (let i = i1; i < i2; i++) {
      if (gs > 0 && i % gs === 0) for (let r = 0; r < N; r++) grids[r] = minMaxGrid(Wp, r * K + i, Math.min(gs, K - i), 1, o.bits);
      const d = U[i * K + i]!;
      for (let r = 0; r < N; r++) {
        const wv = Wp[r * K + i]!;
        const q = quantGrid(wv, grids[r]!);
        Q[r * K + i] = q;
        const e = (wv - q) / d;
        E[r * B + (i - i1)] = e;
        for (let j = i + 1; j < i2; j++) Wp[r * K + j]! -= e * U[i * K + j]!;
      }
    }
    // Lazy batch update of the remaining columns.
    if (i2 < K) {
      for (let r = 0; r < N; r++) {
        for (let i = i1; i < i2; i++) {
          const e = E[r * B + (i - i1)]!;
          if (e === 0) continue;
          for (let j = i2; j < K; j++) Wp[r * K + j]! -= e * U[i * K + j]!;
        }
      }
    }
  }
  const out = new Float64Array(N * K);
  for (let i = 0; i < K; i++) for (let r = 0; r < N; r++) out[r * K + perm[i]!] = Q[r * K + i]!;
  return out;
}

/** Reconstruction error ‖XWᵀ − XŴᵀ‖²_F = tr((W − Ŵ) XᵀX (W − Ŵ)ᵀ), from G = XᵀX (K, K). */
export function reconstructionError(W: ArrayLike<number>, What: ArrayLike<number>, N: number, K: number, G: ArrayLike<number>): number {
  let s = 0;
  const d = new Float64Array(K);
  for (let r = 0; r < N; r++) {
    for (let j = 0; j < K; j++) d[j] = W[r * K + j]! - What[r * K + j]!;
    for (let i = 0; i < K; i++) {
      if (d[i] === 0) continue;
      let t = 0;
      for (let j = 0; j < K; j++) t += G[i * K + j]! * d[j]!;
      s += d[i]! * t;
    }
  }
  return s;
}

/** Accumulates H = 2XᵀX / M_total over calibration batches (the GPTQ Hessian, averaged). */
export class HessianAccumulator {
  readonly H: Float64Array;
  rows = 0;
  constructor(readonly K: number) {
    this.H = new Float64Array(K * K);
  }
  add(x: ArrayLike<number>, M: number): void {
    const K = this.K;
    const H = this.H;
    for (let m = 0; m < M; m++) {
      const o = m * K;
      for (let i = 0; i < K; i++) {
        const xi = x[o + i]!;
        if (xi === 0) continue;
        const hi = i * K;
        for (let j = 0; j <= i; j++) H[hi + j]! += xi * x[o + j]!;
      }
    }
    this.rows += M;
  }
  /** The symmetric 2XᵀX / rows. */
  result(): Float64Array {
    const K = this.K;
    const out = new Float64Array(K * K);
    const s = this.rows > 0 ? 2 / this.rows : 0;
    for (let i = 0; i < K; i++) for (let j = 0; j <= i; j++) out[i * K + j] = out[j * K + i] = this.H[i * K + j]! * s;
    return out;
  }
}
