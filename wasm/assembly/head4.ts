// 4-bit per-group LM head ('q4g', src/kernels/ref/head4.ts): int4 codes × int8 per-token activations,
// exact integer dot per group, f32 combination in group order. SIMD128 here; relaxed in head4_relaxed.ts.
import { q4g_emit, q4g_group_end, q4g_group_sums, q4g_rows4_bytes } from './head4_common';

/**
 * 32 weights of one row as i16 lanes: lane i of the 16-byte step v holds bytes 2i, 2i+1, i.e. the nibbles of
 * k = 2i, 2i+1 (low) and 16+2i, 16+2i+1 (high), extracted by 16-bit shifts and masks and multiplied with
 * the activations at those k, widened to i16 (xe*: even k, xo*: odd k; shared by the four rows) by
 * i32x4.dot_i16x8_s into i32 lanes. No i8 × i8 → i16 extmul: fewer ops per weight without relaxed SIMD.
 */
@inline function dot32(a: v128, xe0: v128, xo0: v128, xe1: v128, xo1: v128, v: v128): v128 {
  const m = i16x8.splat(15);
  const s0 = i32x4.add(i32x4.dot_i16x8_s(v128.and(v, m), xe0), i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 8), m), xo0));
  const s1 = i32x4.add(i32x4.dot_i16x8_s(v128.and(i16x8.shr_u(v, 4), m), xe1), i32x4.dot_i16x8_s(i16x8.shr_u(v, 12), xo1));
  return i32x4.add(a, i32x4.add(s0, s1));
}

/** Even-k activations of a 16-byte step as i16 (sign-extended). */
@inline function even16(x: v128): v128 {
  return i16x8.shr_s(i16x8.shl(x, 8), 8);
}

/**
 * out[m,n] = f32(Σ_g f32(d[g]·s[n,g]) / xs[m]) over the 'q4g' layout with group size G (32 … 128, a
 * multiple of 32); rows n ∈ [r0, r1), r0 a multiple of 4. Each 4-row group is streamed once for all M
 * tokens. This thread's scratch holds the M × ⌈K/G⌉ offset corrections (the binding sizes M to fit).
 */
export function matmul_q4g_i8(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32, G: i32,
                              scratchBase: usize, scratchStride: usize, r0: i32, r1: i32, tid: i32): void {
  const sx = scratchBase + <usize>tid * scratchStride;
  const ng = (K + G - 1) / G;
  const K32 = K & ~31;
  q4g_group_sums(sx, xq, M, K, G, ng);
  const gb = q4g_rows4_bytes(K);
  const sb = <usize>ng << 4;
  for (let n = r0; n < r1; n += 4) {
    const wg = w + <usize>(n >> 2) * gb;
    const sg = ws + <usize>(n >> 2) * sb;
    for (let m = 0; m < M; m++) {
      const x = xq + <usize>m * <usize>K;
      const sxm = sx + ((<usize>m * <usize>ng) << 2);
      let acc = f32x4.splat(0);
      for (let g = 0; g < ng; g++) {
        const k0 = g * G;
        const k1 = min(k0 + G, K32);
        let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
        for (let k = k0; k < k1; k += 32) {
          const xl = v128.load(x + <usize>k), xh = v128.load(x + <usize>k, 16);
          const xe0 = even16(xl), xo0 = i16x8.shr_s(xl, 8), xe1 = even16(xh), xo1 = i16x8.shr_s(xh, 8);
          const wo = wg + (<usize>k << 1);
          a0 = dot32(a0, xe0, xo0, xe1, xo1, v128.load(wo));
          a1 = dot32(a1, xe0, xo0, xe1, xo1, v128.load(wo, 16));
          a2 = dot32(a2, xe0, xo0, xe1, xo1, v128.load(wo, 32));
          a3 = dot32(a3, xe0, xo0, xe1, xo1, v128.load(wo, 48));
        }
        acc = q4g_group_end(acc, a0, a1, a2, a3, load<i32>(sxm + (<usize>g << 2)), g == ng - 1 && K32 < K, wg, x, K32, K, sg + (<usize>g << 4));
      }
      q4g_emit(out, m, n, N, acc, xs, min(4, r1 - n));
    }
  }
}
