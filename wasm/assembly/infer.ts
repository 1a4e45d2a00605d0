// Inference-only kernels (twins of src/kernels/ref/infer.ts): attention over a KV cache (f32 or f16),
// f32 ↔ f16 conversion, and the int7 × int8 matmul of the 8-bit-storage LM head (SIMD128 here; relaxed
// in infer_relaxed.ts).
import { axpy, dot, expShiftSum, scal } from './nn_math';
import { axpy4_f16, axpy_f16, dot4_f16, dot_f16, narrow1, narrow4, UNSCALE, widen1, widen4 } from './f16';
import { emit_rows4_i7, I7_BLOCK_ROWS, i7r4_group_bytes, I7_OFFSET } from './infer_common';
import { sum_i8 } from './ternary_common';

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

/**
 * attention_cached_f32 over a cache of IEEE halves (S, KVH, HS), each cached value widened exactly
 * (wasm/assembly/f16.ts). The rows a thread owns are taken in runs of up to 4 heads of one (m, g)
 * group, which share each widened K/V chunk; every head's arithmetic is the single-head sequence
 * (dot_f16, axpy_f16 order), so results do not depend on how rows fall into runs (the thread split).
 * Scores of run head j live at scratch + 4·j·n.
 */
export function attention_cached_f16(out: usize, q: usize, kc: usize, vc: usize, M: i32, pos0: i32, H: i32, KVH: i32, HS: i32, finite: i32,
                                     scratchBase: usize, scratchStride: usize, r0: i32, r1: i32, tid: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const a = scratchBase + <usize>tid * scratchStride;
  const kvRow = <usize>KVH * <usize>HS << 1;
  const rowBytes = <usize>HS << 2;
  let row = r0;
  while (row < r1) {
    const m = row / H;
    const h = row % H;
    const g = h / G;
    // heads h … h+nh−1: same (m, g), at most 4, inside [r0, r1)
    const nh = min(min(4, G - h % G), r1 - row);
    const n = pos0 + m + 1;
    const sb = <usize>n << 2;
    const qp = q + <usize>row * rowBytes;
    const kg = kc + (<usize>g * <usize>HS << 1);
    const vg = vc + (<usize>g * <usize>HS << 1);
    // finite cache (the caller's promise) and |q| < 2^16: the scaled widening (f16.ts scaled4) on q·2^112,
    // after the score rows; the same products and sums, bit for bit
    const qs = a + <usize>4 * sb;
    let fast = finite != 0;
    if (fast) {
      for (let i = 0; i < nh * HS; i++) {
        const x = load<f32>(qp + (<usize>i << 2));
        if (!(abs(x) < 65536)) { fast = false; break; }
        store<f32>(qs + (<usize>i << 2), x * UNSCALE);
      }
    }
    if (fast) attend_f16(qs, a, sb, kg, vg, kvRow, n, nh, HS, rowBytes, scale, true);
    else attend_f16(qp, a, sb, kg, vg, kvRow, n, nh, HS, rowBytes, scale, false);
    for (let j = 0; j < nh; j++) {
      const aj = a + <usize>j * sb;
      let mx: f32 = -Infinity;
      for (let s = 0; s < n; s++) mx = max(mx, load<f32>(aj + (<usize>s << 2)));
      const sum = expShiftSum(aj, aj, mx, n);
      scal(aj, 1 / sum, n);
    }
    const op = out + <usize>row * rowBytes;
    memory.fill(op, 0, <usize>nh * rowBytes);
    if (fast) weigh_f16(op, a, sb, vg, kvRow, n, nh, HS, rowBytes, true);
    else weigh_f16(op, a, sb, vg, kvRow, n, nh, HS, rowBytes, false);
    row += nh;
  }
}

/** Scores of nh heads (query rows qp + j·rowBytes) against n cached K rows, into a + j·sb. */
@inline function attend_f16(qp: usize, a: usize, sb: usize, kg: usize, vg: usize, kvRow: usize, n: i32, nh: i32, HS: i32, rowBytes: usize, scale: f32, FAST: bool): void {
  if (nh === 4) {
    for (let s = 0; s < n; s++) dot4_f16(a + (<usize>s << 2), sb, qp, rowBytes, kg + <usize>s * kvRow, HS, scale, FAST);
  } else {
    for (let j = 0; j < nh; j++) {
      const qj = qp + <usize>j * rowBytes, aj = a + <usize>j * sb;
      for (let s = 0; s < n; s++) store<f32>(aj + (<usize>s << 2), dot_f16(qj, kg + <usize>s * kvRow, HS, FAST) * scale);
    }
  }
}

