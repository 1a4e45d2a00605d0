// Shared SIMD helpers of the nn kernels (inlined; nothing here is exported from the module).

/**
 * c + a·b per lane: in relaxed.wasm one fused multiply-add (f32x4.relaxed_madd: x86 FMA3, ARM fmla; one
 * rounding), in core.wasm mul then add (two roundings). Half the FP ops of mul+add: the f32 GEMM's 4×8 tile
 * runs 46–54 GFLOP/s on one Zen 4 core against 33–43 (docs/kernels.md). Each module gives the same bits at
 * any thread count and in either tier of V8's compiler; the two modules agree to rounding.
 */
@inline export function mac(c: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** Horizontal sum in a fixed order: (l0 + l1) + (l2 + l3). */
/**
 * A 4 × 4 block of floats transposed in registers: rows src + j·srcStride (4 floats each, j < 4) become rows
 * dst + d·dstStride, dst row d = (src rows' element d). 4 loads, 8 shuffles, 4 stores (the kv transpose of the
 * training attention, the GEMM's panel packing).
 */
@inline export function transpose4x4(src: usize, srcStride: usize, dst: usize, dstStride: usize): void {
  const a0 = v128.load(src), a1 = v128.load(src + srcStride), a2 = v128.load(src + 2 * srcStride), a3 = v128.load(src + 3 * srcStride);
  const l01 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), h01 = i32x4.shuffle(a0, a1, 2, 6, 3, 7);
  const l23 = i32x4.shuffle(a2, a3, 0, 4, 1, 5), h23 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
  v128.store(dst, i64x2.shuffle(l01, l23, 0, 2));
  v128.store(dst + dstStride, i64x2.shuffle(l01, l23, 1, 3));
  v128.store(dst + 2 * dstStride, i64x2.shuffle(h01, h23, 0, 2));
  v128.store(dst + 3 * dstStride, i64x2.shuffle(h01, h23, 1, 3));
}

@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

@inline export function hmax(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/**
 * max of x[0..C) (softmax rows, attention score rows): 16 floats at a time in four accumulators, then 4, then the
 * scalar tail. The max is exact, so the order does not change it. `pmax` is one instruction where V8 spends seven on
 * `max`'s NaN and ±0 rules, and the one chain of those was ~1 ms of a 14 ms attention forward (docs/kernels.md).
 * What that gives up does not reach a softmax: a NaN input can be skipped here, but its own exp is NaN and so is
 * the row's sum; and a max of −0 or +0 shifts every input by the same zero.
 */
@inline export function rowMax(x: usize, C: i32): f32 {
  let c = 0;
  let m: f32 = -Infinity;
  if (C >= 4) {
    let v0 = v128.load(x);
    if (C >= 16) {
      let v1 = v128.load(x, 16), v2 = v128.load(x, 32), v3 = v128.load(x, 48);
      for (c = 16; c + 16 <= C; c += 16) {
        const p = x + (<usize>c << 2);
        v0 = f32x4.pmax(v0, v128.load(p)); v1 = f32x4.pmax(v1, v128.load(p, 16));
        v2 = f32x4.pmax(v2, v128.load(p, 32)); v3 = f32x4.pmax(v3, v128.load(p, 48));
      }
      v0 = f32x4.pmax(f32x4.pmax(v0, v1), f32x4.pmax(v2, v3));
    } else c = 4;
    for (; c + 4 <= C; c += 4) v0 = f32x4.pmax(v0, v128.load(x + (<usize>c << 2)));
    m = hmax(v0);
  }
  for (; c < C; c++) m = max(m, load<f32>(x + (<usize>c << 2)));
  return m;
}

// exp(x) for 4 lanes, Cephes expf (as in sse_mathfun): x = n·ln2 + r, |r| ≤ ln2/2,
// e^r by a degree-6 polynomial, 2^n through the exponent bits. ~2 ulp on [-87.3, 88.3].
// Inputs are clamped to 88.3 (exp overflows f32 above 88.72); below −87.3 the result is 0
// (the true value is subnormal), so softmax rows and sigmoids of huge |x| stay finite.
// NaN propagates (the comparison with a NaN is false, so the lane keeps the NaN polynomial).
const EXP_HI: f32 = 88.3;
const EXP_LO: f32 = -87.3;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const P0: f32 = 1.9875691500e-4;
const P1: f32 = 1.3981999507e-3;
const P2: f32 = 8.3334519073e-3;
const P3: f32 = 4.1665795894e-2;
const P4: f32 = 1.6666665459e-1;
const P5: f32 = 5.0000001201e-1;

// vexp's constants as one static block of splat vectors. V8 (Node 20) rebuilds every v128.const inside a loop
// with three instructions (movq imm64, vmovq, vpunpcklqdq: 13 constants here, ~40 instructions per vector); a
// load from linear memory is one, often folded into the arithmetic. Same values, same results.
const EXPC: usize = memory.data<f32>([
  EXP_HI, EXP_HI, EXP_HI, EXP_HI, LOG2E, LOG2E, LOG2E, LOG2E, LN2_HI, LN2_HI, LN2_HI, LN2_HI, LN2_LO, LN2_LO, LN2_LO, LN2_LO,
  P0, P0, P0, P0, P1, P1, P1, P1, P2, P2, P2, P2, P3, P3, P3, P3, P4, P4, P4, P4, P5, P5, P5, P5,
  1, 1, 1, 1, -126, -126, -126, -126, 127 + 8388608, 127 + 8388608, 127 + 8388608, 127 + 8388608, EXP_LO, EXP_LO, EXP_LO, EXP_LO,
], 16);
@inline function ek(i: i32): v128 {
  return v128.load(EXPC + (<usize>i << 4));
}

@inline export function vexp(x0: v128): v128 {
  // pmin/pmax are one instruction each; with the constant as the second operand they equal min/max for every
  // input (a NaN lane stays NaN), where V8 spends seven instructions on min/max's NaN and ±0 rules
  const x = f32x4.pmin(x0, ek(0));
  const fx = f32x4.nearest(f32x4.mul(x, ek(1)));
  let r = f32x4.sub(x, f32x4.mul(fx, ek(2)));
  r = f32x4.sub(r, f32x4.mul(fx, ek(3)));
  let y = ek(4);
  y = f32x4.add(f32x4.mul(y, r), ek(5));
  y = f32x4.add(f32x4.mul(y, r), ek(6));
  y = f32x4.add(f32x4.mul(y, r), ek(7));
  y = f32x4.add(f32x4.mul(y, r), ek(8));
  y = f32x4.add(f32x4.mul(y, r), ek(9));
  y = f32x4.add(f32x4.add(f32x4.mul(y, f32x4.mul(r, r)), r), ek(10));
  // Lanes below EXP_LO would give an invalid exponent: clamp n first, then zero them. n + 127 ∈ [1, 215] is an
  // integer, so adding 2^23 puts it exactly in the mantissa's low bits; << 23 moves it to the exponent field
  // (the bits of 2^23 fall off the top): the same 2^n as converting n to int32 (trunc_sat, a ~8-instruction
  // sequence on x64), in two ops.
  const pow2n = i32x4.shl(f32x4.add(f32x4.pmax(fx, ek(11)), ek(12)), 23);
  const e = f32x4.mul(y, pow2n);
  return v128.andnot(e, f32x4.lt(x0, ek(13)));
}

/** exp of one value through the vector path, so tails round exactly like full vectors. */
@inline export function sexp(x: f32): f32 {
  return f32x4.extract_lane(vexp(f32x4.splat(x)), 0);
}

/** σ(x) = 1 / (1 + e^(−x)). */
@inline export function vsigmoid(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), vexp(f32x4.neg(x))));
}

