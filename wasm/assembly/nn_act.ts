// Elementwise activations and GLUs (twins of src/kernels/ref/activation.ts).
// Threaded by chunks: "row" r covers elements [r·CHUNK, min((r+1)·CHUNK, n)). Tail elements go
// through the same vector code on a splat (lane 0 stored), so every element rounds identically
// wherever the split falls.
import { vexp, vsigmoid } from './nn_math';

/** Elements per "row" of the elementwise kernels (the binding splits n into ceil(n / CHUNK) rows). */
export const NN_CHUNK: i32 = 4096;

const GELU_K: f32 = 0.7978845608028654; // √(2/π)
const GELU_C: f32 = 0.044715;

@inline function lo(r0: i32): usize { return <usize>r0 * <usize>NN_CHUNK; }
@inline function hi(r1: i32, n: i32): usize { return min(<usize>r1 * <usize>NN_CHUNK, <usize>n); }

// With e = exp(−z) and s = σ(z) = 1/(1+e), the complement 1 − σ(z) is taken as e·s: no
// cancellation, so derivatives stay accurate in the tails (|x| ≳ 5) where 1 − s would round to 0.
@inline function silu(x: v128): v128 { return f32x4.mul(x, vsigmoid(x)); }
@inline function siluGrad(x: v128): v128 {
  // silu' = s·(1 + x·(1 − s))
  const e = vexp(f32x4.neg(x));
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  return f32x4.mul(s, f32x4.add(f32x4.splat(1), f32x4.mul(x, f32x4.mul(e, s))));
}
@inline function relu2(x: v128): v128 {
  const r = f32x4.max(x, f32x4.splat(0));
  return f32x4.mul(r, r);
}
@inline function relu2Grad(x: v128): v128 {
  const r = f32x4.max(x, f32x4.splat(0));
  return f32x4.add(r, r);
}
// GELU (tanh form) through the identity ½(1 + tanh u) = σ(2u), u = √(2/π)(x + 0.044715x³):
//   gelu = x·σ(2u),  gelu' = σ(2u) + x·σ(2u)(1 − σ(2u))·2u'(x),  u' = √(2/π)(1 + 3·0.044715x²).
@inline function geluU(x: v128): v128 {
  return f32x4.mul(f32x4.splat(GELU_K), f32x4.add(x, f32x4.mul(f32x4.splat(GELU_C), f32x4.mul(x, f32x4.mul(x, x)))));
}
@inline function gelu(x: v128): v128 {
  const u = geluU(x);
  return f32x4.mul(x, vsigmoid(f32x4.add(u, u)));
}
@inline function geluGrad(x: v128): v128 {
  const u = geluU(x);
  const e = vexp(f32x4.neg(f32x4.add(u, u)));
  const s = f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), e));
  const du2 = f32x4.mul(f32x4.splat(2 * GELU_K), f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(3 * GELU_C), f32x4.mul(x, x))));
  return f32x4.mul(s, f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.mul(x, du2), f32x4.mul(e, s))));
}

// Loop skeletons. `OP` is selected by a compile-time constant so each export inlines one activation.
const SILU = 0, RELU2 = 1, GELU = 2, IDENT = 3;

@inline function act(op: i32, x: v128): v128 {
  if (op == SILU) return silu(x);
  if (op == RELU2) return relu2(x);
  if (op == GELU) return gelu(x);
  return x;
}
@inline function actGrad(op: i32, x: v128): v128 {
  if (op == SILU) return siluGrad(x);
  if (op == RELU2) return relu2Grad(x);
  if (op == GELU) return geluGrad(x);
  return f32x4.splat(1);
}

