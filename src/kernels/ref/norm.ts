/**
 * Normalisations (reference twins): RMSNorm (LLaMA/BitNet, also SubLN) and LayerNorm.
 * Row-wise over the last dimension C of an (M, C) activation; statistics are
 * accumulated in f64 and saved per row for the backward pass.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkLayernormBackward, checkLayernormForward, checkRmsnormBackward, checkRmsnormForward } from './nn_checks.js';

/**
 * RMSNorm forward: y = x · rstd · w, rstd = 1/√(mean(x²) + eps), per row.
 * out: (M, C), rstd: (M) saved for backward, inp: (M, C), weight: (C) or null (= ones).
 */
export function rmsnormForward(out: FloatArray, rstd: FloatArray, inp: FloatArray, weight: FloatArray | null,
                               M: number, C: number, eps: number): void {
  checkRmsnormForward('rmsnormForward', false, out, rstd, inp, weight, M, C, eps);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[o + c]! * inp[o + c]!;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[m] = r;
    for (let c = 0; c < C; c++) out[o + c] = inp[o + c]! * r * (weight === null ? 1 : weight[c]!);
  }
}

/**
 * RMSNorm backward (accumulates). With n = x·rstd and g = dy·w:
 *   dx += rstd · (g − n · mean(g · n)),   dw += Σ_rows dy · n.
 * dinp: (M, C), dweight: (C) or null, dout: (M, C), inp: (M, C), weight: (C) or null, rstd: (M).
 */
export function rmsnormBackward(dinp: FloatArray, dweight: FloatArray | null, dout: FloatArray, inp: FloatArray,
                                weight: FloatArray | null, rstd: FloatArray, M: number, C: number): void {
  checkRmsnormBackward('rmsnormBackward', false, dinp, dweight, dout, inp, weight, rstd, M, C);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    const r = rstd[m]!;
    let dot = 0;
    for (let c = 0; c < C; c++) dot += dout[o + c]! * (weight === null ? 1 : weight[c]!) * inp[o + c]! * r;
    dot /= C;
    for (let c = 0; c < C; c++) {
      const n = inp[o + c]! * r;
      const g = dout[o + c]! * (weight === null ? 1 : weight[c]!);
      dinp[o + c] = dinp[o + c]! + r * (g - n * dot);
      if (dweight !== null) dweight[c] = dweight[c]! + dout[o + c]! * n;
    }
  }
}

/**
 * LayerNorm forward: y = (x − mean) · rstd · w + b, rstd = 1/√(var + eps) with the biased variance.
 * out: (M, C), mean, rstd: (M) saved, inp: (M, C), weight, bias: (C) or null (= ones / zeros).
 */
export function layernormForward(out: FloatArray, mean: FloatArray, rstd: FloatArray, inp: FloatArray, weight: FloatArray | null,
                                 bias: FloatArray | null, M: number, C: number, eps: number): void {
  checkLayernormForward('layernormForward', false, out, mean, rstd, inp, weight, bias, M, C, eps);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    let s = 0;
    for (let c = 0; c < C; c++) s += inp[o + c]!;
    const mu = s / C;
    // Two-pass variance: the one-pass E[x²]−E[x]² cancels catastrophically for large means.
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[o + c]! - mu) * (inp[o + c]! - mu);
    const r = 1 / Math.sqrt(v / C + eps);
    mean[m] = mu;
    rstd[m] = r;
    for (let c = 0; c < C; c++) {
      out[o + c] = (inp[o + c]! - mu) * r * (weight === null ? 1 : weight[c]!) + (bias === null ? 0 : bias[c]!);
    }
  }
}

/**
 * LayerNorm backward (accumulates), llm.c form. With n = (x − mean)·rstd and g = dy·w:
 *   dx += rstd · (g − mean(g) − n · mean(g · n)),  dw += Σ dy · n,  db += Σ dy.
 * dinp: (M, C), dweight, dbias: (C) or null, dout, inp: (M, C), weight: (C) or null, mean, rstd: (M).
 */
export function layernormBackward(dinp: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null, dout: FloatArray,
                                  inp: FloatArray, weight: FloatArray | null, mean: FloatArray, rstd: FloatArray,
                                  M: number, C: number): void {
  checkLayernormBackward('layernormBackward', false, dinp, dweight, dbias, dout, inp, weight, mean, rstd, M, C);
  for (let m = 0; m < M; m++) {
    const o = m * C;
    const mu = mean[m]!;
    const r = rstd[m]!;
    let gm = 0;
    let gnm = 0;
    for (let c = 0; c < C; c++) {
      const g = dout[o + c]! * (weight === null ? 1 : weight[c]!);
      gm += g;
      gnm += g * (inp[o + c]! - mu) * r;
    }
    gm /= C;
    gnm /= C;
    for (let c = 0; c < C; c++) {
      const n = (inp[o + c]! - mu) * r;
      const g = dout[o + c]! * (weight === null ? 1 : weight[c]!);
      dinp[o + c] = dinp[o + c]! + r * (g - gm - n * gnm);
      if (dweight !== null) dweight[c] = dweight[c]! + dout[o + c]! * n;
      if (dbias !== null) dbias[c] = dbias[c]! + dout[o + c]!;
    }
  }
}
