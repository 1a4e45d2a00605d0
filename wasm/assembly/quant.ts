// Quantizers (SIMD128): the WASM twins of src/kernels/ref/quant.ts, bit-identical to it.
//
// All math is f32 (f32.nearest / f32x4.nearest = round half to even), except the sums behind
// means, which run in f64 in the fixed 8-lane order of the reference:
//   lane j (0..7) accumulates x[i], i ≡ j (mod 8), i < n − n%8, in increasing i
//   (four f64x2 accumulators: a0 = lanes 0,1; a1 = 2,3; a2 = 4,5; a3 = 6,7),
//   total = ((l0+l4)+(l2+l6)) + ((l1+l5)+(l3+l7)), then the tail in order.
// Divisors are floored at EPS = f32(1e-5).
//
// Per-token kernels are threaded over rows (r0, r1, tid); weight quantizers over groups of
// gsize consecutive values (a group = N/G output rows · K; per-tensor = one group).

const EPS: f32 = <f32>1e-5;
const SQRT7: f32 = <f32>2.6457513110645907;

// ---- reductions -------------------------------------------------------------------------------

/**
 * max |x[i]|, i < n (NaN propagates). The vector part takes pmax (one instruction; V8 spends seven on max) and
 * tracks NaN lanes in a mask of its own, since pmax can drop a NaN; |x| ≥ +0, so ±0 does not arise.
 */
@inline function absmax_f32(x: usize, n: i32): f32 {
  let m0 = f32x4.splat(0), m1 = f32x4.splat(0), nan = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const p = x + (<usize>i << 2);
    const a0 = f32x4.abs(v128.load(p)), a1 = f32x4.abs(v128.load(p, 16));
    m0 = f32x4.pmax(m0, a0);
    m1 = f32x4.pmax(m1, a1);
    nan = v128.or(nan, v128.or(f32x4.ne(a0, a0), f32x4.ne(a1, a1)));
  }
  m0 = f32x4.pmax(m0, m1);
  if (v128.any_true(nan)) m0 = f32x4.splat(NaN);
  let m = max(max(f32x4.extract_lane(m0, 0), f32x4.extract_lane(m0, 1)), max(f32x4.extract_lane(m0, 2), f32x4.extract_lane(m0, 3)));
  for (; i < n; i++) m = max(m, abs(load<f32>(x + (<usize>i << 2))));
  return m;
}

/** Σ|x[i]| (ABS) or Σx[i], i < n, in f64, in the fixed 8-lane order (file header). */
@inline function sum_fixed(x: usize, n: i32, ABS: bool): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  const n8 = n & ~7;
  for (let i = 0; i < n8; i += 8) {
    const p = x + (<usize>i << 2);
    let v0 = v128.load(p), v1 = v128.load(p, 16);
    if (ABS) { v0 = f32x4.abs(v0); v1 = f32x4.abs(v1); }
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v0));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v0, v0, 2, 3, 0, 1)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(v1));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(v1, v1, 2, 3, 0, 1)));
  }
  const t = f64x2.add(f64x2.add(a0, a2), f64x2.add(a1, a3));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (let i = n8; i < n; i++) {
    const v = <f64>load<f32>(x + (<usize>i << 2));
    s += ABS ? abs(v) : v;
  }
  return s;
}

@inline function mean_f32(x: usize, n: i32, ABS: bool): f32 {
  return n == 0 ? <f32>0 : <f32>(sum_fixed(x, n, ABS) / <f64>n);
}

// ---- elementwise quantize ---------------------------------------------------------------------

const MODE_I8: i32 = 0; // store int8 codes
const MODE_FAKE: i32 = 1; // store f32 q / s

/**
 * For i < n: r = clamp(nearest(f32((x[i] − sub)·s)), lo, hi); MODE_I8 stores (i8)r at dst + i,
 * MODE_FAKE stores f32(r / s) at dst + 4i (f32(f32(r / s) + sub) with SUB). SUB: whether to
 * subtract `sub` first (and add it back when dequantizing).
 */