@inline function unaryFwd(op: i32, out: usize, inp: usize, n: i32, r0: i32, r1: i32): void {
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) v128.store(out + (i << 2), act(op, v128.load(inp + (i << 2))));
  for (; i < e; i++) v128.store32_lane(out + (i << 2), act(op, v128.load32_splat(inp + (i << 2))), 0);
}
@inline function unaryBwd(op: i32, dinp: usize, dout: usize, inp: usize, n: i32, r0: i32, r1: i32): void {
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) {
    const o = i << 2;
    v128.store(dinp + o, f32x4.add(v128.load(dinp + o), f32x4.mul(v128.load(dout + o), actGrad(op, v128.load(inp + o)))));
  }
  for (; i < e; i++) {
    const o = i << 2;
    const r = f32x4.add(v128.load32_splat(dinp + o), f32x4.mul(v128.load32_splat(dout + o), actGrad(op, v128.load32_splat(inp + o))));
    v128.store32_lane(dinp + o, r, 0);
  }
}
@inline function gluFwd(op: i32, out: usize, gate: usize, up: usize, n: i32, r0: i32, r1: i32): void {
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) {
    const o = i << 2;
    v128.store(out + o, f32x4.mul(act(op, v128.load(gate + o)), v128.load(up + o)));
  }
  for (; i < e; i++) {
    const o = i << 2;
    v128.store32_lane(out + o, f32x4.mul(act(op, v128.load32_splat(gate + o)), v128.load32_splat(up + o)), 0);
  }
}
@inline function gluStep(op: i32, dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, o: usize, tail: bool, ACC: bool): void {
  const g = tail ? v128.load32_splat(gate + o) : v128.load(gate + o);
  const u = tail ? v128.load32_splat(up + o) : v128.load(up + o);
  const d = tail ? v128.load32_splat(dout + o) : v128.load(dout + o);
  // Without ACC the old values are not read: 0 + x, the same bits as adding to a zeroed buffer (−0 becomes +0).
  const dg0 = !ACC ? f32x4.splat(0) : tail ? v128.load32_splat(dgate + o) : v128.load(dgate + o);
  const du0 = !ACC ? f32x4.splat(0) : tail ? v128.load32_splat(dup + o) : v128.load(dup + o);
  const dg = f32x4.add(dg0, f32x4.mul(f32x4.mul(d, u), actGrad(op, g)));
  const du = f32x4.add(du0, f32x4.mul(d, act(op, g)));
  if (tail) {
    v128.store32_lane(dgate + o, dg, 0);
    v128.store32_lane(dup + o, du, 0);
  } else {
    v128.store(dgate + o, dg);
    v128.store(dup + o, du);
  }
}
@inline function gluBwd(op: i32, dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, n: i32, acc: i32, r0: i32, r1: i32): void {
  let i = lo(r0);
  const e = hi(r1, n);
  if (acc != 0) {
    for (; i + 4 <= e; i += 4) gluStep(op, dgate, dup, dout, gate, up, i << 2, false, true);
    for (; i < e; i++) gluStep(op, dgate, dup, dout, gate, up, i << 2, true, true);
  } else {
    for (; i + 4 <= e; i += 4) gluStep(op, dgate, dup, dout, gate, up, i << 2, false, false);
    for (; i < e; i++) gluStep(op, dgate, dup, dout, gate, up, i << 2, true, false);
  }
}

/** out = x·σ(x) */
export function silu_fwd_f32(out: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryFwd(SILU, out, inp, n, r0, r1); }
/** dinp += dout·σ(x)(1 + x(1 − σ(x))) */
export function silu_bwd_f32(dinp: usize, dout: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryBwd(SILU, dinp, dout, inp, n, r0, r1); }
/** out = max(x, 0)² */
export function relu2_fwd_f32(out: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryFwd(RELU2, out, inp, n, r0, r1); }
/** dinp += dout·2max(x, 0) */
export function relu2_bwd_f32(dinp: usize, dout: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryBwd(RELU2, dinp, dout, inp, n, r0, r1); }
/** out = ½x(1 + tanh(√(2/π)(x + 0.044715x³))) */
export function gelu_fwd_f32(out: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryFwd(GELU, out, inp, n, r0, r1); }
/** dinp += dout·gelu'(x) */
export function gelu_bwd_f32(dinp: usize, dout: usize, inp: usize, n: i32, r0: i32, r1: i32, tid: i32): void { unaryBwd(GELU, dinp, dout, inp, n, r0, r1); }
/** out = silu(gate)·up */
export function swiglu_fwd_f32(out: usize, gate: usize, up: usize, n: i32, r0: i32, r1: i32, tid: i32): void { gluFwd(SILU, out, gate, up, n, r0, r1); }
/** dgate += dout·up·silu'(gate), dup += dout·silu(gate) (acc 0: =) */
export function swiglu_bwd_f32(dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, n: i32, acc: i32, r0: i32, r1: i32, tid: i32): void { gluBwd(SILU, dgate, dup, dout, gate, up, n, acc, r0, r1); }
/** out = max(gate, 0)²·up */
export function relu2glu_fwd_f32(out: usize, gate: usize, up: usize, n: i32, r0: i32, r1: i32, tid: i32): void { gluFwd(RELU2, out, gate, up, n, r0, r1); }
/** dgate += dout·up·2max(gate, 0), dup += dout·max(gate, 0)² (acc 0: =) */
export function relu2glu_bwd_f32(dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, n: i32, acc: i32, r0: i32, r1: i32, tid: i32): void { gluBwd(RELU2, dgate, dup, dout, gate, up, n, acc, r0, r1); }
/** out = gate·up */
export function bilinear_fwd_f32(out: usize, gate: usize, up: usize, n: i32, r0: i32, r1: i32, tid: i32): void { gluFwd(IDENT, out, gate, up, n, r0, r1); }
/** dgate += dout·up, dup += dout·gate (acc 0: =) */
export function bilinear_bwd_f32(dgate: usize, dup: usize, dout: usize, gate: usize, up: usize, n: i32, acc: i32, r0: i32, r1: i32, tid: i32): void { gluBwd(IDENT, dgate, dup, dout, gate, up, n, acc, r0, r1); }

/** out = a + b (residual adds, gradient sums); out may alias a or b. */
export function add_f32(out: usize, a: usize, b: usize, n: i32, r0: i32, r1: i32, tid: i32): void {
  let i = lo(r0);
  const e = hi(r1, n);
  for (; i + 4 <= e; i += 4) {
    const o = i << 2;
    v128.store(out + o, f32x4.add(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < e; i++) {
    const o = i << 2;
    store<f32>(out + o, load<f32>(a + o) + load<f32>(b + o));
  }
}
