/**
 * Reference quantizers: known values (ties round half to even), zero rows (1e-5 floor, no NaN),
 * f64 inputs = f32 inputs, fake-quant = dequantized codes, grouped = per-tensor per group,
 * typed errors.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import {
  QUANT_EPS, SQRT7_F32,
  fakeQuantShiftedU7PerTensor, fakeQuantShiftedU7PerToken,
  fakeQuantAbsmaxI8PerTensor, fakeQuantAbsmaxI8PerToken, fakeQuantAbsmeanI4PerToken, fakeQuantSign, fakeQuantTernary,
  quantizeAbsmaxI8PerTensor, quantizeAbsmaxI8PerToken, quantizeAbsmeanI4PerToken, quantizeShiftedU7PerToken,
  quantizeSign, quantizeSignGrouped, quantizeTernaryAbsmean, quantizeTernaryAbsmeanGrouped, sumFixedOrder,
} from '../../src/kernels/ref/quant.js';
import { Rng } from '../../src/tensor/rng.js';
import { AWKWARD_SIZES, assertExact, randnF32 } from '../helpers/check.js';
import { roundHalfEven } from '../../src/tensor/round.js';

const f32 = Math.fround;

test('absmax int8 per token: known values and ties to even', () => {
  // row 0: amax 4 → s = 31.75; −2·31.75 = −63.5 is a tie → −64 (even)
  // row 1: amax 127 → s = 1; 2.5 → 2, 3.5 → 4, −0.5 → 0, −1.5 → −2, −127 → −127
  const x = new Float32Array([1, -2, 0.5, 4, 0, 0, 0, 127, 2.5, 3.5, -0.5, -1.5, -127, 0]);
  const M = 2, K = 7;
  const q = new Int8Array(M * K), s = new Float32Array(M);
  quantizeAbsmaxI8PerToken(q, s, x, M, K);
  assert.equal(s[0], 31.75);
  assert.equal(s[1], 1);
  assertExact(q, [32, -64, 16, 127, 0, 0, 0, 127, 2, 4, 0, -2, -127, 0], 'q');
});

test('absmax int8: zero rows use the 1e-5 floor (finite scale, zero codes)', () => {
  const q = new Int8Array(8).fill(5), s = new Float32Array(2);
  quantizeAbsmaxI8PerToken(q, s, new Float32Array(8), 2, 4);
  assert.equal(s[0], f32(127 / QUANT_EPS));
  assert.ok(Number.isFinite(s[1]!));
  assertExact(q, new Int8Array(8), 'q');
  const out = new Float32Array(8).fill(NaN);
  fakeQuantAbsmaxI8PerToken(out, new Float32Array(8), 2, 4);
  assertExact(out, new Float32Array(8), 'fake');
  const q4 = new Int8Array(4), s4 = new Float32Array(1);
  quantizeAbsmeanI4PerToken(q4, s4, new Float32Array(4), 1, 4);
  assert.equal(s4[0], f32(SQRT7_F32 / QUANT_EPS));
  assertExact(q4, new Int8Array(4), 'q4');
  const qt = new Int8Array(4);
  assert.equal(quantizeTernaryAbsmean(qt, new Float32Array(4), 4), QUANT_EPS);
  assertExact(qt, new Int8Array(4), 'qt');
  const qs = new Int8Array(4);
  assert.deepEqual(quantizeSign(qs, new Float32Array(4), 4), { alpha: 0, beta: QUANT_EPS });
  assertExact(qs, [-1, -1, -1, -1], 'sign(0) = -1');
  const qu = new Uint8Array(4), eta = new Float32Array(1), su = new Float32Array(1);
  quantizeShiftedU7PerToken(qu, eta, su, new Float32Array(4).fill(3), 1, 4);
  assert.equal(eta[0], 3);
  assertExact(qu, new Uint8Array(4), 'qu');
});

test('absmax int8 per token: random rows match the f32 formula; per-tensor = one row; f64 input = f32 input', () => {
  const rng = new Rng(1);
  const M = 5, K = 37;
  const x = randnF32(rng, M * K, 3);
  const q = new Int8Array(M * K), s = new Float32Array(M);
  quantizeAbsmaxI8PerToken(q, s, x, M, K);
  for (let m = 0; m < M; m++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(x[m * K + k]!));
    assert.equal(s[m], f32(127 / amax));
    let hit127 = false;
    for (let k = 0; k < K; k++) {
      const v = q[m * K + k]!;
      assert.ok(Math.abs(v - f32(x[m * K + k]! * s[m]!)) <= 0.5);
      if (Math.abs(v) === 127) hit127 = true;
    }
    assert.ok(hit127, 'the absmax element maps to ±127');
  }
  const q64 = new Int8Array(M * K), s64 = new Float64Array(M);
  quantizeAbsmaxI8PerToken(q64, s64, Float64Array.from(x), M, K);
  assertExact(q64, q, 'f64 codes');
  assertExact(s64, s, 'f64 scales');
  const qt = new Int8Array(K);
  const st = quantizeAbsmaxI8PerTensor(qt, x.subarray(2 * K, 3 * K), K);
  assert.equal(st, s[2]);
  assertExact(qt, q.subarray(2 * K, 3 * K), 'per-tensor');
  const fake = new Float32Array(M * K);
  fakeQuantAbsmaxI8PerToken(fake, x, M, K);
  for (let i = 0; i < M * K; i++) assert.ok(fake[i] === f32(q[i]! / s[Math.floor(i / K)]!));
  const fakeT = new Float32Array(K);
  assert.equal(fakeQuantAbsmaxI8PerTensor(fakeT, x.subarray(2 * K, 3 * K), K), s[2]);
  assertExact(fakeT, fake.subarray(2 * K, 3 * K), 'fake per-tensor');
});

test('fixed-order sums: exact on integer data, equal to a plain sum', () => {
  const rng = new Rng(2);
  for (const n of [0, 1, 7, 8, 9, 100]) {
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.int(201) - 100;
    let s = 0, a = 0;
    for (const v of x) { s += v; a += Math.abs(v); }
    assert.equal(sumFixedOrder(x, 0, n, false), s);
    assert.equal(sumFixedOrder(x, 0, n, true), a);
  }
});

test('absmean int4 per token (BitNet v2 Eq.6): formula, clamp to [-8, 7], ties', () => {
  // mean|x| = 1 → s = f32(√7 / f32(1 + 1e-5)) ≈ 2.6457; 1 → 3, -1 → -3
  const q = new Int8Array(4), s = new Float32Array(1);
  quantizeAbsmeanI4PerToken(q, s, new Float32Array([1, -1, 1, -1]), 1, 4);
  assert.equal(s[0], f32(SQRT7_F32 / f32(1 + QUANT_EPS)));
  assertExact(q, [3, -3, 3, -3], 'q');
  // one large outlier saturates at 7 / -8
  const x = new Float32Array([100, -100, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
  quantizeAbsmeanI4PerToken(q.subarray(0, 0), s, x.subarray(0, 0), 1, 0);
  const q8 = new Int8Array(8);
  quantizeAbsmeanI4PerToken(q8, s, x, 1, 8);
  assert.equal(q8[0], 7);
  assert.equal(q8[1], -8);
  const rng = new Rng(3);
  const M = 3, K = 50;
  const xr = randnF32(rng, M * K);
  const qr = new Int8Array(M * K), sr = new Float32Array(M), fake = new Float32Array(M * K);
  quantizeAbsmeanI4PerToken(qr, sr, xr, M, K);
  fakeQuantAbsmeanI4PerToken(fake, xr, M, K);
  for (let m = 0; m < M; m++) {
    let a = 0;
    for (let k = 0; k < K; k++) a += Math.abs(xr[m * K + k]!);
    assert.ok(Math.abs(sr[m]! - Math.sqrt(7) / (a / K)) < 1e-4 * sr[m]!);
    for (let k = 0; k < K; k++) {
      const v = qr[m * K + k]!;
      assert.ok(v >= -8 && v <= 7);
      assert.ok(fake[m * K + k] === f32(v / sr[m]!)); // fake keeps torch's −0 for negative values rounding to 0
    }
  }
});

test('ternary absmean: known values, ties to even, returns beta', () => {
  // mean = 0.5625, s = f32(1/0.5625): 0.5·s ≈ 0.89 → 1; −0.5 → −1; 0.25·s ≈ 0.44 → 0; −1 → −1
  const q = new Int8Array(4);
  assert.equal(quantizeTernaryAbsmean(q, new Float32Array([0.5, -0.5, 0.25, -1]), 4), 0.5625);
  assertExact(q, [1, -1, 0, -1], 'q');
  // mean 2 → s = 0.5: 1·0.5 = 0.5 is a tie → 0; 3·0.5 = 1.5 → 2 → clamp 1; −1 → −0.5 → 0
  const q2 = new Int8Array(3);
  assert.equal(quantizeTernaryAbsmean(q2, new Float32Array([1, 3, -2]), 3), 2);
  assertExact(q2, [0, 1, -1], 'q2');
  const q3 = new Int8Array(2);
  quantizeTernaryAbsmean(q3, new Float32Array([-1, 3]), 2);
  assertExact(q3, [0, 1], 'q3');
  const out = new Float32Array(3);
  assert.equal(fakeQuantTernary(out, new Float32Array([1, 3, -2]), 3), 2);
  assertExact(out, [0, 2, -2], 'fake');
});

test('sign (BitNet v1): centred, Sign(0) = -1, beta = mean|W|', () => {
  const q = new Int8Array(4);
  const r = quantizeSign(q, new Float32Array([1, 2, 3, -2]), 4); // α = 1: 1−1 = 0 → −1
  assert.deepEqual(r, { alpha: 1, beta: 2 });
  assertExact(q, [-1, 1, 1, -1], 'q');
  const out = new Float32Array(4);
  assert.deepEqual(fakeQuantSign(out, new Float32Array([1, 2, 3, -2]), 4), { alpha: 1, beta: 2 });
  assertExact(out, [-2, 2, 2, -2], 'fake');
});

test('grouped weight quantizers equal the per-tensor ones on each group of rows', () => {
  const rng = new Rng(4);
  const N = 6, K = 5, G = 3;
  const w = randnF32(rng, N * K);
  for (let g = 0; g < G; g++) w[g * 10] = (g + 1) * 4; // make the groups differ
  const q = new Int8Array(N * K), beta = new Float32Array(G);
  quantizeTernaryAbsmeanGrouped(q, beta, w, N, K, G);
  const qs = new Int8Array(N * K), alpha = new Float32Array(G), betaS = new Float32Array(G);
  quantizeSignGrouped(qs, alpha, betaS, w, N, K, G);
  for (let g = 0; g < G; g++) {
    const part = w.subarray(g * 10, g * 10 + 10);
    const qg = new Int8Array(10);
    assert.equal(quantizeTernaryAbsmean(qg, part, 10), beta[g]);
    assertExact(q.subarray(g * 10, g * 10 + 10), qg, `ternary group ${g}`);
    const r = quantizeSign(qg, part, 10);
    assert.equal(r.alpha, alpha[g]);
    assert.equal(r.beta, betaS[g]);
    assertExact(qs.subarray(g * 10, g * 10 + 10), qg, `sign group ${g}`);
  }
  assert.throws(() => quantizeTernaryAbsmeanGrouped(q, beta, w, N, K, 4), ArgumentError);
  assert.throws(() => quantizeSignGrouped(qs, alpha, betaS, w, N, K, 0), ArgumentError);
});

test('shifted [0,127] quantizer (BitNet v1 Eq.6)', () => {
  const q = new Uint8Array(3), eta = new Float32Array(1), s = new Float32Array(1);
  quantizeShiftedU7PerToken(q, eta, s, new Float32Array([-1, 0, 1]), 1, 3);
  assert.equal(eta[0], -1);
  assert.equal(s[0], 63.5);
  assertExact(q, [0, 64, 127], 'q'); // 63.5 is a tie → 64
});

test('shifted [0,127] quantizer and its fake-quant: the plain formula at awkward sizes; per-tensor = one row; f64 = f32', () => {
  const rng = new Rng(12);
  for (const K of AWKWARD_SIZES) {
    for (const M of [1, 2, 5]) {
      // skewed rows (ReLU-like: many equal minima, a positive tail), one constant row, one ordinary row
      const x = randnF32(rng, M * K, 1.5);
      for (let m = 0; m < M; m++) {
        for (let k = 0; k < K; k++) {
          const i = m * K + k;
          if (m % 3 === 0) x[i] = Math.max(0, x[i]!) - 0.4;
          else if (m % 3 === 1) x[i] = 2.25;
        }
      }
      const q = new Uint8Array(M * K), eta = new Float32Array(M), s = new Float32Array(M), out = new Float32Array(M * K);
      quantizeShiftedU7PerToken(q, eta, s, x, M, K);
      fakeQuantShiftedU7PerToken(out, x, M, K);
      const what = `M=${M} K=${K}`;
      for (let m = 0; m < M; m++) {
        const row = Array.from(x.subarray(m * K, (m + 1) * K));
        const lo = Math.min(...row), hi = Math.max(...row);
        const sm = f32(127 / Math.max(f32(hi - lo), QUANT_EPS));
        assert.equal(eta[m], lo, `η = min ${what}`);
        assert.equal(s[m], sm, `s = 127/(max − min) ${what}`);
        let saw0 = false, saw127 = false;
        for (let k = 0; k < K; k++) {
          const i = m * K + k;
          const want = Math.min(127, Math.max(0, roundHalfEven(f32(f32(x[i]! - lo) * sm))));
          assert.equal(q[i], want, `q[${i}] ${what}`);
          assert.equal(out[i], f32(f32(want / sm) + lo), `fake[${i}] ${what}`);
          // real-valued bound: half a step of the [min, max] range (plus f32 rounding)
          if (hi > lo) assert.ok(Math.abs(out[i]! - x[i]!) <= (0.5 + 1e-4) * (hi - lo) / 127 + 1e-6 * Math.abs(x[i]!), `|x̂ − x| ${what}`);
          saw0 ||= q[i] === 0;
          saw127 ||= q[i] === 127;
        }
        assert.ok(saw0, `the minimum maps to code 0 ${what}`);
        if (hi > lo) assert.ok(saw127, `the maximum maps to code 127 ${what}`);
        else assert.ok(row.every((_, k) => out[m * K + k] === lo), `a constant row comes back exactly ${what}`);
      }
      const x64 = Float64Array.from(x), out64 = new Float64Array(M * K);
      fakeQuantShiftedU7PerToken(out64, x64, M, K);
      assertExact(out64, out, `f64 input ${what}`);
      const outT = new Float32Array(K);
      const r = fakeQuantShiftedU7PerTensor(outT, x.subarray((M - 1) * K), K);
      assert.deepEqual(r, { eta: eta[M - 1], scale: s[M - 1] }, `per-tensor scales ${what}`);
      assertExact(outT, out.subarray((M - 1) * K), `per-tensor = one row ${what}`);
    }
  }
});

test('quantizers raise typed errors', () => {
  const x = new Float32Array(8);
  assert.throws(() => quantizeAbsmaxI8PerToken(new Int8Array(7), new Float32Array(2), x, 2, 4), ShapeError);
  assert.throws(() => quantizeAbsmaxI8PerToken(new Int8Array(8), new Float32Array(1), x, 2, 4), ShapeError);
  assert.throws(() => quantizeAbsmaxI8PerToken(new Uint8Array(8) as unknown as Int8Array, new Float32Array(2), x, 2, 4), DTypeError);
  assert.throws(() => quantizeAbsmaxI8PerToken(new Int8Array(8), new Float32Array(2), new Int32Array(8) as unknown as Float32Array, 2, 4), DTypeError);
  assert.throws(() => quantizeAbsmaxI8PerToken(new Int8Array(8), new Float32Array(2), x, -1, 4), ArgumentError);
  assert.throws(() => fakeQuantTernary(new Float64Array(8), x, 8), DTypeError);
  assert.throws(() => quantizeShiftedU7PerToken(new Int8Array(8) as unknown as Uint8Array, new Float32Array(1), new Float32Array(1), x, 1, 8), DTypeError);
  assert.throws(() => fakeQuantShiftedU7PerToken(new Float32Array(7), x, 2, 4), ShapeError);
  assert.throws(() => fakeQuantShiftedU7PerTensor(new Float64Array(8), x, 8), DTypeError);
});
