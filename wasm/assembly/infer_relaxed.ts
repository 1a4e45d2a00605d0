// Relaxed-SIMD twin of matmul_i7_i8 (wasm/assembly/infer.ts), same 'i7r4' layout and results: the
// stored codes u = w + 64 ∈ [1, 127] are valid 7-bit operands of i16x8.relaxed_dot_i8x16_i7x16_s,
// whose result is then exact on every engine (pair sums ≤ 2·128·127 < 2^15); Σ x·w = Σ x·u − 64·Σ x.
// Not i32x4.relaxed_dot_i8x16_i7x16_add_s: on Node 20 (V8 11.3, x64 without VNNI) it returned twice
// the dot product here (measured: test/kernels/infer_kernels.test.ts caught it).
import { sum_i8 } from './ternary_common';
import { emit_rows4_i7, I7_BLOCK_ROWS, i7r4_group_bytes, I7_OFFSET } from './infer_common';

@inline function dot7(acc: v128, x: v128, u: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x, u)));
}

export function matmul_i7_i8_relaxed(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32,
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
        a0 = dot7(a0, xv, v128.load(wo));
        a1 = dot7(a1, xv, v128.load(wo, 16));
        a2 = dot7(a2, xv, v128.load(wo, 32));
        a3 = dot7(a3, xv, v128.load(wo, 48));
      }
      emit_rows4_i7(out, m, n, N, a0, a1, a2, a3, corr, wg, x, K16, K, xs, ws, min(4, b1 - n));
    }
  }
  }
}
