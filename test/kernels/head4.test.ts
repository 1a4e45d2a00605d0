/**
 * 'q4g' 4-bit per-group head (src/kernels/ref/head4.ts, wasm/assembly/head4*.ts): quantizer properties,
 * the byte layout, the row dequantizer, the reference kernel against a direct sum, and the WASM twins
 * (SIMD128 and relaxed SIMD) bit-identical to the reference at awkward shapes and any thread count.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/index.js';
import * as H from '../../src/kernels/ref/head4.js';
import { probeFeatures, WasmContext } from '../../src/kernels/wasm/context.js';
import * as W from '../../src/kernels/wasm/head4.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertBitIdentical, assertExact, randnF32 } from '../helpers/check.js';

const f32 = Math.fround;
const features = await probeFeatures();
let c1: WasmContext, c2: WasmContext, s128: WasmContext;
before(async () => {
  c1 = await WasmContext.create({ threads: 1 });
  c2 = await WasmContext.create({ threads: 2 });
  s128 = await WasmContext.create({ threads: 1, relaxed: false });
});
after(async () => {
  await c1.dispose();
  await c2.dispose();
  await s128.dispose();
});

/** Quantize W (N, K) and pack it, rows [0, split) and [split, N) in two calls over fresh buffers. */
function packed(Wt: Float32Array, N: number, K: number, G = H.Q4G_GROUP): { codes: Int8Array; scales: Float32Array; w: Uint8Array; ws: Float32Array } {
  const ng = H.groupsQ4G(K, G);
  const codes = new Int8Array(N * K), scales = new Float32Array(N * ng);
  H.quantizeQ4G(codes, scales, Wt, N, K, G);
  const w = new Uint8Array(H.bytesQ4G(N, K)).fill(H.Q4G_PAD_BYTE), ws = new Float32Array(H.scalesQ4G(N, K, G));
  const split = Math.min(N, 5);
  H.packQ4G(w, ws, codes.subarray(0, split * K), scales.subarray(0, split * ng), 0, split, K, G);
  H.packQ4G(w, ws, codes.subarray(split * K), scales.subarray(split * ng), split, N - split, K, G);
  return { codes, scales, w, ws };
}

/** Rows with outliers, zero groups and exact ties (W/s = j + 0.5). */
function weights(rng: Rng, N: number, K: number, G: number): Float32Array {
  const Wt = randnF32(rng, N * K, 0.05);
  for (let i = 0; i < Wt.length; i++) if (rng.uniform() < 0.02) Wt[i] = Wt[i]! * 20;
  if (N > 1) Wt.fill(0, K, K + Math.min(K, G)); // a zero group
  if (N > 2) { // row 2, group 0: absmax 7 → s = 1, ties at ±0.5, ±1.5, …
    for (let k = 0; k < Math.min(K, G); k++) Wt[2 * K + k] = k === 0 ? 7 : ((k % 13) - 6) + 0.5 * Math.sign((k % 13) - 6 || 1);
  }
  return Wt;
}

test('quantizeQ4G: codes in [-7, 7], scale = f32(absmax/7), |W − s·code| ≤ s/2, ties to even, zero groups, sign symmetry', () => {
  const rng = new Rng(1);
  for (const [N, K, G] of [[1, 1, 64], [3, 17, 32], [5, 64, 64], [6, 100, 64], [4, 2560, 64], [3, 200, 128], [3, 96, 96]] as const) {
    const Wt = weights(rng, N, K, G);
    const ng = H.groupsQ4G(K, G);
    const codes = new Int8Array(N * K), scales = new Float32Array(N * ng);
    H.quantizeQ4G(codes, scales, Wt, N, K, G);
    for (let n = 0; n < N; n++) {
      for (let g = 0; g < ng; g++) {
        const k0 = g * G, k1 = Math.min(K, k0 + G);
        let amax = 0;
        for (let k = k0; k < k1; k++) amax = Math.max(amax, Math.abs(Wt[n * K + k]!));
        const s = scales[n * ng + g]!;
        assert.equal(s, f32(amax / 7), `scale n=${n} g=${g}`);
        for (let k = k0; k < k1; k++) {
          const c = codes[n * K + k]!, x = Wt[n * K + k]!;
          assert.ok(c >= -7 && c <= 7, `code ${c} in range`);
          // s/2 up to the f32 rounding of x/s (relative 2^-24 of |x/s| ≤ 7)
          assert.ok(Math.abs(x - s * c) <= s / 2 + s * 7 * 2 ** -23, `error n=${n} k=${k}: |${x} − ${s}·${c}| > s/2`);
          if (Math.abs(x) === amax && amax > 0) assert.equal(Math.abs(c), 7, 'absmax maps to ±7');
        }
      }
    }
    if (N > 1) for (let k = 0; k < Math.min(K, G); k++) assert.equal(codes[K + k], 0, 'zero group → codes 0');
    if (N > 1) assert.equal(scales[ng], 0, 'zero group → scale 0');
    if (N > 2 && K >= 16) { // ties: −6.5 → −6, −5.5 → −6, 0.5 → 0, 1.5 → 2, 2.5 → 2
      const row = 2 * K;
      assert.equal(scales[2 * ng], 1);
      for (let k = 1; k < Math.min(K, G); k++) assert.equal(codes[row + k], Math.sign(Wt[row + k]!) * (2 * Math.round(Math.abs(Wt[row + k]!) / 2 - 0.25)) || 0, `tie k=${k} W=${Wt[row + k]}`);
    }
    const neg = new Int8Array(N * K), negS = new Float32Array(N * ng);
    H.quantizeQ4G(neg, negS, Wt.map((v) => -v), N, K, G);
    assertExact(negS, scales, 'scales of −W');
    for (let i = 0; i < codes.length; i++) assert.equal(neg[i]! + codes[i]!, 0, `−W codes at ${i}`);
  }
});

