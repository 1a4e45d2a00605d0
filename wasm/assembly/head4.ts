// 4-bit per-group LM head ('q4g', src/kernels/ref/head4.ts): int4 codes × int8 per-token activations,
// exact integer dot per group, f32 combination in group order. SIMD128 here; relaxed in head4_relaxed.ts.
import { q4g_emit, q4g_group_end, q4g_group_sums, q4g_rows4_bytes } from './head4_common';

/**
 * 32 weights of one row: v holds k … k+15 in its low nibbles and k+16 … k+31 in its high nibbles.
 * i8×u4 products (|p| ≤ 1920) summed in i16 lanes: ≤ 4 per lane per 32 weights, ≤ 16 per group of ≤ 128.
 */
@inline function dot32(a: v128, xl: v128, xh: v128, v: v128): v128 {
  const lo = v128.and(v, i8x16.splat(15));
  const hi = v128.and(i16x8.shr_u(v, 4), i8x16.splat(15));
  a = i16x8.add(a, i16x8.add(i16x8.extmul_low_i8x16_s(xl, lo), i16x8.extmul_high_i8x16_s(xl, lo)));
  return i16x8.add(a, i16x8.add(i16x8.extmul_low_i8x16_s(xh, hi), i16x8.extmul_high_i8x16_s(xh, hi)));
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
        let a0 = i16x8.splat(0), a1 = i16x8.splat(0), a2 = i16x8.splat(0), a3 = i16x8.splat(0);
        let k = k0;
        for (; k + 64 <= k1; k += 64) { // two 32-weight steps per iteration (a G = 64 group in one)
          const xp = x + <usize>k;
          const wo = wg + (<usize>k << 1);
          const xl = v128.load(xp), xh = v128.load(xp, 16);
          a0 = dot32(a0, xl, xh, v128.load(wo));
          a1 = dot32(a1, xl, xh, v128.load(wo, 16));
          a2 = dot32(a2, xl, xh, v128.load(wo, 32));
          a3 = dot32(a3, xl, xh, v128.load(wo, 48));
          const yl = v128.load(xp, 32), yh = v128.load(xp, 48);
          a0 = dot32(a0, yl, yh, v128.load(wo, 64));
          a1 = dot32(a1, yl, yh, v128.load(wo, 80));
          a2 = dot32(a2, yl, yh, v128.load(wo, 96));
          a3 = dot32(a3, yl, yh, v128.load(wo, 112));
        }
        if (k < k1) {
          const xl = v128.load(x + <usize>k), xh = v128.load(x + <usize>k, 16);
          const wo = wg + (<usize>k << 1);
          a0 = dot32(a0, xl, xh, v128.load(wo));
          a1 = dot32(a1, xl, xh, v128.load(wo, 16));
          a2 = dot32(a2, xl, xh, v128.load(wo, 32));
          a3 = dot32(a3, xl, xh, v128.load(wo, 48));
        }
        acc = q4g_group_end(acc, a0, a1, a2, a3, load<i32>(sxm + (<usize>g << 2)), g == ng - 1 && K32 < K, wg, x, K32, K, sg + (<usize>g << 4));
      }
      q4g_emit(out, m, n, N, acc, xs, min(4, r1 - n));
    }
  }
}
