// Inference-only kernels (twins of src/kernels/ref/infer.ts): attention over a KV cache (f32 or f16),
// f32 ↔ f16 conversion, and the int7 × int8 matmul of the 8-bit-storage LM head (SIMD128 here; relaxed
// in infer_relaxed.ts).
import { axpy, dot, softmaxRow } from './nn_math';
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
  if (M == 1) {
    decode_f32(out, q, kc, vc, pos0 + 1, G, kvRow, HS, scale, a, scratchStride, r0, r1);
    return;
  }
  for (let row = r0; row < r1; row++) {
    const m = row / H;
    const h = row % H;
    const g = h / G;
    const n = pos0 + m + 1;
    const qp = q + (<usize>row * <usize>HS << 2);
    const kg = kc + (<usize>g * <usize>HS << 2);
    const vg = vc + (<usize>g * <usize>HS << 2);
    for (let s = 0; s < n; s++) store<f32>(a + (<usize>s << 2), dot(qp, kg + <usize>s * kvRow, HS) * scale);
    softmaxRow(a, a, n);
    const op = out + (<usize>row * <usize>HS << 2);
    memory.fill(op, 0, <usize>HS << 2);
    for (let s = 0; s < n; s++) axpy(op, load<f32>(a + (<usize>s << 2)), vg + <usize>s * kvRow, HS);
  }
}

/**
 * attention_cached_f32 for one query (decode): heads [r0, r1) in chunks of score rows that fit the scratch, keys
 * outer and heads inner, so each cached position's K then V row (all kv heads) is read once, front to back (see
 * decode_f16). Per head the same dot, softmax and axpy in key order as the general loop: bit-identical.
 */
function decode_f32(out: usize, q: usize, kc: usize, vc: usize, n: i32, G: i32, kvRow: usize, HS: i32, scale: f32,
                    a: usize, stride: usize, r0: i32, r1: i32): void {
  const rowBytes = <usize>HS << 2;
  const sb = <usize>n << 2;
  const maxRows = max(1, <i32>(stride / sb));
  let h0 = r0;
  while (h0 < r1) {
    const nh = min(maxRows, r1 - h0);
    for (let s = 0; s < n; s++) {
      const krow = kc + <usize>s * kvRow;
      for (let j = 0; j < nh; j++) {
        const h = h0 + j;
        store<f32>(a + <usize>j * sb + (<usize>s << 2), dot(q + <usize>h * rowBytes, krow + <usize>(h / G) * rowBytes, HS) * scale);
      }
    }
    for (let j = 0; j < nh; j++) softmaxRow(a + <usize>j * sb, a + <usize>j * sb, n);
    memory.fill(out + <usize>h0 * rowBytes, 0, <usize>nh * rowBytes);
    for (let s = 0; s < n; s++) {
      const vrow = vc + <usize>s * kvRow;
      for (let j = 0; j < nh; j++) {
        const h = h0 + j;
        axpy(out + <usize>h * rowBytes, load<f32>(a + <usize>j * sb + (<usize>s << 2)), vrow + <usize>(h / G) * rowBytes, HS);
      }
    }
    h0 += nh;
  }
}

/**
 * attention_cached_f32 over a cache of IEEE halves (S, KVH, HS), each cached value widened exactly
 * (wasm/assembly/f16.ts). The rows a thread owns are taken in runs that share each widened K/V chunk:
 * up to 4 heads of one (m, g) group (GQA), or, with one head per kv group (MHA) and several queries
 * (prefill), up to 4 consecutive queries of one head — rows are then enumerated head-major (h·M + m), and
 * query j of a run sees keys [0, n + j). Every (query, head)'s arithmetic is the single-head sequence
 * (dot_f16, axpy_f16 order; keys past a query's own length are scored but never used), so results do not
 * depend on how rows fall into runs (the thread split) nor on M. Scores of run row j live at scratch + 4·j·n_last.
 */
