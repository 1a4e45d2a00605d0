/**
 * WASM quantizers against the reference: codes and scales bit-identical (f32 math, ties to
 * even, fixed f64 summation order), at awkward sizes, on ties, zero rows, f64-unfriendly
 * magnitudes; 1 and 2 threads; typed errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DTypeError, ShapeError, ArgumentError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/quant.js';
import { WasmContext } from '../../src/kernels/wasm/context.js';
import * as W from '../../src/kernels/wasm/quant.js';
import { Rng } from '../../src/tensor/rng.js';
import { bytesI2R4, packI2R4 } from '../../src/quant/pack.js';
import { AWKWARD_SIZES, assertBitIdentical, assertExact, randnF32 } from '../helpers/check.js';

let ctxs: WasmContext[] = [];
before(async () => {
  ctxs = [await WasmContext.create({ threads: 1 }), await WasmContext.create({ threads: 2 })];
});
after(async () => {
  for (const c of ctxs) await c.dispose();
});

/** Random rows with ties (x·s = k + 0.5), zero rows, outliers and a wide dynamic range. */
function inputs(rng: Rng, M: number, K: number): Float32Array {
  const x = randnF32(rng, M * K, 2);
  for (let i = 0; i < x.length; i++) {
    const r = rng.uniform();
    if (r < 0.1) x[i] = (rng.int(255) - 127) + 0.5; // ties when the row absmax is 127
    else if (r < 0.12) x[i] = x[i]! * 1e4;
    else if (r < 0.14) x[i] = 0;
  }
  if (M > 1) x.fill(0, 0, K); // a zero row
  if (M > 2) { x.fill(0, K, 2 * K); x[K] = 127; for (let k = 1; k < K; k++) x[K + k] = (k % 255) - 127 + 0.5; } // exact ties
  return x;
}

test('wasm per-token quantizers are bit-identical to the reference', () => {
  const rng = new Rng(40);
  for (const K of [...AWKWARD_SIZES, 2560, 6912]) {
    for (const M of [1, 3, 6]) {
      const x = inputs(rng, M, K);
      const q = new Int8Array(M * K), s = new Float32Array(M), fake = new Float32Array(M * K);
      const qu = new Uint8Array(M * K), eta = new Float32Array(M), su = new Float32Array(M);
      const what = `M=${M} K=${K}`;
      for (const ctx of ctxs) {
        for (const [name, refQ, wQ, refF, wF] of [
          ['absmax', R.quantizeAbsmaxI8PerToken, W.quantizeAbsmaxI8PerToken, R.fakeQuantAbsmaxI8PerToken, W.fakeQuantAbsmaxI8PerToken],
          ['absmean i4', R.quantizeAbsmeanI4PerToken, W.quantizeAbsmeanI4PerToken, R.fakeQuantAbsmeanI4PerToken, W.fakeQuantAbsmeanI4PerToken],
        ] as const) {
          refQ(q, s, x, M, K);
          const q2 = new Int8Array(M * K), s2 = new Float32Array(M);
          wQ(ctx, q2, s2, x, M, K);
          assertExact(q2, q, `${name} q ${what}`);
          assertBitIdentical(s2, s, `${name} scale ${what}`);
          refF(fake, x, M, K);
          const fake2 = new Float32Array(M * K);
          wF(ctx, fake2, x, M, K);
          assertBitIdentical(fake2, fake, `${name} fake ${what}`);
        }
        R.quantizeShiftedU7PerToken(qu, eta, su, x, M, K);
        const qu2 = new Uint8Array(M * K), eta2 = new Float32Array(M), su2 = new Float32Array(M);
        W.quantizeShiftedU7PerToken(ctx, qu2, eta2, su2, x, M, K);
        assertExact(qu2, qu, `u7 q ${what}`);
        assertBitIdentical(eta2, eta, `u7 eta ${what}`);
        assertBitIdentical(su2, su, `u7 scale ${what}`);
        R.fakeQuantShiftedU7PerToken(fake, x, M, K);
        const fake2 = new Float32Array(M * K);
        W.fakeQuantShiftedU7PerToken(ctx, fake2, x, M, K);
        assertBitIdentical(fake2, fake, `u7 fake ${what}`);
      }
    }
  }
});

