/**
 * Weight-based analysis of bilinear layers (docs/data.md §3.1; Pearce et al. 2024,
 * "Bilinear MLPs enable weight-based mechanistic interpretability", arXiv 2410.08417;
 * Sharkey 2023, arXiv 2305.03452).
 *
 *   layer       y = P ((W x) ⊙ (V x))          W, V: (H, D)   P: (O, H)   (PyTorch layout: out × in)
 *   tensor      B_oij = ½ Σ_a P_oa (W_ai V_aj + W_aj V_ai)          (symmetrised: xᵀAx = 0 for antisymmetric A)
 *   direction   Q(u) = u ·_o B = ½ (Wᵀ diag(c) V + Vᵀ diag(c) W),  c = Pᵀu     — never materialises B
 *   eigen       Q = Σ λ_i v_i v_iᵀ  ⇒  uᵀy = Σ_i λ_i (v_iᵀx)²
 *   HOSVD       SVD of B reshaped (O, D²), computed through the O×O Gram matrix ⟨Q_o, Q_o'⟩_F
 *
 * All arrays are row-major float64 (float32 inputs are widened). Quantized (b1.58) layers are
 * analysed through their effective weights α·W̃ (docs/data.md §3.4): the tensor view stays exact.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { orderByMagnitude, row, symEig, type SymEig } from './eigen.js';

type Arr = ArrayLike<number>;

/** A bilinear layer's weights: W, V (H, D); P (O, H) (the down-projection / classifier head). */
export interface BilinearWeights {
  W: Arr;
  V: Arr;
  P: Arr;
  D: number;
  H: number;
  O: number;
}

