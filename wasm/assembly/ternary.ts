// Packed-weight matmuls (SIMD128): the WASM twins of src/kernels/ref/ternary.ts.
// Byte layouts: src/quant/pack.ts. Exact int32 accumulation; scales once per output.
//
//   out[m,n] = f32(f32(f32(acc) / xs[m]) · beta[n / rpg])   (raw = 0)
//   acc[m,n] = Σ_k W[n,k]·xq[m,k]  as int32                  (raw = 1)
//
// Ternary codes are c = w + 1 ∈ {0,1,2}, so Σ w·x = Σ c·x − Σ x (Σx once per token);
// binary bits b ∈ {0,1} give Σ w·x = 2·Σ b·x − Σ x. Codes are unpacked in registers with
// i16x8.shr_u + v128.and (i8x16.shr_u has no x86 instruction, docs/platform.md §3.2), widened to
// i16 and multiplied with i32x4.dot_i16x8_s (this file), or fed straight to the relaxed
// i8×i7 dot (ternary_relaxed.ts). Four weight rows share each activation load.
//
// Export signature (all formats):
//   (out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, tid)
//   out  f32 (M,N) or i32 (M,N) when raw;  xq i8 (M,K);  xs f32 (M);  w packed (N, rowBytes)
//   beta f32 (N/rpg) — one weight scale per group of rpg consecutive rows (rpg = N: per tensor)
//   c3   must be 3: SIMD masks are built from it at run time so V8 13.x keeps them in registers
//        (docs/platform.md §3.5)
//   [r0, r1) the output rows n (= weight rows) of this thread.
// Rows of a K remainder that does not fill a block are finished by a scalar loop.

// ---- helpers shared with ternary_relaxed.ts are in ternary_common.ts ----------------------------------------------------------------------------

// ---- SIMD128 block dots -----------------------------------------------------------------------

import { PACKED_CHUNK_ROWS, sum_i8, reduce4, hsum, emit, FMT_I2, FMT_I1P6, FMT_B1, block_weights, tail_dot, row_bytes, finish, codes, trits, times3, emit_rows4, emit_row1, R4 } from './ternary_common';

/** Σ over 16 weights of c·x with c (u8 codes) and x (i8) widened to i16: one i32x4. */
@inline function dot16(c: v128, x: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(c), i16x8.extend_low_i8x16_s(x)),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(c), i16x8.extend_high_i8x16_s(x)));
}

/** Same, with the activations already widened (xl, xh). */
@inline function dot16w(c: v128, xl: v128, xh: v128): v128 {
  return i32x4.add(
    i32x4.dot_i16x8_s(i16x8.extend_low_i8x16_u(c), xl),
    i32x4.dot_i16x8_s(i16x8.extend_high_i8x16_u(c), xh));
}

/** Σ code·x over nb full blocks of 4 rows (row stride rb): [row0, row1, row2, row3]. */
@inline function dots4_s128(FMT: i32, w: usize, rb: usize, x: usize, nb: i32, c3: i32, BSH: i32 = 4): v128 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1)); // −43
  const hi = i8x16.splat(<i8>(14 * c3)); // 42
  let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
  for (let g = 0; g < nb; g++) {
    const wo = w + (<usize>g << BSH);
    let b0 = v128.load(wo), b1 = v128.load(wo + rb), b2 = v128.load(wo + 2 * rb), b3 = v128.load(wo + 3 * rb);
    const xp = x + <usize>(g * block_weights(FMT));
    if (FMT == FMT_I2) {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 0, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 0, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 0, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 0, m3), xl, xh));
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 2, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 2, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 2, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 2, m3), xl, xh));
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 4, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 4, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 4, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 4, m3), xl, xh));
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 6, m3), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 6, m3), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 6, m3), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 6, m3), xl, xh));
      }
    } else if (FMT == FMT_B1) {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 0, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 0, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 0, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 0, m1), xl, xh));
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 1, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 1, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 1, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 1, m1), xl, xh));
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 2, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 2, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 2, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 2, m1), xl, xh));
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 3, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 3, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 3, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 3, m1), xl, xh));
      }
      { const xv = v128.load(xp, 64); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 4, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 4, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 4, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 4, m1), xl, xh));
      }
      { const xv = v128.load(xp, 80); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 5, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 5, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 5, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 5, m1), xl, xh));
      }
      { const xv = v128.load(xp, 96); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 6, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 6, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 6, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 6, m1), xl, xh));
      }
      { const xv = v128.load(xp, 112); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(codes(b0, 7, m1), xl, xh));
        a1 = i32x4.add(a1, dot16w(codes(b1, 7, m1), xl, xh));
        a2 = i32x4.add(a2, dot16w(codes(b2, 7, m1), xl, xh));
        a3 = i32x4.add(a3, dot16w(codes(b3, 7, m1), xl, xh));
      }
    } else {
      { const xv = v128.load(xp, 0); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 16); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 32); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 48); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
        b0 = times3(b0); b1 = times3(b1); b2 = times3(b2); b3 = times3(b3);
      }
      { const xv = v128.load(xp, 64); const xl = i16x8.extend_low_i8x16_s(xv), xh = i16x8.extend_high_i8x16_s(xv);
        a0 = i32x4.add(a0, dot16w(trits(b0, lo, hi), xl, xh));
        a1 = i32x4.add(a1, dot16w(trits(b1, lo, hi), xl, xh));
        a2 = i32x4.add(a2, dot16w(trits(b2, lo, hi), xl, xh));
        a3 = i32x4.add(a3, dot16w(trits(b3, lo, hi), xl, xh));
      }
    }
  }
  return reduce4(a0, a1, a2, a3);
}

