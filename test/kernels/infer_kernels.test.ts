/**
 * Inference kernels (attentionCached, matmulI7): WASM twins against the reference at awkward
 * shapes, 1 and 2 threads; cached attention equals the training kernel on the full sequence.
 * The relaxed matmulI7 test reports "skipped" on an engine without relaxed SIMD.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ArgumentError, ShapeError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/index.js';
import * as RI from '../../src/kernels/ref/infer.js';
import { WasmContext, probeFeatures } from '../../src/kernels/wasm/context.js';
import * as W from '../../src/kernels/wasm/infer.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, assertBitIdentical } from '../helpers/check.js';

const f32 = Math.fround;
const features = await probeFeatures();
let c1: WasmContext, c2: WasmContext, s128: WasmContext, s128x2: WasmContext;
before(async () => {
  c1 = await WasmContext.create({ threads: 1 });
  c2 = await WasmContext.create({ threads: 2 });
  s128 = await WasmContext.create({ threads: 1, relaxed: false });
  s128x2 = await WasmContext.create({ threads: 2, relaxed: false });
});
after(async () => {
  await c1.dispose();
  await c2.dispose();
  await s128.dispose();
  await s128x2.dispose();
});

function randn(rng: Rng, n: number, s = 1): Float32Array {
  const a = new Float32Array(n);
  rng.fillNormal(a, 0, s);
  return a;
}

test('attentionCached ref: M queries over the cache equal rows of the full causal attention', () => {
  const rng = new Rng(1);
  const T = 9, H = 4, KVH = 2, HS = 6;
  const q = randn(rng, T * H * HS), k = randn(rng, T * KVH * HS), v = randn(rng, T * KVH * HS);
  const full = new Float64Array(T * H * HS);
  R.attentionForward(full, new Float64Array(H * T * T), Float64Array.from(q), Float64Array.from(k), Float64Array.from(v), 1, T, H, KVH, HS);
  const S = 12;
  const kc = new Float32Array(S * KVH * HS), vc = new Float32Array(S * KVH * HS);
  kc.set(k);
  vc.set(v);
  for (const [pos0, M] of [[0, T], [0, 1], [4, 5], [8, 1], [3, 2]] as const) {
    const out = new Float32Array(M * H * HS);
    R.attentionCached(out, q.subarray(pos0 * H * HS, (pos0 + M) * H * HS), kc, vc, M, pos0, S, H, KVH, HS);
    assertAllClose(out, full.subarray(pos0 * H * HS, (pos0 + M) * H * HS), { atol: 1e-6, rtol: 1e-5 }, `pos0=${pos0} M=${M}`);
  }
});

test('attentionCached wasm = ref within 2e-6 (f32 vs f64 accumulation); 1 thread ≡ 2 threads bit for bit', () => {
  const rng = new Rng(2);
  for (const [M, pos0, H, KVH, HS] of [[1, 0, 1, 1, 1], [1, 37, 4, 2, 6], [5, 3, 6, 3, 10], [17, 0, 20, 5, 8], [1, 300, 16, 16, 64]] as const) {
    const S = pos0 + M + 3;
    const q = randn(rng, M * H * HS), kc = randn(rng, S * KVH * HS), vc = randn(rng, S * KVH * HS);
    const want = new Float32Array(M * H * HS);
    R.attentionCached(want, q, kc, vc, M, pos0, S, H, KVH, HS);
    const a = new Float32Array(M * H * HS), b = new Float32Array(M * H * HS);
    W.attentionCached(c1, a, q, kc, vc, M, pos0, S, H, KVH, HS);
    W.attentionCached(c2, b, q, kc, vc, M, pos0, S, H, KVH, HS);
    assertAllClose(a, want, { atol: 2e-6, rtol: 2e-5 }, `M=${M} pos0=${pos0}`);
    assertBitIdentical(b, a, `threads M=${M} pos0=${pos0}`);
  }
});

function checkI7(ctxs: WasmContext[]): void {
  const rng = new Rng(3);
  // N > 64 with M > 1 crosses the kernels' 64-row cache blocks (every token passes over a block before the next)
  for (const [M, K, N] of [[1, 1, 1], [1, 15, 3], [1, 16, 4], [2, 17, 9], [1, 2560, 37], [1, 2560, 38], [3, 130, 70], [1, 640, 1024], [5, 100, 203], [8, 48, 130]] as const) {
    const xq = new Int8Array(M * K), codes = new Int8Array(N * K);
    rng.fillInt(xq, -128, 127);
    rng.fillInt(codes, -63, 63);
    if (N === 37) { xq.fill(-128); codes.fill(63); } // extreme products across K = 2560
    if (N === 38) { xq.fill(127); codes.fill(-63); }
    // 'i7r4' layout, packed in two calls (rows [0, 4) then the rest) over an I7_OFFSET-filled buffer
    const w = new Int8Array(RI.bytesI7R4(N, K)).fill(RI.I7_OFFSET);
    const split = Math.min(N, 4);
    RI.packI7R4(w, codes.subarray(0, split * K), 0, split, K);
    RI.packI7R4(w, codes.subarray(split * K), split, N - split, K);
    for (let n = 0; n < N; n++) for (const k of [0, K - 1]) assert.equal(RI.weightI7R4(w, n, k, K), codes[n * K + k], `layout n=${n} k=${k}`);
    const xs = new Float32Array(M).map(() => f32(0.5 + rng.uniform() * 100));
    const ws = new Float32Array(N).map(() => f32(rng.uniform() * 0.01));
    const want = new Float32Array(M * N);
    R.matmulI7(want, xq, xs, w, ws, M, K, N);
    // The reference itself against a direct integer sum.
    const m0 = M - 1, n0 = N - 1;
    let acc = 0;
    for (let k = 0; k < K; k++) acc += xq[m0 * K + k]! * codes[n0 * K + k]!;
    assert.equal(want[m0 * N + n0], f32(f32(f32(acc) / xs[m0]!) * ws[n0]!));
    for (const c of ctxs) {
      const got = new Float32Array(M * N);
      W.matmulI7(c, got, xq, xs, w, ws, M, K, N);
      assertBitIdentical(got, want, `M=${M} K=${K} N=${N} threads=${c.threads} relaxed=${c.relaxed}`);
    }
  }
}

test('matmulI7 wasm SIMD128: bit-identical to ref (exact int32 accumulation, same f32 scaling), 1 and 2 threads', () => {
  assert.ok(!s128.relaxed && !s128x2.relaxed);
  checkI7([s128, s128x2]);
});

test('matmulI7 wasm relaxed SIMD: bit-identical to ref (so to SIMD128), 1 and 2 threads', { skip: features.relaxed ? false : 'this engine lacks relaxed SIMD' }, () => {
  assert.ok(c1.relaxed && c2.relaxed, 'the default contexts use the relaxed kernels');
  checkI7([c1, c2]);
});

test('inference kernels: typed errors for bad shapes', () => {
  const o = new Float32Array(8);
  assert.throws(() => R.attentionCached(o, o, o, o, 1, 4, 4, 1, 1, 2), ArgumentError); // pos0 + M > S
  assert.throws(() => R.attentionCached(o, o, o, o, 1, 0, 4, 3, 2, 2), ArgumentError); // H % KVH
  assert.throws(() => R.matmulI7(new Float32Array(1), new Int8Array(1), new Float32Array(1), new Int8Array(RI.bytesI7R4(1, 1)).fill(0), new Float32Array(1), 1, 1, 1), ArgumentError); // stored code 0: weight −64, outside 7 bits
  assert.throws(() => RI.packI7R4(new Int8Array(RI.bytesI7R4(1, 1)), new Int8Array([64]), 0, 1, 1), ArgumentError); // code out of 7-bit range
  assert.throws(() => RI.packI7R4(new Int8Array(RI.bytesI7R4(1, 1)), new Int8Array(1), 4, 1, 1), ArgumentError); // rows beyond dst
  assert.throws(() => R.matmulI7(new Float32Array(2), new Int8Array(1), new Float32Array(1), new Int8Array(2), new Float32Array(2), 1, 1, 2), ShapeError); // row-by-row length
  assert.throws(() => W.matmulI7(c1, o, new Int8Array(4), new Float32Array(1), new Int8Array(7), new Float32Array(2), 1, 4, 2), Error);
});