/** Σ a[i]·b[i] over n floats: one f32x4 accumulator, then the scalar tail, in a fixed order. */
@inline export function dot(a: usize, b: usize, n: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    acc = f32x4.add(acc, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  let s = hsum(acc);
  for (; i < n; i++) {
    const o = <usize>i << 2;
    s += load<f32>(a + o) * load<f32>(b + o);
  }
  return s;
}

/** y[i] += alpha · x[i] over n floats. */
@inline export function axpy(y: usize, alpha: f32, x: usize, n: i32): void {
  const va = f32x4.splat(alpha);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(va, v128.load(x + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(y + o) + alpha * load<f32>(x + o));
  }
}

/** x[i] *= s over n floats. */
@inline export function scal(x: usize, s: f32, n: i32): void {
  const vs = f32x4.splat(s);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(x + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(x + o, load<f32>(x + o) * s);
  }
}

/** y[0..n) = softmax(x[0..n)): the row max subtracted, exp, then scaled by 1/Σ. y may alias x. */
@inline export function softmaxRow(y: usize, x: usize, n: i32): void {
  const sum = expShiftSum(y, x, rowMax(x, n), n);
  scal(y, 1 / sum, n);
}

/** y = exp(x − mx) stored, returns Σ y. y may alias x. */
@inline export function expShiftSum(y: usize, x: usize, mx: f32, C: i32): f32 {
  const vm = f32x4.splat(mx);
  let acc = f32x4.splat(0);
  let c = 0;
  for (; c + 4 <= C; c += 4) {
    const o = <usize>c << 2;
    const e = vexp(f32x4.sub(v128.load(x + o), vm));
    v128.store(y + o, e);
    acc = f32x4.add(acc, e);
  }
  let s = hsum(acc);
  for (; c < C; c++) {
    const o = <usize>c << 2;
    const e = sexp(load<f32>(x + o) - mx);
    store<f32>(y + o, e);
    s += e;
  }
  return s;
}