// The clamps use pmax(v, lo) / pmin(v, hi) (v first: a NaN lane stays NaN, as with max/min, and so does −0): one
// instruction each where V8 spends seven on max/min (docs/platform.md).
@inline function quant_apply(dst: usize, x: usize, n: i32, s: f32, lo: f32, hi: f32, sub: f32, SUB: bool, MODE: i32): void {
  const vs = f32x4.splat(s), vlo = f32x4.splat(lo), vhi = f32x4.splat(hi), vsub = f32x4.splat(sub);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const p = x + (<usize>i << 2);
    let v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32), v3 = v128.load(p, 48);
    if (SUB) { v0 = f32x4.sub(v0, vsub); v1 = f32x4.sub(v1, vsub); v2 = f32x4.sub(v2, vsub); v3 = f32x4.sub(v3, vsub); }
    v0 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v0, vs)), vlo), vhi);
    v1 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v1, vs)), vlo), vhi);
    v2 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v2, vs)), vlo), vhi);
    v3 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v3, vs)), vlo), vhi);
    if (MODE == MODE_I8) {
      const a = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(v0), i32x4.trunc_sat_f32x4_s(v1));
      const b = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(v2), i32x4.trunc_sat_f32x4_s(v3));
      v128.store(dst + <usize>i, i8x16.narrow_i16x8_s(a, b));
    } else {
      const q = dst + (<usize>i << 2);
      v0 = f32x4.div(v0, vs); v1 = f32x4.div(v1, vs); v2 = f32x4.div(v2, vs); v3 = f32x4.div(v3, vs);
      if (SUB) { v0 = f32x4.add(v0, vsub); v1 = f32x4.add(v1, vsub); v2 = f32x4.add(v2, vsub); v3 = f32x4.add(v3, vsub); }
      v128.store(q, v0);
      v128.store(q, v1, 16);
      v128.store(q, v2, 32);
      v128.store(q, v3, 48);
    }
  }
  for (; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2));
    if (SUB) v = v - sub;
    const r = min(max(nearest(v * s), lo), hi);
    if (MODE == MODE_I8) store<i8>(dst + <usize>i, <i8>(<i32>r)); // AS emits i32.trunc_sat_f32_s (NaN → 0, like the SIMD lanes)
    else store<f32>(dst + (<usize>i << 2), SUB ? r / s + sub : r / s);
  }
}

// ---- activations (threaded over rows) ---------------------------------------------------------

@inline function absmax_rows(dst: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, MODE: i32): void {
  for (let m = r0; m < r1; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    const s: f32 = <f32>127 / max(absmax_f32(xr, K), EPS);
    store<f32>(scale + (<usize>m << 2), s);
    const d = MODE == MODE_I8 ? dst + <usize>m * <usize>K : dst + (<usize>m * <usize>K << 2);
    quant_apply(d, xr, K, s, -128, 127, 0, false, MODE);
  }
}

/** q(M,K) int8, scale(M) = 127/max(max|x_row|,1e-5): per-token absmax int8. Rows [r0, r1). */
export function quant_absmax_i8_token_f32(q: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  absmax_rows(q, scale, x, K, r0, r1, MODE_I8);
}

/** out(M,K) f32 = q / s of quant_absmax_i8_token_f32; scale(M) = s. */
export function fakequant_absmax_i8_token_f32(out: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  absmax_rows(out, scale, x, K, r0, r1, MODE_FAKE);
}

/**
 * quant_absmax_i8_token_f32 and fakequant_absmax_i8_token_f32 in one pass over x: codes into q (rows of qK ≥ K
 * bytes; columns K … qK untouched), f32(code / s) into out (M, K), s into scale. The same operations per element
 * as quant_apply's two modes, so the same bits. Rows [r0, r1).
 */
