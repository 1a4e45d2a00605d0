// The AdamW step (twin of adamwStep in src/kernels/ref/adamw.ts). Threaded by chunks of NN_CHUNK
// elements like the elementwise kernels in nn_act.ts; tail elements go through the same vector code
// on a splat (lane 0 stored), so every element rounds identically wherever the split falls.
import { NN_CHUNK } from './nn_act';

@inline function lo(r0: i32): usize { return <usize>r0 * <usize>NN_CHUNK; }
@inline function hi(r1: i32, n: i32): usize { return min(<usize>r1 * <usize>NN_CHUNK, <usize>n); }

// m = β1 m + (1−β1) g; v = β2 v + (1−β2) g²; p −= lr·((m/bc1)/(√(v/bc2) + eps) + wd·p).
@inline function adamwStep(pp: usize, gp: usize, mp: usize, vp: usize, o: usize, tail: bool,
                           lr: v128, b1: v128, b2: v128, c1: v128, c2: v128, eps: v128, wd: v128, bc1: v128, bc2: v128): void {
  const p = tail ? v128.load32_splat(pp + o) : v128.load(pp + o);
  const g = tail ? v128.load32_splat(gp + o) : v128.load(gp + o);
  const m0 = tail ? v128.load32_splat(mp + o) : v128.load(mp + o);
  const v0 = tail ? v128.load32_splat(vp + o) : v128.load(vp + o);
  const m = f32x4.add(f32x4.mul(b1, m0), f32x4.mul(c1, g));
  const v = f32x4.add(f32x4.mul(b2, v0), f32x4.mul(c2, f32x4.mul(g, g)));
  const upd = f32x4.add(f32x4.div(f32x4.div(m, bc1), f32x4.add(f32x4.sqrt(f32x4.div(v, bc2)), eps)), f32x4.mul(wd, p));
  const np = f32x4.sub(p, f32x4.mul(lr, upd));
  if (tail) {
    v128.store32_lane(pp + o, np, 0);
    v128.store32_lane(mp + o, m, 0);
    v128.store32_lane(vp + o, v, 0);
  } else {
    v128.store(pp + o, np);
    v128.store(mp + o, m);
    v128.store(vp + o, v);
  }
}

/** One AdamW step on elements of chunks [r0, r1); bc1 = 1 − β1^step, bc2 = 1 − β2^step (from TS). */
export function adamw_f32(param: usize, grad: usize, m: usize, v: usize, n: i32, lr: f32, beta1: f32, beta2: f32,
                          eps: f32, wd: f32, bc1: f32, bc2: f32, r0: i32, r1: i32, tid: i32): void {
  const vlr = f32x4.splat(lr), b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
  const veps = f32x4.splat(eps), vwd = f32x4.splat(wd), vbc1 = f32x4.splat(bc1), vbc2 = f32x4.splat(bc2);
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) adamwStep(param, grad, m, v, i << 2, false, vlr, b1, b2, c1, c2, veps, vwd, vbc1, vbc2);
  for (; i < e; i++) adamwStep(param, grad, m, v, i << 2, true, vlr, b1, b2, c1, c2, veps, vwd, vbc1, vbc2);
}

// Gradient clipping (twins of sumSquares / scale in src/kernels/ref/adamw.ts).
//
// Σ x² in f64, in a fixed order so that the bits do not depend on the thread count: chunk c (elements
// [c·NN_CHUNK, (c+1)·NN_CHUNK)) keeps four sums s_j over its elements i ≡ j (mod 4), each in element order;
// the chunk's sum (s0 + s1) + (s2 + s3) goes to sums[c], and the host adds the chunks in order. x² is exact
// in f64 (a 24-bit mantissa squared).
export function sumsq_f32(x: usize, n: i32, sums: usize, r0: i32, r1: i32, tid: i32): void {
  for (let c = r0; c < r1; c++) {
    let i = lo(c);
    const e = hi(c + 1, n);
    let a01 = f64x2.splat(0), a23 = f64x2.splat(0);
    for (; i + 4 <= e; i += 4) {
      const v = v128.load(x + (i << 2));
      const d01 = f64x2.promote_low_f32x4(v);
      const d23 = f64x2.promote_low_f32x4(i32x4.shuffle(v, v, 2, 3, 2, 3));
      a01 = f64x2.add(a01, f64x2.mul(d01, d01));
      a23 = f64x2.add(a23, f64x2.mul(d23, d23));
    }
    let s0 = f64x2.extract_lane(a01, 0), s1 = f64x2.extract_lane(a01, 1);
    let s2 = f64x2.extract_lane(a23, 0), s3 = f64x2.extract_lane(a23, 1);
    // Tail (only in the last chunk): i − lo(c) ≡ 0 (mod 4) here, so the tail's lanes are 0, 1, 2 in order.
    if (i < e) { const d = <f64>load<f32>(x + (i << 2)); s0 += d * d; i++; }
    if (i < e) { const d = <f64>load<f32>(x + (i << 2)); s1 += d * d; i++; }
    if (i < e) { const d = <f64>load<f32>(x + (i << 2)); s2 += d * d; i++; }
    store<f64>(sums + (<usize>c << 3), (s0 + s1) + (s2 + s3));
  }
}

/** out = x · s (one f32 multiply per element); out may alias x. */
export function scale_f32(out: usize, x: usize, n: i32, s: f32, r0: i32, r1: i32, tid: i32): void {
  const vs = f32x4.splat(s);
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) {
    const o = i << 2;
    v128.store(out + o, f32x4.mul(v128.load(x + o), vs));
  }
  for (; i < e; i++) {
    const o = i << 2;
    store<f32>(out + o, load<f32>(x + o) * s);
  }
}
