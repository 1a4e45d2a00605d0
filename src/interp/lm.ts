/**
 * Weight-based decomposition of a Transformer's bilinear FFN (ffn: 'bilinear'), docs/data.md §3.1, §3.3
 * ("for LMs, Q for unembedding rows in a 1–2 layer model") and B.6 (ternary bilinear).
 *
 *   FFN input   a = γ_ffn ⊙ x / rms(x)              (post_attention_layernorm; BitLinear's int8 rounding ≈ identity)
 *   FFN output  y = P_eff ((W̃_gate a) ⊙ (W̃_up a))   P_eff = W̃_down · [H, BitNet v2] · diag(γ_sub) with SubLN (then only up to the
 *                                                    positive per-token scale 1/rms(g), B.6 caveat 2)
 *   direction   u_t = γ_final ⊙ e_t                  the direct path of the FFN output to token t's logit (tied head)
 *   readout     token s as an FFN input: γ_ffn ⊙ e_s / rms(e_s); an eigenvector's top tokens are the largest |v·a_s|
 *
 * W̃ are the effective (dequantized) weights of the model's BitLinear mode. Everything is float64.
 */
import { ArgumentError } from '../errors.js';
import { hadamardForward } from '../kernels/ref/hadamard.js';
import type { Transformer } from '../model/transformer.js';
import { fakeQuantWeightRef } from '../nn/bitlinear.js';
import { QUANT_VARIANTS, usesHadamard } from '../quant/modes.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { effectiveRank, hosvd, interactionMatrix, topSigned, type BilinearWeights } from './bilinear.js';
import { row, symEig } from './eigen.js';

/** Effective bilinear weights of layer `l`'s FFN, in float64. */
export function ffnBilinearWeights(model: Transformer, l: number): BilinearWeights {
  const c = model.config;
  if (c.ffn !== 'bilinear') throw new ArgumentError(`ffnBilinearWeights: the model's FFN is '${c.ffn}', not 'bilinear'`);
  if (!(Number.isInteger(l) && l >= 0 && l < c.nLayers)) throw new ArgumentError(`ffnBilinearWeights: layer ${l} outside [0, ${c.nLayers})`);
  const row = QUANT_VARIANTS[c.quant];
  const eff = (name: string) => {
    const w = Float64Array.from(model.param(name).p);
    if (row.weight !== 'none') fakeQuantWeightRef(row.weight, w, w.slice(), w.length);
    return w;
  };
  const p = `layers.${l}.`;
  let P = eff(`${p}down_proj`);
  if (row.sites.down.pre === 'hadamard') {
    // BitNet v2 H-BitLinear: down_proj reads H·h (H orthonormal, symmetric), so P_eff = W̃ H: each row times H.
    const PH = new Float64Array(P.length);
    hadamardForward(PH, P, c.dim, c.ffnDim);
    P = PH;
  }
  if (c.subln) {
    const g = model.param(`${p}ffn_sub_norm`).p;
    for (let o = 0; o < c.dim; o++) for (let a = 0; a < c.ffnDim; a++) P[o * c.ffnDim + a] = P[o * c.ffnDim + a]! * g[a]!;
  }
  return { W: eff(`${p}gate_proj`), V: eff(`${p}up_proj`), P, D: c.dim, H: c.ffnDim, O: c.dim };
}

/** u_t = γ_final ⊙ head_t: the residual direction read by token t's logit. */
export function tokenDirection(model: Transformer, t: number): Float64Array {
  const c = model.config;
  if (!(Number.isInteger(t) && t >= 0 && t < c.vocabSize)) throw new ArgumentError(`tokenDirection: token ${t} outside [0, ${c.vocabSize})`);
  const head = model.param(c.tieEmbeddings ? 'embed_tokens' : 'lm_head').p;
  const g = model.param('norm').p;
  const u = new Float64Array(c.dim);
  for (let i = 0; i < c.dim; i++) u[i] = g[i]! * head[t * c.dim + i]!;
  return u;
}

