/**
 * Small dense linear algebra in plain float64 (row-major), for the post-training quantizers and
 * the scaling-law fit: matrix products, Cholesky (and the inverse / upper factor of the inverse
 * that GPTQ needs), Haar-random orthogonal and randomized Hadamard matrices (QuIP), and a
 * Levenberg–Marquardt least-squares solver. Sizes here are at most a few thousand, so
 * O(n³) textbook algorithms are fine; no dependency earns its place for this.
 */
import { ArgumentError, NumericsError } from '../errors.js';
import type { Rng } from '../tensor/rng.js';

/** C (m, n) = A (m, k) · B (k, n). */
export function matmul(A: ArrayLike<number>, B: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  if (A.length < m * k || B.length < k * n) throw new ArgumentError(`matmul: operands too small for (${m}×${k})·(${k}×${n})`);
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) {
      const a = A[i * k + p]!;
      if (a === 0) continue;
      for (let j = 0; j < n; j++) C[i * n + j]! += a * B[p * n + j]!;
    }
  }
  return C;
}

/** Aᵀ of A (m, n). */
export function transpose(A: ArrayLike<number>, m: number, n: number): Float64Array {
  const T = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) T[j * m + i] = A[i * n + j]!;
  return T;
}

export function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

/** Lower-triangular L with A = L Lᵀ (A symmetric positive definite, n × n). NumericsError otherwise. */
export function cholesky(A: ArrayLike<number>, n: number): Float64Array {
  const L = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = A[j * n + j]!;
    for (let p = 0; p < j; p++) d -= L[j * n + p]! * L[j * n + p]!;
    if (!(d > 0)) throw new NumericsError(`cholesky: matrix is not positive definite (pivot ${j} = ${d})`);
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = A[i * n + j]!;
      for (let p = 0; p < j; p++) s -= L[i * n + p]! * L[j * n + p]!;
      L[i * n + j] = s / ljj;
    }
  }
  return L;
}

/** Inverse of a lower-triangular matrix. */
function invertLower(L: Float64Array, n: number): Float64Array {
  const X = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    X[j * n + j] = 1 / L[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let p = j; p < i; p++) s -= L[i * n + p]! * X[p * n + j]!;
      X[i * n + j] = s / L[i * n + i]!;
    }
  }
  return X;
}

/** A⁻¹ of a symmetric positive definite A, via Cholesky: A⁻¹ = L⁻ᵀ L⁻¹. */
export function spdInverse(A: ArrayLike<number>, n: number): Float64Array {
  const Li = invertLower(cholesky(A, n), n);
  // (L⁻ᵀ L⁻¹)_ij = Σ_p Li_pi Li_pj, p ≥ max(i, j)
  const X = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let p = i; p < n; p++) s += Li[p * n + i]! * Li[p * n + j]!;
      X[i * n + j] = s;
      X[j * n + i] = s;
    }
  }
  return X;
}

/** Solve A x = b for symmetric positive definite A (n × n). */
export function spdSolve(A: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array {
  const L = cholesky(A, n);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let p = 0; p < i; p++) s -= L[i * n + p]! * y[p]!;
    y[i] = s / L[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let p = i + 1; p < n; p++) s -= L[p * n + i]! * x[p]!;
    x[i] = s / L[i * n + i]!;
  }
  return x;
}

/**
 * Upper-triangular U with A⁻¹ = Uᵀ U (GPTQ's `Hinv = cholesky(inverse(H), upper=True)`,
 * Frantar et al. 2022, §4 "Cholesky reformulation").
 */
export function upperCholeskyOfInverse(A: ArrayLike<number>, n: number): Float64Array {
  return transpose(cholesky(spdInverse(A, n), n), n, n);
}

/**
 * A Haar-distributed random orthogonal n × n matrix: QR of a Gaussian matrix by Householder
 * reflections, with the signs of R's diagonal folded into Q (Mezzadri 2007).
 */
export function randomOrthogonal(n: number, rng: Rng): Float64Array {
  const A = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) A[i] = rng.normal();
  // Householder QR on A (columns); accumulate Q = H_0 H_1 … H_{n−2}.
  const Q = identity(n);
  const v = new Float64Array(n);
  const signs = new Float64Array(n).fill(1);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < n; i++) norm += A[i * n + k]! * A[i * n + k]!;
    norm = Math.sqrt(norm);
    const x0 = A[k * n + k]!;
    const alpha = x0 >= 0 ? -norm : norm; // R_kk = alpha
    signs[k] = alpha >= 0 ? 1 : -1;
    if (k === n - 1) {
      signs[k] = x0 >= 0 ? 1 : -1;
      break;
    }
    v.fill(0);
    for (let i = k; i < n; i++) v[i] = A[i * n + k]!;
    v[k] = x0 - alpha;
    let vn = 0;
    for (let i = k; i < n; i++) vn += v[i]! * v[i]!;
    if (vn === 0) continue;
    // A ← (I − 2vvᵀ/vᵀv) A
    for (let j = k; j < n; j++) {
      let s = 0;
      for (let i = k; i < n; i++) s += v[i]! * A[i * n + j]!;
      s = (2 * s) / vn;
      for (let i = k; i < n; i++) A[i * n + j]! -= s * v[i]!;
    }
    // Q ← Q (I − 2vvᵀ/vᵀv)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = k; p < n; p++) s += Q[i * n + p]! * v[p]!;
      s = (2 * s) / vn;
      for (let p = k; p < n; p++) Q[i * n + p]! -= s * v[p]!;
    }
  }
  // Make R's diagonal positive: Q ← Q diag(sign(R_kk)).
  for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) Q[i * n + k]! *= signs[k]!;
  return Q;
}