export function checkWeights(w: BilinearWeights, where = 'bilinear'): void {
  const { D, H, O } = w;
  for (const [k, v] of [['D', D], ['H', H], ['O', O]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ArgumentError(`${where}: ${k} must be a positive integer, got ${v}`);
  }
  if (w.W.length !== H * D) throw new ShapeError(`${where}: W has ${w.W.length} elements, expected H×D = ${H}×${D}`);
  if (w.V.length !== H * D) throw new ShapeError(`${where}: V has ${w.V.length} elements, expected H×D = ${H}×${D}`);
  if (w.P.length !== O * H) throw new ShapeError(`${where}: P has ${w.P.length} elements, expected O×H = ${O}×${H}`);
}

/** c = Pᵀu (H): how much each hidden unit contributes along output direction u (O). */
export function hiddenCoeffs(w: BilinearWeights, u: Arr): Float64Array {
  if (u.length !== w.O) throw new ShapeError(`hiddenCoeffs: u has ${u.length} elements, expected O = ${w.O}`);
  const c = new Float64Array(w.H);
  for (let o = 0; o < w.O; o++) {
    const uo = u[o]!;
    if (uo === 0) continue;
    for (let a = 0; a < w.H; a++) c[a] = c[a]! + uo * w.P[o * w.H + a]!;
  }
  return c;
}

/** Q = ½ (Wᵀ diag(c) V + Vᵀ diag(c) W) for hidden coefficients c (H): (D, D), symmetric. O(H·D²). */
export function interactionFromCoeffs(W: Arr, V: Arr, c: Arr, H: number, D: number): Float64Array {
  if (c.length !== H) throw new ShapeError(`interactionFromCoeffs: c has ${c.length} elements, expected H = ${H}`);
  const M = new Float64Array(D * D); // M = Wᵀ diag(c) V
  const wa = new Float64Array(D);
  for (let a = 0; a < H; a++) {
    const ca = c[a]!;
    if (ca === 0) continue;
    for (let i = 0; i < D; i++) wa[i] = ca * W[a * D + i]!;
    for (let i = 0; i < D; i++) {
      const wi = wa[i]!;
      if (wi === 0) continue;
      const mo = i * D;
      for (let j = 0; j < D; j++) M[mo + j] = M[mo + j]! + wi * V[a * D + j]!;
    }
  }
  const Q = new Float64Array(D * D);
  for (let i = 0; i < D; i++) for (let j = i; j < D; j++) {
    const v = 0.5 * (M[i * D + j]! + M[j * D + i]!);
    Q[i * D + j] = v;
    Q[j * D + i] = v;
  }
  return Q;
}

/** Interaction matrix Q(u) (D, D) for output direction u (O). */
export function interactionMatrix(w: BilinearWeights, u: Arr): Float64Array {
  checkWeights(w, 'interactionMatrix');
  return interactionFromCoeffs(w.W, w.V, hiddenCoeffs(w, u), w.H, w.D);
}

/** One-hot output direction e_o. */
export function unit(O: number, o: number): Float64Array {
  if (!(o >= 0 && o < O)) throw new ArgumentError(`unit: index ${o} outside [0, ${O})`);
  const u = new Float64Array(O);
  u[o] = 1;
  return u;
}

/** Layer output y = P((Wx) ⊙ (Vx)) in float64 (the definition the tensor view is checked against). */
export function bilinearForward(w: BilinearWeights, x: Arr): Float64Array {
  checkWeights(w, 'bilinearForward');
  if (x.length !== w.D) throw new ShapeError(`bilinearForward: x has ${x.length} elements, expected D = ${w.D}`);
  const g = new Float64Array(w.H);
  for (let a = 0; a < w.H; a++) {
    let l = 0, r = 0;
    for (let i = 0; i < w.D; i++) {
      l += w.W[a * w.D + i]! * x[i]!;
      r += w.V[a * w.D + i]! * x[i]!;
    }
    g[a] = l * r;
  }
  const y = new Float64Array(w.O);
  for (let o = 0; o < w.O; o++) {
    let s = 0;
    for (let a = 0; a < w.H; a++) s += w.P[o * w.H + a]! * g[a]!;
    y[o] = s;
  }
  return y;
}

/** The full symmetrised tensor B (O, D, D) — for small layers and tests only (O·D² doubles). */
export function bilinearTensor(w: BilinearWeights): Float64Array {
  checkWeights(w, 'bilinearTensor');
  const { D, O } = w;
  const B = new Float64Array(O * D * D);
  for (let o = 0; o < O; o++) B.set(interactionMatrix(w, unit(O, o)), o * D * D);
  return B;
}

/** x ·B· x along every output: y_o = Σ_ij B_oij x_i x_j. */
export function contractTensor(B: Arr, x: Arr, O: number, D: number): Float64Array {
  const y = new Float64Array(O);
  for (let o = 0; o < O; o++) {
    let s = 0;
    for (let i = 0; i < D; i++) {
      let t = 0;
      for (let j = 0; j < D; j++) t += B[o * D * D + i * D + j]! * x[j]!;
      s += x[i]! * t;
    }
    y[o] = s;
  }
  return y;
}

/** xᵀQx via an eigendecomposition: Σ_i λ_i (v_iᵀx)² over the given eigen indices (default all). */
export function eigenForm(e: SymEig, x: Arr, idx?: ArrayLike<number>): number {
  const n = e.n;
  let s = 0;
  const m = idx ? idx.length : n;
  for (let t = 0; t < m; t++) {
    const i = idx ? idx[t]! : t;
    const v = row(e.vectors, i, n);
    let p = 0;
    for (let k = 0; k < n; k++) p += v[k]! * x[k]!;
    s += e.values[i]! * p * p;
  }
  return s;
}

/** Effective rank (L1/L2)² of a vector (eigenvalues: effective rank; eigenvectors: effective pixel count). App. E. */
export function effectiveRank(v: Arr): number {
  let l1 = 0, l2 = 0;
  for (let i = 0; i < v.length; i++) {
    l1 += Math.abs(v[i]!);
    l2 += v[i]! * v[i]!;
  }
  return l2 === 0 ? 0 : (l1 * l1) / l2;
}

/** Per-output eigendecompositions: eig[o] of Q(e_o). */
export function decomposeOutputs(w: BilinearWeights): SymEig[] {
  checkWeights(w, 'decomposeOutputs');
  return Array.from({ length: w.O }, (_, o) => symEig(interactionMatrix(w, unit(w.O, o)), w.D));
}

export interface Hosvd {
  /** Singular values σ_k of B reshaped (O, D²), descending. */
  sigma: Float64Array;
  /** Left singular vectors as rows (K, O): output directions. */
  outputDirs: Float64Array;
  /** Right singular vectors reshaped into (D, D) interaction matrices (unit Frobenius norm), K of them. */
  matrices: Float64Array[];
}

/**
 * HOSVD of the output-flattened tensor (App. D): B_(O, D²) = U Σ Rᵀ. With the Gram matrix
 * G_oo' = ⟨Q_o, Q_o'⟩_F = U Σ² Uᵀ, the right singular vectors are R_k = Σ_o U_ok Q_o / σ_k.
 * Costs O·D² memory, not D⁴. Returns the `k` leading components (default all nonzero, ≤ O).
 */
export function hosvd(w: BilinearWeights, k = w.O): Hosvd {
  checkWeights(w, 'hosvd');
  const { O, D } = w;
  const Qs = Array.from({ length: O }, (_, o) => interactionMatrix(w, unit(O, o)));
  const G = new Float64Array(O * O);
  for (let a = 0; a < O; a++) for (let b = a; b < O; b++) {
    let s = 0;
    const qa = Qs[a]!, qb = Qs[b]!;
    for (let i = 0; i < D * D; i++) s += qa[i]! * qb[i]!;
    G[a * O + b] = s;
    G[b * O + a] = s;
  }
  const g = symEig(G, O);
  const K = Math.min(k, O);
  const sigma = new Float64Array(K);
  const outputDirs = new Float64Array(K * O);
  const matrices: Float64Array[] = [];
  for (let t = 0; t < K; t++) {
    const s2 = Math.max(0, g.values[t]!);
    const s = Math.sqrt(s2);
    sigma[t] = s;
    const u = row(g.vectors, t, O);
    outputDirs.set(u, t * O);
    const R = new Float64Array(D * D);
    if (s > 0) for (let o = 0; o < O; o++) {
      const f = u[o]! / s;
      const q = Qs[o]!;
      for (let i = 0; i < D * D; i++) R[i] = R[i]! + f * q[i]!;
    }
    matrices.push(R);
  }
  return { sigma, outputDirs, matrices };
}

/** Indices of the top-k positive and top-k negative eigenvalues (values sorted descending). */
export function topSigned(e: SymEig, k: number): { pos: number[]; neg: number[] } {
  const n = e.n;
  const pos: number[] = [], neg: number[] = [];
  for (let i = 0; i < n && pos.length < k; i++) if (e.values[i]! > 0) pos.push(i);
  for (let i = n - 1; i >= 0 && neg.length < k; i--) if (e.values[i]! < 0) neg.push(i);
  return { pos, neg };
}

/** The k eigen indices with the largest |λ|. */
export function topByMagnitude(e: SymEig, k: number): number[] {
  return orderByMagnitude(e.values).slice(0, Math.max(0, Math.min(k, e.n)));
}

/**
 * Project an eigenvector through a linear embedding E (D, N_in): v_in = Eᵀ v (N_in), the
 * repo's `decompose()` (docs/data.md §3.1). xᵀ·(EᵀQE)·x = (Ex)ᵀQ(Ex), so λ(vᵀEx)² = λ(v_inᵀx)².
 */
export function projectThroughEmbedding(E: Arr, v: Arr, D: number, Nin: number): Float64Array {
  if (E.length !== D * Nin) throw new ShapeError(`projectThroughEmbedding: E has ${E.length} elements, expected ${D}×${Nin}`);
  if (v.length !== D) throw new ShapeError(`projectThroughEmbedding: v has ${v.length} elements, expected ${D}`);
  const out = new Float64Array(Nin);
  for (let d = 0; d < D; d++) {
    const vd = v[d]!;
    if (vd === 0) continue;
    for (let j = 0; j < Nin; j++) out[j] = out[j]! + vd * E[d * Nin + j]!;
  }
  return out;
}

/** |cos| between two vectors (eigenvector signs are arbitrary). */
export function absCos(a: Arr, b: Arr): number {
  if (a.length !== b.length) throw new ShapeError(`absCos: lengths ${a.length} and ${b.length} differ`);
  let ab = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa === 0 || bb === 0 ? 0 : Math.abs(ab) / Math.sqrt(aa * bb);
}

/**
 * Fold biases into the weights (docs/data.md §3.1): g(x) = (Wx + b) ⊙ (Vx + c) = (W'x') ⊙ (V'x') with
 * W' = [W | b], V' = [V | c] (H, D+1) and x' = [x, 1]. Every analysis then applies to the
 * augmented layer; the last row/column of Q holds the linear terms and Q_{D,D} the constant.
 */
export function foldBiases(w: BilinearWeights, b: Arr, c: Arr): BilinearWeights {
  checkWeights(w, 'foldBiases');
  const { D, H } = w;
  if (b.length !== H || c.length !== H) throw new ShapeError(`foldBiases: biases have ${b.length} and ${c.length} elements, expected H = ${H}`);
  const aug = (M: Arr, bias: Arr) => {
    const out = new Float64Array(H * (D + 1));
    for (let a = 0; a < H; a++) {
      for (let i = 0; i < D; i++) out[a * (D + 1) + i] = M[a * D + i]!;
      out[a * (D + 1) + D] = bias[a]!;
    }
    return out;
  };
  return { W: aug(w.W, b), V: aug(w.V, c), P: Float64Array.from(w.P), D: D + 1, H, O: w.O };
}
