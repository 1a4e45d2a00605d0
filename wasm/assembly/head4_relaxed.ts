// Relaxed-SIMD twin of matmul_q4g_i8 (wasm/assembly/head4.ts), same 'q4g' layout and results: the stored
// nibbles u = w + 8 ∈ [0, 15] are valid 7-bit operands of i16x8.relaxed_dot_i8x16_i7x16_s, whose result is
// then exact on every engine (pair sums ≤ 2·128·15 < 2^15); Σ x·w = Σ x·u − 8·Σ x (the corrections).
import { q4g_emit, q4g_group_end, q4g_group_sums, q4g_rows4_bytes } from './head4_common';

/** 32 weights of one row (low nibbles k … k+15, high nibbles k+16 … k+31): ≤ 2 pair sums per i16 lane. */
@inline function dot32r(a: v128, xl: v128, xh: v128, v: v128): v128 {
  a = i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(xl, v128.and(v, i8x16.splat(15))));
  return i16x8.add(a, i16x8.relaxed_dot_i8x16_i7x16_s(xh, v128.and(i16x8.shr_u(v, 4), i8x16.splat(15))));
}

export function matmul_q4g_i8_relaxed(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32, G: i32,
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
        let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
        let k = k0;
        for (; k + 64 <= k1; k += 64) { // two 32-weight steps per iteration (a G = 64 group in one)
          const xp = x + <usize>k;
          const wo = wg + (<usize>k << 1);
          const xl = v128.load(xp), xh = v128.load(xp, 16);
          a0 = dot32r(a0, xl, xh, v128.load(wo));
          a1 = dot32r(a1, xl, xh, v128.load(wo, 16));
          a2 = dot32r(a2, xl, xh, v128.load(wo, 32));
          a3 = dot32r(a3, xl, xh, v128.load(wo, 48));
          const yl = v128.load(xp, 32), yh = v128.load(xp, 48);
          a0 = dot32r(a0, yl, yh, v128.load(wo, 64));
          a1 = dot32r(a1, yl, yh, v128.load(wo, 80));
          a2 = dot32r(a2, yl, yh, v128.load(wo, 96));
          a3 = dot32r(a3, yl, yh, v128.load(wo, 112));
        }
        if (k < k1) {
          const xl = v128.load(x + <usize>k), xh = v128.load(x + <usize>k, 16);
          const wo = wg + (<usize>k << 1);
          a0 = dot32r(a0, xl, xh, v128.load(wo));
          a1 = dot32r(a1, xl, xh, v128.load(wo, 16));
          a2 = dot32r(a2, xl, xh, v128.load(wo, 32));
          a3 = dot32r(a3, xl, xh, v128.load(wo, 48));
        }
        acc = q4g_group_end(acc, i32x4.extadd_pairwise_i16x8_s(a0), i32x4.extadd_pairwise_i16x8_s(a1),
          i32x4.extadd_pairwise_i16x8_s(a2), i32x4.extadd_pairwise_i16x8_s(a3), load<i32>(sxm + (<usize>g << 2)), g == ng - 1 && K32 < K, wg, x, K32, K, sg + (<usize>g << 4));
      }
      q4g_emit(out, m, n, N, acc, xs, min(4, r1 - n));
    }
  }
}
