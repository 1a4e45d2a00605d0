// IEEE half (f16) ↔ f32 with integer and f32 lane ops: WebAssembly SIMD has no f16 type. Inlined
// helpers of the f16 KV cache kernels (wasm/assembly/infer.ts); nothing here is a module export.
// Both directions are exact twins of src/tensor/half.ts (halfToFloat, floatToHalf), tested on every
// half and on every rounding tie (test/kernels/infer_kernels.test.ts).
import { hsum } from './nn_math';

/** 2^112: moves a half's exponent field (bias 15) to f32's (bias 127). */
const TO_F32: f32 = reinterpret<f32>(0x77800000);
/** 2^112 and 2^-110 (floatToHalf below). */
const SCALE_TO_INF: f32 = reinterpret<f32>(0x77800000);
const SCALE_TO_ZERO: f32 = reinterpret<f32>(0x08800000);

/**
 * 4 halves (the low 16 bits of each u32 lane) → 4 f32, exact. (bits & 0x7fff) << 13 is the half's
 * exponent and mantissa in f32 position; as an f32 it is the value · 2^-112 (a subnormal half lands on an
 * f32 subnormal: still exact), so one multiply by 2^112 rescales normals and subnormals alike. Exponent 31
 * (inf, NaN) takes the all-ones f32 exponent with its mantissa kept. The sign is OR-ed back last.
 */
@inline export function widen4(h: v128): v128 {
  const em = i32x4.shl(v128.and(h, i32x4.splat(0x7fff)), 13);
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const f = f32x4.mul(em, f32x4.splat(TO_F32));
  const special = i32x4.ge_s(em, i32x4.splat(0x0f800000));
  return v128.or(v128.bitselect(v128.or(em, i32x4.splat(0x7f800000)), f, special), sign);
}

/** One half → f32 through the vector path (tails convert exactly like full vectors). */
@inline export function widen1(h: u32): f32 {
  return f32x4.extract_lane(widen4(i32x4.splat(h)), 0);
}

/**
 * The fast widening of the attention kernels for caches known to hold no inf/NaN: a half h placed in the
 * high 16 bits of a 32-bit lane (hi16lo / hi16hi: one interleave with zero), shifted right arithmetically
 * by 3, lines its exponent and mantissa up with f32's fields and copies the sign into bits 28–30, which
 * the mask clears: the f32 bits of value·2^-112, exact for every finite half (normal halves land on f32
 * normals, subnormal halves on f32 subnormals). The kernels multiply the other operand by 2^112 (exact:
 * a power of two, no overflow for |q| < 2^16 or p ≤ 1), so every product q'·h' = q·h is the same real
 * number, rounded the same way: results bit for bit those of widen4. Three ops per four halves instead of
 * widen4's ten. Inf/NaN halves would come out finite, hence the "no inf/NaN" precondition.
 */
@inline export function scaled4(x: v128): v128 {
  return v128.and(i32x4.shr_s(x, 3), i32x4.splat(0x8fffffff));
}

@inline export function scaled1(h: u32): f32 {
  return reinterpret<f32>(((<i32>(h << 16)) >> 3) & 0x8fffffff);
}

/** Halves 0–3 of v in the high 16 bits of four 32-bit lanes. */
@inline function hi16lo(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 0, 8, 1, 9, 2, 10, 3, 11);
}

/** Halves 4–7 of v in the high 16 bits of four 32-bit lanes. */
@inline function hi16hi(v: v128): v128 {
  return v128.shuffle<i16>(i16x8.splat(0), v, 4, 12, 5, 13, 6, 14, 7, 15);
}

/** Halves 0–3 of v as f32: exact (FAST false), or scaled by 2^-112 (FAST true: finite halves only). */
@inline function wlo(v: v128, FAST: bool): v128 {
  return FAST ? scaled4(hi16lo(v)) : widen4(i32x4.extend_low_i16x8_u(v));
}

@inline function whi(v: v128, FAST: bool): v128 {
  return FAST ? scaled4(hi16hi(v)) : widen4(i32x4.extend_high_i16x8_u(v));
}

@inline function w1(h: u32, FAST: bool): f32 {
  return FAST ? scaled1(h) : widen1(h);
}

/** 2^112 (the factor that undoes the scaled widening on the other operand). */
export const UNSCALE: f32 = reinterpret<f32>(0x77800000);

