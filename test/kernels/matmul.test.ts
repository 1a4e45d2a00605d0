import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DTypeError, ShapeError } from '../../src/errors.js';
import * as ref from '../../src/kernels/ref/matmul.js';
import { WasmContext } from '../../src/kernels/wasm/context.js';
import * as wasm from '../../src/kernels/wasm/matmul.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, assertBitIdentical, gradcheck, randn, randnF32 } from '../helpers/check.js';

// f32 GEMM vs f64-accumulating reference: each output is a K-term sum of products of N(0,1) values,
// rounding error grows ~ sqrt(K)·2^-24·sqrt(K) in absolute terms; 2e-5·sqrt(K) absolute plus 1e-5 relative
// is ~10x that bound for K ≤ 1000.
const tol = (K: number) => ({ atol: 2e-5 * Math.sqrt(Math.max(K, 1)), rtol: 1e-5 });

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 13], [1, 256, 100], [3, 5, 7], [4, 8, 8], [5, 17, 9], [13, 31, 127],
  [17, 129, 33], [64, 64, 64], [33, 300, 70], [130, 257, 1030], [2, 1, 5], [7, 0, 3],
];

describe('matmul', () => {
  const ctxs: WasmContext[] = [];
  after(async () => Promise.all(ctxs.map((c) => c.dispose())));
  const make = async (threads: number) => {
    const c = await WasmContext.create({ threads });
    ctxs.push(c);
    return c;
  };

  test('reference backward products agree with finite differences (f64)', () => {
    const rng = new Rng(1);
    for (const [M, K, N] of [[1, 1, 1], [3, 5, 2], [4, 7, 6]] as const) {
      const x = randn(rng, M * K);
      const w = randn(rng, N * K);
      gradcheck({
        inputs: { x, w },
        forward: ({ x, w }) => {
          const out = new Float64Array(M * N);
          ref.matmul(out, x!, w!, M, K, N);
          return out;
        },
        backward: (dout, { x, w }) => {
          const dx = new Float64Array(M * K);
          const dw = new Float64Array(N * K);
          ref.matmulBackwardInput(dx, dout, w!, M, K, N);
          ref.matmulBackwardWeight(dw, dout, x!, M, K, N);
          return { x: dx, w: dw };
        },
      });
    }
  });

  test('wasm forward and both backward products match the reference', async () => {
    const ctx = await make(1);
    const rng = new Rng(2);
    for (const [M, K, N] of SHAPES) {
      const x = randnF32(rng, M * K);
      const w = randnF32(rng, N * K);
      const dy = randnF32(rng, M * N);
      const outR = new Float32Array(M * N).fill(NaN);
      const outW = new Float32Array(M * N).fill(NaN);
      ref.matmul(outR, x, w, M, K, N);
      wasm.matmul(ctx, outW, x, w, M, K, N);
      assertAllClose(outW, outR, tol(K), `matmul ${M}x${K}x${N}`);
      // backward kernels accumulate: start from a non-zero gradient
      const dxR = randnF32(new Rng(M + K), M * K);
      const dxW = dxR.slice();
      ref.matmulBackwardInput(dxR, dy, w, M, K, N);
      wasm.matmulBackwardInput(ctx, dxW, dy, w, M, K, N);
      assertAllClose(dxW, dxR, tol(N), `dx ${M}x${K}x${N}`);
      // accumulate false writes dx without reading it (NaN garbage must not leak), bit-identical to adding to zeros
      const dxO = new Float32Array(M * K).fill(NaN), dxZ = new Float32Array(M * K), dxOR = new Float32Array(M * K).fill(NaN);
      wasm.matmulBackwardInput(ctx, dxO, dy, w, M, K, N, false);
      wasm.matmulBackwardInput(ctx, dxZ, dy, w, M, K, N);
      ref.matmulBackwardInput(dxOR, dy, w, M, K, N, false);
      assertBitIdentical(dxO, dxZ, `dx overwrite ${M}x${K}x${N}`);
      assertAllClose(dxO, dxOR, tol(N), `dx overwrite vs ref ${M}x${K}x${N}`);
      const dwR = randnF32(new Rng(N + K), N * K);
      const dwW = dwR.slice();
      ref.matmulBackwardWeight(dwR, dy, x, M, K, N);
      wasm.matmulBackwardWeight(ctx, dwW, dy, x, M, K, N);
      assertAllClose(dwW, dwR, tol(M), `dw ${M}x${K}x${N}`);
    }
  });

  test('results are bit-identical for 1 and 2 threads (row and column splits)', async () => {
    const c1 = await make(1);
    const c2 = await make(2);
    const rng = new Rng(3);
    for (const [M, K, N] of [[1, 300, 1000], [3, 64, 515], [67, 130, 45], [256, 257, 129]] as const) {
      const x = randnF32(rng, M * K);
      const w = randnF32(rng, N * K);
      const dy = randnF32(rng, M * N);
      const a = new Float32Array(M * N);
      const b = new Float32Array(M * N);
      wasm.matmul(c1, a, x, w, M, K, N);
      wasm.matmul(c2, b, x, w, M, K, N);
      assertBitIdentical(a, b, 'matmul');
      const dx1 = new Float32Array(M * K);
      const dx2 = new Float32Array(M * K);
      wasm.matmulBackwardInput(c1, dx1, dy, w, M, K, N);
      wasm.matmulBackwardInput(c2, dx2, dy, w, M, K, N);
      assertBitIdentical(dx1, dx2, 'dx');
      const dw1 = new Float32Array(N * K);
      const dw2 = new Float32Array(N * K);
      wasm.matmulBackwardWeight(c1, dw1, dy, x, M, K, N);
      wasm.matmulBackwardWeight(c2, dw2, dy, x, M, K, N);
      assertBitIdentical(dw1, dw2, 'dw');
    }
  });

  test('arena-resident operands are used in place', async () => {
    const ctx = await make(2);
    const [M, K, N] = [9, 33, 21];
    const x = ctx.arena.alloc('f32', M * K);
    const w = ctx.arena.alloc('f32', N * K);
    const out = ctx.arena.alloc('f32', M * N);
    const rng = new Rng(4);
    rng.fillNormal(x);
    rng.fillNormal(w);
    assert.ok(ctx.isResident(out));
    const copies = ctx.scratchCopies;
    wasm.matmul(ctx, out, x, w, M, K, N);
    assert.equal(ctx.scratchCopies, copies, 'resident operands are passed by pointer, never copied into scratch');
    const expect = new Float32Array(M * N);
    ref.matmul(expect, x, w, M, K, N);
    assertAllClose(out, expect, tol(K), 'resident matmul');
    // The counter sees a fallback: heap copies of the same operands are marshalled (out, x, w).
    const heapOut = new Float32Array(M * N);
    wasm.matmul(ctx, heapOut, x.slice(), w.slice(), M, K, N);
    assert.equal(ctx.scratchCopies, copies + 3, 'heap arrays go through scratch');
    assertAllClose(heapOut, expect, tol(K), 'heap matmul');
  });

  test('bad arguments raise typed errors', async () => {
    const ctx = await make(1);
    assert.throws(() => ref.matmul(new Float32Array(3), new Float32Array(4), new Float32Array(4), 2, 2, 2), ShapeError);
    assert.throws(() => wasm.matmul(ctx, new Float32Array(4), new Float32Array(4), new Float32Array(3), 2, 2, 2), ShapeError);
    assert.throws(() => wasm.matmul(ctx, new Float64Array(4), new Float64Array(4), new Float64Array(4), 2, 2, 2), DTypeError);
    assert.throws(() => ref.matmul(new Float32Array(4), new Float64Array(4), new Float32Array(4), 2, 2, 2), DTypeError);
  });
});
