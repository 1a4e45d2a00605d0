/**
 * WASM bindings of the nn kernel family (wasm/assembly/nn_*.ts). Same names and arguments as
 * src/kernels/ref/nn.ts with a leading context; the argument checks are the reference's own
 * (src/kernels/ref/nn_checks.ts) with f32-only dtypes, so both twins raise the same errors.
 *
 * Threading: row kernels split rows (M, B·T, B·H·T…); weight gradients of the norms are reduced
 * by column kernels split over C; elementwise kernels split n into chunks of NN_CHUNK elements.
 * Every output element has one owner and a fixed reduction order, so results do not depend
 * on the thread count.
 */
import { ShapeError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import type { Scope, WasmContext } from './context.js';
import { ropeTables as refRopeTables } from '../ref/rope.js';
import {
  checkAdamw, checkAttentionBackward, checkAttentionForward, checkCrossentropyBackward, checkCrossentropyForward,
  checkElementwise, checkFinite, checkHadamard, checkLayernormBackward, checkLayernormForward, checkRmsnormBackward,
  checkRmsnormForward, checkRope, checkRopeTables, checkSoftmax,
} from '../ref/nn_checks.js';

/** Elements per row of the elementwise kernels; must equal NN_CHUNK in wasm/assembly/nn_act.ts. */
const CHUNK = 4096;
/** Below about this many floats of work a thread would cost more to wake (~1–10 µs) than it saves. */
const MIN_WORK_PER_THREAD = 1 << 15;

/** minRowsPerThread for ctx.parallel given the work of one row. */
function minRows(workPerRow: number): number {
  return Math.max(1, Math.ceil(MIN_WORK_PER_THREAD / Math.max(1, workPerRow)));
}

/** Pointer for an output that a kernel adds into (copied in and back) or, with accumulate false, only writes. */
function accOut(s: Scope, a: FloatArray, accumulate: boolean): number {
  return accumulate ? s.inout(a) : s.out(a);
}

/** Pointers for an (out, inp) pair that may be the same array (in-place). */
function outIn(s: Scope, out: FloatArray, inp: FloatArray): [number, number] {
  if (out === inp) {
    const p = s.inout(out);
    return [p, p];
  }
  return [s.out(out), s.in(inp)];
}

const opt = (s: Scope, a: FloatArray | null, mode: 'in' | 'inout'): number => (a === null ? 0 : mode === 'in' ? s.in(a) : s.inout(a));

/** RMSNorm forward: out = x·rstd·w, rstd = 1/√(mean(x²)+eps). out: (M, C), rstd: (M), inp: (M, C), weight: (C) or null. */
export function rmsnormForward(ctx: WasmContext, out: FloatArray, rstd: FloatArray, inp: FloatArray, weight: FloatArray | null,
                               M: number, C: number, eps: number): void {
  checkRmsnormForward('rmsnormForward', true, out, rstd, inp, weight, M, C, eps);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel('rmsnorm_fwd_f32', [po, s.out(rstd), pi, opt(s, weight, 'in'), C, eps], M, 1, minRows(C));
  });
}

/** RMSNorm backward (accumulates): dinp: (M, C), dweight: (C) or null, dout, inp: (M, C), weight: (C) or null, rstd: (M). */
export function rmsnormBackward(ctx: WasmContext, dinp: FloatArray, dweight: FloatArray | null, dout: FloatArray, inp: FloatArray,
                                weight: FloatArray | null, rstd: FloatArray, M: number, C: number): void {
  checkRmsnormBackward('rmsnormBackward', true, dinp, dweight, dout, inp, weight, rstd, M, C);
  ctx.scope((s) => {
    const pdo = s.in(dout);
    const pin = s.in(inp);
    const pr = s.in(rstd);
    ctx.parallel('rmsnorm_bwd_f32', [s.inout(dinp), pdo, pin, opt(s, weight, 'in'), pr, C], M, 1, minRows(C));
    if (dweight !== null) ctx.parallel('rmsnorm_bwd_dw_f32', [s.inout(dweight), pdo, pin, pr, M, C], C, 4, minRows(M));
  });
}

