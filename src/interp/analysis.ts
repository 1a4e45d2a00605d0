/**
 * Weight-based analyses of a bilinear classifier (embedding E → bilinear W, V → head P),
 * following Pearce et al. 2024 (arXiv 2410.08417) as summarised in docs/data.md §3.2:
 * per-class spectra, eigenvector images (v_in = Eᵀv), effective rank (L1/L2)², truncation
 * curves, seed consistency (|cos| of matched eigenvectors) and adversarial masks built from
 * the pseudoinverse of the top eigenvectors (§4.4, App. M). The decompositions use weights
 * only; data enters only to *measure* (accuracy of truncated models, effect of the masks).
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { row, symEig, type SymEig } from './eigen.js';
import { decomposeOutputs, effectiveRank, projectThroughEmbedding, topSigned, type BilinearWeights } from './bilinear.js';
import { Rng } from '../tensor/rng.js';
import { accuracyOf, argmax } from './train.js';

export interface ClassifierDecomposition {
  /** Per class: eigendecomposition of Q_c (D, D) in the embedding space. */
  eig: SymEig[];
  /** Per class: eigen indices sorted by |λ| descending. */
  order: number[][];
  /** Per class: (L1/L2)² of the eigenvalues. */
  effRank: number[];
  E: Float64Array | undefined;
  D: number;
  nIn: number;
  O: number;
}

export function decomposeClassifier(E: Float64Array | undefined, layer: BilinearWeights, nIn: number): ClassifierDecomposition {
  if (E === undefined && layer.D !== nIn) throw new ShapeError(`decomposeClassifier: no embedding, so D (${layer.D}) must equal nIn (${nIn})`);
  if (E !== undefined && E.length !== layer.D * nIn) throw new ShapeError(`decomposeClassifier: E has ${E.length} values, expected ${layer.D}×${nIn}`);
  const eig = decomposeOutputs(layer);
  const order = eig.map((e) => Array.from({ length: e.n }, (_, i) => i).sort((a, b) => Math.abs(e.values[b]!) - Math.abs(e.values[a]!) || a - b));
  return { eig, order, effRank: eig.map((e) => effectiveRank(e.values)), E, D: layer.D, nIn, O: layer.O };
}

/** Embedded inputs e = E x (n, D) in float64 (x itself when there is no embedding). */
export function embedRows(dec: ClassifierDecomposition, x: ArrayLike<number>, n: number): Float64Array {
  const { D, nIn, E } = dec;
  if (x.length < n * nIn) throw new ShapeError(`embedRows: x has ${x.length} values, expected ≥ ${n}×${nIn}`);
  const out = new Float64Array(n * D);
  if (E === undefined) {
    for (let i = 0; i < n * D; i++) out[i] = x[i]!;
    return out;
  }
  for (let r = 0; r < n; r++) {
    for (let d = 0; d < D; d++) {
      let s = 0;
      const eo = d * nIn, xo = r * nIn;
      for (let j = 0; j < nIn; j++) s += E[eo + j]! * x[xo + j]!;
      out[r * D + d] = s;
    }
  }
  return out;
}

/**
 * Logits of the eigen-truncated model for every k in `ks` at once: logit_c(x) = Σ_{i<k} λ_i (v_i·Ex)²
 * over class c's eigenvectors sorted by |λ|, signs kept. Returns one (n, O) array per k.
 */
export function truncatedLogits(dec: ClassifierDecomposition, e: Float64Array, n: number, ks: number[]): Float64Array[] {
  const { D, O } = dec;
  if (e.length !== n * D) throw new ShapeError(`truncatedLogits: e has ${e.length} values, expected ${n}×${D}`);
  for (const k of ks) if (!Number.isInteger(k) || k < 0 || k > D) throw new ArgumentError(`truncatedLogits: k = ${k} outside [0, ${D}]`);
  const out = ks.map(() => new Float64Array(n * O));
  const kmax = Math.max(0, ...ks);
  const contrib = new Float64Array(kmax);
  const sorted = ks.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0]);
  for (let c = 0; c < O; c++) {
    const eg = dec.eig[c]!, ord = dec.order[c]!;
    for (let r = 0; r < n; r++) {
      const er = e.subarray(r * D, (r + 1) * D);
      for (let t = 0; t < kmax; t++) {
        const v = row(eg.vectors, ord[t]!, D);
        let p = 0;
        for (let d = 0; d < D; d++) p += v[d]! * er[d]!;
        contrib[t] = eg.values[ord[t]!]! * p * p;
      }
      let acc = 0, t = 0;
      for (const [k, i] of sorted) {
        while (t < k) acc += contrib[t++]!;
        out[i]![r * O + c] = acc;
      }
    }
  }
  return out;
}