/**
 * 4 f32 → 4 halves (u32 lanes), round to nearest even, via the f32 adder's own rounding (M. Maratyszcza's
 * FP16 library, fp16_ieee_from_fp32_value): |x| is scaled by 2^112·2^-110 (= 4; overflow beyond the half
 * range becomes inf on the way) and added to a power of two chosen so that the sum's ulp is the half's ulp
 * (at least 2^-24: subnormals); the sum's low bits are then the rounded half. NaN → 0x7e00 with the sign.
 */
@inline export function narrow4(f: v128): v128 {
  const shl1 = i32x4.add(f, f);
  const sign = i32x4.shr_u(v128.and(f, i32x4.splat(0x80000000)), 16);
  const bias = i32x4.max_u(v128.and(shl1, i32x4.splat(0xff000000)), i32x4.splat(0x71000000));
  let base = f32x4.mul(f32x4.mul(f32x4.abs(f), f32x4.splat(SCALE_TO_INF)), f32x4.splat(SCALE_TO_ZERO));
  base = f32x4.add(i32x4.add(i32x4.shr_u(bias, 1), i32x4.splat(0x07800000)), base);
  const nonsign = i32x4.add(v128.and(i32x4.shr_u(base, 13), i32x4.splat(0x7c00)), v128.and(base, i32x4.splat(0x0fff)));
  const nan = i32x4.gt_u(shl1, i32x4.splat(0xff000000));
  return v128.or(sign, v128.bitselect(i32x4.splat(0x7e00), nonsign, nan));
}

@inline export function narrow1(f: f32): u16 {
  return <u16>i32x4.extract_lane(narrow4(f32x4.splat(f)), 0);
}

/** Σ a[i]·h[i], a f32, h halves, over n: two f32x4 accumulators (8 per step), then a 4-step, then the scalar tail. */
@inline export function dot_f16(a: usize, h: usize, n: i32, FAST: bool = false): f32 {
  let acc0 = f32x4.splat(0), acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1));
    const o = a + (<usize>i << 2);
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(o), wlo(v, FAST)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(o, 16), whi(v, FAST)));
  }
  if (i + 4 <= n) {
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + (<usize>i << 2)), wlo(v128.load64_zero(h + (<usize>i << 1)), FAST)));
    i += 4;
  }
  let s = hsum(f32x4.add(acc0, acc1));
  for (; i < n; i++) s += load<f32>(a + (<usize>i << 2)) * w1(load<u16>(h + (<usize>i << 1)), FAST);
  return s;
}

/** y[i] += alpha · h[i] over n, y f32, h halves. */
@inline export function axpy_f16(y: usize, alpha: f32, h: usize, n: i32, FAST: bool = false): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1));
    const o = y + (<usize>i << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(va, wlo(v, FAST))));
    v128.store(o, f32x4.add(v128.load(o, 16), f32x4.mul(va, whi(v, FAST))), 16);
  }
  if (i + 4 <= n) {
    const o = y + (<usize>i << 2);
    v128.store(o, f32x4.add(v128.load(o), f32x4.mul(va, wlo(v128.load64_zero(h + (<usize>i << 1)), FAST))));
    i += 4;
  }
  for (; i < n; i++) {
    const o = y + (<usize>i << 2);
    store<f32>(o, load<f32>(o) + alpha * w1(load<u16>(h + (<usize>i << 1)), FAST));
  }
}

/**
 * Four heads against one cached half row: sc[j·sb] = dot_f16(q + j·qs, h, n)·scale for j < 4, each widened
 * chunk shared by the four; per head the very operations of dot_f16 (same accumulators, same order).
 */
