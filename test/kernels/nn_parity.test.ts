// WASM nn kernels vs the reference at awkward sizes, typed errors of the bindings, and a
// thread-count check on the kernels with cross-row reductions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/nn.js';
import * as W from '../../src/kernels/wasm/nn.js';
import { sharedContext, type WasmContext } from '../../src/kernels/wasm/context.js';
import { Rng } from '../../src/tensor/rng.js';
import { AWKWARD_SIZES, assertAllClose, assertBitIdentical, randnF32 } from '../helpers/check.js';

// Tolerances (WASM f32 vs reference on the same f32 inputs, reference accumulating in f64):
// Row reductions (Σx², Σdy·x, dot products) run in f32 with 4 lanes: error ~ √C·2⁻²⁴ relative to
// the magnitudes summed; outputs are O(1), so a few 1e-6 absolute with 1e-5 relative covers C ≤ 257.
const REDUCE_TOL = { atol: 5e-6, rtol: 1e-5 };
// Weight gradients of the norms sum over M rows of O(1) products (and the backward of a norm
// subtracts nearly equal terms): same reasoning, a bit looser.
const NORM_GRAD_TOL = { atol: 2e-5, rtol: 1e-4 };
// exp is a degree-6 polynomial (~2 ulp) and tanh = 1 − 2/(e^{2u}+1) loses ~1e-7 absolute near 0;
// σ, silu, gelu and softmax outputs are O(1): 1e-6 absolute + 1e-5 relative.
const TRANSCENDENTAL_TOL = { atol: 1e-6, rtol: 1e-5 };
// Elementwise arithmetic only (relu², bilinear, rope, AdamW's sqrt/div): a couple of ulp of the result;
// backward kernels add into O(1) buffers, so a couple of ulp of 1 (2⁻²³ ≈ 1.2e-7) in absolute terms.
const ELEMENTWISE_TOL = { atol: 3e-7, rtol: 1e-6 };
// Hadamard: log2(n) butterfly stages in f32 vs one f64 pass: error grows ~log2(n)·ulp·‖x‖.
const HADAMARD_TOL = { atol: 1e-5, rtol: 1e-5 };
// Cross-entropy loss = log Σe + max − logit: log of a sum of V f32 terms (Mathf.log ≤ 1 ulp).
const CE_LOSS_TOL = { atol: 1e-5, rtol: 1e-5 };
// Attention: dot products over HS, softmax over T, and sums over T (and a GQA group) in f32.
const ATTN_TOL = { atol: 2e-5, rtol: 1e-4 };

let ctx: WasmContext;
before(async () => {
  ctx = await sharedContext();
});

const f32 = (n: number) => new Float32Array(n);
const copy = (a: Float32Array) => a.slice();
const ROWS = [1, 3, 17];

