/**
 * Elementwise activations and the gated (GLU) combinations used by FFNs, reference twins.
 * All over n elements; forward overwrites, backward accumulates.
 *
 *   silu(x)  = x · σ(x)                         silu'(x)  = σ(x) · (1 + x · (1 − σ(x)))
 *   relu2(x) = max(x, 0)²  (BitNet 2B4T)        relu2'(x) = 2 · max(x, 0)
 *   gelu(x)  = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³)   — the tanh approximation of GPT-2 / llm.c
 *                                              (not the erf form); gelu'(x) = ½(1 + tanh u) + ½x(1 − tanh²u)·u'(x)
 *   GLU: out = act(gate) ⊙ up with act = silu (SwiGLU), relu2 (ReLU²-GLU) or identity (bilinear).
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkElementwise } from './nn_checks.js';

const GELU_K = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
function silu(x: number): number {
  return x * sigmoid(x);
}
function siluGrad(x: number): number {
  const s = sigmoid(x);
  return s * (1 + x * (1 - s));
}
function relu2(x: number): number {
  return x > 0 ? x * x : 0;
}
function relu2Grad(x: number): number {
  return x > 0 ? 2 * x : 0;
}
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(GELU_K * (x + GELU_C * x * x * x)));
}
function geluGrad(x: number): number {
  const th = Math.tanh(GELU_K * (x + GELU_C * x * x * x));
  return 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * GELU_K * (1 + 3 * GELU_C * x * x);
}

function unaryForward(where: string, f: (x: number) => number, out: FloatArray, inp: FloatArray, n: number): void {
  checkElementwise(where, false, { out, inp }, n);
  for (let i = 0; i < n; i++) out[i] = f(inp[i]!);
}
function unaryBackward(where: string, df: (x: number) => number, dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  checkElementwise(where, false, { dinp, dout, inp }, n);
  for (let i = 0; i < n; i++) dinp[i] = dinp[i]! + dout[i]! * df(inp[i]!);
}
function gluForward(where: string, f: (x: number) => number, out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  checkElementwise(where, false, { out, gate, up }, n);
  for (let i = 0; i < n; i++) out[i] = f(gate[i]!) * up[i]!;
}
function gluBackward(where: string, f: (x: number) => number, df: (x: number) => number, dgate: FloatArray, dup: FloatArray,
                     dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate: boolean): void {
  checkElementwise(where, false, { dgate, dup, dout, gate, up }, n);
  for (let i = 0; i < n; i++) {
    const g = gate[i]!;
    const d = dout[i]!;
    dgate[i] = (accumulate ? dgate[i]! : 0) + d * up[i]! * df(g);
    dup[i] = (accumulate ? dup[i]! : 0) + d * f(g);
  }
}

/** out = silu(inp) = inp · σ(inp). out, inp: (n); out may alias inp. */
export function siluForward(out: FloatArray, inp: FloatArray, n: number): void {
  unaryForward('siluForward', silu, out, inp, n);
}
/** dinp += dout · σ(x)(1 + x(1 − σ(x))). dinp, dout, inp: (n). */
export function siluBackward(dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBackward('siluBackward', siluGrad, dinp, dout, inp, n);
}
/** out = max(inp, 0)² (squared ReLU). out, inp: (n); out may alias inp. */
export function relu2Forward(out: FloatArray, inp: FloatArray, n: number): void {
  unaryForward('relu2Forward', relu2, out, inp, n);
}
/** dinp += dout · 2·max(x, 0). dinp, dout, inp: (n). */
export function relu2Backward(dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBackward('relu2Backward', relu2Grad, dinp, dout, inp, n);
}
/** out = ½x(1 + tanh(√(2/π)(x + 0.044715x³))), GPT-2's tanh approximation. out, inp: (n); out may alias inp. */
export function geluForward(out: FloatArray, inp: FloatArray, n: number): void {
  unaryForward('geluForward', gelu, out, inp, n);
}
/** dinp += dout · gelu'(x) (derivative of the tanh approximation). dinp, dout, inp: (n). */
export function geluBackward(dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBackward('geluBackward', geluGrad, dinp, dout, inp, n);
}

/** SwiGLU: out = silu(gate) ⊙ up. out, gate, up: (n). */
export function swigluForward(out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  gluForward('swigluForward', silu, out, gate, up, n);
}
/** dgate += dout ⊙ up ⊙ silu'(gate), dup += dout ⊙ silu(gate) (= with accumulate false). All (n). */
export function swigluBackward(dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBackward('swigluBackward', silu, siluGrad, dgate, dup, dout, gate, up, n, accumulate);
}
/** ReLU²-GLU: out = max(gate, 0)² ⊙ up. out, gate, up: (n). */
export function relu2gluForward(out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  gluForward('relu2gluForward', relu2, out, gate, up, n);
}
/** dgate += dout ⊙ up ⊙ 2max(gate, 0), dup += dout ⊙ max(gate, 0)² (= with accumulate false). All (n). */
export function relu2gluBackward(dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBackward('relu2gluBackward', relu2, relu2Grad, dgate, dup, dout, gate, up, n, accumulate);
}
/** Bilinear GLU (identity gate): out = gate ⊙ up. out, gate, up: (n). */
export function bilinearForward(out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  gluForward('bilinearForward', (x) => x, out, gate, up, n);
}
/** dgate += dout ⊙ up, dup += dout ⊙ gate (= with accumulate false). All (n). */
export function bilinearBackward(dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBackward('bilinearBackward', (x) => x, () => 1, dgate, dup, dout, gate, up, n, accumulate);
}

/**
 * out = a + b elementwise (residual adds, gradient sums), one f32 (or f64) add per element: the WASM twin is
 * bit-identical. out, a, b: (n); out may alias a or b.
 */
export function add(out: FloatArray, a: FloatArray, b: FloatArray, n: number): void {
  checkElementwise('add', false, { out, a, b }, n);
  for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
}
