// Causal GQA attention (twin of src/kernels/ref/attention.ts; see the two-pass backward there).
// Forward and backward pass 1 own rows (b, h, t) of the (B, H, T) grid; pass 2 owns rows (b, g, t2)
// of (B, KVH, T). Query head h reads kv head g = h / (H / KVH).
import { axpy, dot, expShiftSum, scal } from './nn_math';

@inline function qkvOff(b: i32, t: i32, h: i32, T: i32, NH: i32, HS: i32): usize {
  return ((<usize>b * <usize>T + <usize>t) * <usize>NH + <usize>h) * <usize>HS << 2;
}

/** att[b,h,t,:] = causal softmax(q·k/√HS), out[b,t,h] = Σ att·v. Rows = B·H·T in (b, h, t) order. */
export function attention_fwd_f32(out: usize, att: usize, q: usize, k: usize, v: usize, T: i32, H: i32, KVH: i32, HS: i32,
                                  r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  for (let row = r0; row < r1; row++) {
    const t = row % T;
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const qp = q + qkvOff(b, t, h, T, H, HS);
    const a = att + (<usize>row * <usize>T << 2);
    let mx: f32 = -Infinity;
    for (let t2 = 0; t2 <= t; t2++) {
      const s = dot(qp, k + qkvOff(b, t2, g, T, KVH, HS), HS) * scale;
      store<f32>(a + (<usize>t2 << 2), s);
      mx = max(mx, s);
    }
    // exp over the causal prefix [0, t] (contiguous), then normalise.
    const n = t + 1;
    const sum = expShiftSum(a, a, mx, n);
    scal(a, 1 / sum, n);
    if (n < T) memory.fill(a + (<usize>n << 2), 0, <usize>(T - n) << 2);
    const op = out + qkvOff(b, t, h, T, H, HS);
    memory.fill(op, 0, <usize>HS << 2);
    for (let t2 = 0; t2 <= t; t2++) axpy(op, load<f32>(a + (<usize>t2 << 2)), v + qkvOff(b, t2, g, T, KVH, HS), HS);
  }
}

/**
 * Backward pass 1, rows (b, h, t): datt[t2] = att·(dout·v[t2] − Σ att·(dout·v)) (pre-softmax score
 * gradient, 0 above the diagonal), dq += Σ datt[t2]·k[t2]/√HS.
 */
export function attention_bwd1_f32(dq: usize, datt: usize, dout: usize, k: usize, v: usize, att: usize,
                                   T: i32, H: i32, KVH: i32, HS: i32, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  for (let row = r0; row < r1; row++) {
    const t = row % T;
    const bh = row / T;
    const h = bh % H;
    const b = bh / H;
    const g = h / G;
    const dop = dout + qkvOff(b, t, h, T, H, HS);
    const a = att + (<usize>row * <usize>T << 2);
    const d = datt + (<usize>row * <usize>T << 2);
    let s: f32 = 0;
    for (let t2 = 0; t2 <= t; t2++) {
      const x = dot(dop, v + qkvOff(b, t2, g, T, KVH, HS), HS);
      store<f32>(d + (<usize>t2 << 2), x);
      s += load<f32>(a + (<usize>t2 << 2)) * x;
    }
    const n = t + 1;
    const vs = f32x4.splat(s);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(d + o, f32x4.mul(v128.load(a + o), f32x4.sub(v128.load(d + o), vs)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(d + o, load<f32>(a + o) * (load<f32>(d + o) - s));
    }
    if (n < T) memory.fill(d + (<usize>n << 2), 0, <usize>(T - n) << 2);
    const dqp = dq + qkvOff(b, t, h, T, H, HS);
    for (let t2 = 0; t2 <= t; t2++) axpy(dqp, load<f32>(d + (<usize>t2 << 2)) * scale, k + qkvOff(b, t2, g, T, KVH, HS), HS);
  }
}

/**
 * Backward pass 2, rows (b, g, t2) of (B, KVH, T): dk[b,t2,g] += Σ_{h∈g, t≥t2} datt[b,h,t,t2]·q[b,t,h]/√HS,
 * dv[b,t2,g] += Σ_{h∈g, t≥t2} att[b,h,t,t2]·dout[b,t,h].
 */
export function attention_bwd2_f32(dk: usize, dv: usize, datt: usize, dout: usize, q: usize, att: usize,
                                   T: i32, H: i32, KVH: i32, HS: i32, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  for (let row = r0; row < r1; row++) {
    const t2 = row % T;
    const bg = row / T;
    const g = bg % KVH;
    const b = bg / KVH;
    const dkp = dk + qkvOff(b, t2, g, T, KVH, HS);
    const dvp = dv + qkvOff(b, t2, g, T, KVH, HS);
    for (let h = g * G; h < (g + 1) * G; h++) {
      for (let t = t2; t < T; t++) {
        const ai = ((((<usize>b * <usize>H + <usize>h) * <usize>T + <usize>t) * <usize>T) + <usize>t2) << 2;
        const off = qkvOff(b, t, h, T, H, HS);
        axpy(dkp, load<f32>(datt + ai) * scale, q + off, HS);
        axpy(dvp, load<f32>(att + ai), dout + off, HS);
      }
    }
  }
}