describe('nn parity: norms', () => {
  it('rmsnorm forward/backward', () => {
    const rng = new Rng(1);
    for (const M of ROWS) for (const C of AWKWARD_SIZES) for (const withW of [true, false]) {
      const inp = randnF32(rng, M * C, 2);
      const w = withW ? randnF32(rng, C) : null;
      const o1 = f32(M * C), o2 = f32(M * C), r1 = f32(M), r2 = f32(M);
      R.rmsnormForward(o1, r1, inp, w, M, C, 1e-5);
      W.rmsnormForward(ctx, o2, r2, inp, w, M, C, 1e-5);
      const what = `rmsnorm M=${M} C=${C} w=${withW}`;
      assertAllClose(r2, r1, REDUCE_TOL, `${what} rstd`);
      assertAllClose(o2, o1, REDUCE_TOL, `${what} out`);
      const dout = randnF32(rng, M * C);
      const d0 = randnF32(rng, M * C), dw0 = randnF32(rng, C);
      const d1 = copy(d0), d2 = copy(d0), dw1 = withW ? copy(dw0) : null, dw2 = withW ? copy(dw0) : null;
      R.rmsnormBackward(d1, dw1, dout, inp, w, r1, M, C);
      W.rmsnormBackward(ctx, d2, dw2, dout, inp, w, r1, M, C);
      assertAllClose(d2, d1, NORM_GRAD_TOL, `${what} dinp`);
      if (withW) assertAllClose(dw2!, dw1!, NORM_GRAD_TOL, `${what} dweight`);
    }
  });

  it('layernorm forward/backward', () => {
    const rng = new Rng(2);
    for (const M of ROWS) for (const C of AWKWARD_SIZES) for (const affine of [true, false]) {
      if (C === 1) continue; // C = 1 normalises to exactly 0; the backward is pure rounding noise.
      const inp = randnF32(rng, M * C, 2);
      for (let i = 0; i < inp.length; i++) inp[i] = inp[i]! + 3; // a mean away from 0
      const w = affine ? randnF32(rng, C) : null;
      const b = affine ? randnF32(rng, C) : null;
      const o1 = f32(M * C), o2 = f32(M * C), m1 = f32(M), m2 = f32(M), r1 = f32(M), r2 = f32(M);
      R.layernormForward(o1, m1, r1, inp, w, b, M, C, 1e-5);
      W.layernormForward(ctx, o2, m2, r2, inp, w, b, M, C, 1e-5);
      const what = `layernorm M=${M} C=${C} affine=${affine}`;
      assertAllClose(m2, m1, REDUCE_TOL, `${what} mean`);
      assertAllClose(r2, r1, REDUCE_TOL, `${what} rstd`);
      assertAllClose(o2, o1, REDUCE_TOL, `${what} out`);
      const dout = randnF32(rng, M * C);
      const d0 = randnF32(rng, M * C);
      const d1 = copy(d0), d2 = copy(d0);
      const dw1 = affine ? randnF32(rng, C) : null;
      const dw2 = dw1 && copy(dw1);
      const db1 = affine ? randnF32(rng, C) : null;
      const db2 = db1 && copy(db1);
      R.layernormBackward(d1, dw1, db1, dout, inp, w, m1, r1, M, C);
      W.layernormBackward(ctx, d2, dw2, db2, dout, inp, w, m1, r1, M, C);
      assertAllClose(d2, d1, NORM_GRAD_TOL, `${what} dinp`);
      if (affine) {
        assertAllClose(dw2!, dw1!, NORM_GRAD_TOL, `${what} dweight`);
        assertAllClose(db2!, db1!, NORM_GRAD_TOL, `${what} dbias`);
      }
    }
  });
});