test('packQ4G layout: offset formula, nibble halves, scale interleave, padding 0x88; codeQ4G round trip', () => {
  const rng = new Rng(2);
  for (const [N, K, G] of [[1, 1, 64], [7, 48, 32], [9, 100, 64], [4, 64, 64], [6, 130, 128]] as const) {
    const { codes, scales, w, ws } = packed(weights(rng, N, K, G), N, K, G);
    const ng = H.groupsQ4G(K, G), KP = 32 * Math.ceil(K / 32);
    assert.equal(w.length, 4 * Math.ceil(N / 4) * KP / 2);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        assert.equal(H.codeQ4G(w, n, k, K), codes[n * K + k], `code n=${n} k=${k}`);
        const o = (n >> 2) * 2 * KP + 64 * Math.floor(k / 32) + 16 * (n & 3) + (k & 15);
        assert.equal(H.offsetQ4G(n, k, K), o);
        assert.equal(((w[o]! >> ((k & 16) ? 4 : 0)) & 15) - 8, codes[n * K + k]);
      }
      for (let g = 0; g < ng; g++) assert.equal(ws[(n >> 2) * 4 * ng + 4 * g + (n & 3)], scales[n * ng + g]);
    }
    for (let n = N; n < 4 * Math.ceil(N / 4); n++) for (let k = 0; k < KP; k++) assert.equal(H.codeQ4G(w, n, k, K), 0, 'padding row');
    for (let n = 0; n < N; n++) for (let k = K; k < KP; k++) assert.equal(H.codeQ4G(w, n, k, K), 0, 'padding column');
  }
  // codes −8 (nibble 0) and 7 (nibble 15) are storable; −9 and 8 are not
  const w = new Uint8Array(H.bytesQ4G(1, 32)).fill(H.Q4G_PAD_BYTE), ws = new Float32Array(H.scalesQ4G(1, 32));
  H.packQ4G(w, ws, new Int8Array(32).fill(-8).fill(7, 16), Float32Array.of(1), 0, 1, 32);
  assert.equal(w[0], 0xf0);
  assert.throws(() => H.packQ4G(w, ws, new Int8Array(32).fill(8), Float32Array.of(1), 0, 1, 32), ArgumentError);
  assert.throws(() => H.packQ4G(w, ws, new Int8Array(32).fill(-9), Float32Array.of(1), 0, 1, 32), ArgumentError);
});

test('dequantRowQ4G: every row equals f32(scale · code) of quantizeQ4G (the tied-embedding lookup)', () => {
  const rng = new Rng(3);
  for (const [N, K, G] of [[1, 1, 64], [6, 100, 64], [5, 2560, 64], [3, 48, 32], [2, 200, 128]] as const) {
    const Wt = weights(rng, N, K, G);
    const { codes, scales, w, ws } = packed(Wt, N, K, G);
    const ng = H.groupsQ4G(K, G);
    const row = new Float32Array(K), row64 = new Float64Array(K);
    for (let n = 0; n < N; n++) {
      H.dequantRowQ4G(row, w, ws, n, K, G);
      H.dequantRowQ4G(row64, w, ws, n, K, G);
      for (let k = 0; k < K; k++) {
        const want = f32(scales[n * ng + Math.floor(k / G)]! * codes[n * K + k]!);
        assert.equal(row[k], want, `n=${n} k=${k}`);
        assert.equal(row64[k], want);
        assert.ok(Math.abs(row[k]! - Wt[n * K + k]!) <= scales[n * ng + Math.floor(k / G)]! * (0.5 + 2 ** -20), 'within s/2 of W');
      }
    }
  }
  assert.throws(() => H.dequantRowQ4G(new Float32Array(32), new Uint8Array(H.bytesQ4G(4, 32)), new Float32Array(H.scalesQ4G(4, 32)), 4, 32), ShapeError);
});

