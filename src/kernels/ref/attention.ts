/**
 * Causal scaled-dot-product self-attention with grouped-query attention (GQA), reference twins.
 * Query head h reads key/value head ⌊h / (H/KVH)⌋ (KVH = H: multi-head; KVH = 1: multi-query).
 *
 *   att[b,h,t,:] = softmax_{t2 ≤ t}( q[b,t,h] · k[b,t2,g] / √HS ),  above the diagonal = 0
 *   out[b,t,h]   = Σ_{t2 ≤ t} att[b,h,t,t2] · v[b,t2,g]
 *
 * The backward runs in two passes so that every output row has a single owner (no races, no
 * dependence on how rows are split across threads, mirrored by the WASM twin):
 *   1. per (b, h, t):  dp = att ⊙ (datt − Σ att·datt) with datt[t2] = dout·v[t2]; stored into `datt`;
 *                      dq[b,t,h] += Σ_t2 dp[t2] · k[t2] / √HS
 *   2. per (b, g, t2): dk[b,t2,g] += Σ_{h∈g} Σ_{t ≥ t2} dp[b,h,t,t2] · q[b,t,h] / √HS
 *                      dv[b,t2,g] += Σ_{h∈g} Σ_{t ≥ t2} att[b,h,t,t2] · dout[b,t,h]
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkAttentionBackward, checkAttentionForward } from './nn_checks.js';

/**
 * Attention forward. out: (B, T, H, HS), att: (B, H, T, T) softmax probabilities saved for backward,
 * q: (B, T, H, HS), k, v: (B, T, KVH, HS). Requires H % KVH == 0.
 */
export function attentionForward(out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
                                 B: number, T: number, H: number, KVH: number, HS: number): void {
  checkAttentionForward('attentionForward', false, out, att, q, k, v, B, T, H, KVH, HS);
  const scale = 1 / Math.sqrt(HS);
  const G = H / KVH;
  const row = new Float64Array(T);
  const acc = new Float64Array(HS);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / G);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * H + h) * HS;
        const ao = ((b * H + h) * T + t) * T;
        let mx = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const ko = ((b * T + t2) * KVH + g) * HS;
          let d = 0;
          for (let i = 0; i < HS; i++) d += q[qo + i]! * k[ko + i]!;
          row[t2] = d * scale;
          mx = Math.max(mx, d * scale);
        }
        let s = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          row[t2] = Math.exp(row[t2]! - mx);
          s += row[t2]!;
        }
        acc.fill(0);
        for (let t2 = 0; t2 < T; t2++) {
          if (t2 > t) {
            att[ao + t2] = 0;
            continue;
          }
          const p = row[t2]! / s;
          att[ao + t2] = p;
          const vo = ((b * T + t2) * KVH + g) * HS;
          for (let i = 0; i < HS; i++) acc[i] = acc[i]! + p * v[vo + i]!;
        }
        for (let i = 0; i < HS; i++) out[qo + i] = acc[i]!;
      }
    }
  }
}

/**
 * Attention backward (accumulates into dq, dk, dv; with accumulate false, writes them: their old values are not
 * read). datt: (B, H, T, T) scratch, overwritten with the gradient of the pre-softmax scores. dout: (B, T, H, HS);
 * q, k, v, att as in the forward.
 */
export function attentionBackward(dq: FloatArray, dk: FloatArray, dv: FloatArray, datt: FloatArray, dout: FloatArray,
                                  q: FloatArray, k: FloatArray, v: FloatArray, att: FloatArray,
                                  B: number, T: number, H: number, KVH: number, HS: number, accumulate = true): void {
  checkAttentionBackward('attentionBackward', false, dq, dk, dv, datt, dout, q, k, v, att, B, T, H, KVH, HS);
  if (!accumulate) {
    dq.fill(0, 0, B * T * H * HS);
    dk.fill(0, 0, B * T * KVH * HS);
    dv.fill(0, 0, B * T * KVH * HS);
  }
  const scale = 1 / Math.sqrt(HS);
  const G = H / KVH;
  const acc = new Float64Array(HS);
  // Pass 1: score gradients and dq, one owner per (b, h, t).
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / G);
      for (let t = 0; t < T; t++) {
        const qo = ((b * T + t) * H + h) * HS;
        const ao = ((b * H + h) * T + t) * T;
        let s = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = ((b * T + t2) * KVH + g) * HS;
          let d = 0;
          for (let i = 0; i < HS; i++) d += dout[qo + i]! * v[vo + i]!;
          datt[ao + t2] = d;
          s += att[ao + t2]! * d;
        }
        acc.fill(0);
        for (let t2 = 0; t2 < T; t2++) {
          if (t2 > t) {
            datt[ao + t2] = 0;
            continue;
          }
          const dp = att[ao + t2]! * (datt[ao + t2]! - s);
          datt[ao + t2] = dp;
          const ko = ((b * T + t2) * KVH + g) * HS;
          for (let i = 0; i < HS; i++) acc[i] = acc[i]! + dp * k[ko + i]!;
        }
        for (let i = 0; i < HS; i++) dq[qo + i] = dq[qo + i]! + acc[i]! * scale;
      }
    }
  }
  // Pass 2: dk, dv, one owner per (b, kv head, t2).
  const accv = new Float64Array(HS);
  for (let b = 0; b < B; b++) {
    for (let g = 0; g < KVH; g++) {
      for (let t2 = 0; t2 < T; t2++) {
        acc.fill(0);
        accv.fill(0);
        for (let h = g * G; h < (g + 1) * G; h++) {
          for (let t = t2; t < T; t++) {
            const ai = ((b * H + h) * T + t) * T + t2;
            const dp = datt[ai]!;
            const p = att[ai]!;
            const qo = ((b * T + t) * H + h) * HS;
            for (let i = 0; i < HS; i++) {
              acc[i] = acc[i]! + dp * q[qo + i]!;
              accv[i] = accv[i]! + p * dout[qo + i]!;
            }
          }
        }
        const ko = ((b * T + t2) * KVH + g) * HS;
        for (let i = 0; i < HS; i++) {
          dk[ko + i] = dk[ko + i]! + acc[i]! * scale;
          dv[ko + i] = dv[ko + i]! + accv[i]!;
        }
      }
    }
  }
}