describe('nn parity: softmax, cross-entropy', () => {
  it('softmax forward/backward (incl. in place and ±1000 inputs)', () => {
    const rng = new Rng(3);
    for (const M of ROWS) for (const C of AWKWARD_SIZES) {
      const inp = randnF32(rng, M * C, 3);
      if (C > 2) inp[1] = 1000 + inp[1]!;
      const o1 = f32(M * C), o2 = f32(M * C);
      R.softmaxForward(o1, inp, M, C);
      W.softmaxForward(ctx, o2, inp, M, C);
      assertAllClose(o2, o1, TRANSCENDENTAL_TOL, `softmax M=${M} C=${C}`);
      const ip = copy(inp);
      W.softmaxForward(ctx, ip, ip, M, C);
      assertAllClose(ip, o1, TRANSCENDENTAL_TOL, `softmax in place M=${M} C=${C}`);
      const dout = randnF32(rng, M * C);
      const d0 = randnF32(rng, M * C);
      const d1 = copy(d0), d2 = copy(d0);
      R.softmaxBackward(d1, dout, o1, M, C);
      W.softmaxBackward(ctx, d2, dout, o1, M, C);
      assertAllClose(d2, d1, REDUCE_TOL, `softmax bwd M=${M} C=${C}`);
    }
  });

  it('crossentropy forward/backward with ignored targets', () => {
    const rng = new Rng(4);
    for (const M of ROWS) for (const V of AWKWARD_SIZES) {
      const logits = randnF32(rng, M * V, 4);
      const targets = new Int32Array(M);
      for (let i = 0; i < M; i++) targets[i] = i % 3 === 2 ? -1 : rng.int(V);
      const l1 = f32(M), l2 = f32(M), p1 = f32(M * V), p2 = f32(M * V);
      R.crossentropyForward(l1, p1, logits, targets, M, V);
      W.crossentropyForward(ctx, l2, p2, logits, targets, M, V);
      assertAllClose(l2, l1, CE_LOSS_TOL, `ce loss M=${M} V=${V}`);
      assertAllClose(p2, p1, TRANSCENDENTAL_TOL, `ce probs M=${M} V=${V}`);
      const dl = randnF32(rng, M);
      const d0 = randnF32(rng, M * V);
      const d1 = copy(d0), d2 = copy(d0);
      R.crossentropyBackward(d1, dl, p1, targets, M, V);
      W.crossentropyBackward(ctx, d2, dl, p1, targets, M, V);
      assertAllClose(d2, d1, ELEMENTWISE_TOL, `ce bwd M=${M} V=${V}`);
      // accumulate false: written without reading the old values (NaN garbage), the same bits as adding to zeros
      const z = f32(M * V), o = f32(M * V).fill(NaN), oR = f32(M * V).fill(NaN);
      W.crossentropyBackward(ctx, z, dl, p1, targets, M, V);
      W.crossentropyBackward(ctx, o, dl, p1, targets, M, V, false);
      R.crossentropyBackward(oR, dl, p1, targets, M, V, false);
      assertBitIdentical(o, z, `ce bwd overwrite M=${M} V=${V}`);
      assertAllClose(o, oR, ELEMENTWISE_TOL, `ce bwd overwrite vs ref M=${M} V=${V}`);
    }
  });
});