/** Every token embedding as layer l's FFN would see it alone: γ_ffn ⊙ e_s / rms(e_s), (V, C). */
export function ffnInputTokens(model: Transformer, l: number): Float64Array {
  const c = model.config;
  const emb = model.param('embed_tokens').p;
  const g = model.param(`layers.${l}.post_attention_layernorm`).p;
  const out = new Float64Array(c.vocabSize * c.dim);
  for (let s = 0; s < c.vocabSize; s++) {
    let ss = 0;
    for (let i = 0; i < c.dim; i++) ss += emb[s * c.dim + i]! ** 2;
    const r = 1 / Math.sqrt(ss / c.dim + c.normEps);
    for (let i = 0; i < c.dim; i++) out[s * c.dim + i] = g[i]! * emb[s * c.dim + i]! * r;
  }
  return out;
}

/** The k tokens with the largest scores (descending), rendered for display. */
export function topTokens(scores: Float64Array, k: number, tok: Tokenizer, sign: 1 | -1 = 1): string[] {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => sign * (scores[b]! - scores[a]!) || a - b);
  return idx.slice(0, k).map((i) => JSON.stringify(tok.decode([i])));
}

function scoresOf(mat: Float64Array, v: ArrayLike<number>, n: number, C: number): Float64Array {
  const s = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let t = 0;
    for (let i = 0; i < C; i++) t += mat[r * C + i]! * v[i]!;
    s[r] = t;
  }
  return s;
}

export interface LmEigenReport {
  token: string;
  /** Top eigenvalues (positive then negative, 5 each). */
  positive: number[];
  negative: number[];
  effRank: number;
  /** For the top-2 positive and top-2 negative eigenvectors: the tokens at both ends of v·a_s. */
  vectors: Array<{ lambda: number; plus: string[]; minus: string[] }>;
}

/** Decompose layer l's FFN along each target token's logit direction. */
export function decomposeForTokens(model: Transformer, l: number, tokens: number[], tok: Tokenizer, nTop = 6): LmEigenReport[] {
  const w = ffnBilinearWeights(model, l);
  const A = ffnInputTokens(model, l);
  const V = model.config.vocabSize, C = model.config.dim;
  return tokens.map((t) => {
    const e = symEig(interactionMatrix(w, tokenDirection(model, t)), C);
    const { pos, neg } = topSigned(e, 5);
    const vecs = [...pos.slice(0, 2), ...neg.slice(0, 2)].map((i) => {
      const s = scoresOf(A, row(e.vectors, i, C), V, C);
      return { lambda: e.values[i]!, plus: topTokens(s, nTop, tok, 1), minus: topTokens(s, nTop, tok, -1) };
    });
    return { token: JSON.stringify(tok.decode([t])), positive: pos.map((i) => e.values[i]!), negative: neg.map((i) => e.values[i]!), effRank: effectiveRank(e.values), vectors: vecs };
  });
}

export interface LmHosvdReport {
  sigma: number[];
  components: Array<{ outputTokens: string[]; outputTokensNeg: string[]; lambda: number[]; plus: string[]; minus: string[] }>;
}

/** HOSVD over the FFN's residual outputs (C, C²): top components' output tokens (unembedding) and input tokens of their top eigenvector. */
export function hosvdTokens(model: Transformer, l: number, tok: Tokenizer, k = 3, nTop = 6): LmHosvdReport {
  const w = ffnBilinearWeights(model, l);
  const c = model.config;
  const h = hosvd(w, k);
  const A = ffnInputTokens(model, l);
  const U = new Float64Array(c.vocabSize * c.dim); // u_t rows
  for (let t = 0; t < c.vocabSize; t++) U.set(tokenDirection(model, t), t * c.dim);
  const components = Array.from({ length: Math.min(k, h.sigma.length) }, (_, i) => {
    const dir = h.outputDirs.subarray(i * c.dim, (i + 1) * c.dim);
    const out = scoresOf(U, dir, c.vocabSize, c.dim);
    const e = symEig(h.matrices[i]!, c.dim);
    const top = Math.abs(e.values[0]!) >= Math.abs(e.values[c.dim - 1]!) ? 0 : c.dim - 1;
    const s = scoresOf(A, row(e.vectors, top, c.dim), c.vocabSize, c.dim);
    return { outputTokens: topTokens(out, nTop, tok, 1), outputTokensNeg: topTokens(out, nTop, tok, -1), lambda: [e.values[0]!, e.values[c.dim - 1]!], plus: topTokens(s, nTop, tok, 1), minus: topTokens(s, nTop, tok, -1) };
  });
  return { sigma: Array.from(h.sigma), components };
}
