// Inference-only kernels (twins of src/kernels/ref/infer.ts): attention over a KV cache and the
// int7 × int8 matmul of the 8-bit-storage LM head (SIMD128 here; relaxed in infer_relaxed.ts).
import { axpy, dot, expShiftSum, scal } from './nn_math';

/**
 * Causal GQA attention of M queries at positions pos0 … pos0+M−1 against the cache kc, vc
 * (S, KVH, HS). Rows = M·H in (m, h) order; the scores of a row live in this thread's scratch.
 */
export function attention_cached_f32(out: usize, q: usize, kc: usize, vc: usize, M: i32, pos0: i32, H: i32, KVH: i32, HS: i32,
                                     scratchBase: usize, scratchStride: usize, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const a = scratchBase + <usize>tid * scratchStride;
  const kvRow = <usize>KVH * <usize>HS << 2;
  for (let row = r0; row < r1; row++) {
    const m = row / H;
    const h = row % H;
    const g = h / G;
    const n = pos0 + m + 1;
    const qp = q + (<usize>row * <usize>HS << 2);
    const kg = kc + (<usize>g * <usize>HS << 2);
    const vg = vc + (<usize>g * <usize>HS << 2);
    let mx: f32 = -Infinity;
    for (let s = 0; s < n; s++) {
      const d = dot(qp, kg + <usize>s * kvRow, HS) * scale;
      store<f32>(a + (<usize>s << 2), d);
      mx = max(mx, d);
    }
    const sum = expShiftSum(a, a, mx, n);
    scal(a, 1 / sum, n);
    const op = out + (<usize>row * <usize>HS << 2);
    memory.fill(op, 0, <usize>HS << 2);
    for (let s = 0; s < n; s++) axpy(op, load<f32>(a + (<usize>s << 2)), vg + <usize>s * kvRow, HS);
  }
}

/** Σ_k w[k]·x[k] over 16-byte chunks: i8×i8 → i16 products (|p| ≤ 16384), pairwise-added into i32 lanes. */
@inline function dot_i8(acc: v128, x: v128, w: v128): v128 {
  const lo = i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, w));
  const hi = i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, w));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

@inline export function hsum_i32(v: v128): i32 {
  return (i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1)) + (i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

@inline export function tail_i8(w: usize, x: usize, k0: i32, K: i32): i32 {
  let s = 0;
  for (let k = k0; k < K; k++) s += <i32>load<i8>(w + <usize>k) * <i32>load<i8>(x + <usize>k);
  return s;
}

@inline export function emit_i8(out: usize, m: i32, n: i32, N: i32, acc: i32, xs: usize, ws: usize): void {
  const y: f32 = (<f32>acc / load<f32>(xs + (<usize>m << 2))) * load<f32>(ws + (<usize>n << 2));
  store<f32>(out + ((<usize>m * <usize>N + <usize>n) << 2), y);
}

/** Emit rows n … n+3 of token m: lane sums minus `corr` (the relaxed kernel's offset), plus the scalar K tail. */
@inline export function emit_rows4_i7(out: usize, m: i32, n: i32, N: i32, a0: v128, a1: v128, a2: v128, a3: v128, corr: i32,
                                      w0: usize, rb: usize, x: usize, K16: i32, K: i32, xs: usize, ws: usize): void {
  emit_i8(out, m, n, N, hsum_i32(a0) - corr + tail_i8(w0, x, K16, K), xs, ws);
  emit_i8(out, m, n + 1, N, hsum_i32(a1) - corr + tail_i8(w0 + rb, x, K16, K), xs, ws);
  emit_i8(out, m, n + 2, N, hsum_i32(a2) - corr + tail_i8(w0 + 2 * rb, x, K16, K), xs, ws);
  emit_i8(out, m, n + 3, N, hsum_i32(a3) - corr + tail_i8(w0 + 3 * rb, x, K16, K), xs, ws);
}

/** out[m,n] = f32(f32(acc)/xs[m])·ws[n], acc = Σ_k w[n,k]·xq[m,k] (exact int32); rows n ∈ [r0, r1). */
export function matmul_i7_i8(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32,
                             r0: i32, r1: i32, tid: i32): void {
  const K16 = K & ~15;
  const rb = <usize>K;
  for (let m = 0; m < M; m++) {
    const x = xq + <usize>m * rb;
    let n = r0;
    for (; n + 4 <= r1; n += 4) {
      const w0 = w + <usize>n * rb, w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k = 0; k < K16; k += 16) {
        const o = <usize>k;
        const xv = v128.load(x + o);
        a0 = dot_i8(a0, xv, v128.load(w0 + o));
        a1 = dot_i8(a1, xv, v128.load(w1 + o));
        a2 = dot_i8(a2, xv, v128.load(w2 + o));
        a3 = dot_i8(a3, xv, v128.load(w3 + o));
      }
      emit_rows4_i7(out, m, n, N, a0, a1, a2, a3, 0, w0, rb, x, K16, K, xs, ws);
    }
    for (; n < r1; n++) {
      const w0 = w + <usize>n * rb;
      let a0 = i32x4.splat(0);
      for (let k = 0; k < K16; k += 16) a0 = dot_i8(a0, v128.load(x + <usize>k), v128.load(w0 + <usize>k));
      emit_i8(out, m, n, N, hsum_i32(a0) + tail_i8(w0, x, K16, K), xs, ws);
    }
  }
}