describe('nn parity: rope, attention', () => {
  it('rope tables, forward (incl. in place), backward', () => {
    const rng = new Rng(5);
    for (const HS of [2, 6, 8, 16, 34, 128]) for (const [B, T, NH, pos0] of [[1, 1, 1, 0], [2, 3, 3, 5], [1, 7, 2, 100]] as const) {
      const maxT = pos0 + T + 2;
      const c1 = f32(maxT * HS / 2), s1 = f32(maxT * HS / 2), c2 = f32(maxT * HS / 2), s2 = f32(maxT * HS / 2);
      R.ropeTables(c1, s1, maxT, HS, 10000);
      W.ropeTables(ctx, c2, s2, maxT, HS, 10000);
      assertBitIdentical(c2, c1, 'rope cos table');
      assertBitIdentical(s2, s1, 'rope sin table');
      const n = B * T * NH * HS;
      const inp = randnF32(rng, n);
      const o1 = f32(n), o2 = f32(n);
      R.ropeForward(o1, inp, c1, s1, B, T, NH, HS, pos0);
      W.ropeForward(ctx, o2, inp, c1, s1, B, T, NH, HS, pos0);
      const what = `rope HS=${HS} B=${B} T=${T} NH=${NH} pos0=${pos0}`;
      assertAllClose(o2, o1, ELEMENTWISE_TOL, what);
      const ip = copy(inp);
      W.ropeForward(ctx, ip, ip, c1, s1, B, T, NH, HS, pos0);
      assertAllClose(ip, o1, ELEMENTWISE_TOL, `${what} in place`);
      const d0 = randnF32(rng, n);
      const d1 = copy(d0), d2 = copy(d0);
      R.ropeBackward(d1, inp, c1, s1, B, T, NH, HS, pos0);
      W.ropeBackward(ctx, d2, inp, c1, s1, B, T, NH, HS, pos0);
      assertAllClose(d2, d1, ELEMENTWISE_TOL, `${what} bwd`);
      const z = f32(n), o = f32(n).fill(NaN), oR = f32(n).fill(NaN);
      W.ropeBackward(ctx, z, inp, c1, s1, B, T, NH, HS, pos0);
      W.ropeBackward(ctx, o, inp, c1, s1, B, T, NH, HS, pos0, false);
      R.ropeBackward(oR, inp, c1, s1, B, T, NH, HS, pos0, false);
      assertBitIdentical(o, z, `${what} bwd overwrite`);
      assertAllClose(o, oR, ELEMENTWISE_TOL, `${what} bwd overwrite vs ref`);
    }
  });

  it('attention forward/backward, MHA and GQA', () => {
    const rng = new Rng(6);
    const shapes = [[1, 1, 1, 1, 1], [1, 1, 4, 2, 16], [2, 7, 4, 2, 3], [1, 17, 4, 1, 17], [2, 13, 2, 2, 16], [1, 31, 6, 3, 8]] as const;
    for (const [B, T, H, KVH, HS] of shapes) {
      const nq = B * T * H * HS, nkv = B * T * KVH * HS, na = B * H * T * T;
      const q = randnF32(rng, nq), k = randnF32(rng, nkv), v = randnF32(rng, nkv);
      const o1 = f32(nq), o2 = f32(nq), a1 = f32(na), a2 = f32(na);
      R.attentionForward(o1, a1, q, k, v, B, T, H, KVH, HS);
      W.attentionForward(ctx, o2, a2, q, k, v, B, T, H, KVH, HS);
      const what = `attention B=${B} T=${T} H=${H} KVH=${KVH} HS=${HS}`;
      assertAllClose(a2, a1, ATTN_TOL, `${what} att`);
      assertAllClose(o2, o1, ATTN_TOL, `${what} out`);
      const dout = randnF32(rng, nq);
      const dq0 = randnF32(rng, nq), dk0 = randnF32(rng, nkv), dv0 = randnF32(rng, nkv);
      const g1 = [copy(dq0), copy(dk0), copy(dv0)] as const;
      const g2 = [copy(dq0), copy(dk0), copy(dv0)] as const;
      const datt1 = f32(na), datt2 = f32(na);
      R.attentionBackward(g1[0], g1[1], g1[2], datt1, dout, q, k, v, a1, B, T, H, KVH, HS);
      W.attentionBackward(ctx, g2[0], g2[1], g2[2], datt2, dout, q, k, v, a1, B, T, H, KVH, HS);
      assertAllClose(g2[0], g1[0], ATTN_TOL, `${what} dq`);
      assertAllClose(g2[1], g1[1], ATTN_TOL, `${what} dk`);
      // accumulate false: dq, dk, dv written without reading them (NaN garbage), the same bits as adding to zeros
      const z = [f32(nq), f32(nkv), f32(nkv)] as const, o = [f32(nq).fill(NaN), f32(nkv).fill(NaN), f32(nkv).fill(NaN)] as const;
      const oR = [f32(nq).fill(NaN), f32(nkv).fill(NaN), f32(nkv).fill(NaN)] as const;
      W.attentionBackward(ctx, z[0], z[1], z[2], f32(na), dout, q, k, v, a1, B, T, H, KVH, HS);
      W.attentionBackward(ctx, o[0], o[1], o[2], f32(na), dout, q, k, v, a1, B, T, H, KVH, HS, false);
      R.attentionBackward(oR[0], oR[1], oR[2], f32(na), dout, q, k, v, a1, B, T, H, KVH, HS, false);
      o.forEach((x, i) => assertBitIdentical(x, z[i]!, `${what} overwrite ${i}`));
      o.forEach((x, i) => assertAllClose(x, oR[i]!, ATTN_TOL, `${what} overwrite vs ref ${i}`));
      assertAllClose(g2[2], g1[2], ATTN_TOL, `${what} dv`);
    }
  });
});