/** Accuracy of the eigen-truncated model for k = 0 … kMax eigenvectors per class. */
export function truncationCurve(dec: ClassifierDecomposition, x: ArrayLike<number>, y: Int32Array, kMax: number): { k: number[]; accuracy: number[]; full: number } {
  const n = y.length;
  const e = embedRows(dec, x, n);
  const ks = Array.from({ length: Math.min(kMax, dec.D) + 1 }, (_, i) => i);
  const logits = truncatedLogits(dec, e, n, [...ks, dec.D]);
  const acc = logits.map((l) => accuracyOf(l, y, dec.O));
  return { k: ks, accuracy: acc.slice(0, ks.length), full: acc[ks.length]! };
}

/** Eigenvector i of class c projected to the input space (Eᵀv), unit-normalised. */
export function inputEigenvector(dec: ClassifierDecomposition, c: number, i: number): Float64Array {
  const v = row(dec.eig[c]!.vectors, i, dec.D);
  const out = dec.E ? projectThroughEmbedding(dec.E, v, dec.D, dec.nIn) : Float64Array.from(v);
  let s = 0;
  for (let j = 0; j < out.length; j++) s += out[j]! * out[j]!;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < out.length; j++) out[j] = out[j]! * inv;
  return out;
}

/**
 * Seed consistency (Fig. 5A): for each class, |cos| between the i-th top-positive eigenvectors
 * (in input space) of two models. Returns the mean over classes per rank i (k ranks), and the
 * mean best-match |cos| (each of A's top-k against all of B's top-k).
 */
export function seedConsistency(a: ClassifierDecomposition, b: ClassifierDecomposition, k: number): { byRank: number[]; bestMatch: number[] } {
  if (a.O !== b.O || a.nIn !== b.nIn) throw new ShapeError('seedConsistency: the two models have different shapes');
  const byRank = new Array<number>(k).fill(0);
  const bestMatch = new Array<number>(k).fill(0);
  for (let c = 0; c < a.O; c++) {
    const pa = topSigned(a.eig[c]!, k).pos, pb = topSigned(b.eig[c]!, k).pos;
    const va = pa.map((i) => inputEigenvector(a, c, i)), vb = pb.map((i) => inputEigenvector(b, c, i));
    for (let i = 0; i < k; i++) {
      if (i < va.length && i < vb.length) byRank[i]! += dot(va[i]!, vb[i]!, true);
      if (i < va.length) bestMatch[i]! += Math.max(0, ...vb.map((v) => dot(va[i]!, v, true)));
    }
  }
  return { byRank: byRank.map((s) => s / a.O), bestMatch: bestMatch.map((s) => s / a.O) };
}

function dot(a: Float64Array, b: Float64Array, abs: boolean): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return abs ? Math.abs(s) : s;
}

export interface MaskResult {
  /** Mask L2 norms tried. */
  strength: number[];
  /** Mean over targets: fraction of non-target test images classified as the target, eigen mask. */
  targetRate: number[];
  /** Same with the randomly permuted mask (baseline). */
  targetRateBaseline: number[];
  /** Mean accuracy on the masked images (eigen mask / permuted). */
  accuracy: number[];
  accuracyBaseline: number[];
  /** Per target: |v_t·mask| for the unit-norm mask = 1/‖key‖ (how much of the mask reaches its eigenvector). */
  keyGain: number[];
  /** One mask per class (input space, unit norm) for plotting. */
  masks: Float64Array[];
}

/**
 * Adversarial masks from weights alone (§4.4, App. M): stack the top-`perClass` positive
 * eigenvectors of every class (input space) as rows of 𝒱, take the pseudoinverse 𝒱⁺ = 𝒱ᵀ(𝒱𝒱ᵀ)⁺;
 * column i of 𝒱⁺ is a "key" with v_j·key_i = δ_ij. The mask for target t is the key of t's top
 * eigenvector, oriented so its pixel sum is ≥ 0, scaled to each L2 norm in `strengths`.
 * `predict(x, n)` returns (n, O) logits (the model's own forward pass); only used to measure.
 */
