// Helpers shared by the SIMD128 (ternary.ts) and relaxed (ternary_relaxed.ts) packed-matmul
// kernels: format ids, block geometry, scalar tails, reductions and output. Not re-exported
// by the module entries (core.ts / relaxed.ts), so nothing here becomes a module export.

/** Rows per N-chunk when M > 1 (the chunk's weights stay in L1/L2 while all tokens pass). */
export const PACKED_CHUNK_ROWS: i32 = 32;

/** Σ x[k], k < K, int8 → int32. */
@inline export function sum_i8(x: usize, K: i32): i32 {
  let a = i32x4.splat(0);
  let k = 0;
  for (; k + 16 <= K; k += 16) a = i32x4.add(a, i32x4.extadd_pairwise_i16x8_s(i16x8.extadd_pairwise_i8x16_s(v128.load(x + <usize>k))));
  let s = i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
  for (; k < K; k++) s += <i32>load<i8>(x + <usize>k);
  return s;
}

/** [Σa0, Σa1, Σa2, Σa3]: horizontal sums of four i32x4 into the lanes of one. */
@inline export function reduce4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const t01 = i32x4.add(v128.shuffle<i32>(a0, a1, 0, 4, 2, 6), v128.shuffle<i32>(a0, a1, 1, 5, 3, 7));
  const t23 = i32x4.add(v128.shuffle<i32>(a2, a3, 0, 4, 2, 6), v128.shuffle<i32>(a2, a3, 1, 5, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t01, t23, 0, 1, 4, 5), v128.shuffle<i32>(t01, t23, 2, 3, 6, 7));
}

@inline export function hsum(a: v128): i32 {
  return i32x4.extract_lane(a, 0) + i32x4.extract_lane(a, 1) + i32x4.extract_lane(a, 2) + i32x4.extract_lane(a, 3);
}

/** Store one output: raw int32, or f32(f32(f32(acc) / xs[m]) · beta[n / rpg]). */
@inline export function emit(out: usize, raw: i32, m: i32, n: i32, N: i32, acc: i32, xs: usize, beta: usize, rpg: i32): void {
  const o = (<usize>m * <usize>N + <usize>n) << 2;
  if (raw) store<i32>(out + o, acc);
  else store<f32>(out + o, (<f32>acc / load<f32>(xs + (<usize>m << 2))) * load<f32>(beta + (<usize>(n / rpg) << 2)));
}

/** Format ids (compile-time constants of the inline drivers). */
export const FMT_I2: i32 = 0;

export const FMT_I1P6: i32 = 1;

export const FMT_B1: i32 = 2;

/** Weights per 16-byte block. */
@inline export function block_weights(FMT: i32): i32 {
  return FMT == FMT_I2 ? 64 : FMT == FMT_I1P6 ? 80 : 128;
}

/**
 * Σ code·x over the partial last block [k0, K) of one row (scalar); k0 = first weight of the block.
 * Blocks of the row are 1 << BSH bytes apart: 16 row by row, 64 in the 'r4' interleaved layout.
 */
@inline export function tail_dot(FMT: i32, wrow: usize, x: usize, k0: i32, K: i32, BSH: i32 = 4): i32 {
  let a = 0;
  const wb = wrow + (<usize>(k0 / block_weights(FMT)) << BSH);
  for (let k = k0; k < K; k++) {
    const j = k - k0;
    const byte = <i32>load<u8>(wb + <usize>(j & 15));
    let c: i32;
    if (FMT == FMT_I2) c = (byte >> ((j >> 4) << 1)) & 3;
    else if (FMT == FMT_B1) c = (byte >> (j >> 4)) & 1;
    else {
      let q = byte ^ 0x80;
      for (let t = 0; t < (j >> 4); t++) q = (q * 3) & 255;
      c = (q * 3) >> 8;
    }
    a += c * <i32>load<i8>(x + <usize>k);
  }
  return a;
}

/** Row bytes of a packed row. */
@inline export function row_bytes(FMT: i32, K: i32): usize {
  const bw = block_weights(FMT);
  return <usize>(((K + bw - 1) / bw) << 4);
}

/** Final accumulator from Σ code·x and Σ x. */
@inline export function finish(FMT: i32, dot: i32, xsum: i32): i32 {
  return FMT == FMT_B1 ? 2 * dot - xsum : dot - xsum;
}

/** finish for four lanes at once. */
@inline export function finish4(FMT: i32, dot: v128, xsum: i32): v128 {
  const xv = i32x4.splat(xsum);
  return FMT == FMT_B1 ? i32x4.sub(i32x4.shl(dot, 1), xv) : i32x4.sub(dot, xv);
}