/** The orthonormal Sylvester–Hadamard matrix H_n / √n (n a power of two). */
export function hadamardMatrix(n: number): Float64Array {
  if (!(n > 0 && (n & (n - 1)) === 0)) throw new ArgumentError(`hadamardMatrix: n must be a power of two, got ${n}`);
  const H = new Float64Array(n * n);
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) H[i * n + j] = popcount(i & j) % 2 === 0 ? s : -s;
  return H;
}

function popcount(x: number): number {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
}

/** Randomized Hadamard transform as a matrix: (H_n/√n) · diag(±1) with random signs (QuIP#, Tseng et al. 2024). */
export function randomizedHadamard(n: number, rng: Rng): Float64Array {
  const H = hadamardMatrix(n);
  for (let j = 0; j < n; j++) {
    if (rng.uniform() < 0.5) for (let i = 0; i < n; i++) H[i * n + j] = -H[i * n + j]!;
  }
  return H;
}

/** max |A Aᵀ − I| (0 for an exactly orthogonal A). */
export function orthogonalityError(A: ArrayLike<number>, n: number): number {
  const P = matmul(A, transpose(A, n, n), n, n, n);
  let e = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) e = Math.max(e, Math.abs(P[i * n + j]! - (i === j ? 1 : 0)));
  return e;
}

export interface LeastSquaresResult {
  params: Float64Array;
  /** Sum of squared residuals at the solution. */
  sse: number;
  /** Covariance estimate σ²(JᵀJ)⁻¹ with σ² = SSE/(n − p) (NaN when n ≤ p). */
  covariance: Float64Array;
  iterations: number;
}

/**
 * Nonlinear least squares min_p Σ_i r_i(p)² by Levenberg–Marquardt (Marquardt 1963) with
 * a forward-difference Jacobian (step scaled to each parameter). Returns the parameters and
 * their asymptotic covariance.
 */
export function levenbergMarquardt(residuals: (p: Float64Array) => Float64Array, p0: ArrayLike<number>, opts: { maxIter?: number; tol?: number } = {}): LeastSquaresResult {
  const maxIter = opts.maxIter ?? 500;
  const tol = opts.tol ?? 1e-12;
  let p = Float64Array.from(p0);
  const np = p.length;
  const sse = (r: Float64Array) => r.reduce((s, v) => s + v * v, 0);
  let r = residuals(p);
  let cost = sse(r);
  if (!Number.isFinite(cost)) throw new NumericsError('levenbergMarquardt: residuals are not finite at the starting point');
  let lambda = 1e-3;
  const jac = (p: Float64Array, r: Float64Array) => {
    const n = r.length;
    const J = new Float64Array(n * np);
    for (let j = 0; j < np; j++) {
      const h = 1e-7 * Math.max(1, Math.abs(p[j]!));
      const q = Float64Array.from(p);
      q[j]! += h;
      const rq = residuals(q);
      for (let i = 0; i < n; i++) J[i * np + j] = (rq[i]! - r[i]!) / h;
    }
    return J;
  };
  const normal = (J: Float64Array, n: number) => {
    const A = new Float64Array(np * np);
    for (let i = 0; i < n; i++) for (let a = 0; a < np; a++) for (let b = 0; b < np; b++) A[a * np + b]! += J[i * np + a]! * J[i * np + b]!;
    return A;
  };
  let it = 0;
  for (; it < maxIter; it++) {
    const n = r.length;
    const J = jac(p, r);
    const A = normal(J, n);
    const g = new Float64Array(np);
    for (let i = 0; i < n; i++) for (let a = 0; a < np; a++) g[a]! -= J[i * np + a]! * r[i]!;
    let improved = false;
    for (let tries = 0; tries < 30; tries++) {
      const Ad = Float64Array.from(A);
      for (let a = 0; a < np; a++) Ad[a * np + a]! += lambda * Math.max(A[a * np + a]!, 1e-300);
      let step: Float64Array;
      try {
        step = spdSolve(Ad, g, np);
      } catch {
        lambda *= 10;
        continue;
      }
      const q = p.map((v, i) => v + step[i]!);
      const rq = residuals(q);
      const c = sse(rq);
      if (Number.isFinite(c) && c < cost) {
        const rel = (cost - c) / Math.max(cost, 1e-300);
        p = q;
        r = rq;
        cost = c;
        lambda = Math.max(lambda / 10, 1e-12);
        improved = true;
        if (rel < tol) it = maxIter;
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  const n = r.length;
  const A = normal(jac(p, r), n);
  let covariance: Float64Array;
  try {
    const s2 = n > np ? cost / (n - np) : NaN;
    covariance = spdInverse(A, np).map((v) => v * s2);
  } catch {
    covariance = new Float64Array(np * np).fill(NaN);
  }
  return { params: p, sse: cost, covariance, iterations: it };
}