export function adversarialMasks(dec: ClassifierDecomposition, x: Float32Array, y: Int32Array, predict: (x: Float32Array, n: number) => ArrayLike<number>,
                                 strengths: number[], perClass: number, seed: number): MaskResult {
  const { O, nIn } = dec;
  const n = y.length;
  const rows: Float64Array[] = [];
  const first: number[] = [];
  for (let c = 0; c < O; c++) {
    first.push(rows.length);
    for (const i of topSigned(dec.eig[c]!, perClass).pos) rows.push(inputEigenvector(dec, c, i));
  }
  const R = rows.length;
  const G = new Float64Array(R * R);
  for (let i = 0; i < R; i++) for (let j = i; j < R; j++) G[i * R + j] = G[j * R + i] = dot(rows[i]!, rows[j]!, false);
  const g = symEig(G, R);
  const tol = Math.max(1e-12, g.values[0]! * 1e-10);
  const masks: Float64Array[] = [];
  const keyGain: number[] = [];
  for (let t = 0; t < O; t++) {
    const i = first[t]!;
    // column i of G⁺: Σ_{λ>tol} v (v_i)/λ
    const gi = new Float64Array(R);
    for (let k = 0; k < R; k++) {
      const lam = g.values[k]!;
      if (lam <= tol) continue;
      const v = row(g.vectors, k, R);
      const f = v[i]! / lam;
      for (let j = 0; j < R; j++) gi[j] = gi[j]! + f * v[j]!;
    }
    const m = new Float64Array(nIn);
    for (let j = 0; j < R; j++) {
      const rj = rows[j]!, f = gi[j]!;
      for (let p = 0; p < nIn; p++) m[p] = m[p]! + f * rj[p]!;
    }
    // v_i·key_i = 1; orient v_i (and so the key) so that v_i's pixel sum is ≥ 0, i.e. the key adds
    // ink where the eigenvector's positive part lies (weights only: no data decides the sign).
    let s = 0, sum = 0;
    for (let p = 0; p < nIn; p++) {
      s += m[p]! * m[p]!;
      sum += rows[i]![p]!;
    }
    const inv = (sum < 0 ? -1 : 1) / Math.sqrt(s);
    for (let p = 0; p < nIn; p++) m[p] = m[p]! * inv;
    keyGain.push(1 / Math.sqrt(s));
    masks.push(m);
  }
  const perm = permutation(nIn, seed);
  const res: MaskResult = { keyGain, strength: strengths, targetRate: [], targetRateBaseline: [], accuracy: [], accuracyBaseline: [], masks };
  const xm = new Float32Array(n * nIn);
  for (const eps of strengths) {
    let tr = 0, trb = 0, acc = 0, accb = 0;
    for (let t = 0; t < O; t++) {
      for (const [baseline, mask] of [[false, masks[t]!], [true, permute(masks[t]!, perm)]] as const) {
        for (let r = 0; r < n; r++) for (let p = 0; p < nIn; p++) xm[r * nIn + p] = x[r * nIn + p]! + eps * mask[p]!;
        const logits = predict(xm, n);
        let hit = 0, others = 0;
        for (let r = 0; r < n; r++) {
          if (y[r] === t) continue;
          others++;
          if (argmax(logits, r * O, O) === t) hit++;
        }
        const a = accuracyOf(logits, y, O);
        if (baseline) {
          trb += hit / others;
          accb += a;
        } else {
          tr += hit / others;
          acc += a;
        }
      }
    }
    res.targetRate.push(tr / O);
    res.targetRateBaseline.push(trb / O);
    res.accuracy.push(acc / O);
    res.accuracyBaseline.push(accb / O);
  }
  return res;
}

function permutation(n: number, seed: number): Int32Array {
  return Int32Array.from(new Rng(seed).fork('mask-permutation').shuffle(Array.from({ length: n }, (_, i) => i)));
}

function permute(m: Float64Array, p: Int32Array): Float64Array {
  const out = new Float64Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[p[i]!]!;
  return out;
}