describe('nn parity: activations, hadamard, adamw', () => {
  const NS = [...AWKWARD_SIZES, 3 * 4096 + 5];
  const unary = [
    ['silu', R.siluForward, W.siluForward, R.siluBackward, W.siluBackward, TRANSCENDENTAL_TOL],
    ['relu2', R.relu2Forward, W.relu2Forward, R.relu2Backward, W.relu2Backward, ELEMENTWISE_TOL],
    ['gelu', R.geluForward, W.geluForward, R.geluBackward, W.geluBackward, TRANSCENDENTAL_TOL],
  ] as const;
  const glu = [
    ['swiglu', R.swigluForward, W.swigluForward, R.swigluBackward, W.swigluBackward, TRANSCENDENTAL_TOL],
    ['relu2glu', R.relu2gluForward, W.relu2gluForward, R.relu2gluBackward, W.relu2gluBackward, ELEMENTWISE_TOL],
    ['bilinear', R.bilinearForward, W.bilinearForward, R.bilinearBackward, W.bilinearBackward, ELEMENTWISE_TOL],
  ] as const;
  it('unary activations forward/backward (incl. in place, large |x|)', () => {
    const rng = new Rng(7);
    for (const [name, rf, wf, rb, wb, tol] of unary) for (const n of NS) {
      const x = randnF32(rng, n, 3);
      if (n > 4) { x[0] = 100; x[1] = -100; x[2] = 0; }
      const o1 = f32(n), o2 = f32(n);
      rf(o1, x, n);
      wf(ctx, o2, x, n);
      assertAllClose(o2, o1, tol, `${name} n=${n}`);
      const ip = copy(x);
      wf(ctx, ip, ip, n);
      assertAllClose(ip, o1, tol, `${name} in place n=${n}`);
      const dout = randnF32(rng, n);
      const d0 = randnF32(rng, n);
      const d1 = copy(d0), d2 = copy(d0);
      rb(d1, dout, x, n);
      wb(ctx, d2, dout, x, n);
      assertAllClose(d2, d1, tol, `${name} bwd n=${n}`);
    }
  });
  it('add: WASM = reference bit for bit, also in place (out = a, out = b)', () => {
    const rng = new Rng(12);
    for (const n of NS) {
      const a = randnF32(rng, n, 3), b = randnF32(rng, n, 1e-3);
      const o1 = f32(n), o2 = f32(n);
      R.add(o1, a, b, n);
      W.add(ctx, o2, a, b, n);
      assertBitIdentical(o2, o1, `add n=${n}`);
      const ia = copy(a), ib = copy(b);
      W.add(ctx, ia, ia, b, n);
      W.add(ctx, ib, a, ib, n);
      assertBitIdentical(ia, o1, `add in place (a) n=${n}`);
      assertBitIdentical(ib, o1, `add in place (b) n=${n}`);
      for (let i = 0; i < n; i++) assert.equal(o1[i], Math.fround(a[i]! + b[i]!));
    }
  });
  it('GLU forward/backward', () => {
    const rng = new Rng(8);
    for (const [name, rf, wf, rb, wb, tol] of glu) for (const n of NS) {
      const g = randnF32(rng, n, 3), u = randnF32(rng, n);
      const o1 = f32(n), o2 = f32(n);
      rf(o1, g, u, n);
      wf(ctx, o2, g, u, n);
      assertAllClose(o2, o1, tol, `${name} n=${n}`);
      const dout = randnF32(rng, n);
      const dg0 = randnF32(rng, n), du0 = randnF32(rng, n);
      const dg1 = copy(dg0), dg2 = copy(dg0), du1 = copy(du0), du2 = copy(du0);
      rb(dg1, du1, dout, g, u, n);
      wb(ctx, dg2, du2, dout, g, u, n);
      assertAllClose(dg2, dg1, tol, `${name} bwd dgate n=${n}`);
      assertAllClose(du2, du1, tol, `${name} bwd dup n=${n}`);
      const zg = f32(n), zu = f32(n), og = f32(n).fill(NaN), ou = f32(n).fill(NaN), rg = f32(n).fill(NaN), ru = f32(n).fill(NaN);
      wb(ctx, zg, zu, dout, g, u, n);
      wb(ctx, og, ou, dout, g, u, n, false);
      rb(rg, ru, dout, g, u, n, false);
      assertBitIdentical(og, zg, `${name} bwd overwrite dgate n=${n}`);
      assertBitIdentical(ou, zu, `${name} bwd overwrite dup n=${n}`);
      assertAllClose(og, rg, tol, `${name} bwd overwrite vs ref dgate n=${n}`);
      assertAllClose(ou, ru, tol, `${name} bwd overwrite vs ref dup n=${n}`);
    }
  });
  it('hadamard forward (incl. in place) / backward', () => {
    const rng = new Rng(9);
    for (const M of ROWS) for (const n of [1, 2, 4, 8, 16, 64, 128, 1024]) {
      const x = randnF32(rng, M * n);
      const o1 = f32(M * n), o2 = f32(M * n);
      R.hadamardForward(o1, x, M, n);
      W.hadamardForward(ctx, o2, x, M, n);
      assertAllClose(o2, o1, HADAMARD_TOL, `hadamard M=${M} n=${n}`);
      const ip = copy(x);
      W.hadamardForward(ctx, ip, ip, M, n);
      assertAllClose(ip, o1, HADAMARD_TOL, `hadamard in place M=${M} n=${n}`);
      const d0 = randnF32(rng, M * n);
      const d1 = copy(d0), d2 = copy(d0);
      R.hadamardBackward(d1, x, M, n);
      W.hadamardBackward(ctx, d2, x, M, n);
      assertAllClose(d2, d1, HADAMARD_TOL, `hadamard bwd M=${M} n=${n}`);
    }
  });
  it('adamw: several steps', () => {
    const rng = new Rng(10);
    for (const n of [...AWKWARD_SIZES, 10007]) {
      const p1 = randnF32(rng, n), m1 = f32(n), v1 = f32(n);
      const p2 = copy(p1), m2 = f32(n), v2 = f32(n);
      for (let step = 1; step <= 3; step++) {
        const g = randnF32(rng, n);
        R.adamwStep(p1, g, m1, v1, n, 1e-2, 0.9, 0.95, 1e-8, 0.1, step);
        W.adamwStep(ctx, p2, g, m2, v2, n, 1e-2, 0.9, 0.95, 1e-8, 0.1, step);
      }
      assertAllClose(m2, m1, ELEMENTWISE_TOL, `adamw m n=${n}`);
      assertAllClose(v2, v1, ELEMENTWISE_TOL, `adamw v n=${n}`);
      assertAllClose(p2, p1, ELEMENTWISE_TOL, `adamw param n=${n}`);
    }
  });
  it('gradient clipping: sumSquares and scale are bit-identical to the reference', () => {
    // Both sum exact f64 squares in the same fixed order (chunks of 4096, four residues mod 4), and scale is
    // one f32 multiply: equal bits, not a tolerance. 3·4096 + 5 ends in a partial chunk with a 1-element tail.
    const rng = new Rng(12);
    for (const n of [...AWKWARD_SIZES, 4096, 3 * 4096 + 5]) {
      const x = randnF32(rng, n);
      assert.equal(W.sumSquares(ctx, x, n), R.sumSquares(x, n), `sumSquares n=${n}`);
      const y1 = f32(n), y2 = x.slice();
      R.scale(y1, x, 0.3, n);
      W.scale(ctx, y2, y2, 0.3, n);
      assertBitIdentical(y2, y1, `scale n=${n}`);
    }
    // The fixed order is not the naive one, but it is the same sum to rounding.
    const x = randnF32(rng, 100003);
    let naive = 0;
    for (const v of x) naive += v * v;
    assert.ok(Math.abs(R.sumSquares(x, x.length) - naive) <= 1e-12 * naive);
    assert.throws(() => W.scale(ctx, f32(4), f32(4), NaN, 4), ArgumentError);
  });
});