/** Random codes in [−8, 7] packed with random positive scales (the kernel accepts any nibble). */
function randomPacked(rng: Rng, N: number, K: number, G: number, extreme?: 'neg' | 'pos'): { codes: Int8Array; scales: Float32Array; w: Uint8Array; ws: Float32Array } {
  const ng = H.groupsQ4G(K, G);
  const codes = new Int8Array(N * K);
  rng.fillInt(codes, -8, 7);
  if (extreme === 'neg') codes.fill(-8);
  if (extreme === 'pos') codes.fill(7);
  const scales = new Float32Array(N * ng).map(() => f32(rng.uniform() * 0.02));
  const w = new Uint8Array(H.bytesQ4G(N, K)).fill(H.Q4G_PAD_BYTE), ws = new Float32Array(H.scalesQ4G(N, K, G));
  H.packQ4G(w, ws, codes, scales, 0, N, K, G);
  return { codes, scales, w, ws };
}

function activations(rng: Rng, M: number, K: number, fill?: number): { xq: Int8Array; xs: Float32Array } {
  const xq = new Int8Array(M * K);
  rng.fillInt(xq, -128, 127);
  if (fill !== undefined) xq.fill(fill);
  return { xq, xs: new Float32Array(M).map(() => f32(0.5 + rng.uniform() * 100)) };
}

test('matmulQ4G ref: the f32 group order over exact integer dots (direct recomputation from row-major codes)', () => {
  const rng = new Rng(4);
  for (const [M, K, N, G] of [[1, 1, 1, 64], [2, 100, 5, 64], [3, 2560, 6, 64], [1, 96, 3, 32], [2, 300, 3, 128]] as const) {
    const { codes, scales, w: pk, ws: pks } = randomPacked(rng, N, K, G);
    const { xq, xs } = activations(rng, M, K);
    const got = new Float32Array(M * N);
    H.matmulQ4GGroup(got, xq, xs, pk, pks, M, K, N, G);
    const ng = H.groupsQ4G(K, G);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let g = 0; g < ng; g++) {
          let d = 0;
          for (let k = g * G; k < Math.min(K, g * G + G); k++) d += codes[n * K + k]! * xq[m * K + k]!;
          acc = f32(acc + f32(d * scales[n * ng + g]!));
        }
        assert.equal(got[m * N + n], f32(acc / xs[m]!), `m=${m} n=${n}`);
      }
    }
    if (G === H.Q4G_GROUP) {
      const viaIndex = new Float32Array(M * N);
      R.matmulQ4G(viaIndex, xq, xs, pk, pks, M, K, N);
      assertBitIdentical(viaIndex, got, 'matmulQ4G = matmulQ4GGroup(G = 64)');
    }
  }
});

/** Awkward shapes: N not a multiple of 4, M = 1 … 5, K tails below 32, K < G, the 2B4T K. */
const SHAPES: Array<[number, number, number, number]> = [
  [1, 1, 1, 64], [1, 15, 3, 64], [2, 16, 4, 64], [3, 17, 9, 64], [4, 32, 5, 64], [5, 33, 7, 64], [1, 64, 1, 64],
  [2, 100, 13, 64], [1, 2560, 37, 64], [5, 2560, 10, 64], [3, 130, 70, 64], [1, 640, 1024, 64], [4, 2592, 6, 64],
  [1, 96, 11, 32], [3, 100, 6, 32], [2, 200, 9, 96], [1, 2560, 21, 128], [5, 300, 7, 128],
];

