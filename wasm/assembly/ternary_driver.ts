// The one driver of the packed-weight matmuls, for both modules: core.wasm compiles it over the SIMD128
// primitives (ternary_s128.ts), relaxed.wasm over the relaxed-SIMD ones (ternary_rel.ts) — the choice is
// the compile-time constant ASC_FEATURE_RELAXED_SIMD, so each module contains only its own primitives and
// every change to the loops below reaches both. Layouts, signature and arithmetic: ternary.ts's header.
//
//   M = 1 (decode): 4 rows per pass share each activation load (dots4), a scalar tail per row.
//   'i2r4', M ≥ 4 (prefill): each 4-row group's codes are unpacked once into the thread's scratch, then
//     every token pair runs 4 rows × 2 tokens over ready codes (dots4x2).
//   'i2' row by row, M ≥ 2: 2 rows × 2 tokens tiles (dots2x2), so each unpacked code vector serves two tokens.
// A row's result never depends on the row range [r0, r1) or the thread (fixed reduction order).
import { PACKED_CHUNK_ROWS, sum_i8, emit, FMT_I2, block_weights, tail_dot, row_bytes, finish, emit_rows4, emit_row1, R4 } from './ternary_common';
import { dot1_s128, dots2x2_i2_s128, dots4_s128, dots4x2_dec_s128, dotsA_s128, unpack_group_i2r4_s128, UNPACK_BLOCK_SHIFT_S128 } from './ternary_s128';
import { dot1_rel, dots2x2_i2, dots4_rel, dots4x2_dec, dotsA, unpack_group_i2r4, UNPACK_BLOCK_SHIFT_REL } from './ternary_rel';

// ---- primitives of this module's instruction set ------------------------------------------------

/** Σ code·x over nb full blocks of 4 rows: [row0..row3] (BLK: blocks per i16 accumulation, relaxed only). */
@inline function dots4(FMT: i32, w: usize, rs: usize, x: usize, nb: i32, c3: i32, BLK: i32, BSH: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return dots4_rel(FMT, w, rs, x, nb, c3, BLK, BSH);
  } else {
    return dots4_s128(FMT, w, rs, x, nb, c3, BSH);
  }
}

/** Σ code·x over nb full blocks of one row. */
@inline function dot1(FMT: i32, w: usize, x: usize, nb: i32, c3: i32, BLK: i32): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return dot1_rel(FMT, w, x, nb, c3, BLK);
  } else {
    return dot1_s128(FMT, w, x, nb, c3);
  }
}

/** 'i2' 2 rows × 2 tokens: [row0·xa, row1·xa, row0·xb, row1·xb]. */
@inline function dots2x2(w: usize, rb: usize, xa: usize, xb: usize, nb: i32, c3: i32, BLK: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return dots2x2_i2(w, rb, xa, xb, nb, c3, BLK);
  } else {
    return dots2x2_i2_s128(w, rb, xa, xb, nb, c3);
  }
}

/** log2 of the scratch bytes one 64-weight block of a 4-row group unpacks to. */
@inline function unpackShift(): i32 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return UNPACK_BLOCK_SHIFT_REL;
  } else {
    return UNPACK_BLOCK_SHIFT_S128;
  }
}

@inline function unpackGroup(dst: usize, w: usize, nb: i32, c3: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) {
    unpack_group_i2r4(dst, w, nb, c3);
  } else {
    unpack_group_i2r4_s128(dst, w, nb, c3);
  }
}

/** 4 rows × 2 tokens over unpacked codes: returns ·xb; ·xa via lastDotsA(). */
@inline function dots4x2(c: usize, xa: usize, xb: usize, steps: i32, BLKS: i32): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return dots4x2_dec(c, xa, xb, steps, BLKS);
  } else {
    return dots4x2_dec_s128(c, xa, xb, steps);
  }
}

@inline function lastDotsA(): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return dotsA;
  } else {
    return dotsA_s128;
  }
}

// ---- the driver -----------------------------------------------------------------------------------

/**
 * out (M, N) for rows [r0, r1) of a packed matrix. IL = false: rows one after another (rowBytes apart,
 * blocks 16 bytes apart); IL = true: the 'r4' layout (pack.ts 'i2r4': groups of four rows interleaved, rows
 * 16 bytes apart, blocks 64), where [r0, r1) starts on a group and the padding rows of a last partial group
 * are computed, not stored. M > 1 walks chunks of PACKED_CHUNK_ROWS rows with every token per chunk.
 * `scratch` (scratchBytes): this thread's scratch, for the 'i2r4' prefill unpacking (skipped when too small).
 */