test('wasm per-tensor and weight quantizers are bit-identical to the reference', () => {
  const rng = new Rng(41);
  for (const n of [...AWKWARD_SIZES, 1000, 100003]) {
    const x = inputs(rng, 1, n);
    for (const ctx of ctxs) {
      const q = new Int8Array(n), q2 = new Int8Array(n), o = new Float32Array(n), o2 = new Float32Array(n);
      assert.equal(W.quantizeAbsmaxI8PerTensor(ctx, q2, x, n), R.quantizeAbsmaxI8PerTensor(q, x, n));
      assertExact(q2, q, `absmax tensor n=${n}`);
      assert.equal(W.fakeQuantAbsmaxI8PerTensor(ctx, o2, x, n), R.fakeQuantAbsmaxI8PerTensor(o, x, n));
      assertBitIdentical(o2, o, `absmax fake tensor n=${n}`);
      assert.deepEqual(W.fakeQuantShiftedU7PerTensor(ctx, o2, x, n), R.fakeQuantShiftedU7PerTensor(o, x, n));
      assertBitIdentical(o2, o, `u7 fake tensor n=${n}`);
      assert.equal(W.quantizeTernaryAbsmean(ctx, q2, x, n), R.quantizeTernaryAbsmean(q, x, n));
      assertExact(q2, q, `ternary n=${n}`);
      assert.equal(W.fakeQuantTernary(ctx, o2, x, n), R.fakeQuantTernary(o, x, n));
      assertBitIdentical(o2, o, `ternary fake n=${n}`);
      assert.deepEqual(W.quantizeSign(ctx, q2, x, n), R.quantizeSign(q, x, n));
      assertExact(q2, q, `sign n=${n}`);
      assert.deepEqual(W.fakeQuantSign(ctx, o2, x, n), R.fakeQuantSign(o, x, n));
      assertBitIdentical(o2, o, `sign fake n=${n}`);
    }
  }
  for (const [N, K, G] of [[6, 5, 3], [64, 130, 8], [17, 3, 17], [4, 1000, 1]] as const) {
    const w = inputs(rng, N, K);
    for (const ctx of ctxs) {
      const q = new Int8Array(N * K), q2 = new Int8Array(N * K);
      const b = new Float32Array(G), b2 = new Float32Array(G), a = new Float32Array(G), a2 = new Float32Array(G);
      R.quantizeTernaryAbsmeanGrouped(q, b, w, N, K, G);
      W.quantizeTernaryAbsmeanGrouped(ctx, q2, b2, w, N, K, G);
      assertExact(q2, q, 'ternary grouped');
      assertBitIdentical(b2, b, 'ternary grouped beta');
      R.quantizeSignGrouped(q, a, b, w, N, K, G);
      W.quantizeSignGrouped(ctx, q2, a2, b2, w, N, K, G);
      assertExact(q2, q, 'sign grouped');
      assertBitIdentical(a2, a, 'sign grouped alpha');
      assertBitIdentical(b2, b, 'sign grouped beta');
    }
  }
});

test('quantizeFakeAbsmaxI8PerToken = quantizeAbsmaxI8PerToken + fakeQuantAbsmaxI8PerToken bit for bit (wasm and ref), padding columns untouched', () => {
  const rng = new Rng(45);
  for (const K of [1, 7, 64, 688]) for (const M of [1, 3, 6]) {
    const x = inputs(rng, M, K), qK = Math.ceil(K / 64) * 64 + (K === 64 ? 64 : 0);
    const q0 = new Int8Array(M * K), s0 = new Float32Array(M), a0 = new Float32Array(M * K);
    R.quantizeAbsmaxI8PerToken(q0, s0, x, M, K);
    R.fakeQuantAbsmaxI8PerToken(a0, x, M, K);
    const runs: Array<[string, (q: Int8Array, s: Float32Array, a: Float32Array) => void]> = [
      ['ref', (q, s, a) => R.quantizeFakeAbsmaxI8PerToken(q, qK, s, a, x, M, K)],
      ...ctxs.map((c) => [`wasm ${c.threads}T`, (q: Int8Array, s: Float32Array, a: Float32Array) => W.quantizeFakeAbsmaxI8PerToken(c, q, qK, s, a, x, M, K)] as [string, (q: Int8Array, s: Float32Array, a: Float32Array) => void]),
    ];
    for (const [name, run] of runs) {
      const q = new Int8Array(M * qK).fill(99), s = new Float32Array(M), a = new Float32Array(M * K).fill(NaN);
      run(q, s, a);
      for (let m = 0; m < M; m++) {
        assertExact(q.subarray(m * qK, m * qK + K), q0.subarray(m * K, (m + 1) * K), `${name} codes M=${M} K=${K} row ${m}`);
        assert.ok(q.subarray(m * qK + K, (m + 1) * qK).every((v) => v === 99), `${name}: padding untouched`);
      }
      assertBitIdentical(s, s0, `${name} scales M=${M} K=${K}`);
      assertBitIdentical(a, a0, `${name} fake-quant M=${M} K=${K}`);
    }
  }
  // in place (out = x), as after the Hadamard transform
  const x = inputs(rng, 3, 64), a0 = new Float32Array(3 * 64);
  R.fakeQuantAbsmaxI8PerToken(a0, x, 3, 64);
  const xi = x.slice();
  W.quantizeFakeAbsmaxI8PerToken(ctxs[1]!, new Int8Array(3 * 64), 64, new Float32Array(3), xi, xi, 3, 64);
  assertBitIdentical(xi, a0, 'in place');
  assert.throws(() => W.quantizeFakeAbsmaxI8PerToken(ctxs[0]!, new Int8Array(8), 4, new Float32Array(2), new Float32Array(16), new Float32Array(16), 2, 8), ArgumentError);
});