export function quant_fake_absmax_i8_token_f32(q: usize, qK: i32, scale: usize, out: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  for (let m = r0; m < r1; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    const s: f32 = <f32>127 / max(absmax_f32(xr, K), EPS);
    store<f32>(scale + (<usize>m << 2), s);
    const dq = q + <usize>m * <usize>qK, dout = out + (<usize>m * <usize>K << 2);
    const vs = f32x4.splat(s), vlo = f32x4.splat(-128), vhi = f32x4.splat(127);
    let i = 0;
    for (; i + 16 <= K; i += 16) {
      const p = xr + (<usize>i << 2);
      const v0 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v128.load(p), vs)), vlo), vhi);
      const v1 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v128.load(p, 16), vs)), vlo), vhi);
      const v2 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v128.load(p, 32), vs)), vlo), vhi);
      const v3 = f32x4.pmin(f32x4.pmax(f32x4.nearest(f32x4.mul(v128.load(p, 48), vs)), vlo), vhi);
      const a = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(v0), i32x4.trunc_sat_f32x4_s(v1));
      const b = i16x8.narrow_i32x4_s(i32x4.trunc_sat_f32x4_s(v2), i32x4.trunc_sat_f32x4_s(v3));
      v128.store(dq + <usize>i, i8x16.narrow_i16x8_s(a, b));
      const o = dout + (<usize>i << 2);
      v128.store(o, f32x4.div(v0, vs));
      v128.store(o, f32x4.div(v1, vs), 16);
      v128.store(o, f32x4.div(v2, vs), 32);
      v128.store(o, f32x4.div(v3, vs), 48);
    }
    for (; i < K; i++) {
      const r = min(max(nearest(load<f32>(xr + (<usize>i << 2)) * s), <f32>-128), <f32>127);
      store<i8>(dq + <usize>i, <i8>(<i32>r));
      store<f32>(dout + (<usize>i << 2), r / s);
    }
  }
}

@inline function absmean_i4_rows(dst: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, MODE: i32): void {
  for (let m = r0; m < r1; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    const s: f32 = SQRT7 / (mean_f32(xr, K, true) + EPS);
    store<f32>(scale + (<usize>m << 2), s);
    const d = MODE == MODE_I8 ? dst + <usize>m * <usize>K : dst + (<usize>m * <usize>K << 2);
    quant_apply(d, xr, K, s, -8, 7, 0, false, MODE);
  }
}

/** q(M,K) int4 codes in int8, scale(M) = √7/(mean|x_row| + 1e-5) (BitNet v2 Eq.6). Rows [r0, r1). */
export function quant_absmean_i4_token_f32(q: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  absmean_i4_rows(q, scale, x, K, r0, r1, MODE_I8);
}

/** out(M,K) f32 = q / s of quant_absmean_i4_token_f32; scale(M) = s. */
export function fakequant_absmean_i4_token_f32(out: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  absmean_i4_rows(out, scale, x, K, r0, r1, MODE_FAKE);
}

@inline function shifted_u7_rows(dst: usize, eta: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, MODE: i32): void {
  for (let m = r0; m < r1; m++) {
    const xr = x + (<usize>m * <usize>K << 2);
    let vlo = f32x4.splat(Infinity), vhi = f32x4.splat(-Infinity);
    let i = 0;
    for (; i + 4 <= K; i += 4) {
      const v = v128.load(xr + (<usize>i << 2));
      vlo = f32x4.min(vlo, v);
      vhi = f32x4.max(vhi, v);
    }
    let lo = min(min(f32x4.extract_lane(vlo, 0), f32x4.extract_lane(vlo, 1)), min(f32x4.extract_lane(vlo, 2), f32x4.extract_lane(vlo, 3)));
    let hi = max(max(f32x4.extract_lane(vhi, 0), f32x4.extract_lane(vhi, 1)), max(f32x4.extract_lane(vhi, 2), f32x4.extract_lane(vhi, 3)));
    for (; i < K; i++) {
      const v = load<f32>(xr + (<usize>i << 2));
      lo = min(lo, v);
      hi = max(hi, v);
    }
    if (K == 0) { lo = 0; hi = 0; }
    store<f32>(eta + (<usize>m << 2), lo);
    const s: f32 = <f32>127 / max(hi - lo, EPS);
    store<f32>(scale + (<usize>m << 2), s);
    const d = MODE == MODE_I8 ? dst + <usize>m * <usize>K : dst + (<usize>m * <usize>K << 2);
    quant_apply(d, xr, K, s, 0, 127, lo, true, MODE);
  }
}