@inline export function packed(FMT: i32, IL: bool, BLK: i32, out: usize, raw: i32, x: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, scratch: usize = 0, scratchBytes: usize = 0): void {
  const rb = row_bytes(FMT, K);
  const rs: usize = IL ? 16 : rb;
  const BSH = IL ? 6 : 4;
  const bw = block_weights(FMT);
  const nb = K / bw;
  const k0 = nb * bw;
  const US = unpackShift();
  const unpacked = FMT == FMT_I2 && IL && M >= 4 && (<usize>nb << US) + (<usize>M << 2) <= scratchBytes;
  // prefill: unpack each group once, then every token pair over the ready codes; the tokens' code sums
  // (for the offset of the 0..2 codes) once per call, not per chunk of rows (that was ~3 % of the tile's work)
  const M2 = M & ~1;
  const sums = scratch + (<usize>nb << US);
  if (unpacked) for (let mm = 0; mm < M2; mm++) store<i32>(sums + (<usize>mm << 2), sum_i8(x + <usize>mm * <usize>K, K));
  const chunk = M == 1 || unpacked ? max(r1 - r0, 1) : PACKED_CHUNK_ROWS;
  for (let n0 = r0; n0 < r1; n0 += chunk) {
    const n1 = min(n0 + chunk, r1);
    let m = 0;
    if (unpacked) {
      for (let n = n0; n < n1; n += R4) {
        const wr = w + <usize>(n >> 2) * (rb << 2);
        unpackGroup(scratch, wr, nb, c3);
        const nv = min(R4, n1 - n);
        for (let mm = 0; mm < M2; mm += 2) {
          const xa = x + <usize>mm * <usize>K, xb = xa + <usize>K;
          const db = dots4x2(scratch, xa, xb, nb << 2, BLK << 2);
          emit_rows4(FMT, out, raw, mm, n, N, lastDotsA(), wr, 16, xa, k0, K, load<i32>(sums + (<usize>mm << 2)), xs, beta, rpg, 6, nv);
          emit_rows4(FMT, out, raw, mm + 1, n, N, db, wr, 16, xb, k0, K, load<i32>(sums + (<usize>mm << 2), 4), xs, beta, rpg, 6, nv);
        }
      }
      m = M2;
    } else if (FMT == FMT_I2 && !IL) {
      for (; m + 2 <= M; m += 2) {
        const xa = x + <usize>m * <usize>K, xb = xa + <usize>K;
        const sa = sum_i8(xa, K), sb = sum_i8(xb, K);
        let n = n0;
        for (; n + 2 <= n1; n += 2) {
          const wr = w + <usize>n * rb;
          const d = dots2x2(wr, rb, xa, xb, nb, c3, BLK);
          let t00 = 0, t10 = 0, t01 = 0, t11 = 0;
          if (k0 < K) {
            t00 = tail_dot(FMT, wr, xa, k0, K); t10 = tail_dot(FMT, wr + rb, xa, k0, K);
            t01 = tail_dot(FMT, wr, xb, k0, K); t11 = tail_dot(FMT, wr + rb, xb, k0, K);
          }
          emit(out, raw, m, n, N, finish(FMT, i32x4.extract_lane(d, 0) + t00, sa), xs, beta, rpg);
          emit(out, raw, m, n + 1, N, finish(FMT, i32x4.extract_lane(d, 1) + t10, sa), xs, beta, rpg);
          emit(out, raw, m + 1, n, N, finish(FMT, i32x4.extract_lane(d, 2) + t01, sb), xs, beta, rpg);
          emit(out, raw, m + 1, n + 1, N, finish(FMT, i32x4.extract_lane(d, 3) + t11, sb), xs, beta, rpg);
        }
        for (; n < n1; n++) {
          const wr = w + <usize>n * rb;
          const ta = k0 < K ? tail_dot(FMT, wr, xa, k0, K) : 0, tb = k0 < K ? tail_dot(FMT, wr, xb, k0, K) : 0;
          emit(out, raw, m, n, N, finish(FMT, dot1(FMT, wr, xa, nb, c3, BLK) + ta, sa), xs, beta, rpg);
          emit(out, raw, m + 1, n, N, finish(FMT, dot1(FMT, wr, xb, nb, c3, BLK) + tb, sb), xs, beta, rpg);
        }
      }
    }
    for (; m < M; m++) {
      const xm = x + <usize>m * <usize>K;
      const xsum = sum_i8(xm, K);
      let n = n0;
      for (; IL ? n < n1 : n + 4 <= n1; n += 4) {
        const wr = IL ? w + <usize>(n >> 2) * (rb << 2) : w + <usize>n * rb;
        emit_rows4(FMT, out, raw, m, n, N, dots4(FMT, wr, rs, xm, nb, c3, BLK, BSH), wr, rs, xm, k0, K, xsum, xs, beta, rpg, BSH, min(R4, n1 - n));
      }
      for (; n < n1; n++) {
        const wr = w + <usize>n * rb;
        emit_row1(FMT, out, raw, m, n, N, dot1(FMT, wr, xm, nb, c3, BLK), wr, xm, k0, K, xsum, xs, beta, rpg);
      }
    }
  }
}