// Compile-time twin check (as src/kernels/backend.ts does for the index): every binding has the
// reference's signature after the leading context, and the two sets have the same names.
type Bound<T> = { [K in keyof T]: T[K] extends (ctx: WasmContext, ...a: infer A) => infer Ret ? (...a: A) => Ret : never };
const twinCheck: typeof R = null as unknown as Bound<typeof W>;
void twinCheck;

describe('nn wasm bindings', () => {
  it('export the same kernel names as the reference', () => {
    assert.deepEqual(Object.keys(W).sort(), Object.keys(R).sort());
  });
  it('work zero-copy on arrays resident in the WASM memory, including in place', () => {
    const rng = new Rng(12);
    const mark = ctx.arena.mark();
    try {
      const M = 5, n = 64;
      const x = ctx.arena.alloc('f32', M * n);
      x.set(randnF32(rng, M * n));
      const expect = f32(M * n);
      R.hadamardForward(expect, x, M, n);
      const copies = ctx.scratchCopies;
      const noCopies = (what: string) => assert.equal(ctx.scratchCopies, copies, `${what}: resident arrays are passed by pointer, never copied into scratch`);
      W.hadamardForward(ctx, x, x, M, n);
      noCopies('hadamard');
      assertAllClose(x, expect, HADAMARD_TOL, 'resident hadamard in place');
      const o = ctx.arena.alloc('f32', M * n), r = ctx.arena.alloc('f32', M);
      const o1 = f32(M * n), r1 = f32(M);
      R.rmsnormForward(o1, r1, x, null, M, n, 1e-5);
      W.rmsnormForward(ctx, o, r, x, null, M, n, 1e-5);
      noCopies('rmsnorm');
      assertAllClose(o, o1, REDUCE_TOL, 'resident rmsnorm');
      const g = ctx.arena.alloc('f32', M * n);
      g.set(randnF32(rng, M * n));
      const e2 = f32(M * n);
      R.swigluForward(e2, g, x, M * n);
      W.swigluForward(ctx, g, g, x, M * n);
      noCopies('swiglu');
      assertAllClose(g, e2, TRANSCENDENTAL_TOL, 'resident swiglu out = gate');
      // The counter sees a fallback: the same rmsnorm on heap arrays marshals out, rstd and inp.
      W.rmsnormForward(ctx, f32(M * n), f32(M), x.slice(), null, M, n, 1e-5);
      assert.equal(ctx.scratchCopies, copies + 3, 'heap arrays go through scratch');
    } finally {
      ctx.arena.release(mark);
    }
  });
});

