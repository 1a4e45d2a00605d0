// Helpers shared by the 7-bit head kernels (infer.ts SIMD128, infer_relaxed.ts relaxed SIMD).
// Not re-exported by the module entries. Layout 'i7r4': src/kernels/ref/infer.ts.

/** Offset of the stored codes: u = w + 64 ∈ [1, 127]. */
export const I7_OFFSET: i32 = 64;

/** Bytes of one group of four interleaved rows: 4 · 16·⌈K/16⌉. */
/** Rows of the 7-bit head per cache block in matmul_i7_i8*: a multiple of 4 (the interleave), so blocks keep row groups whole. */
export const I7_BLOCK_ROWS: i32 = 64;

@inline export function i7r4_group_bytes(K: i32): usize {
  return <usize>(((K + 15) >> 4) << 6);
}

@inline function hsum_i32(v: v128): i32 {
  return (i32x4.extract_lane(v, 0) + i32x4.extract_lane(v, 1)) + (i32x4.extract_lane(v, 2) + i32x4.extract_lane(v, 3));
}

/** Σ (u − 64)·x over the K tail [K16, K) of row r of the group at wg. */
@inline function tail_i7(wg: usize, r: i32, x: usize, K16: i32, K: i32): i32 {
  let s = 0;
  const row = wg + (<usize>K16 << 2) + (<usize>r << 4);
  for (let k = K16; k < K; k++) s += (<i32>load<i8>(row + <usize>(k - K16)) - I7_OFFSET) * <i32>load<i8>(x + <usize>k);
  return s;
}

@inline function emit_i7(out: usize, m: i32, n: i32, N: i32, acc: i32, xs: usize, ws: usize): void {
  const y: f32 = (<f32>acc / load<f32>(xs + (<usize>m << 2))) * load<f32>(ws + (<usize>n << 2));
  store<f32>(out + ((<usize>m * <usize>N + <usize>n) << 2), y);
}

/**
 * Emit rows n … n+nv−1 (nv ≤ 4: the padding rows of a last group are not stored) of token m:
 * lane sums Σ u·x minus corr = 64·Σ x over [0, K16), plus the scalar K tail.
 */
@inline export function emit_rows4_i7(out: usize, m: i32, n: i32, N: i32, a0: v128, a1: v128, a2: v128, a3: v128, corr: i32,
                                      wg: usize, x: usize, K16: i32, K: i32, xs: usize, ws: usize, nv: i32): void {
  emit_i7(out, m, n, N, hsum_i32(a0) - corr + tail_i7(wg, 0, x, K16, K), xs, ws);
  if (nv > 1) emit_i7(out, m, n + 1, N, hsum_i32(a1) - corr + tail_i7(wg, 1, x, K16, K), xs, ws);
  if (nv > 2) emit_i7(out, m, n + 2, N, hsum_i32(a2) - corr + tail_i7(wg, 2, x, K16, K), xs, ws);
  if (nv > 3) emit_i7(out, m, n + 3, N, hsum_i32(a3) - corr + tail_i7(wg, 3, x, K16, K), xs, ws);
}
