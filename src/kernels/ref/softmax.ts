/**
 * Row-wise softmax and the fused softmax + cross-entropy loss (llm.c style), reference twins.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkCrossentropyBackward, checkCrossentropyForward, checkSoftmax } from './nn_checks.js';

/**
 * Softmax forward per row: out[i, j] = exp(x_ij − max_i) / Σ_j exp(x_ij − max_i).
 * Subtracting the row max keeps exp from overflowing (inputs ~±1000 are fine).
 * out, inp: (M, C); out may alias inp.
 */
export function softmaxForward(out: FloatArray, inp: FloatArray, M: number, C: number): void {
  checkSoftmax('softmaxForward', false, { out, inp }, M, C);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, inp[o + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(inp[o + c]! - mx);
      out[o + c] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let c = 0; c < C; c++) out[o + c] = out[o + c]! * inv;
  }
}

/**
 * Softmax backward (accumulates): dx += y ⊙ (dy − Σ_j dy_j y_j) per row.
 * dinp, dout, out: (M, C) where out is the forward's softmax output.
 */
export function softmaxBackward(dinp: FloatArray, dout: FloatArray, out: FloatArray, M: number, C: number): void {
  checkSoftmax('softmaxBackward', false, { dinp, dout, out }, M, C);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c]! * out[o + c]!;
    for (let c = 0; c < C; c++) dinp[o + c] = dinp[o + c]! + out[o + c]! * (dout[o + c]! - dot);
  }
}

/**
 * Fused softmax + cross-entropy forward. For each row i with target t = targets[i]:
 *   probs[i, :] = softmax(logits[i, :]),  losses[i] = −log probs[i, t] = logsumexp(logits[i]) − logits[i, t];
 * t = −1 means "ignore": losses[i] = 0 (probs are still written).
 * losses: (M), probs: (M, V) saved for backward, logits: (M, V), targets: Int32Array (M) in [0, V) or −1.
 */
export function crossentropyForward(losses: FloatArray, probs: FloatArray, logits: FloatArray, targets: Int32Array,
                                    M: number, V: number): void {
  checkCrossentropyForward('crossentropyForward', false, losses, probs, logits, targets, M, V);
  for (let m = 0; m < M; m++) {
    const o = m * V;
    let mx = -Infinity;
    for (let j = 0; j < V; j++) mx = Math.max(mx, logits[o + j]!);
    let s = 0;
    for (let j = 0; j < V; j++) {
      const e = Math.exp(logits[o + j]! - mx);
      probs[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < V; j++) probs[o + j] = probs[o + j]! * inv;
    const t = targets[m]!;
    // From the logits rather than −log(prob): exact even when the target's probability underflows.
    losses[m] = t < 0 ? 0 : Math.log(s) + mx - logits[o + t]!;
  }
}

/**
 * Fused softmax + cross-entropy backward (accumulates): dlogits[i, :] += (probs[i, :] − onehot(t_i)) · dlosses[i];
 * rows with target −1 get no gradient. With accumulate false, dlogits = that (rows with target −1: 0), its old
 * values not read.
 * dlogits: (M, V), dlosses: (M), probs: (M, V), targets: (M).
 */
export function crossentropyBackward(dlogits: FloatArray, dlosses: FloatArray, probs: FloatArray, targets: Int32Array,
                                     M: number, V: number, accumulate = true): void {
  checkCrossentropyBackward('crossentropyBackward', false, dlogits, dlosses, probs, targets, M, V);
  for (let m = 0; m < M; m++) {
    const t = targets[m]!;
    const o = m * V;
    if (t < 0) {
      if (!accumulate) dlogits.fill(0, o, o + V);
      continue;
    }
    const dl = dlosses[m]!;
    for (let j = 0; j < V; j++) dlogits[o + j] = (accumulate ? dlogits[o + j]! : 0) + (probs[o + j]! - (j === t ? 1 : 0)) * dl;
  }
}