/** 2-bit (mask 3) or 1-bit (mask 1) codes at bit offset SH of every byte (i16 shift: no i8x16.shr_u). */
@inline export function codes(b: v128, SH: i32, mask: v128): v128 {
  return v128.and(SH == 0 ? b : i16x8.shr_u(b, SH), mask);
}

/** i1.6 trit codes of one step: c = −((q > −43) + (q > 42)) ∈ {0,1,2} (pack.ts). */
@inline export function trits(q: v128, lo: v128, hi: v128): v128 {
  return i8x16.abs(i8x16.add(i8x16.gt_s(q, lo), i8x16.gt_s(q, hi)));
}

/** q ← 3q mod 256 per byte (next trit of an i1.6 byte). */
@inline export function times3(q: v128): v128 {
  return i8x16.add(i8x16.add(q, q), q);
}

/**
 * Finish and store four rows n..n+3 of token m: SIMD block sums `d` (one lane per row) plus the
 * scalar tails of the partial last block [k0, K). Rows are rs bytes apart and their blocks
 * 1 << BSH apart (row by row: rs = rowBytes, BSH = 4; 'r4': rs = 16, BSH = 6). Only the first
 * nv rows are stored (the padding rows of a last 'r4' group are not).
 */
@inline export function emit_rows4(FMT: i32, out: usize, raw: i32, m: i32, n: i32, N: i32, d: v128, wr: usize, rs: usize,
                                   xm: usize, k0: i32, K: i32, xsum: i32, xs: usize, beta: usize, rpg: i32, BSH: i32 = 4, nv: i32 = 4): void {
  if (!raw && nv == 4 && k0 >= K) {
    // Four rows of one token at once: the same operations per lane as `emit` (an f32 division by xs[m], then
    // the product with β), one divps instead of four divss and one store (bit-identical to emit; the prefill gain
    // was within noise when measured on a loaded VM).
    const q = f32x4.div(f32x4.convert_i32x4_s(finish4(FMT, d, xsum)), f32x4.splat(load<f32>(xs + (<usize>m << 2))));
    let b = f32x4.splat(load<f32>(beta + (<usize>(n / rpg) << 2))); // β(n); rows n+1..n+3 share it when rpg % 4 == 0
    if (rpg % 4 != 0) {
      b = f32x4.replace_lane(b, 1, load<f32>(beta + (<usize>((n + 1) / rpg) << 2)));
      b = f32x4.replace_lane(b, 2, load<f32>(beta + (<usize>((n + 2) / rpg) << 2)));
      b = f32x4.replace_lane(b, 3, load<f32>(beta + (<usize>((n + 3) / rpg) << 2)));
    }
    v128.store(out + ((<usize>m * <usize>N + <usize>n) << 2), f32x4.mul(q, b));
    return;
  }
  let t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  if (k0 < K) {
    t0 = tail_dot(FMT, wr, xm, k0, K, BSH); t1 = tail_dot(FMT, wr + rs, xm, k0, K, BSH);
    t2 = tail_dot(FMT, wr + 2 * rs, xm, k0, K, BSH); t3 = tail_dot(FMT, wr + 3 * rs, xm, k0, K, BSH);
  }
  emit(out, raw, m, n, N, finish(FMT, i32x4.extract_lane(d, 0) + t0, xsum), xs, beta, rpg);
  if (nv > 1) emit(out, raw, m, n + 1, N, finish(FMT, i32x4.extract_lane(d, 1) + t1, xsum), xs, beta, rpg);
  if (nv > 2) emit(out, raw, m, n + 2, N, finish(FMT, i32x4.extract_lane(d, 2) + t2, xsum), xs, beta, rpg);
  if (nv > 3) emit(out, raw, m, n + 3, N, finish(FMT, i32x4.extract_lane(d, 3) + t3, xsum), xs, beta, rpg);
}

/** Rows per group of the 'r4' interleaved layout (src/quant/pack.ts 'i2r4'). */
export const R4: i32 = 4;

/** Finish and store one row n of token m from its SIMD block sum `d` plus the scalar tail. */
@inline export function emit_row1(FMT: i32, out: usize, raw: i32, m: i32, n: i32, N: i32, d: i32, wr: usize,
                                  xm: usize, k0: i32, K: i32, xsum: i32, xs: usize, beta: usize, rpg: i32): void {
  emit(out, raw, m, n, N, finish(FMT, d + (k0 < K ? tail_dot(FMT, wr, xm, k0, K) : 0), xsum), xs, beta, rpg);
}