describe('nn wasm typed errors', () => {
  it('DTypeError for f64, ShapeError for short arrays, ArgumentError for bad dims', () => {
    const d = (n: number) => new Float64Array(n);
    assert.throws(() => W.rmsnormForward(ctx, d(6), d(1), d(6), null, 1, 6, 1e-5), DTypeError);
    assert.throws(() => W.softmaxForward(ctx, f32(6), d(6), 2, 3), DTypeError);
    assert.throws(() => W.siluForward(ctx, d(4), d(4), 4), DTypeError);
    assert.throws(() => W.ropeTables(ctx, d(4), d(4), 2, 4, 10000), DTypeError);
    assert.throws(() => W.attentionForward(ctx, f32(8), f32(4), f32(8), d(8), f32(8), 1, 2, 1, 1, 4), DTypeError);
    assert.throws(() => W.adamwStep(ctx, f32(4), f32(4), f32(4), d(4), 4, 1e-3, 0.9, 0.99, 1e-8, 0, 1), DTypeError);
    assert.throws(() => W.hadamardForward(ctx, f32(7), f32(8), 1, 8), ShapeError);
    assert.throws(() => W.layernormForward(ctx, f32(6), f32(1), f32(1), f32(6), f32(5), null, 1, 6, 1e-5), ShapeError);
    assert.throws(() => W.crossentropyBackward(ctx, f32(6), f32(1), f32(6), new Int32Array(2), 2, 3), ShapeError);
    assert.throws(() => W.hadamardForward(ctx, f32(12), f32(12), 1, 12), ArgumentError);
    assert.throws(() => W.attentionBackward(ctx, f32(3), f32(2), f32(2), f32(1), f32(3), f32(3), f32(2), f32(2), f32(1), 1, 1, 3, 2, 1), ArgumentError);
    assert.throws(() => W.crossentropyForward(ctx, f32(1), f32(3), f32(3), new Int32Array([7]), 1, 3), ArgumentError);
    assert.throws(() => W.ropeForward(ctx, f32(6), f32(6), f32(3), f32(3), 1, 1, 1, 3, 0), ArgumentError);
  });
});

