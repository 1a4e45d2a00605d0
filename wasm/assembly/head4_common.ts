// Helpers shared by the 4-bit per-group head kernels (head4.ts SIMD128, head4_relaxed.ts relaxed SIMD).
// Not re-exported by the module entries. Layout 'q4g' and the f32 evaluation order: src/kernels/ref/head4.ts.
import { reduce4, sum_i8 } from './ternary_common';

/** Offset of the stored nibbles: u = w + 8 ∈ [0, 15]. */
export const Q4G_OFFSET: i32 = 8;

/** Code bytes of one group of four interleaved rows: 64 · ⌈K/32⌉. */
@inline export function q4g_rows4_bytes(K: i32): usize {
  return <usize>(((K + 31) >> 5) << 6);
}

/**
 * Per-token offset corrections into sx (i32, M × ng): sx[m·ng + g] = 8 · Σ xq[m,k] over the SIMD part
 * [g·G, min((g+1)·G, K32)) of group g, K32 = K & ~31 (the scalar K tail uses signed codes directly).
 */
@inline export function q4g_group_sums(sx: usize, xq: usize, M: i32, K: i32, G: i32, ng: i32): void {
  const K32 = K & ~31;
  for (let m = 0; m < M; m++) {
    const x = xq + <usize>m * <usize>K;
    for (let g = 0; g < ng; g++) {
      const k0 = g * G;
      store<i32>(sx + ((<usize>m * <usize>ng + <usize>g) << 2), Q4G_OFFSET * sum_i8(x + <usize>k0, min(k0 + G, K32) - k0));
    }
  }
}

/** Σ (u − 8)·x over the K tail [K32, K) of row r of the 4-row group at wg (scalar). */
@inline function tail_q4(wg: usize, r: i32, x: usize, K32: i32, K: i32): i32 {
  let s = 0;
  const row = wg + (<usize>K32 << 1) + (<usize>r << 4);
  for (let k = K32; k < K; k++) {
    const b = <i32>load<u8>(row + <usize>(k & 15));
    s += ((k & 16 ? b >> 4 : b & 15) - Q4G_OFFSET) * <i32>load<i8>(x + <usize>k);
  }
  return s;
}

/**
 * End of group g for four rows: the exact dots d = Σ x·u (i32 lane partial sums p0…p3 of rows 0…3)
 * − corr (+ the scalar K tail when `tail`), then acc + f32(d)·s with s the group's four scales at sp
 * (f32x4 mul, add: the reference's f32(acc + f32(f32(d)·s)) lane by lane).
 */
@inline export function q4g_group_end(acc: v128, p0: v128, p1: v128, p2: v128, p3: v128, corr: i32, tail: bool,
                                      wg: usize, x: usize, K32: i32, K: i32, sp: usize): v128 {
  let d = i32x4.sub(reduce4(p0, p1, p2, p3), i32x4.splat(corr));
  if (tail) {
    let t = i32x4.splat(tail_q4(wg, 0, x, K32, K));
    t = i32x4.replace_lane(t, 1, tail_q4(wg, 1, x, K32, K));
    t = i32x4.replace_lane(t, 2, tail_q4(wg, 2, x, K32, K));
    t = i32x4.replace_lane(t, 3, tail_q4(wg, 3, x, K32, K));
    d = i32x4.add(d, t);
  }
  return f32x4.add(acc, f32x4.mul(f32x4.convert_i32x4_s(d), v128.load(sp)));
}

/** out[m, n + r] = acc[r] / xs[m] for the nv ≤ 4 stored rows of the group. */
@inline export function q4g_emit(out: usize, m: i32, n: i32, N: i32, acc: v128, xs: usize, nv: i32): void {
  const y = f32x4.div(acc, f32x4.splat(load<f32>(xs + (<usize>m << 2))));
  const o = out + ((<usize>m * <usize>N + <usize>n) << 2);
  store<f32>(o, f32x4.extract_lane(y, 0));
  if (nv > 1) store<f32>(o, f32x4.extract_lane(y, 1), 4);
  if (nv > 2) store<f32>(o, f32x4.extract_lane(y, 2), 8);
  if (nv > 3) store<f32>(o, f32x4.extract_lane(y, 3), 12);
}
