/**
 * Symmetric eigendecomposition in float64: Householder reduction to tridiagonal form
 * followed by the implicit QL algorithm with Wilkinson-style shifts (the EISPACK pair
 * tred2/tql2; Wilkinson & Reinsch, "Handbook for Automatic Computation II" (1971);
 * Golub & Van Loan §8.3). About (4/3)n³ flops for the reduction plus ~3n³ for vectors.
 *
 * Used by the bilinear interpretability toolkit (docs/data.md §3.1, §3.3): every
 * interaction matrix Q is symmetric, so Q = Σ_i λ_i v_i v_iᵀ with orthonormal v_i.
 */
import { ArgumentError, NumericsError, ShapeError } from '../errors.js';

export interface SymEig {
  n: number;
  /** Eigenvalues, sorted descending. */
  values: Float64Array;
  /** Eigenvectors as rows: vectors[i·n : (i+1)·n] is the unit eigenvector of values[i]. */
  vectors: Float64Array;
}

/** Row i of a row-major (·, n) matrix. */
export function row(a: Float64Array, i: number, n: number): Float64Array {
  return a.subarray(i * n, (i + 1) * n);
}

/**
 * Eigendecomposition of the symmetric n×n row-major matrix `a` (only symmetry up to
 * rounding is assumed: the average of a and aᵀ is decomposed). Throws ShapeError on a
 * bad length, NumericsError on non-finite input or if QL fails to converge.
 */
export function symEig(a: ArrayLike<number>, n: number): SymEig {
  if (!Number.isInteger(n) || n < 1) throw new ArgumentError(`symEig: n must be a positive integer, got ${n}`);
  if (a.length !== n * n) throw new ShapeError(`symEig: matrix has ${a.length} elements, expected ${n}×${n} = ${n * n}`);
  // V[k][j]: working matrix; after tred2 it holds the orthogonal transform, after tql2 the eigenvectors (columns).
  const V: Float64Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (a[i * n + j]! + a[j * n + i]!);
      if (!Number.isFinite(v)) throw new NumericsError(`symEig: non-finite entry at (${i}, ${j})`);
      r[j] = v;
    }
    V.push(r);
  }
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(V, d, e, n);
  implicitQL(V, d, e, n);
  // Sort descending; vectors become rows.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]! || x - y);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = d[src]!;
    for (let k = 0; k < n; k++) vectors[dst * n + k] = V[k]![src]!;
  });
  return { n, values, vectors };
}

/**
 * Householder reduction of the symmetric matrix in V to tridiagonal form
 * (diagonal d, sub-diagonal e[1..n−1]); V is overwritten by the accumulated
 * orthogonal transformation. Works on the lower triangle, from the last row up.
 */
function tridiagonalize(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[n - 1]![j]!;
  for (let i = n - 1; i > 0; i--) {
    // Scale row i (the part left of the diagonal, held in d) to avoid under/overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
        V[j]![i] = 0;
      }
    } else {
      // Householder vector u = x ∓ ‖x‖e_{i−1}, stored in d[0..i−1].
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // p = A u / h  (accumulated in e), using the lower triangle of A.
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        V[j]![i] = f;
        g = e[j]! + V[j]![j]! * f;
        for (let k = j + 1; k < i; k++) {
          g += V[k]![j]! * d[k]!;
          e[k] = e[k]! + V[k]![j]! * f;
        }
        e[j] = g;
      }
      // q = p − (uᵀp / 2h) u;  A ← A − u qᵀ − q uᵀ.
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k < i; k++) V[k]![j] = V[k]![j]! - (f * e[k]! + g * d[k]!);
        d[j] = V[i - 1]![j]!;
        V[i]![j] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    V[n - 1]![i] = V[i]![i]!;
    V[i]![i] = 1;
    const h = d[i + 1]!;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k]![i + 1]! / h;
      for (let j = 0; j <= i; j++) {
        let g = 0;
        for (let k = 0; k <= i; k++) g += V[k]![i + 1]! * V[k]![j]!;
        for (let k = 0; k <= i; k++) V[k]![j] = V[k]![j]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) V[k]![i + 1] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[n - 1]![j]!;
    V[n - 1]![j] = 0;
  }
  V[n - 1]![n - 1] = 1;
  e[0] = 0;
}

/**
 * Implicit QL iterations on the tridiagonal (d, e), rotating the columns of V along;
 * on exit d holds the eigenvalues and the columns of V the eigenvectors.
 */
function implicitQL(V: Float64Array[], d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small sub-diagonal element: the matrix splits there.
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]!) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new NumericsError(`symEig: QL did not converge for eigenvalue ${l} after 60 iterations`);
        // Shift from the leading 2×2 block.
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        // Chase the bulge with Givens rotations from m−1 up to l.
        p = d[m]!;
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1]!;
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          for (let k = 0; k < n; k++) {
            const row = V[k]!;
            const t = row[i + 1]!;
            row[i + 1] = s * row[i]! + c * t;
            row[i] = c * row[i]! - s * t;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** Reconstruct Σ_i λ_i v_i v_iᵀ (row-major n×n) from the first k eigenpairs in the given order. */
export function reconstruct(values: Float64Array, vectors: Float64Array, n: number, idx?: ArrayLike<number>): Float64Array {
  const out = new Float64Array(n * n);
  const list = idx ?? Array.from({ length: values.length }, (_, i) => i);
  for (let t = 0; t < list.length; t++) {
    const i = list[t]!;
    const lam = values[i]!;
    const v = row(vectors, i, n);
    for (let a = 0; a < n; a++) {
      const la = lam * v[a]!;
      for (let b = 0; b < n; b++) out[a * n + b] = out[a * n + b]! + la * v[b]!;
    }
  }
  return out;
}

/** Indices of eigenvalues sorted by |λ| descending (ties by index). */
export function orderByMagnitude(values: Float64Array): number[] {
  return Array.from({ length: values.length }, (_, i) => i).sort((a, b) => Math.abs(values[b]!) - Math.abs(values[a]!) || a - b);
}