/** LayerNorm forward: out = (x − mean)·rstd·w + b. out: (M, C), mean, rstd: (M), inp: (M, C), weight, bias: (C) or null. */
export function layernormForward(ctx: WasmContext, out: FloatArray, mean: FloatArray, rstd: FloatArray, inp: FloatArray,
                                 weight: FloatArray | null, bias: FloatArray | null, M: number, C: number, eps: number): void {
  checkLayernormForward('layernormForward', true, out, mean, rstd, inp, weight, bias, M, C, eps);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel('layernorm_fwd_f32', [po, s.out(mean), s.out(rstd), pi, opt(s, weight, 'in'), opt(s, bias, 'in'), C, eps], M, 1, minRows(C));
  });
}

/** LayerNorm backward (accumulates): dinp: (M, C), dweight, dbias: (C) or null, dout, inp: (M, C), weight: (C) or null, mean, rstd: (M). */
export function layernormBackward(ctx: WasmContext, dinp: FloatArray, dweight: FloatArray | null, dbias: FloatArray | null, dout: FloatArray,
                                  inp: FloatArray, weight: FloatArray | null, mean: FloatArray, rstd: FloatArray, M: number, C: number): void {
  checkLayernormBackward('layernormBackward', true, dinp, dweight, dbias, dout, inp, weight, mean, rstd, M, C);
  ctx.scope((s) => {
    const pdo = s.in(dout);
    const pin = s.in(inp);
    const pm = s.in(mean);
    const pr = s.in(rstd);
    ctx.parallel('layernorm_bwd_f32', [s.inout(dinp), pdo, pin, opt(s, weight, 'in'), pm, pr, C], M, 1, minRows(C));
    if (dweight !== null || dbias !== null) {
      ctx.parallel('layernorm_bwd_dwdb_f32', [opt(s, dweight, 'inout'), opt(s, dbias, 'inout'), pdo, pin, pm, pr, M, C], C, 4, minRows(M));
    }
  });
}

/** Row softmax (max-subtracted). out, inp: (M, C); out may alias inp. */
export function softmaxForward(ctx: WasmContext, out: FloatArray, inp: FloatArray, M: number, C: number): void {
  checkSoftmax('softmaxForward', true, { out, inp }, M, C);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel('softmax_fwd_f32', [po, pi, C], M, 1, minRows(C));
  });
}

/** Softmax backward (accumulates): dinp += y·(dy − Σ dy·y). dinp, dout, out: (M, C). */
export function softmaxBackward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, out: FloatArray, M: number, C: number): void {
  checkSoftmax('softmaxBackward', true, { dinp, dout, out }, M, C);
  ctx.scope((s) => ctx.parallel('softmax_bwd_f32', [s.inout(dinp), s.in(dout), s.in(out), C], M, 1, minRows(C)));
}

/** Fused softmax + cross-entropy forward. losses: (M), probs: (M, V), logits: (M, V), targets: (M) in [0, V) or −1. */
export function crossentropyForward(ctx: WasmContext, losses: FloatArray, probs: FloatArray, logits: FloatArray, targets: Int32Array,
                                    M: number, V: number): void {
  checkCrossentropyForward('crossentropyForward', true, losses, probs, logits, targets, M, V);
  ctx.scope((s) => ctx.parallel('crossentropy_fwd_f32', [s.out(losses), s.out(probs), s.in(logits), s.in(targets), V], M, 1, minRows(V)));
}

/** Fused softmax + cross-entropy backward (accumulates): dlogits += (probs − onehot)·dlosses. */
export function crossentropyBackward(ctx: WasmContext, dlogits: FloatArray, dlosses: FloatArray, probs: FloatArray, targets: Int32Array,
                                     M: number, V: number, accumulate = true): void {
  checkCrossentropyBackward('crossentropyBackward', true, dlogits, dlosses, probs, targets, M, V);
  ctx.scope((s) => ctx.parallel('crossentropy_bwd_f32', [accOut(s, dlogits, accumulate), s.in(dlosses), s.in(probs), s.in(targets), V, accumulate ? 1 : 0], M, 1, minRows(V)));
}

/**
 * RoPE tables cos, sin: (maxT, HS/2). Computed once per model in f64 by the reference (exactly the same
 * tables on both backends; not a hot path), f32 only like every WASM binding.
 */
export function ropeTables(ctx: WasmContext, cos: FloatArray, sin: FloatArray, maxT: number, HS: number, theta: number): void {
  void ctx;
  checkRopeTables('ropeTables', true, cos, sin, maxT, HS, theta);
  refRopeTables(cos, sin, maxT, HS, theta);
}

