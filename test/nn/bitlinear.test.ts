import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { refBackend } from '../../src/kernels/backend.js';
import * as K from '../../src/kernels/ref/index.js';
import { QuantInput, QuantWeight, linearBackward, linearForward } from '../../src/nn/bitlinear.js';
import { bitLinearRule, QUANT_VARIANTS, usesHadamard } from '../../src/quant/modes.js';
import { Arena } from '../../src/tensor/arena.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, randn } from '../helpers/check.js';

// Both sides run the same f64 reference kernels in different orders; only rounding differs.
const TOL = { atol: 1e-12, rtol: 1e-10 };

describe('BitLinear straight-through estimator', () => {
  for (const [mode, shifted] of [['b158', false], ['bitnet', false], ['bitnet', true], ['v2-a8', false], ['v2-a4', false]] as const) {
    test(`${mode}${shifted ? ' (shifted [0,127] input, v1 Eq.6)' : ''}: forward = Linear at the fake-quantized operands; backward = Linear backward there (STE), dW goes to the latent weight`, () => {
      const be = refBackend();
      const arena = Arena.heap();
      const [M, Kd, N] = [5, 16, 7];
      const rng = new Rng(mode.length);
      const x = randn(rng, M * Kd), W = randn(rng, N * Kd, 0.1), dy = randn(rng, M * N);
      // a ReLU output (one-signed, many zeros) for the shifted quantizer's input
      if (shifted) for (let i = 0; i < x.length; i++) x[i] = Math.max(0, x[i]!);
      const row = QUANT_VARIANTS[mode];
      const hadamard = usesHadamard(row);
      const spec = { ...bitLinearRule(mode, hadamard, shifted), groups: 1, eps: 1e-5 };
      const qi = new QuantInput(be, arena, spec, M, Kd, 'f64');
      const qw = new QuantWeight(be, arena, row.weight, W, N, Kd, 1);
      const a = qi.forward(x, M);
      qw.update();

      // Independent construction of the quantized operands.
      let pre = x.slice();
      const mean = new Float64Array(M), rstd = new Float64Array(M);
      if (spec.lnInside) K.layernormForward(pre, mean, rstd, x, null, null, M, Kd, 1e-5);
      if (hadamard) K.hadamardForward(pre, pre.slice(), M, Kd);
      const aRef = new Float64Array(M * Kd);
      if (spec.act === 'u7-shifted-tensor') K.fakeQuantShiftedU7PerTensor(aRef, pre, M * Kd);
      else if (spec.act === 'i8-token') K.fakeQuantAbsmaxI8PerToken(aRef, pre, M, Kd);
      else if (spec.act === 'i8-tensor') K.fakeQuantAbsmaxI8PerTensor(aRef, pre, M * Kd);
      else K.fakeQuantAbsmeanI4PerToken(aRef, pre, M, Kd);
      const wRef = new Float64Array(N * Kd);
      if (row.weight === 'sign') K.fakeQuantSign(wRef, W, N * Kd);
      else K.fakeQuantTernary(wRef, W, N * Kd);
      assertAllClose(a, aRef, TOL, 'quantized input');
      if (shifted) {
        // the input is shifted, not symmetric: its minimum is a grid point, 128 levels span [min, max]
        let lo = Infinity, hi = -Infinity;
        for (const v of pre) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
        const levels = new Set(Array.from(a, (v) => Math.round((v - Math.fround(lo)) / ((hi - lo) / 127))));
        assert.ok(Math.min(...a) === Math.fround(lo) && levels.size > 8 && Math.max(...levels) === 127, `shifted grid: min ${Math.min(...a)} vs ${lo}, ${levels.size} levels`);
      }
      assertAllClose(qw.wq, wRef, TOL, 'quantized weight');
      const distinct = new Set(Array.from(qw.wq, (v) => Math.abs(v)));
      assert.ok(distinct.size <= 2, `weights take ≤ 2 magnitudes (0 and β), got ${distinct.size}`);

      const y = new Float64Array(M * N);
      linearForward(be, y, a, qw, M);
      const yRef = new Float64Array(M * N);
      K.matmul(yRef, aRef, wRef, M, Kd, N);
      assertAllClose(y, yRef, TOL, 'y');

      const dW = new Float64Array(N * Kd), dx = new Float64Array(M * Kd);
      linearBackward(be, qi, dW, dy, qw, M);
      qi.backward(dx, M);
      const dWRef = new Float64Array(N * Kd);
      K.matmulBackwardWeight(dWRef, dy, aRef, M, Kd, N);
      assertAllClose(dW, dWRef, TOL, 'dW (latent weight gradient = Linear dW at the quantized input)');
      // dx: identity through both quantizers, then through H (symmetric, orthonormal) and LN if present.
      const g = new Float64Array(M * Kd);
      K.matmulBackwardInput(g, dy, wRef, M, Kd, N);
      if (hadamard) K.hadamardForward(g, g.slice(), M, Kd);
      const dxRef = new Float64Array(M * Kd);
      if (spec.lnInside) K.layernormBackward(dxRef, null, null, g, x, null, mean, rstd, M, Kd);
      else dxRef.set(g);
      assertAllClose(dx, dxRef, TOL, 'dx');
    });
  }

  test('one input, two consumers: the first linearBackward after a forward writes da, the next adds; stale da never leaks', () => {
    const be = refBackend();
    const arena = Arena.heap();
    const [M, Kd, N] = [4, 16, 5];
    const rng = new Rng(77);
    const x = randn(rng, M * Kd), W1 = randn(rng, N * Kd, 0.1), W2 = randn(rng, N * Kd, 0.1);
    const spec = { ...bitLinearRule('b158', false, false), groups: 1, eps: 1e-5 };
    const qi = new QuantInput(be, arena, spec, M, Kd, 'f64');
    const q1 = new QuantWeight(be, arena, 'ternary', W1, N, Kd, 1), q2 = new QuantWeight(be, arena, 'ternary', W2, N, Kd, 1);
    for (let step = 0; step < 2; step++) {
      qi.forward(x, M);
      q1.update();
      q2.update();
      if (step === 1) qi.da.fill(NaN); // what a previous step could leave behind
      const dy1 = randn(rng, M * N), dy2 = randn(rng, M * N);
      // no consumer yet: the gradient is zero, not what da held
      if (step === 1) assert.ok(qi.gradient(new Float64Array(M * Kd), M).every((v) => v === 0), 'no consumer: zero gradient');
      qi.forward(x, M);
      linearBackward(be, qi, new Float64Array(N * Kd), dy1, q1, M);
      linearBackward(be, qi, new Float64Array(N * Kd), dy2, q2, M);
      const want = new Float64Array(M * Kd);
      K.matmulBackwardInput(want, dy1, q1.wq, M, Kd, N);
      K.matmulBackwardInput(want, dy2, q2.wq, M, Kd, N);
      const got = qi.gradient(new Float64Array(M * Kd), M);
      assert.equal(got, qi.da, 'the STE without LN or Hadamard returns da itself (no copy)');
      assertAllClose(got, want, TOL, `da = dy1·w̃1 + dy2·w̃2 (step ${step})`);
      const dx = new Float64Array(M * Kd).fill(1);
      qi.backward(dx, M);
      assertAllClose(dx, want.map((v) => v + 1), TOL, 'backward still adds into dx');
    }
  });

  test('shifted quantizer with group quantization (v1 Eq.14): η_g, γ_g per group of K/G columns over all rows', () => {
    const be = refBackend();
    const [M, Kd, G] = [6, 24, 3];
    const gs = Kd / G;
    const x = randn(new Rng(21), M * Kd);
    for (let i = 0; i < x.length; i++) x[i] = Math.max(0, x[i]!) * (1 + Math.floor((i % Kd) / gs)); // groups with different ranges
    const spec = { act: bitLinearRule('bitnet', false, true).act, lnInside: false, hadamard: false, groups: G, eps: 1e-5 };
    const qi = new QuantInput(be, Arena.heap(), spec, M, Kd, 'f64');
    const a = qi.forward(x, M);
    for (let g = 0; g < G; g++) {
      const blk = new Float64Array(M * gs), want = new Float64Array(M * gs);
      for (let m = 0; m < M; m++) for (let j = 0; j < gs; j++) blk[m * gs + j] = x[m * Kd + g * gs + j]!;
      K.fakeQuantShiftedU7PerTensor(want, blk, M * gs);
      for (let m = 0; m < M; m++) for (let j = 0; j < gs; j++) assert.equal(a[m * Kd + g * gs + j], want[m * gs + j], `group ${g} row ${m} col ${j}`);
    }
    // per group ≠ per tensor here (the groups' ranges differ)
    const whole = new Float64Array(M * Kd);
    K.fakeQuantShiftedU7PerTensor(whole, x, M * Kd);
    assert.ok(whole.some((v, i) => v !== a[i]), 'group scales differ from the tensor scale');
    // backward: identity (no LN in this spec)
    const dx = new Float64Array(M * Kd);
    assert.equal(qi.claimGrad(M), false, 'the first consumer since the forward writes da');
    qi.da.set(x);
    qi.backward(dx, M);
    assertAllClose(dx, x, TOL, 'STE dx');
  });

  test('absmax group quantization (v1 Eq.14): γ_g per group of K/G columns over all rows, ties round half to even', () => {
    // Scales chosen so x·127/γ_g lands exactly on halves: γ_0 = 127 (s = 1), γ_1 = 63.5 (s = 2).
    // Math.round would give 3, -2, 1, -1, 4, -0 / 3, -2, 2, 1, -1 here (halves towards +∞).
    const be = refBackend();
    const [M, Kd, G] = [2, 8, 2];
    const x = Float64Array.from([
      127, 2.5, -2.5, 0.5, /* group 1 */ 63.5, 1.25, -1.25, 0.75,
      -1.5, 1.5, 3.5, -0.5, /* group 1 */ 0.25, -0.75, 0, 10,
    ]);
    const spec = { act: bitLinearRule('bitnet', false, false).act, lnInside: false, hadamard: false, groups: G, eps: 1e-5 };
    const qi = new QuantInput(be, Arena.heap(), spec, M, Kd, 'f64');
    const a = qi.forward(x, M);
    assert.deepEqual(Array.from(a), [
      127, 2, -2, 0, /* group 1: codes 127, 2, -2, 2 over s = 2 */ 63.5, 1, -1, 1,
      -2, 2, 4, -0, /* group 1: codes 0, -2, 0, 20 */ 0, -1, 0, 10,
    ]);
  });

  test('λ-warmup: λ = 0 is the full-precision layer, λ = 1 the quantized one', () => {
    const be = refBackend();
    const arena = Arena.heap();
    const rng = new Rng(3);
    const W = randn(rng, 6 * 8, 0.1);
    const qw = new QuantWeight(be, arena, 'ternary', W, 6, 8, 1);
    qw.lambda = 0;
    assertAllClose(qw.update(), W, TOL, 'λ=0');
    qw.lambda = 0.5;
    const half = qw.update().slice();
    qw.lambda = 1;
    const full = qw.update();
    for (let i = 0; i < W.length; i++) assert.ok(Math.abs(half[i]! - (W[i]! + full[i]!) / 2) < 1e-12);
  });
});