@inline export function dot4_f16(sc: usize, sb: usize, q: usize, qs: usize, h: usize, n: i32, scale: f32, FAST: bool = false): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0);
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), d0 = f32x4.splat(0), d1 = f32x4.splat(0);
  const q1 = q + qs, q2 = q1 + qs, q3 = q2 + qs;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1));
    const lo = wlo(v, FAST), hi = whi(v, FAST);
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q + o), lo));
    a1 = f32x4.add(a1, f32x4.mul(v128.load(q + o, 16), hi));
    b0 = f32x4.add(b0, f32x4.mul(v128.load(q1 + o), lo));
    b1 = f32x4.add(b1, f32x4.mul(v128.load(q1 + o, 16), hi));
    c0 = f32x4.add(c0, f32x4.mul(v128.load(q2 + o), lo));
    c1 = f32x4.add(c1, f32x4.mul(v128.load(q2 + o, 16), hi));
    d0 = f32x4.add(d0, f32x4.mul(v128.load(q3 + o), lo));
    d1 = f32x4.add(d1, f32x4.mul(v128.load(q3 + o, 16), hi));
  }
  if (i + 4 <= n) {
    const lo = wlo(v128.load64_zero(h + (<usize>i << 1)), FAST);
    const o = <usize>i << 2;
    a0 = f32x4.add(a0, f32x4.mul(v128.load(q + o), lo));
    b0 = f32x4.add(b0, f32x4.mul(v128.load(q1 + o), lo));
    c0 = f32x4.add(c0, f32x4.mul(v128.load(q2 + o), lo));
    d0 = f32x4.add(d0, f32x4.mul(v128.load(q3 + o), lo));
    i += 4;
  }
  let sa = hsum(f32x4.add(a0, a1)), sbb = hsum(f32x4.add(b0, b1)), sc2 = hsum(f32x4.add(c0, c1)), sd = hsum(f32x4.add(d0, d1));
  for (; i < n; i++) {
    const k = w1(load<u16>(h + (<usize>i << 1)), FAST);
    const o = <usize>i << 2;
    sa += load<f32>(q + o) * k;
    sbb += load<f32>(q1 + o) * k;
    sc2 += load<f32>(q2 + o) * k;
    sd += load<f32>(q3 + o) * k;
  }
  store<f32>(sc, sa * scale);
  store<f32>(sc + sb, sbb * scale);
  store<f32>(sc + 2 * sb, sc2 * scale);
  store<f32>(sc + 3 * sb, sd * scale);
}

/**
 * Four heads' weighted sums with one cached half row: y_j += p_j · h for j < 4 (y_j = y + j·ys, p_j at
 * p + j·pb), each widened chunk shared; per head the operations of axpy_f16.
 */
@inline export function axpy4_f16(y: usize, ys: usize, p: usize, pb: usize, h: usize, n: i32, FAST: bool = false): void {
  const u: f32 = FAST ? UNSCALE : 1;
  const pa = load<f32>(p) * u, pbv = load<f32>(p + pb) * u, pc = load<f32>(p + 2 * pb) * u, pd = load<f32>(p + 3 * pb) * u;
  const va = f32x4.splat(pa), vb = f32x4.splat(pbv), vcc = f32x4.splat(pc), vd = f32x4.splat(pd);
  const y1 = y + ys, y2 = y1 + ys, y3 = y2 + ys;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const v = v128.load(h + (<usize>i << 1));
    const lo = wlo(v, FAST), hi = whi(v, FAST);
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, lo)));
    v128.store(y + o, f32x4.add(v128.load(y + o, 16), f32x4.mul(va, hi)), 16);
    v128.store(y1 + o, f32x4.add(v128.load(y1 + o), f32x4.mul(vb, lo)));
    v128.store(y1 + o, f32x4.add(v128.load(y1 + o, 16), f32x4.mul(vb, hi)), 16);
    v128.store(y2 + o, f32x4.add(v128.load(y2 + o), f32x4.mul(vcc, lo)));
    v128.store(y2 + o, f32x4.add(v128.load(y2 + o, 16), f32x4.mul(vcc, hi)), 16);
    v128.store(y3 + o, f32x4.add(v128.load(y3 + o), f32x4.mul(vd, lo)));
    v128.store(y3 + o, f32x4.add(v128.load(y3 + o, 16), f32x4.mul(vd, hi)), 16);
  }
  if (i + 4 <= n) {
    const lo = wlo(v128.load64_zero(h + (<usize>i << 1)), FAST);
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, lo)));
    v128.store(y1 + o, f32x4.add(v128.load(y1 + o), f32x4.mul(vb, lo)));
    v128.store(y2 + o, f32x4.add(v128.load(y2 + o), f32x4.mul(vcc, lo)));
    v128.store(y3 + o, f32x4.add(v128.load(y3 + o), f32x4.mul(vd, lo)));
    i += 4;
  }
  for (; i < n; i++) {
    const k = w1(load<u16>(h + (<usize>i << 1)), FAST);
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + pa * k);
    store<f32>(y1 + o, load<f32>(y1 + o) + pbv * k);
    store<f32>(y2 + o, load<f32>(y2 + o) + pc * k);
    store<f32>(y3 + o, load<f32>(y3 + o) + pd * k);
  }
}
