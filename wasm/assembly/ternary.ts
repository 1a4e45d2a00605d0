// Packed-weight matmuls: the WASM twins of src/kernels/ref/ternary.ts (exports of both modules; the loops
// are ternary_driver.ts, over SIMD128 primitives in core.wasm and relaxed-SIMD ones in relaxed.wasm).
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

import { FMT_B1, FMT_I1P6, FMT_I2 } from './ternary_common';
import { packed } from './ternary_driver';

// BLK: blocks per i16 accumulation of the relaxed primitives (ternary_rel.ts header): 8 for int8 activations,
// 128 for int4 codes in [-8, 7] (the binding checks the range); the SIMD128 primitives accumulate in int32.

/** 'i2r4' (rows interleaved by four) ternary × int8; scratch: the prefill unpacking (per thread). */
export function matmul_i2r4_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_I2, true, 8, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, scratch + <usize>tid * stride, stride);
}

/** 'i2r4' ternary × int4 codes in [-8, 7]. */
export function matmul_i2r4_i4(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_I2, true, 128, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, scratch + <usize>tid * stride, stride);
}

/** 'i2' ternary × int8 (see the file header for the signature). */
export function matmul_i2_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_I2, false, 8, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i2' ternary × int4 codes in [-8, 7] (int8 lanes). */
export function matmul_i2_i4(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_I2, false, 128, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'i1.6' base-3 ternary × int8. */
export function matmul_i1p6_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                               beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_I1P6, false, 8, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}

/** 'b1' binary ±1 × int8. */
export function matmul_b1_i8(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                             beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  packed(FMT_B1, false, 8, out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1);
}