export function attention_cached_f16(out: usize, q: usize, kc: usize, vc: usize, M: i32, pos0: i32, H: i32, KVH: i32, HS: i32, finite: i32,
                                     scratchBase: usize, scratchStride: usize, r0: i32, r1: i32, tid: i32): void {
  if (M == 1) {
    decode_f16(out, q, kc, vc, pos0 + 1, H, KVH, HS, finite, scratchBase + <usize>tid * scratchStride, scratchStride, r0, r1);
    return;
  }
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const a = scratchBase + <usize>tid * scratchStride;
  const kvRow = <usize>KVH * <usize>HS << 1;
  const rowBytes = <usize>HS << 2;
  const byQuery = G == 1; // M > 1 here (one query takes decode_f16)
  let row = r0;
  while (row < r1) {
    let m: i32, h: i32, nh: i32;
    if (byQuery) {
      h = row / M;
      m = row % M;
      nh = min(min(4, M - m), r1 - row);
    } else {
      m = row / H;
      h = row % H;
      nh = min(min(4, G - h % G), r1 - row);
    }
    const g = h / G;
    const n = pos0 + m + 1; // keys of the run's first row; row j has n + j·step
    const step = byQuery ? 1 : 0;
    const nLast = n + (nh - 1) * step;
    const sb = <usize>nLast << 2;
    const stride = byQuery ? <usize>H * rowBytes : rowBytes; // between the run's q (and out) rows
    const qp = q + (<usize>m * <usize>H + <usize>h) * rowBytes;
    const kg = kc + (<usize>g * <usize>HS << 1);
    const vg = vc + (<usize>g * <usize>HS << 1);
    // finite cache (the caller's promise) and |q| < 2^16: the scaled widening (f16.ts scaled4) on q·2^112,
    // after the score rows; the same products and sums, bit for bit
    const qs = a + <usize>4 * sb;
    const fast = finite != 0 && scaledQueries(qs, qp, stride, nh, HS);
    if (fast) attend_f16(qs, rowBytes, a, sb, kg, kvRow, n, step, nh, HS, scale, true);
    else attend_f16(qp, stride, a, sb, kg, kvRow, n, step, nh, HS, scale, false);
    for (let j = 0; j < nh; j++) softmaxRow(a + <usize>j * sb, a + <usize>j * sb, n + j * step);
    const op = out + (<usize>m * <usize>H + <usize>h) * rowBytes;
    for (let j = 0; j < nh; j++) memory.fill(op + <usize>j * stride, 0, rowBytes);
    if (fast) weigh_f16(op, stride, a, sb, vg, kvRow, n, step, nh, HS, true);
    else weigh_f16(op, stride, a, sb, vg, kvRow, n, step, nh, HS, false);
    row += nh;
  }
}

/**
 * One query (decode): the heads [r0, r1) in chunks that fit the thread's scratch (nh score rows of n floats, then nh
 * scaled query rows), keys outer and heads inner, so each cached position's K row — then V row — of all kv heads
 * (kvRow bytes) is read once, front to back. The per-head walk of the general path reads HS-half chunks kvRow bytes
 * apart, which a cold cache serves at a few GB/s. Per head the same operations in the same order (dot_f16 or its
 * four-head form per key, softmax, axpy_f16 in key order): bit-identical to the general path.
 */
function decode_f16(out: usize, q: usize, kc: usize, vc: usize, n: i32, H: i32, KVH: i32, HS: i32, finite: i32,
                    a: usize, stride: usize, r0: i32, r1: i32): void {
  const scale: f32 = 1 / Mathf.sqrt(<f32>HS);
  const G = H / KVH;
  const rowBytes = <usize>HS << 2;
  const sb = <usize>n << 2;
  const maxRows = max(1, <i32>(stride / (sb + rowBytes)));
  let h0 = r0;
  while (h0 < r1) {
    const nh = min(maxRows, r1 - h0);
    const qs = a + <usize>nh * sb;
    const q0 = q + <usize>h0 * rowBytes;
    const fast = finite != 0 && scaledQueries(qs, q0, rowBytes, nh, HS);
    if (fast) decode_scores(a, sb, qs, rowBytes, kc, n, h0, nh, G, KVH, HS, scale, true);
    else decode_scores(a, sb, q0, rowBytes, kc, n, h0, nh, G, KVH, HS, scale, false);
    for (let j = 0; j < nh; j++) softmaxRow(a + <usize>j * sb, a + <usize>j * sb, n);
    const o0 = out + <usize>h0 * rowBytes;
    memory.fill(o0, 0, <usize>nh * rowBytes);
    if (fast) decode_weigh(o0, rowBytes, a, sb, vc, n, h0, nh, G, KVH, HS, true);
    else decode_weigh(o0, rowBytes, a, sb, vc, n, h0, nh, G, KVH, HS, false);
    h0 += nh;
  }
}

/**
 * The fast widening's query side (f16.ts scaled4): rows j < nh of HS floats (src + j·srcStride) times 2^112 into
 * dst (rows HS floats apart), when every |q| < 2^16; false (dst partly written, unused) otherwise.
 */
@inline function scaledQueries(dst: usize, src: usize, srcStride: usize, nh: i32, HS: i32): bool {
  for (let j = 0; j < nh; j++) {
    for (let i = 0; i < HS; i++) {
      const x = load<f32>(src + <usize>j * srcStride + (<usize>i << 2));
      if (!(abs(x) < 65536)) return false;
      store<f32>(dst + (<usize>(j * HS + i) << 2), x * UNSCALE);
    }
  }
  return true;
}

