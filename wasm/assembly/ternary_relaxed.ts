// The packed-weight matmuls under their relaxed-module names (*_relaxed, relaxed.wasm only; the bindings in
// src/kernels/wasm/ternary.ts call these when the context uses relaxed SIMD). In relaxed.wasm the plain names
// of ternary.ts compile to the same code: both run ternary_driver.ts over the relaxed primitives (ternary_rel.ts).
import { matmul_b1_i8, matmul_i1p6_i8, matmul_i2_i4, matmul_i2_i8, matmul_i2r4_i4, matmul_i2r4_i8 } from './ternary';

export function matmul_i2r4_i8_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                       beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  matmul_i2r4_i8(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, scratch, stride, r0, r1, tid);
}

export function matmul_i2r4_i4_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                       beta: usize, rpg: i32, c3: i32, scratch: usize, stride: usize, r0: i32, r1: i32, tid: i32): void {
  matmul_i2r4_i4(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, scratch, stride, r0, r1, tid);
}

export function matmul_i2_i8_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                     beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  matmul_i2_i8(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, tid);
}

export function matmul_i2_i4_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                     beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  matmul_i2_i4(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, tid);
}

export function matmul_i1p6_i8_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                       beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  matmul_i1p6_i8(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, tid);
}

export function matmul_b1_i8_relaxed(out: usize, raw: i32, xq: usize, xs: usize, w: usize, M: i32, K: i32, N: i32,
                                     beta: usize, rpg: i32, c3: i32, r0: i32, r1: i32, tid: i32): void {
  matmul_b1_i8(out, raw, xq, xs, w, M, K, N, beta, rpg, c3, r0, r1, tid);
}