/** RoPE forward (rotate-half). out, inp: (B, T, NH, HS) at positions pos0…pos0+T−1; out may alias inp. */
export function ropeForward(ctx: WasmContext, out: FloatArray, inp: FloatArray, cos: FloatArray, sin: FloatArray,
                            B: number, T: number, NH: number, HS: number, pos0: number): void {
  checkRope('ropeForward', true, out, 'out', inp, 'inp', cos, sin, B, T, NH, HS, pos0);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel('rope_fwd_f32', [po, pi, s.in(cos), s.in(sin), T, NH, HS, pos0], B * T, 1, minRows(NH * HS));
  });
}

/** RoPE backward (accumulates the inverse rotation). dinp, dout: (B, T, NH, HS). */
export function ropeBackward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, cos: FloatArray, sin: FloatArray,
                             B: number, T: number, NH: number, HS: number, pos0: number, accumulate = true): void {
  checkRope('ropeBackward', true, dinp, 'dinp', dout, 'dout', cos, sin, B, T, NH, HS, pos0);
  ctx.scope((s) => ctx.parallel('rope_bwd_f32', [accOut(s, dinp, accumulate), s.in(dout), s.in(cos), s.in(sin), T, NH, HS, pos0, accumulate ? 1 : 0], B * T, 1, minRows(NH * HS)));
}

/** Causal GQA attention forward. out: (B, T, H, HS), att: (B, H, T, T), q: (B, T, H, HS), k, v: (B, T, KVH, HS). */
export function attentionForward(ctx: WasmContext, out: FloatArray, att: FloatArray, q: FloatArray, k: FloatArray, v: FloatArray,
                                 B: number, T: number, H: number, KVH: number, HS: number): void {
  checkAttentionForward('attentionForward', true, out, att, q, k, v, B, T, H, KVH, HS);
  ctx.scope((s) => {
    const kT = transposed(ctx, s, s.in(k), B, T, KVH, HS);
    ctx.parallel('attention_fwd_f32', [s.out(out), s.out(att), s.in(q), kT, s.in(v), T, H, KVH, HS, ctx.scratchBase, ctx.scratchStride], B * H * T, 1, minRows(T * HS));
  });
}

/**
 * Causal GQA attention backward (accumulates dq, dk, dv; accumulate false writes them). datt: (B, H, T, T) scratch
 * (the reference's); this twin keeps the pre-softmax score gradient (× 1/√HS) of one (b, kv head) block at a time in
 * per-thread scope scratch instead, where it is still in cache for pass 2, and leaves datt untouched.
 */
export function attentionBackward(ctx: WasmContext, dq: FloatArray, dk: FloatArray, dv: FloatArray, datt: FloatArray, dout: FloatArray,
                                  q: FloatArray, k: FloatArray, v: FloatArray, att: FloatArray,
                                  B: number, T: number, H: number, KVH: number, HS: number, accumulate = true): void {
  checkAttentionBackward('attentionBackward', true, dq, dk, dv, datt, dout, q, k, v, att, B, T, H, KVH, HS);
  ctx.scope((s) => {
    const pdout = s.in(dout);
    const patt = s.in(att);
    const vT = transposed(ctx, s, s.in(v), B, T, KVH, HS);
    // one job over blocks (b, kv head): both passes per block, while its att and datt are in cache
    const dattTmp = s.temp(ctx.threads * (H / KVH) * T * T * 4);
    ctx.parallel('attention_bwd_f32', [accOut(s, dq, accumulate), accOut(s, dk, accumulate), accOut(s, dv, accumulate), dattTmp, pdout, s.in(q), s.in(k), vT, patt, T, H, KVH, HS, accumulate ? 1 : 0,
      ctx.scratchBase, ctx.scratchStride], B * KVH, 1, minRows((H / KVH) * T * T * HS * 2));
  });
}

/**
 * Keys (or values) (B, T, KVH, HS) transposed to (B, KVH, HS, Tp) in scope scratch, Tp = T rounded up to an odd
 * multiple of 8, as the module computes it (rowLen in wasm/assembly/nn_attention.ts, whose score tiles read keys in
 * lanes). Checks that a thread's score rows (4 × Tp floats) fit its scratch.
 */
function transposed(ctx: WasmContext, s: Scope, p: number, B: number, T: number, KVH: number, HS: number): number {
  const Tp = ctx.call('attention_kv_row_len', T);
  if (16 * Tp > ctx.scratchStride) throw new ShapeError(`attention: T=${T} needs ${16 * Tp} B of per-thread scratch, ${ctx.scratchStride} B available`);
  const kT = s.temp(B * KVH * HS * Tp * 4);
  ctx.parallel('transpose_kv_f32', [kT, p, T, KVH, HS], B * KVH, 1, minRows(T * HS));
  return kT;
}

