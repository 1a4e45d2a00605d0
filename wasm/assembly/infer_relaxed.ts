// Relaxed-SIMD twin of matmul_i7_i8 (wasm/assembly/infer.ts): with w ∈ [-63, 63], w + 64 ∈ [1, 127]
// is a valid 7-bit operand of i16x8.relaxed_dot_i8x16_i7x16_s, whose result is then exact on every
// engine (pair sums ≤ 2·128·127 < 2^15); Σ x·w = Σ x·(w + 64) − 64·Σ x.
// Not i32x4.relaxed_dot_i8x16_i7x16_add_s: on Node 20 (V8 11.3, x64 without VNNI) it returned twice
// the dot product here (measured: test/kernels/infer_kernels.test.ts caught it).
import { sum_i8 } from './ternary_common';

@inline function dot7(acc: v128, x: v128, w: v128, off: v128): v128 {
  return i32x4.add(acc, i32x4.extadd_pairwise_i16x8_s(i16x8.relaxed_dot_i8x16_i7x16_s(x, i8x16.add(w, off))));
}
import { emit_i8, emit_rows4_i7, hsum_i32, tail_i8 } from './infer';

export function matmul_i7_i8_relaxed(out: usize, xq: usize, xs: usize, w: usize, ws: usize, M: i32, K: i32, N: i32,
                                     r0: i32, r1: i32, tid: i32): void {
  const K16 = K & ~15;
  const rb = <usize>K;
  const off = i8x16.splat(64);
  for (let m = 0; m < M; m++) {
    const x = xq + <usize>m * rb;
    const corr = 64 * sum_i8(x, K16);
    let n = r0;
    for (; n + 4 <= r1; n += 4) {
      const w0 = w + <usize>n * rb, w1 = w0 + rb, w2 = w1 + rb, w3 = w2 + rb;
      let a0 = i32x4.splat(0), a1 = i32x4.splat(0), a2 = i32x4.splat(0), a3 = i32x4.splat(0);
      for (let k = 0; k < K16; k += 16) {
        const o = <usize>k;
        const xv = v128.load(x + o);
        a0 = dot7(a0, xv, v128.load(w0 + o), off);
        a1 = dot7(a1, xv, v128.load(w1 + o), off);
        a2 = dot7(a2, xv, v128.load(w2 + o), off);
        a3 = dot7(a3, xv, v128.load(w3 + o), off);
      }
      emit_rows4_i7(out, m, n, N, a0, a1, a2, a3, corr, w0, rb, x, K16, K, xs, ws);
    }
    for (; n < r1; n++) {
      const w0 = w + <usize>n * rb;
      let a0 = i32x4.splat(0);
      for (let k = 0; k < K16; k += 16) a0 = dot7(a0, v128.load(x + <usize>k), v128.load(w0 + <usize>k), off);
      emit_i8(out, m, n, N, hsum_i32(a0) - corr + tail_i8(w0, x, K16, K), xs, ws);
    }
  }
}