/**
 * BitNet v1 Eq.6 shifted quantizer: eta(M) = min x_row, scale(M) = 127/max(max−min, 1e-5),
 * q(M,K) u8 = clamp(round(f32(x − η)·s), 0, 127). Rows [r0, r1).
 */
export function quant_shifted_u7_token_f32(q: usize, eta: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  shifted_u7_rows(q, eta, scale, x, K, r0, r1, MODE_I8);
}

/** out(M,K) f32 = f32(q / s) + η of quant_shifted_u7_token_f32; eta(M), scale(M) as there. */
export function fakequant_shifted_u7_token_f32(out: usize, eta: usize, scale: usize, x: usize, K: i32, r0: i32, r1: i32, tid: i32): void {
  shifted_u7_rows(out, eta, scale, x, K, r0, r1, MODE_FAKE);
}

// ---- weights (threaded over groups of gsize values) -------------------------------------------

@inline function ternary_groups(dst: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, MODE: i32): void {
  for (let g = r0; g < r1; g++) {
    const wg = w + (<usize>g * <usize>gsize << 2);
    const b = max(mean_f32(wg, gsize, true), EPS);
    store<f32>(beta + (<usize>g << 2), b);
    const d = MODE == MODE_I8 ? dst + <usize>g * <usize>gsize : dst + (<usize>g * <usize>gsize << 2);
    quant_apply(d, wg, gsize, <f32>1 / b, -1, 1, 0, false, MODE);
  }
}

/** Absmean ternary: beta(G) = max(mean|W_g|, 1e-5); q = clamp(round(W·f32(1/β)), -1, 1). Groups [r0, r1). */
export function quant_ternary_absmean_f32(q: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, tid: i32): void {
  ternary_groups(q, beta, w, gsize, r0, r1, MODE_I8);
}

/** out = q / f32(1/β) of quant_ternary_absmean_f32 (torch WeightQuant); beta(G) = β. */
export function fakequant_ternary_absmean_f32(out: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, tid: i32): void {
  ternary_groups(out, beta, w, gsize, r0, r1, MODE_FAKE);
}

