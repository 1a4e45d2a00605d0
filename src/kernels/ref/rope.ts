/**
 * Rotary position embedding, rotate-half (GPT-NeoX / HF LLaMA) convention, reference twins.
 * Pairs (i, i + HS/2) rotate by angle p·f_i, f_i = θ^(−2i/HS):
 *   x'_i        = x_i · cos − x_{i+HS/2} · sin
 *   x'_{i+HS/2} = x_{i+HS/2} · cos + x_i · sin
 * which is x·cos + rotate_half(x)·sin with rotate_half(x) = cat(−x2, x1) and the frequencies
 * duplicated [f, f] (docs/spec.md §3.2, §6.2: BitNet 2B4T and llama.cpp's NEOX rope group).
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkRope, checkRopeTables } from './nn_checks.js';

/**
 * Fill the rotation tables: cos[p, i] = cos(p · θ^(−2i/HS)), sin likewise, for p < maxT, i < HS/2.
 * cos, sin: (maxT, HS/2). Angles in f64 (stored rounded), so long contexts keep accurate phases.
 */
export function ropeTables(cos: FloatArray, sin: FloatArray, maxT: number, HS: number, theta: number): void {
  checkRopeTables('ropeTables', false, cos, sin, maxT, HS, theta);
  const half = HS / 2;
  for (let i = 0; i < half; i++) {
    const f = Math.pow(theta, (-2 * i) / HS);
    for (let p = 0; p < maxT; p++) {
      const a = p * f;
      cos[p * half + i] = Math.cos(a);
      sin[p * half + i] = Math.sin(a);
    }
  }
}

/**
 * RoPE forward. inp, out: (B, T, NH, HS) at positions pos0 … pos0+T−1; cos, sin: (≥ pos0+T, HS/2).
 * out may alias inp (in place).
 */
export function ropeForward(out: FloatArray, inp: FloatArray, cos: FloatArray, sin: FloatArray,
                            B: number, T: number, NH: number, HS: number, pos0: number): void {
  checkRope('ropeForward', false, out, 'out', inp, 'inp', cos, sin, B, T, NH, HS, pos0);
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tab = (pos0 + t) * half;
      for (let h = 0; h < NH; h++) {
        const o = ((b * T + t) * NH + h) * HS;
        for (let i = 0; i < half; i++) {
          const c = cos[tab + i]!;
          const s = sin[tab + i]!;
          const x1 = inp[o + i]!;
          const x2 = inp[o + half + i]!;
          out[o + i] = x1 * c - x2 * s;
          out[o + half + i] = x2 * c + x1 * s;
        }
      }
    }
  }
}

/**
 * RoPE backward (accumulates; with accumulate false, writes): the transpose of the rotation, i.e. rotation by −angle:
 *   dx_i += dy_i·cos + dy_{i+HS/2}·sin,  dx_{i+HS/2} += dy_{i+HS/2}·cos − dy_i·sin.
 * dinp, dout: (B, T, NH, HS); cos, sin: (≥ pos0+T, HS/2).
 */
export function ropeBackward(dinp: FloatArray, dout: FloatArray, cos: FloatArray, sin: FloatArray,
                             B: number, T: number, NH: number, HS: number, pos0: number, accumulate = true): void {
  checkRope('ropeBackward', false, dinp, 'dinp', dout, 'dout', cos, sin, B, T, NH, HS, pos0);
  const half = HS / 2;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const tab = (pos0 + t) * half;
      for (let h = 0; h < NH; h++) {
        const o = ((b * T + t) * NH + h) * HS;
        for (let i = 0; i < half; i++) {
          const c = cos[tab + i]!;
          const s = sin[tab + i]!;
          const g1 = dout[o + i]!;
          const g2 = dout[o + half + i]!;
          dinp[o + i] = (accumulate ? dinp[o + i]! : 0) + g1 * c + g2 * s;
          dinp[o + half + i] = (accumulate ? dinp[o + half + i]! : 0) + g2 * c - g1 * s;
        }
      }
    }
  }
}