/** out rows op + j·rowBytes += Σ_s p_j[s]·V[s] (p_j at a + j·sb). */
@inline function weigh_f16(op: usize, a: usize, sb: usize, vg: usize, kvRow: usize, n: i32, nh: i32, HS: i32, rowBytes: usize, FAST: bool): void {
  if (nh === 4) {
    for (let s = 0; s < n; s++) axpy4_f16(op, rowBytes, a + (<usize>s << 2), sb, vg + <usize>s * kvRow, HS, FAST);
  } else {
    for (let j = 0; j < nh; j++) {
      const oj = op + <usize>j * rowBytes, aj = a + <usize>j * sb;
      for (let s = 0; s < n; s++) axpy_f16(oj, FAST ? load<f32>(aj + (<usize>s << 2)) * UNSCALE : load<f32>(aj + (<usize>s << 2)), vg + <usize>s * kvRow, HS, FAST);
    }
  }
}

/** dst[i] = half(src[i]) (round to nearest even) for i ∈ [r0, r1); elementwise, any split. */
export function f32_to_f16(dst: usize, src: usize, r0: i32, r1: i32, tid: i32): void {
  let i = r0;
  for (; i + 8 <= r1; i += 8) {
    const s = src + (<usize>i << 2);
    v128.store(dst + (<usize>i << 1), i16x8.narrow_i32x4_u(narrow4(v128.load(s)), narrow4(v128.load(s, 16))));
  }
  for (; i < r1; i++) store<u16>(dst + (<usize>i << 1), narrow1(load<f32>(src + (<usize>i << 2))));
}

/** dst[i] = f32(src[i]) (exact) for i ∈ [r0, r1). */
export function f16_to_f32(dst: usize, src: usize, r0: i32, r1: i32, tid: i32): void {
  let i = r0;
  for (; i + 8 <= r1; i += 8) {
    const v = v128.load(src + (<usize>i << 1));
    const d = dst + (<usize>i << 2);
    v128.store(d, widen4(i32x4.extend_low_i16x8_u(v)));
    v128.store(d, widen4(i32x4.extend_high_i16x8_u(v)), 16);
  }
  for (; i < r1; i++) store<f32>(dst + (<usize>i << 2), widen1(load<u16>(src + (<usize>i << 1))));
}

/** Σ_k u[k]·x[k] over 16-byte chunks: i8×i8 → i16 products (|p| ≤ 16384), pairwise-added into i32 lanes. */
@inline function dot_i8(acc: v128, x: v128, w: v128): v128 {
  const lo = i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_low_i8x16_s(x, w));
  const hi = i32x4.extadd_pairwise_i16x8_s(i16x8.extmul_high_i8x16_s(x, w));
  return i32x4.add(acc, i32x4.add(lo, hi));
}

/**
 * out[m,n] = f32(f32(acc)/xs[m])·ws[n], acc = Σ_k (u[n,k] − 64)·xq[m,k] (exact int32) over the
 * 'i7r4' layout (src/kernels/ref/infer.ts: offset codes, rows interleaved by four in 16-byte
 * steps); rows n ∈ [r0, r1), r0 a multiple of 4.
 */
export function matmul_i7_i8(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32,
                             r0: i32, r1: i32, tid: i32): void {
  const K16 = K & ~15;
  const gb = i7r4_group_bytes(K);
  // Blocks of I7_BLOCK_ROWS rows (≤ 96 KiB at K = 1536) stay in cache while every token passes over them,
  // so the head is streamed from memory once per call, not once per token (each output's sum is unchanged).
  for (let b0 = r0; b0 < r1; b0 += I7_BLOCK_ROWS) {
  const b1 = min(b0 + I7_BLOCK_ROWS, r1);
  for (let m = 0; m < M; m++) {
    const x = xq + <usize>m * <usize>K;
    const corr = I7_OFFSET * sum_i8(x, K16);
    for (let n = b0; n < b1; n += 4) {
      const wg = w + <usize>(n >> 2) * gb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k = 0; k < K16; k += 16) {
        const xv = v128.load(x + <usize>k);
        const wo = wg + (<usize>k << 2);
        a0 = dot_i8(a0, xv, v128.load(wo));
        a1 = dot_i8(a1, xv, v128.load(wo, 16));
        a2 = dot_i8(a2, xv, v128.load(wo, 32));
        a3 = dot_i8(a3, xv, v128.load(wo, 48));
      }
      emit_rows4_i7(out, m, n, N, a0, a1, a2, a3, corr, wg, x, K16, K, xs, ws, min(4, b1 - n));
    }
  }
  }
}
