/**
 * The loader's fused head quantizers (src/kernels/ref/infer.ts and their WASM twins, wasm/assembly/headq.ts)
 * against the reference pair
 * quantizeRowsI7 + packI7R4 (src/kernels/ref/infer.ts): identical codes, scales and padding, from f32
 * rows and from IEEE half bits (a GGUF F16 embedding), ties included; non-finite rows refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytesI7R4, I7_OFFSET, packI7R4, quantizeRowsI7, quantizeRowsI7R4, quantizeRowsI7R4F16 as quantizeHalfRowsI7R4 } from '../../src/kernels/ref/infer.js';
import { createBackend } from '../../src/kernels/backend.js';
import { floatToHalf, halfToFloat } from '../../src/tensor/half.js';
import { Rng } from '../../src/tensor/rng.js';

function reference(W: Float32Array, N: number, K: number): { q7: Int8Array; ws: Float32Array } {
  const codes = new Int8Array(N * K), ws = new Float32Array(N);
  quantizeRowsI7(codes, ws, W, N, K);
  const q7 = new Int8Array(bytesI7R4(N, K)).fill(I7_OFFSET);
  packI7R4(q7, codes, 0, N, K);
  return { q7, ws };
}

for (const [N, K] of [[7, 40], [8, 64], [13, 100], [4, 16]] as const) {
  test(`7-bit head ${N}×${K}: fused f32 and f16 quantizers = quantizeRowsI7 + packI7R4`, () => {
    const r = new Rng(N * K);
    const W = new Float32Array(N * K);
    for (let i = 0; i < W.length; i++) W[i] = (r.nextU32() / 2 ** 32 - 0.5) * 4;
    // exact ties for round-half-even: row 1 has max 63 and values k + 0.5
    for (let k = 0; k < K; k++) W[K + k] = k === 0 ? 63 : (k % 60) + 0.5;
    W.fill(0, 2 * K, 3 * K); // an all-zero row
    const want = reference(W, N, K);
    const q7 = new Int8Array(bytesI7R4(N, K)).fill(I7_OFFSET), ws = new Float32Array(N);
    // in two slices, as the loader does
    assert.equal(quantizeRowsI7R4(q7, ws, W.subarray(0, 3 * K), 0, 3, K), true);
    assert.equal(quantizeRowsI7R4(q7, ws, W.subarray(3 * K), 3, N - 3, K), true);
    assert.deepEqual(q7, want.q7);
    assert.deepEqual(ws, want.ws);
    const h = Uint16Array.from(W, (x) => floatToHalf(x));
    const wantH = reference(Float32Array.from(h, (x) => halfToFloat(x)), N, K);
    const q7h = new Int8Array(bytesI7R4(N, K)).fill(I7_OFFSET), wsh = new Float32Array(N);
    assert.equal(quantizeHalfRowsI7R4(q7h, wsh, h, 0, N, K), true);
    assert.deepEqual(q7h, wantH.q7);
    assert.deepEqual(wsh, wantH.ws);
  });
}

test('non-finite rows are refused by both fused quantizers', () => {
  const K = 32;
  for (const bad of [NaN, Infinity, -Infinity]) {
    const W = new Float32Array(2 * K).fill(0.5);
    W[K + 3] = bad;
    assert.equal(quantizeRowsI7R4(new Int8Array(bytesI7R4(2, K)), new Float32Array(2), W, 0, 2, K), false, String(bad));
    assert.equal(quantizeHalfRowsI7R4(new Int8Array(bytesI7R4(2, K)), new Float32Array(2), Uint16Array.from(W, (x) => floatToHalf(x)), 0, 2, K), false, `half ${bad}`);
  }
});

test('WASM twins (1 and 2 threads) = the reference, f32 and f16 rows, awkward shapes, non-finite rows reported', async () => {
  for (const threads of [1, 2]) {
    const be = await createBackend({ backend: 'wasm', threads });
    try {
      for (const [N, K] of [[9, 40], [16, 64], [13, 100], [4, 2560], [1, 7]] as const) {
        const r = new Rng(N + K + threads);
        const W = be.arena.alloc('f32', N * K);
        for (let i = 0; i < W.length; i++) W[i] = (r.nextU32() / 2 ** 32 - 0.5) * 8;
        for (let k = 0; k < Math.min(K, 60); k++) W[k] = k === 0 ? 63 : k + 0.5; // exact ties
        const n0 = 3, NN = n0 + N;
        const want = new Int8Array(bytesI7R4(NN, K)).fill(I7_OFFSET), wws = new Float32Array(NN);
        assert.equal(quantizeRowsI7R4(want, wws, W, n0, N, K), true);
        const got = be.arena.alloc('i8', bytesI7R4(NN, K)).fill(I7_OFFSET), gws = be.arena.alloc('f32', NN);
        assert.equal(be.quantizeRowsI7R4(got, gws, W, n0, N, K), true);
        assert.deepEqual(new Int8Array(got), want, `f32 ${N}×${K}, ${threads} threads`);
        assert.deepEqual(new Float32Array(gws), wws);
        const h = Uint16Array.from(W, (x) => floatToHalf(x));
        const wantH = new Int8Array(bytesI7R4(NN, K)).fill(I7_OFFSET), wwsH = new Float32Array(NN);
        assert.equal(quantizeHalfRowsI7R4(wantH, wwsH, h, n0, N, K), true);
        const gotH = be.arena.alloc('i8', bytesI7R4(NN, K)).fill(I7_OFFSET), gwsH = be.arena.alloc('f32', NN);
        assert.equal(be.quantizeRowsI7R4F16(gotH, gwsH, h, n0, N, K), true);
        assert.deepEqual(new Int8Array(gotH), wantH, `f16 ${N}×${K}, ${threads} threads`);
        assert.deepEqual(new Float32Array(gwsH), wwsH);
        h[K + 1] = 0x7c00; // +inf in row 1
        assert.equal(be.quantizeRowsI7R4F16(gotH, gwsH, h, n0, N > 1 ? N : 1, K), N < 2, 'inf row reported');
        W[0] = NaN;
        assert.equal(be.quantizeRowsI7R4(got, gws, W, n0, N, K), false, 'NaN row reported');
      }
    } finally {
      await be.dispose();
    }
  }
});