function checkTwin(ctx: WasmContext, label: string): void {
  const rng = new Rng(5);
  for (const [M, K, N, G] of SHAPES) {
    const { w, ws } = randomPacked(rng, N, K, G);
    const { xq, xs } = activations(rng, M, K);
    const want = new Float32Array(M * N), got = new Float32Array(M * N);
    H.matmulQ4GGroup(want, xq, xs, w, ws, M, K, N, G);
    W.matmulQ4GGroupWasm(ctx, got, xq, xs, w, ws, M, K, N, G);
    assertBitIdentical(got, want, `${label} M=${M} K=${K} N=${N} G=${G}`);
  }
  // Extreme products (|x·u| = 1920 in every i16 lane at the largest group): the i16 partial sums must not wrap.
  for (const G of [64, 128]) {
    for (const [xv, ext] of [[-128, 'neg'], [-128, 'pos'], [127, 'pos'], [127, 'neg']] as const) {
      const M = 2, K = 2560 + 48, N = 6;
      const { w, ws } = randomPacked(rng, N, K, G, ext);
      const { xq, xs } = activations(rng, M, K, xv);
      const want = new Float32Array(M * N), got = new Float32Array(M * N);
      H.matmulQ4GGroup(want, xq, xs, w, ws, M, K, N, G);
      W.matmulQ4GGroupWasm(ctx, got, xq, xs, w, ws, M, K, N, G);
      assertBitIdentical(got, want, `${label} extreme x=${xv} codes=${ext} G=${G}`);
    }
  }
  // The Kernels entry (G = 64).
  const { w, ws } = randomPacked(rng, 9, 2560, 64);
  const { xq, xs } = activations(rng, 1, 2560);
  const want = new Float32Array(9), got = new Float32Array(9);
  R.matmulQ4G(want, xq, xs, w, ws, 1, 2560, 9);
  W.matmulQ4G(ctx, got, xq, xs, w, ws, 1, 2560, 9);
  assertBitIdentical(got, want, `${label} matmulQ4G`);
}

test('matmulQ4G wasm SIMD128: bit-identical to the reference at awkward shapes and group sizes', () => {
  assert.equal(s128.relaxed, false);
  checkTwin(s128, 'simd128');
});

test('matmulQ4G wasm relaxed SIMD: bit-identical to the reference', { skip: features.relaxed ? false : 'this engine lacks relaxed SIMD' }, () => {
  assert.equal(c1.relaxed, true);
  checkTwin(c1, 'relaxed');
});

test('matmulQ4G wasm: 1 thread ≡ 2 threads bit for bit (rows split on 4-row groups)', () => {
  const rng = new Rng(6);
  if (c2.threads < 2) console.log('# shared memory unavailable: the 2-thread context runs on one thread');
  for (const [M, K, N] of [[1, 2560, 1023], [1, 2560, 4096], [3, 640, 517], [5, 100, 2050]] as const) {
    const { w, ws } = randomPacked(rng, N, K, 64);
    const { xq, xs } = activations(rng, M, K);
    const a = new Float32Array(M * N), b = new Float32Array(M * N), want = new Float32Array(M * N);
    W.matmulQ4G(c1, a, xq, xs, w, ws, M, K, N);
    W.matmulQ4G(c2, b, xq, xs, w, ws, M, K, N);
    R.matmulQ4G(want, xq, xs, w, ws, M, K, N);
    assertBitIdentical(b, a, `threads M=${M} K=${K} N=${N}`);
    assertBitIdentical(a, want, `ref M=${M} K=${K} N=${N}`);
  }
});

test('q4g: typed errors for bad arguments', () => {
  const K = 64, N = 4;
  const w = new Uint8Array(H.bytesQ4G(N, K)), ws = new Float32Array(H.scalesQ4G(N, K));
  const o = new Float32Array(N), xq = new Int8Array(K), xs = Float32Array.of(1);
  assert.throws(() => R.matmulQ4G(o, xq, xs, w.subarray(1), ws, 1, K, N), ShapeError); // codes too short
  assert.throws(() => R.matmulQ4G(o, xq, xs, w, ws.subarray(1), 1, K, N), ShapeError); // scales too short
  assert.throws(() => R.matmulQ4G(o, xq, xs, new Int8Array(w.length) as unknown as Uint8Array, ws, 1, K, N), DTypeError);
  assert.throws(() => W.matmulQ4G(c1, new Float64Array(N), xq, xs, w, ws, 1, K, N), DTypeError); // WASM twin: f32 only
  assert.throws(() => W.matmulQ4G(c1, o, xq, xs, w, ws, 1, K, 5), ShapeError);
  assert.throws(() => R.matmulQ4G(o, xq, xs, w, ws, 1, -1, N), ArgumentError);
  assert.throws(() => H.matmulQ4GGroup(o, xq, xs, w, ws, 1, K, N, 48), ArgumentError); // G not a multiple of 32
  assert.throws(() => H.matmulQ4GGroup(o, xq, xs, w, ws, 1, K, N, 256), ArgumentError); // G > 128: i16 partial sums
  assert.throws(() => H.quantizeQ4G(new Int8Array(2), new Float32Array(1), Float32Array.of(1, NaN), 1, 2), ArgumentError);
  assert.throws(() => H.quantizeQ4G(new Int8Array(2), new Float32Array(0), Float32Array.of(1, 2), 1, 2), ShapeError);
  assert.throws(() => H.packQ4G(new Uint8Array(H.bytesQ4G(1, 32)), new Float32Array(H.scalesQ4G(1, 32)), new Int8Array(32), Float32Array.of(1), 4, 1, 32), ArgumentError); // rows beyond dst
});
