// Known values and typed errors of the nn reference kernels.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import * as K from '../../src/kernels/ref/nn.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, randn } from '../helpers/check.js';

// f64 identities: only rounding of a few operations separates both sides.
const TIGHT = { atol: 1e-12, rtol: 1e-12 };

describe('nn values', () => {
  it('softmax rows sum to 1 and stay finite at ±1000', () => {
    const M = 3;
    const C = 5;
    const inp = new Float32Array([1000, 999, 998, -1000, -1000, -1000, -1000, -1001, -999, -1000, 0, 0, 0, 0, 0]);
    const out = new Float32Array(M * C);
    K.softmaxForward(out, inp, M, C);
    for (let m = 0; m < M; m++) {
      let s = 0;
      for (let c = 0; c < C; c++) {
        assert.ok(Number.isFinite(out[m * C + c]!));
        s += out[m * C + c]!;
      }
      assert.ok(Math.abs(s - 1) < 1e-6, `row ${m} sums to ${s}`);
    }
    assertAllClose(out.subarray(10), [0.2, 0.2, 0.2, 0.2, 0.2], { atol: 1e-7, rtol: 0 });
    // ±1000 rows: the same as the shifted row (softmax is shift-invariant); exp(−2000) underflows to 0.
    const e = [1, Math.exp(-1), Math.exp(-2), 0, 0];
    const s = e[0]! + e[1]! + e[2]!;
    assertAllClose(out.subarray(0, 5), e.map((x) => x / s), { atol: 1e-7, rtol: 0 });
  });

  it('crossentropy of uniform logits is log V; ignored rows give 0 loss and no gradient', () => {
    const M = 3;
    const V = 11;
    const logits = new Float64Array(M * V).fill(3.5);
    const targets = new Int32Array([0, 10, -1]);
    const losses = new Float64Array(M);
    const probs = new Float64Array(M * V);
    K.crossentropyForward(losses, probs, logits, targets, M, V);
    assertAllClose(losses, [Math.log(V), Math.log(V), 0], TIGHT);
    const dlogits = new Float64Array(M * V);
    K.crossentropyBackward(dlogits, new Float64Array([1, 2, 3]), probs, targets, M, V);
    assert.ok(Math.abs(dlogits[0]! - (1 / V - 1)) < 1e-12);
    assert.ok(Math.abs(dlogits[V + 10]! - 2 * (1 / V - 1)) < 1e-12);
    assert.ok(dlogits.subarray(2 * V).every((x) => x === 0));
  });

  it('hadamard: e_0 maps to 1/√n everywhere, twice is the identity, in place allowed', () => {
    for (const n of [1, 2, 16, 128]) {
      const e0 = new Float64Array(n);
      e0[0] = 1;
      const out = new Float64Array(n);
      K.hadamardForward(out, e0, 1, n);
      assertAllClose(out, new Float64Array(n).fill(1 / Math.sqrt(n)), TIGHT);
      const rng = new Rng(n);
      const x = randn(rng, 3 * n);
      const y = x.slice();
      K.hadamardForward(y, y, 3, n);
      K.hadamardForward(y, y, 3, n);
      assertAllClose(y, x, TIGHT);
    }
  });

  it('hadamard n=4 matches the explicit Sylvester matrix', () => {
    const H = [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]];
    const x = new Float64Array([1, 2, 3, 4]);
    const out = new Float64Array(4);
    K.hadamardForward(out, x, 1, 4);
    assertAllClose(out, H.map((r) => r.reduce((a, h, j) => a + (h * x[j]!) / 2, 0)), TIGHT);
  });

  it('rope at position 0 is the identity; tables hold cos/sin of p·θ^(−2i/HS)', () => {
    const HS = 8;
    const maxT = 4;
    const cos = new Float64Array(maxT * 4);
    const sin = new Float64Array(maxT * 4);
    K.ropeTables(cos, sin, maxT, HS, 10000);
    assert.equal(cos[3 * 4 + 1], Math.cos(3 * Math.pow(10000, -2 / 8)));
    assert.equal(sin[2 * 4 + 3], Math.sin(2 * Math.pow(10000, -6 / 8)));
    const x = randn(new Rng(5), 2 * HS);
    const out = new Float64Array(2 * HS);
    K.ropeForward(out, x, cos, sin, 1, 1, 2, HS, 0);
    assert.deepEqual(out, x);
    // Position 1, pair 0 rotates by angle 1: (x0, x4) → (x0 cos1 − x4 sin1, x4 cos1 + x0 sin1).
    K.ropeForward(out, x, cos, sin, 1, 1, 2, HS, 1);
    assertAllClose([out[0]!, out[4]!], [x[0]! * Math.cos(1) - x[4]! * Math.sin(1), x[4]! * Math.cos(1) + x[0]! * Math.sin(1)], TIGHT);
    // In place, then backward (inverse rotation) restores the input.
    const y = x.slice();
    K.ropeForward(y, y, cos, sin, 1, 1, 2, HS, 3);
    const back = new Float64Array(2 * HS);
    K.ropeBackward(back, y, cos, sin, 1, 1, 2, HS, 3);
    assertAllClose(back, x, TIGHT);
  });

  it('attention: T=1 copies v of the group head; att is causal and rows sum to 1', () => {
    const B = 1;
    const H = 4;
    const KVH = 2;
    const HS = 3;
    let T = 1;
    const rng = new Rng(9);
    const q = randn(rng, T * H * HS);
    const k = randn(rng, T * KVH * HS);
    const v = randn(rng, T * KVH * HS);
    const out = new Float64Array(T * H * HS);
    const att = new Float64Array(H);
    K.attentionForward(out, att, q, k, v, B, T, H, KVH, HS);
    for (let h = 0; h < H; h++) assertAllClose(out.subarray(h * HS, h * HS + HS), v.subarray((h >> 1) * HS, (h >> 1) * HS + HS), TIGHT);
    assert.deepEqual([...att], [1, 1, 1, 1]);
    T = 5;
    const q5 = randn(rng, T * H * HS);
    const k5 = randn(rng, T * KVH * HS);
    const v5 = randn(rng, T * KVH * HS);
    const att5 = new Float64Array(H * T * T);
    K.attentionForward(new Float64Array(T * H * HS), att5, q5, k5, v5, B, T, H, KVH, HS);
    for (let r = 0; r < H * T; r++) {
      const t = r % T;
      let s = 0;
      for (let t2 = 0; t2 < T; t2++) {
        if (t2 > t) assert.equal(att5[r * T + t2], 0);
        s += att5[r * T + t2]!;
      }
      assert.ok(Math.abs(s - 1) < 1e-12);
    }
  });

  it('rmsnorm/layernorm known values', () => {
    const out = new Float64Array(4);
    const rstd = new Float64Array(1);
    K.rmsnormForward(out, rstd, new Float64Array([1, -1, 1, -1]), new Float64Array([1, 2, 3, 4]), 1, 4, 0);
    assert.deepEqual([...out], [1, -2, 3, -4]);
    const mean = new Float64Array(1);
    K.layernormForward(out, mean, rstd, new Float64Array([1, 3, 1, 3]), null, new Float64Array([0, 0, 0, 1]), 1, 4, 0);
    assert.deepEqual([...out], [-1, 1, -1, 2]);
    assert.equal(mean[0], 2);
  });

  it('activations known values', () => {
    const x = new Float64Array([-2, 0, 1.5]);
    const o = new Float64Array(3);
    K.relu2Forward(o, x, 3);
    assert.deepEqual([...o], [0, 0, 2.25]);
    K.siluForward(o, x, 3);
    assertAllClose(o, [-2 / (1 + Math.exp(2)), 0, 1.5 / (1 + Math.exp(-1.5))], TIGHT);
    K.geluForward(o, x, 3);
    // GPT-2 tanh-approximate GELU, e.g. torch.nn.functional.gelu(x, approximate='tanh').
    assertAllClose(o, [-0.04540230591222494, 0, 1.3995715769802328], { atol: 1e-12, rtol: 1e-9 });
    K.swigluForward(o, x, new Float64Array([1, 2, 2]), 3);
    assertAllClose(o, [-2 / (1 + Math.exp(2)), 0, 3 / (1 + Math.exp(-1.5))], TIGHT);
  });

  it('adamw: two steps vs hand-computed values', () => {
    const p = new Float64Array([1]);
    const m = new Float64Array(1);
    const v = new Float64Array(1);
    K.adamwStep(p, new Float64Array([0.5]), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0.01, 1);
    // m̂ = 0.5, v̂ = 0.25 → p = 1 − 0.1·(0.5/(0.5 + 1e-8) + 0.01·1)
    assertAllClose([p[0]!, m[0]!, v[0]!], [0.899000002, 0.05, 0.00025], TIGHT);
    K.adamwStep(p, new Float64Array([-0.25]), m, v, 1, 0.1, 0.9, 0.999, 1e-8, 0.01, 2);
    assertAllClose([p[0]!, m[0]!, v[0]!], [0.8714672987058464, 0.02, 0.00031225], TIGHT);
  });
});