describe('nn thread-count invariance (cross-row reductions)', () => {
  let c1: WasmContext;
  let c2: WasmContext;
  let c3: WasmContext;
  before(async () => {
    c1 = await sharedContext({ threads: 1 });
    c2 = await sharedContext({ threads: 2 });
    c3 = await sharedContext({ threads: 3 });
  });
  after(() => undefined);
  it('rmsnorm/layernorm weight gradients and attention backward are bit-identical on 1 and 2 threads (attention: and 3)', () => {
    const rng = new Rng(11);
    const M = 64, C = 1031;
    const inp = randnF32(rng, M * C), w = randnF32(rng, C), dout = randnF32(rng, M * C);
    const rstd = f32(M), mean = f32(M);
    R.layernormForward(f32(M * C), mean, rstd, inp, w, null, M, C, 1e-5);
    const run = (c: WasmContext) => {
      const dinp = f32(M * C), dw = f32(C), db = f32(C), dw2 = f32(C);
      W.layernormBackward(c, dinp, dw, db, dout, inp, w, mean, rstd, M, C);
      W.rmsnormBackward(c, dinp, dw2, dout, inp, w, rstd, M, C);
      return [dinp, dw, db, dw2];
    };
    const a = run(c1), b = run(c2);
    a.forEach((x, i) => assertBitIdentical(b[i]!, x, `norm grad ${i}`));
    const B = 2, T = 33, H = 4, KVH = 2, HS = 32;
    const nq = B * T * H * HS, nkv = B * T * KVH * HS, na = B * H * T * T;
    const q = randnF32(rng, nq), k = randnF32(rng, nkv), v = randnF32(rng, nkv), g = randnF32(rng, nq);
    const attRun = (c: WasmContext) => {
      const out = f32(nq), att = f32(na), dq = f32(nq), dk = f32(nkv), dv = f32(nkv);
      W.attentionForward(c, out, att, q, k, v, B, T, H, KVH, HS);
      W.attentionBackward(c, dq, dk, dv, f32(na), g, q, k, v, att, B, T, H, KVH, HS);
      return [out, att, dq, dk, dv];
    };
    // 3 threads start chunks mid-way through a (b, h) block of rows: its score tiles (4 rows × 8 keys) and
    // single rows must give the same bits (wasm/assembly/nn_attention.ts)
    const x = attRun(c1), y = attRun(c2), z = attRun(c3);
    x.forEach((t, i) => assertBitIdentical(y[i]!, t, `attention ${i} (2 threads)`));
    x.forEach((t, i) => assertBitIdentical(z[i]!, t, `attention ${i} (3 threads)`));
    // The gradient norm's chunks are summed in order whichever thread computed them.
    const gr = randnF32(rng, 5 * 4096 + 77);
    const n1 = W.sumSquares(c1, gr, gr.length);
    assert.equal(W.sumSquares(c2, gr, gr.length), n1);
    assert.equal(W.sumSquares(c3, gr, gr.length), n1);
  });
});