function unary(ctx: WasmContext, where: string, fn: string, out: FloatArray, inp: FloatArray, n: number): void {
  checkElementwise(where, true, { out, inp }, n);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel(fn, [po, pi, n], Math.ceil(n / CHUNK), 1, minRows(CHUNK));
  });
}
function unaryBwd(ctx: WasmContext, where: string, fn: string, dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  checkElementwise(where, true, { dinp, dout, inp }, n);
  ctx.scope((s) => ctx.parallel(fn, [s.inout(dinp), s.in(dout), s.in(inp), n], Math.ceil(n / CHUNK), 1, minRows(CHUNK)));
}
function glu(ctx: WasmContext, where: string, fn: string, out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  checkElementwise(where, true, { out, gate, up }, n);
  ctx.scope((s) => {
    // out may be gate or up (in place): share the pointer.
    const po = out === gate || out === up ? s.inout(out) : s.out(out);
    const pg = out === gate ? po : s.in(gate);
    const pu = out === up ? po : s.in(up);
    ctx.parallel(fn, [po, pg, pu, n], Math.ceil(n / CHUNK), 1, minRows(CHUNK));
  });
}
function gluBwd(ctx: WasmContext, where: string, fn: string, dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray,
                up: FloatArray, n: number, accumulate: boolean): void {
  checkElementwise(where, true, { dgate, dup, dout, gate, up }, n);
  ctx.scope((s) => ctx.parallel(fn, [accOut(s, dgate, accumulate), accOut(s, dup, accumulate), s.in(dout), s.in(gate), s.in(up), n, accumulate ? 1 : 0], Math.ceil(n / CHUNK), 1, minRows(CHUNK)));
}

/** out = a + b (see ref add); out may alias a or b. */
export function add(ctx: WasmContext, out: FloatArray, a: FloatArray, b: FloatArray, n: number): void {
  checkElementwise('add', true, { out, a, b }, n);
  ctx.scope((s) => {
    const po = out === a || out === b ? s.inout(out) : s.out(out);
    const pa = out === a ? po : s.in(a);
    const pb = out === b ? po : s.in(b);
    ctx.parallel('add_f32', [po, pa, pb, n], Math.ceil(n / CHUNK), 1, minRows(CHUNK));
  });
}

/** out = silu(inp) = x·σ(x). out, inp: (n). */
export function siluForward(ctx: WasmContext, out: FloatArray, inp: FloatArray, n: number): void {
  unary(ctx, 'siluForward', 'silu_fwd_f32', out, inp, n);
}
/** dinp += dout·silu'(inp). */
export function siluBackward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBwd(ctx, 'siluBackward', 'silu_bwd_f32', dinp, dout, inp, n);
}
/** out = max(inp, 0)². */
export function relu2Forward(ctx: WasmContext, out: FloatArray, inp: FloatArray, n: number): void {
  unary(ctx, 'relu2Forward', 'relu2_fwd_f32', out, inp, n);
}
/** dinp += dout·2max(inp, 0). */
export function relu2Backward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBwd(ctx, 'relu2Backward', 'relu2_bwd_f32', dinp, dout, inp, n);
}
/** out = gelu(inp), tanh approximation (GPT-2). */
export function geluForward(ctx: WasmContext, out: FloatArray, inp: FloatArray, n: number): void {
  unary(ctx, 'geluForward', 'gelu_fwd_f32', out, inp, n);
}
/** dinp += dout·gelu'(inp). */
export function geluBackward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, inp: FloatArray, n: number): void {
  unaryBwd(ctx, 'geluBackward', 'gelu_bwd_f32', dinp, dout, inp, n);
}
/** out = silu(gate)·up. */
export function swigluForward(ctx: WasmContext, out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  glu(ctx, 'swigluForward', 'swiglu_fwd_f32', out, gate, up, n);
}
/** dgate += dout·up·silu'(gate), dup += dout·silu(gate). */
export function swigluBackward(ctx: WasmContext, dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBwd(ctx, 'swigluBackward', 'swiglu_bwd_f32', dgate, dup, dout, gate, up, n, accumulate);
}
/** out = max(gate, 0)²·up. */
export function relu2gluForward(ctx: WasmContext, out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  glu(ctx, 'relu2gluForward', 'relu2glu_fwd_f32', out, gate, up, n);
}
/** dgate += dout·up·2max(gate, 0), dup += dout·max(gate, 0)². */
export function relu2gluBackward(ctx: WasmContext, dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBwd(ctx, 'relu2gluBackward', 'relu2glu_bwd_f32', dgate, dup, dout, gate, up, n, accumulate);
}
/** out = gate·up. */
export function bilinearForward(ctx: WasmContext, out: FloatArray, gate: FloatArray, up: FloatArray, n: number): void {
  glu(ctx, 'bilinearForward', 'bilinear_fwd_f32', out, gate, up, n);
}
/** dgate += dout·up, dup += dout·gate. */
export function bilinearBackward(ctx: WasmContext, dgate: FloatArray, dup: FloatArray, dout: FloatArray, gate: FloatArray, up: FloatArray, n: number, accumulate = true): void {
  gluBwd(ctx, 'bilinearBackward', 'bilinear_bwd_f32', dgate, dup, dout, gate, up, n, accumulate);
}