/** Σ code·x over nb full blocks of one row. */
@inline function dot1_s128(FMT: i32, w: usize, x: usize, nb: i32, c3: i32): i32 {
  const m3 = i8x16.splat(<i8>c3);
  const m1 = i8x16.splat(<i8>(c3 >> 1));
  const lo = i8x16.splat(<i8>(-14 * c3 - 1));
  const hi = i8x16.splat(<i8>(14 * c3));
  let a = i32x4.splat(0);
  for (let g = 0; g < nb; g++) {
    let b = v128.load(w + (<usize>g << 4));
    const xp = x + <usize>(g * block_weights(FMT));
    if (FMT == FMT_I2) {
      a = i32x4.add(a, dot16(codes(b, 0, m3), v128.load(xp, 0)));
      a = i32x4.add(a, dot16(codes(b, 2, m3), v128.load(xp, 16)));
      a = i32x4.add(a, dot16(codes(b, 4, m3), v128.load(xp, 32)));
      a = i32x4.add(a, dot16(codes(b, 6, m3), v128.load(xp, 48)));
    } else if (FMT == FMT_B1) {
      a = i32x4.add(a, dot16(codes(b, 0, m1), v128.load(xp, 0)));
      a = i32x4.add(a, dot16(codes(b, 1, m1), v128.load(xp, 16)));
      a = i32x4.add(a, dot16(codes(b, 2, m1), v128.load(xp, 32)));
      a = i32x4.add(a, dot16(codes(b, 3, m1), v128.load(xp, 48)));
      a = i32x4.add(a, dot16(codes(b, 4, m1), v128.load(xp, 64)));
      a = i32x4.add(a, dot16(codes(b, 5, m1), v128.load(xp, 80)));
      a = i32x4.add(a, dot16(codes(b, 6, m1), v128.load(xp, 96)));
      a = i32x4.add(a, dot16(codes(b, 7, m1), v128.load(xp, 112)));
    } else {
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 0)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 16)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 32)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 48)));
      b = times3(b);
      a = i32x4.add(a, dot16(trits(b, lo, hi), v128.load(xp, 64)));
    }
  }
  return hsum(a);
}

// ---- driver -----------------------------------------------------------------------------------

/**
 * Driver. IL = false: rows one after another (rowBytes apart, blocks 16 bytes apart); IL = true: the
 * 'r4' layout (pack.ts 'i2r4': groups of four rows interleaved, rows 16 bytes apart, blocks 64), where
 * [r0, r1) starts on a group and the padding rows of a last partial group are computed, not stored.
 * M > 1 walks chunks of PACKED_CHUNK_ROWS rows with every token per chunk.
 */
@inline function packed_s128(FMT: i32, IL: bool, out: usize, raw: i32, x: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32): void {
  const rb = row_bytes(FMT, K);
  const rs: usize = IL ? 16 : rb;
  const BSH = IL ? 6 : 4;
  const bw = block_weights(FMT);
  const nb = K / bw;
  const k0 = nb * bw;
  const chunk = M == 1 ? max(r1 - r0, 1) : PACKED_CHUNK_ROWS;
  for (let n0 = r0; n0 < r1; n0 += chunk) {
    const n1 = min(n0 + chunk, r1);
    for (let m = 0; m < M; m++) {
      const xm = x + <usize>m * <usize>K;
      const xsum = sum_i8(xm, K);
      let n = n0;
      for (; IL ? n < n1 : n + 4 <= n1; n += 4) {
        const wr = IL ? w + <usize>(n >> 2) * (rb << 2) : w + <usize>n * rb;
        emit_rows4(FMT, out, raw, m, n, N, dots4_s128(FMT, wr, rs, xm, nb, c3, BSH), wr, rs, xm, k0, K, xsum, xs, beta, rpg, BSH, min(R4, n1 - n));
      }
      for (; n < n1; n++) {
        const wr = w + <usize>n * rb;
        emit_row1(FMT, out, raw, m, n, N, dot1_s128(FMT, wr, xm, nb, c3), wr, xm, k0, K, xsum, xs, beta, rpg);
      }
    }
  }
}

/** 'i2r4' (rows interleaved by four) ternary × int8. */
export function matmul_i2r4_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_I2, true, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i2r4' ternary × int4 codes: on SIMD128 the same kernel as matmul_i2r4_i8. */
export function matmul_i2r4_i4(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_I2, true, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i2' ternary × int8 (see the file header for the signature). */
export function matmul_i2_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_I2, false, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i2' ternary × int4 codes in int8 lanes: on SIMD128 the same kernel as matmul_i2_i8. */
export function matmul_i2_i4(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_I2, false, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i1.6' base-3 ternary × int8. */
export function matmul_i1p6_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_I1P6, false, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'b1' binary ±1 × int8. */
export function matmul_b1_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed_s128(FMT_B1, false, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}