/** Heads h0+j (j < nh) of a run of four sharing one kv group from head h0+j on? */
@inline function four(j: i32, nh: i32, h0: i32, G: i32): bool {
  return j + 4 <= nh && (h0 + j) % G + 4 <= G;
}

/** decode_f16's scores: key by key, each key's row once over the chunk's heads (four heads of one group together). */
@inline function decode_scores(a: usize, sb: usize, qp: usize, qStride: usize, kc: usize, n: i32, h0: i32, nh: i32, G: i32, KVH: i32, HS: i32, scale: f32, FAST: bool): void {
  const kvRow = <usize>KVH * <usize>HS << 1;
  for (let s = 0; s < n; s++) {
    const krow = kc + <usize>s * kvRow;
    const so = <usize>s << 2;
    let j = 0;
    while (j < nh) {
      const kg = krow + (<usize>((h0 + j) / G) * <usize>HS << 1);
      if (four(j, nh, h0, G)) {
        dot4_f16(a + <usize>j * sb + so, sb, qp + <usize>j * qStride, qStride, kg, HS, scale, FAST);
        j += 4;
      } else {
        store<f32>(a + <usize>j * sb + so, dot_f16(qp + <usize>j * qStride, kg, HS, FAST) * scale);
        j++;
      }
    }
  }
}

/** decode_f16's weighted sums: out row j += p_j[s]·V[s] key by key in order, each key's row once over the chunk. */
@inline function decode_weigh(o0: usize, oStride: usize, a: usize, sb: usize, vc: usize, n: i32, h0: i32, nh: i32, G: i32, KVH: i32, HS: i32, FAST: bool): void {
  const kvRow = <usize>KVH * <usize>HS << 1;
  for (let s = 0; s < n; s++) {
    const vrow = vc + <usize>s * kvRow;
    const so = <usize>s << 2;
    let j = 0;
    while (j < nh) {
      const vg = vrow + (<usize>((h0 + j) / G) * <usize>HS << 1);
      if (four(j, nh, h0, G)) {
        axpy4_f16(o0 + <usize>j * oStride, oStride, a + <usize>j * sb + so, sb, vg, HS, FAST);
        j += 4;
      } else {
        const p = load<f32>(a + <usize>j * sb + so);
        axpy_f16(o0 + <usize>j * oStride, FAST ? p * UNSCALE : p, vg, HS, FAST);
        j++;
      }
    }
  }
}

/** Scores of the run's nh rows (query rows qp + j·qStride, row j against n + j·step cached K rows) into a + j·sb. */
@inline function attend_f16(qp: usize, qStride: usize, a: usize, sb: usize, kg: usize, kvRow: usize, n: i32, step: i32, nh: i32, HS: i32, scale: f32, FAST: bool): void {
  if (nh === 4) {
    const nLast = n + 3 * step;
    for (let s = 0; s < nLast; s++) dot4_f16(a + (<usize>s << 2), sb, qp, qStride, kg + <usize>s * kvRow, HS, scale, FAST);
  } else {
    for (let j = 0; j < nh; j++) {
      const qj = qp + <usize>j * qStride, aj = a + <usize>j * sb, nj = n + j * step;
      for (let s = 0; s < nj; s++) store<f32>(aj + (<usize>s << 2), dot_f16(qj, kg + <usize>s * kvRow, HS, FAST) * scale);
    }
  }
}

/** out rows op + j·oStride += Σ_{s < n + j·step} p_j[s]·V[s] (p_j at a + j·sb), key by key in order. */
@inline function weigh_f16(op: usize, oStride: usize, a: usize, sb: usize, vg: usize, kvRow: usize, n: i32, step: i32, nh: i32, HS: i32, FAST: bool): void {
  let s0 = 0;
  if (nh === 4) {
    for (let s = 0; s < n; s++) axpy4_f16(op, oStride, a + (<usize>s << 2), sb, vg + <usize>s * kvRow, HS, FAST);
    s0 = n; // keys every row of the run sees; the later rows' extra keys below, in the same order
  }
  for (let j = 0; j < nh; j++) {
    const oj = op + <usize>j * oStride, aj = a + <usize>j * sb, nj = n + j * step;
    for (let s = s0; s < nj; s++) axpy_f16(oj, FAST ? load<f32>(aj + (<usize>s << 2)) * UNSCALE : load<f32>(aj + (<usize>s << 2)), vg + <usize>s * kvRow, HS, FAST);
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