@inline function sign_groups(dst: usize, alpha: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, MODE: i32): void {
  for (let g = r0; g < r1; g++) {
    const wg = w + (<usize>g * <usize>gsize << 2);
    const a = mean_f32(wg, gsize, false);
    const b = max(mean_f32(wg, gsize, true), EPS);
    store<f32>(alpha + (<usize>g << 2), a);
    store<f32>(beta + (<usize>g << 2), b);
    const va = f32x4.splat(a), zero = f32x4.splat(0), two = i32x4.splat(2), one = i32x4.splat(1);
    const pb = f32x4.splat(b), nb = f32x4.splat(-b);
    let i = 0;
    for (; i + 16 <= gsize; i += 16) {
      const p = wg + (<usize>i << 2);
      const m0 = f32x4.gt(f32x4.sub(v128.load(p), va), zero);
      const m1 = f32x4.gt(f32x4.sub(v128.load(p, 16), va), zero);
      const m2 = f32x4.gt(f32x4.sub(v128.load(p, 32), va), zero);
      const m3 = f32x4.gt(f32x4.sub(v128.load(p, 48), va), zero);
      if (MODE == MODE_I8) {
        // mask −1 → +1, 0 → −1: (m & 2) − 1
        const q0 = i32x4.sub(v128.and(m0, two), one), q1 = i32x4.sub(v128.and(m1, two), one);
        const q2 = i32x4.sub(v128.and(m2, two), one), q3 = i32x4.sub(v128.and(m3, two), one);
        v128.store(dst + <usize>g * <usize>gsize + <usize>i,
          i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
      } else {
        const o = dst + (<usize>g * <usize>gsize << 2) + (<usize>i << 2);
        v128.store(o, v128.bitselect(pb, nb, m0));
        v128.store(o, v128.bitselect(pb, nb, m1), 16);
        v128.store(o, v128.bitselect(pb, nb, m2), 32);
        v128.store(o, v128.bitselect(pb, nb, m3), 48);
      }
    }
    for (; i < gsize; i++) {
      const pos = load<f32>(wg + (<usize>i << 2)) - a > 0;
      if (MODE == MODE_I8) store<i8>(dst + <usize>g * <usize>gsize + <usize>i, pos ? 1 : -1);
      else store<f32>(dst + (<usize>g * <usize>gsize << 2) + (<usize>i << 2), pos ? b : -b);
    }
  }
}

/** BitNet v1 sign: alpha(G) = mean W_g, beta(G) = max(mean|W_g|, 1e-5), q = W − α > 0 ? 1 : −1. Groups [r0, r1). */
export function quant_sign_f32(q: usize, alpha: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, tid: i32): void {
  sign_groups(q, alpha, beta, w, gsize, r0, r1, MODE_I8);
}

/** out = β·q of quant_sign_f32. */
export function fakequant_sign_f32(out: usize, alpha: usize, beta: usize, w: usize, gsize: i32, r0: i32, r1: i32, tid: i32): void {
  sign_groups(out, alpha, beta, w, gsize, r0, r1, MODE_FAKE);
}

// ---- packing a fake-quantized ternary weight ----------------------------------------------------

/** Codes 1 + sign(w) ∈ {0, 1, 2} of 4 floats as i32 lanes (NaN and ±0 → 1). */
@inline function signCodes(v: v128): v128 {
  const z = f32x4.splat(0);
  // masks are −1 where true: 1 − gt + lt
  return i32x4.add(i32x4.sub(i32x4.splat(1), f32x4.gt(v, z)), f32x4.lt(v, z));
}

/** Scalar code of one float (the tail block). */
@inline function signCode(x: f32): i32 {
  return 1 + <i32>(x > 0) - <i32>(x < 0);
}

/**
 * 'i2r4' bytes (src/quant/pack.ts) from the signs of w (N, K): code 1 + sign(w). w̃ = fakequant(W) holds
 * {−β̃, 0, +β̃}, so its signs are the ternary codes (twin: packSignsI2R4, src/kernels/ref/quant.ts). Threaded
 * over groups of four rows [r0, r1); rows past N and weights past K are code 1 (weight 0).
 */
export function pack_signs_i2r4_f32(dst: usize, w: usize, N: i32, K: i32, r0: i32, r1: i32, tid: i32): void {
  const blocks = (K + 63) >> 6, full = K >> 6;
  const rb = <usize>blocks << 4;
  for (let g = r0; g < r1; g++) {
    for (let r = 0; r < 4; r++) {
      const n = (g << 2) + r;
      const row = dst + <usize>g * 4 * rb + (<usize>r << 4);
      if (n >= N) {
        for (let b = 0; b < blocks; b++) v128.store(row + (<usize>b << 6), i8x16.splat(0x55));
        continue;
      }
      const src = w + (<usize>n * <usize>K << 2);
      for (let b = 0; b < full; b++) {
        const p = src + (<usize>b << 8);
        let acc = i8x16.splat(0);
        for (let l = 0; l < 4; l++) {
          const q = p + (<usize>l << 6);
          const c = i8x16.narrow_i16x8_s(
            i16x8.narrow_i32x4_s(signCodes(v128.load(q)), signCodes(v128.load(q, 16))),
            i16x8.narrow_i32x4_s(signCodes(v128.load(q, 32)), signCodes(v128.load(q, 48))));
          acc = v128.or(acc, i8x16.shl(c, 2 * l));
        }
        v128.store(row + (<usize>b << 6), acc);
      }
      if (full < blocks) {
        const o = row + (<usize>full << 6);
        for (let j = 0; j < 16; j++) {
          let byte = 0;
          for (let l = 0; l < 4; l++) {
            const k = (full << 6) + j + (l << 4);
            byte |= (k < K ? signCode(load<f32>(src + (<usize>k << 2))) : 1) << (2 * l);
          }
          store<u8>(o + j, byte);
        }
      }
    }
  }
}
