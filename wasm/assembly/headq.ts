// Loader kernels for the 7-bit LM head (twins of src/kernels/ref/infer.ts quantizeRowsI7R4 / quantizeRowsI7R4F16):
// rows of an f32 or f16 table → row-absmax 7-bit codes written straight into the 'i7r4' layout, the row
// scale amax/63 into ws. Codes are round_half_even(x · (63/amax)) evaluated in f64 exactly as the
// reference does (f64x2 multiply + nearest), so they are identical bit for bit; a row holding an inf or
// NaN gets a non-finite scale (the binding reports it).
import { widen4, widen1 } from './f16';

const I7_MAX: f64 = 63;
const I7_OFFSET: i32 = 64;

/** 4 f32 lanes × s (f64), rounded half-even → 4 i32 lanes. */
@inline function codes4(v: v128, s: v128): v128 {
  const lo = f64x2.nearest(f64x2.mul(f64x2.promote_low_f32x4(v), s));
  const hi = f64x2.nearest(f64x2.mul(f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 0, 1)), s));
  return i8x16.shuffle(i32x4.trunc_sat_f64x2_s_zero(lo), i32x4.trunc_sat_f64x2_s_zero(hi), 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/** 16 f32 (four vectors) → 16 offset codes in one v128. */
@inline function codes16(a: v128, b: v128, c: v128, d: v128, s: v128): v128 {
  const ab = i16x8.narrow_i32x4_s(codes4(a, s), codes4(b, s));
  const cd = i16x8.narrow_i32x4_s(codes4(c, s), codes4(d, s));
  return i8x16.add(i8x16.narrow_i16x8_s(ab, cd), i8x16.splat(<i8>I7_OFFSET));
}

@inline function rowBase(row: i32, K: i32): usize {
  const KP = (K + 15) & ~15;
  return <usize>(row >> 2) * 4 * <usize>KP + 16 * <usize>(row & 3);
}

@inline function scaleOf(amax: f32): f64 {
  return amax > 0 ? I7_MAX / <f64>amax : 0;
}

/** Store the row scale amax/63 and return the row's first byte in the 'i7r4' matrix. */
@inline function rowStart(q7: usize, ws: usize, row: i32, K: i32, amax: f32): usize {
  store<f32>(ws + (<usize>row << 2), <f32>(<f64>amax / I7_MAX));
  return q7 + rowBase(row, K);
}

/** Rows r ∈ [r0, r1) of W (n, K) f32 → rows n0 + r of the 'i7r4' matrix q7, scales ws[n0 + r]. */
export function quantize_rows_i7r4_f32(q7: usize, ws: usize, W: usize, n0: i32, K: i32, r0: i32, r1: i32, tid: i32): void {
  for (let r = r0; r < r1; r++) {
    const src = W + (<usize>r * <usize>K << 2);
    let m = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) m = f32x4.max(m, f32x4.abs(v128.load(src + (<usize>k << 2))));
    let amax = max(max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1)), max(f32x4.extract_lane(m, 2), f32x4.extract_lane(m, 3)));
    for (; k < K; k++) amax = max(amax, abs(load<f32>(src + (<usize>k << 2))));
    const base = rowStart(q7, ws, n0 + r, K, amax);
    const sd = scaleOf(amax);
    const s = f64x2.splat(sd);
    k = 0;
    for (; k + 16 <= K; k += 16) {
      const p = src + (<usize>k << 2);
      v128.store(base + 64 * <usize>(k >> 4), codes16(v128.load(p), v128.load(p, 16), v128.load(p, 32), v128.load(p, 48), s));
    }
    for (; k < K; k++) store<i8>(base + 64 * <usize>(k >> 4) + <usize>(k & 15), <i8>(<i32>nearest(<f64>load<f32>(src + (<usize>k << 2)) * sd) + I7_OFFSET));
  }
}

/** The same from IEEE half bits h (n, K) u16. */
export function quantize_rows_i7r4_f16(q7: usize, ws: usize, h: usize, n0: i32, K: i32, r0: i32, r1: i32, tid: i32): void {
  for (let r = r0; r < r1; r++) {
    const src = h + (<usize>r * <usize>K << 1);
    // |half| orders like its low 15 bits: the maximum of the bits is the bits of the maximum
    let m = i16x8.splat(0);
    let k = 0;
    for (; k + 8 <= K; k += 8) m = i16x8.max_u(m, v128.and(v128.load(src + (<usize>k << 1)), i16x8.splat(0x7fff)));
    let mb: u32 = max(max(max(<u32>i16x8.extract_lane_u(m, 0), <u32>i16x8.extract_lane_u(m, 1)), max(<u32>i16x8.extract_lane_u(m, 2), <u32>i16x8.extract_lane_u(m, 3))),
                      max(max(<u32>i16x8.extract_lane_u(m, 4), <u32>i16x8.extract_lane_u(m, 5)), max(<u32>i16x8.extract_lane_u(m, 6), <u32>i16x8.extract_lane_u(m, 7))));
    for (; k < K; k++) mb = max(mb, <u32>(load<u16>(src + (<usize>k << 1)) & 0x7fff));
    const amax = widen1(mb);
    const base = rowStart(q7, ws, n0 + r, K, amax);
    const sd = scaleOf(amax);
    const s = f64x2.splat(sd);
    k = 0;
    for (; k + 16 <= K; k += 16) {
      const p = src + (<usize>k << 1);
      const v0 = v128.load(p), v1 = v128.load(p, 16);
      const a = widen4(i32x4.extend_low_i16x8_u(v0)), b = widen4(i32x4.extend_high_i16x8_u(v0));
      const c = widen4(i32x4.extend_low_i16x8_u(v1)), d = widen4(i32x4.extend_high_i16x8_u(v1));
      v128.store(base + 64 * <usize>(k >> 4), codes16(a, b, c, d, s));
    }
    for (; k < K; k++) store<i8>(base + 64 * <usize>(k >> 4) + <usize>(k & 15), <i8>(<i32>nearest(<f64>widen1(load<u16>(src + (<usize>k << 1))) * sd) + I7_OFFSET));
  }
}