/** Orthonormal Walsh–Hadamard per row. out, inp: (M, n), n a power of two; out may alias inp. */
export function hadamardForward(ctx: WasmContext, out: FloatArray, inp: FloatArray, M: number, n: number): void {
  checkHadamard('hadamardForward', true, out, 'out', inp, 'inp', M, n);
  ctx.scope((s) => {
    const [po, pi] = outIn(s, out, inp);
    ctx.parallel('hadamard_fwd_f32', [po, pi, n, 1 / Math.sqrt(n)], M, 1, minRows(n * Math.log2(2 * n)));
  });
}

/** Hadamard backward (accumulates): dinp += H·dout. dinp, dout: (M, n). */
export function hadamardBackward(ctx: WasmContext, dinp: FloatArray, dout: FloatArray, M: number, n: number): void {
  checkHadamard('hadamardBackward', true, dinp, 'dinp', dout, 'dout', M, n);
  ctx.scope((s) => {
    // One row of scratch per thread: the transform of dout must not overwrite the input.
    const scratch = s.temp(ctx.threads * n * 4);
    ctx.parallel('hadamard_bwd_f32', [s.inout(dinp), s.in(dout), n, 1 / Math.sqrt(n), scratch], M, 1, minRows(n * Math.log2(2 * n)));
  });
}

/** One AdamW step in place (PyTorch semantics); bias corrections 1 − β^step computed here in f64. param, grad, m, v: (n). */
export function adamwStep(ctx: WasmContext, param: FloatArray, grad: FloatArray, m: FloatArray, v: FloatArray, n: number,
                          lr: number, beta1: number, beta2: number, eps: number, weightDecay: number, step: number): void {
  checkAdamw('adamwStep', true, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step);
  const bc1 = 1 - Math.pow(beta1, step);
  const bc2 = 1 - Math.pow(beta2, step);
  ctx.scope((s) => {
    ctx.parallel('adamw_f32', [s.inout(param), s.in(grad), s.inout(m), s.inout(v), n, lr, beta1, beta2, eps, weightDecay, bc1, bc2],
      Math.ceil(n / CHUNK), 1, minRows(CHUNK));
  });
}

/** Σ x² in f64 (threads take whole chunks; the chunk sums are added here in order, so any thread count gives the same bits). x: (n). */
export function sumSquares(ctx: WasmContext, x: FloatArray, n: number): number {
  checkElementwise('sumSquares', true, { x }, n);
  const chunks = Math.ceil(n / CHUNK);
  return ctx.scope((s) => {
    const sums = s.temp(chunks * 8);
    ctx.parallel('sumsq_f32', [s.in(x), n, sums], chunks, 1, minRows(CHUNK));
    const v = new Float64Array(ctx.memory.buffer, sums, chunks);
    let total = 0;
    for (let c = 0; c < chunks; c++) total += v[c]!;
    return total;
  });
}

/** out = x · s (s rounded to f32, one f32 multiply per element); out may alias x. */
export function scale(ctx: WasmContext, out: FloatArray, x: FloatArray, s: number, n: number): void {
  checkElementwise('scale', true, { out, x }, n);
  checkFinite('scale', { s });
  ctx.scope((sc) => {
    const [po, px] = outIn(sc, out, x);
    ctx.parallel('scale_f32', [po, px, n, s], Math.ceil(n / CHUNK), 1, minRows(CHUNK));
  });
}