describe('nn typed errors', () => {
  const f = (n: number) => new Float32Array(n);
  it('ShapeError on short arrays', () => {
    assert.throws(() => K.rmsnormForward(f(5), f(1), f(6), null, 1, 6, 1e-5), ShapeError);
    assert.throws(() => K.softmaxForward(f(6), f(5), 2, 3), ShapeError);
    assert.throws(() => K.attentionForward(f(8), f(3), f(8), f(8), f(8), 1, 2, 1, 1, 4), ShapeError);
    assert.throws(() => K.ropeForward(f(8), f(8), f(2), f(2), 1, 2, 1, 4, 0), ShapeError);
    assert.throws(() => K.siluBackward(f(4), f(3), f(4), 4), ShapeError);
    assert.throws(() => K.crossentropyForward(f(2), f(6), f(6), new Int32Array(1), 2, 3), ShapeError);
    assert.throws(() => K.adamwStep(f(4), f(4), f(4), f(3), 4, 1e-3, 0.9, 0.99, 1e-8, 0, 1), ShapeError);
  });
  it('DTypeError on mixed or non-float arrays', () => {
    assert.throws(() => K.softmaxForward(new Float64Array(6), f(6), 2, 3), DTypeError);
    assert.throws(() => K.hadamardForward(f(4), new Int32Array(4) as unknown as Float32Array, 1, 4), DTypeError);
    assert.throws(() => K.crossentropyForward(f(1), f(3), f(3), new Uint32Array(1) as unknown as Int32Array, 1, 3), DTypeError);
  });
  it('ArgumentError on bad dims and scalars', () => {
    assert.throws(() => K.hadamardForward(f(6), f(6), 1, 6), ArgumentError);
    assert.throws(() => K.attentionForward(f(12), f(3), f(12), f(12), f(12), 1, 1, 3, 2, 4), ArgumentError);
    assert.throws(() => K.ropeTables(f(10), f(10), 2, 5, 10000), ArgumentError);
    assert.throws(() => K.rmsnormForward(f(6), f(1), f(6), null, 1, -6, 1e-5), ArgumentError);
    assert.throws(() => K.rmsnormForward(f(6), f(1), f(6), null, 1, 6, -1), ArgumentError);
    assert.throws(() => K.crossentropyForward(f(1), f(3), f(3), new Int32Array([3]), 1, 3), ArgumentError);
    assert.throws(() => K.crossentropyBackward(f(3), f(1), f(3), new Int32Array([-2]), 1, 3), ArgumentError);
    assert.throws(() => K.adamwStep(f(1), f(1), f(1), f(1), 1, 1e-3, 0.9, 0.99, 1e-8, 0, 0), ArgumentError);
    assert.throws(() => K.adamwStep(f(1), f(1), f(1), f(1), 1, 1e-3, 1, 0.99, 1e-8, 0, 1), ArgumentError);
    assert.throws(() => K.siluForward(f(1), f(1), 1.5), ArgumentError);
  });
});