test('a NaN anywhere in a row (vector part or tail) makes its absmax scale NaN on both backends, codes equal', () => {
  const [M, K] = [4, 21];
  const x = randnF32(new Rng(46), M * K);
  x[1 * K + 3] = NaN; // in the 8-wide vector part
  x[2 * K + 19] = NaN; // in the scalar tail
  x[3 * K + 9] = -NaN;
  const qR = new Int8Array(M * K), sR = new Float32Array(M), aR = new Float32Array(M * K);
  R.quantizeFakeAbsmaxI8PerToken(qR, K, sR, aR, x, M, K);
  for (const ctx of ctxs) {
    const q = new Int8Array(M * K), s = new Float32Array(M), a = new Float32Array(M * K);
    W.quantizeFakeAbsmaxI8PerToken(ctx, q, K, s, a, x, M, K);
    assertExact(q, qR, 'codes');
    for (let m = 0; m < M; m++) assert.equal(Number.isNaN(s[m]), Number.isNaN(sR[m]), `row ${m} scale ${s[m]} vs ${sR[m]}`);
    assert.ok(!Number.isNaN(s[0]) && [1, 2, 3].every((m) => Number.isNaN(s[m])), 'NaN rows have a NaN scale');
    for (let i = 0; i < M * K; i++) assert.equal(Number.isNaN(a[i]), Number.isNaN(aR[i]), `fake value ${i}`);
  }
});

test('packSignsI2R4: wasm bytes equal the reference, and pack(fakeQuantTernary(W)) equals pack(quantizeTernaryAbsmean(W))', () => {
  const rng = new Rng(44);
  // N not a multiple of 4 (padding rows), K with and without a partial 64-weight block
  for (const [N, K] of [[1, 64], [5, 130], [8, 688], [7, 1], [12, 256]] as const) {
    const w = randnF32(rng, N * K);
    for (let i = 0; i < w.length; i += 7) w[i] = i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : NaN; // zeros and NaN pack as weight 0
    const want = new Uint8Array(bytesI2R4(N, K));
    R.packSignsI2R4(want, w, N, K);
    for (const ctx of ctxs) {
      const got = new Uint8Array(want.length).fill(0xff);
      W.packSignsI2R4(ctx, got, w, N, K);
      assertExact(got, want, `packSignsI2R4 N=${N} K=${K} threads=${ctx.threads}`);
    }
    // the training forward's shortcut: the signs of w̃ are the codes
    const W0 = randnF32(rng, N * K, 0.05), wq = new Float32Array(N * K), q = new Int8Array(N * K);
    R.fakeQuantTernary(wq, W0, N * K);
    R.quantizeTernaryAbsmean(q, W0, N * K);
    const a = new Uint8Array(want.length), b = new Uint8Array(want.length);
    W.packSignsI2R4(ctxs[1]!, a, wq, N, K);
    packI2R4(b, q, N, K);
    assertExact(a, b, `signs of w̃ = codes, N=${N} K=${K}`);
  }
  assert.throws(() => W.packSignsI2R4(ctxs[0]!, new Uint8Array(3), new Float32Array(4), 1, 4), ShapeError);
  assert.throws(() => W.packSignsI2R4(ctxs[0]!, new Uint8Array(bytesI2R4(1, 4)), new Float64Array(4), 1, 4), DTypeError);
});

test('wasm quantizers raise typed errors', () => {
  const ctx = ctxs[0]!;
  const x = new Float32Array(8);
  assert.throws(() => W.quantizeAbsmaxI8PerToken(ctx, new Int8Array(8), new Float32Array(2), new Float64Array(8), 2, 4), DTypeError);
  assert.throws(() => W.quantizeAbsmaxI8PerToken(ctx, new Int8Array(8), new Float64Array(2), x, 2, 4), DTypeError);
  assert.throws(() => W.quantizeAbsmaxI8PerToken(ctx, new Int8Array(7), new Float32Array(2), x, 2, 4), ShapeError);
  assert.throws(() => W.fakeQuantTernary(ctx, new Float64Array(8), x, 8), DTypeError);
  assert.throws(() => W.quantizeSignGrouped(ctx, new Int8Array(8), new Float32Array(3), new Float32Array(3), x, 4, 2, 3), ArgumentError);
});
