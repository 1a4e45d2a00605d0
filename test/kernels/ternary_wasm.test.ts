/**
 * WASM packed matmuls (SIMD128 and relaxed SIMD, 1 and 2 threads) against the reference:
 * int32 accumulators EXACT, f32 outputs bit-identical (same formula), so relaxed = SIMD128;
 * thread count does not change a bit; typed errors. The relaxed tests report "skipped" on an
 * engine without relaxed SIMD (a relaxed context there would run the SIMD128 kernels again).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/ternary.js';
import { WasmContext, probeFeatures } from '../../src/kernels/wasm/context.js';
import * as W from '../../src/kernels/wasm/ternary.js';
import { FORMAT_TRAITS, type FormatName } from '../../src/quant/formats.js';
import { rowBytesI2 } from '../../src/quant/pack.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertBitIdentical, assertExact } from '../helpers/check.js';

const f32 = Math.fround;
type Ctxs = { s128: WasmContext; s128x2: WasmContext; rel: WasmContext; rel2: WasmContext };
let C: Ctxs;
const SKIP_RELAXED = (await probeFeatures()).relaxed ? false : 'this engine lacks relaxed SIMD';
const simd128 = () => ({ s128: C.s128, s128x2: C.s128x2 });
/** The relaxed contexts, checked to run the relaxed kernels (only called where the engine has them). */
function relaxed(): Record<string, WasmContext> {
  assert.ok(C.rel.relaxed && C.rel2.relaxed, 'relaxed contexts use the relaxed kernels');
  return { rel: C.rel, rel2: C.rel2 };
}

before(async () => {
  C = {
    s128: await WasmContext.create({ threads: 1, relaxed: false }),
    s128x2: await WasmContext.create({ threads: 2, relaxed: false }),
    rel: await WasmContext.create({ threads: 1, relaxed: true }),
    rel2: await WasmContext.create({ threads: 2, relaxed: true }),
  };
});
after(async () => {
  for (const c of Object.values(C)) await c.dispose();
});

const KERNELS = [
  { fmt: 'i2', mm: 'matmulTernaryI8', acc: 'matmulTernaryI8Acc', lo: -128, hi: 127 },
  { fmt: 'i2', mm: 'matmulTernaryI4', acc: 'matmulTernaryI4Acc', lo: -8, hi: 7 },
  { fmt: 'i1.6', mm: 'matmulTernary1p6I8', acc: 'matmulTernary1p6I8Acc', lo: -128, hi: 127 },
  { fmt: 'b1', mm: 'matmulBinaryI8', acc: 'matmulBinaryI8Acc', lo: -128, hi: 127 },
] as const;

function checkPacked(kk: (typeof KERNELS)[number], ctxs: Record<string, WasmContext>): void {
  const t = FORMAT_TRAITS[kk.fmt as FormatName];
  const rng = new Rng(30);
  const shapes: Array<[number, number, number]> = [];
  for (const K of [1, 3, 63, 64, 65, 79, 80, 127, 128, 129, 257, 2560]) for (const N of [1, 3, 17]) for (const M of [1, 2, 5]) shapes.push([M, K, N]);
  shapes.push([1, 2560, 512], [3, 1000, 100], [40, 130, 70]); // thread splits, several N-chunks
  for (const [M, K, N] of shapes) {
    const what = `${kk.mm} M=${M} K=${K} N=${N}`;
    const wq = new Int8Array(N * K);
    for (let i = 0; i < wq.length; i++) wq[i] = t.values === 'binary' ? rng.int(2) * 2 - 1 : rng.int(3) - 1;
    const xq = new Int8Array(M * K);
    rng.fillInt(xq, kk.lo, kk.hi);
    if (K === 2560 && N === 3) { xq.fill(kk.lo); wq.fill(t.values === 'binary' ? -1 : 1); } // extremes: i16 headroom
    if (K === 2560 && N === 17) { xq.fill(kk.lo); wq.fill(-1); }
    const w = new Uint8Array(t.bytes(N, K));
    t.pack(w, wq, N, K);
    const want = new Int32Array(M * N);
    R[kk.acc](want, xq, w, M, K, N);
    const xs = new Float32Array(M).map(() => f32(0.5 + rng.uniform() * 200));
    const beta = N % 3 === 0 ? new Float32Array([0.25, 1.5, 3]) : 0.8;
    const wantOut = new Float32Array(M * N);
    R[kk.mm](wantOut, xq, xs, w, M, K, N, beta);
    for (const [name, ctx] of Object.entries(ctxs)) {
      const acc = new Int32Array(M * N).fill(-7);
      W[kk.acc](ctx, acc, xq, w, M, K, N);
      assertExact(acc, want, `${what} ${name} acc`);
      const out = new Float32Array(M * N).fill(NaN);
      W[kk.mm](ctx, out, xq, xs, w, M, K, N, beta);
      assertBitIdentical(out, wantOut, `${what} ${name} out`);
    }
  }
}

for (const kk of KERNELS) {
  test(`wasm ${kk.mm} SIMD128: exact vs reference at awkward shapes; 1 and 2 threads`, () => checkPacked(kk, simd128()));
  test(`wasm ${kk.mm} relaxed SIMD: exact vs reference at awkward shapes (so = SIMD128); 1 and 2 threads`, { skip: SKIP_RELAXED }, () => checkPacked(kk, relaxed()));
}

test('wasm packed matmul: weights and activations resident in WASM memory (zero-copy)', () => {
  const ctx = C.rel2;
  const M = 2, K = 640, N = 300;
  const t = FORMAT_TRAITS.i2;
  const rng = new Rng(31);
  const wq = new Int8Array(N * K).map(() => rng.int(3) - 1);
  const w = ctx.arena.alloc('u8', t.bytes(N, K));
  t.pack(w, wq, N, K);
  const xq = ctx.arena.alloc('i8', M * K);
  rng.fillInt(xq, -128, 127);
  const xs = ctx.arena.alloc('f32', M).fill(3);
  const out = ctx.arena.alloc('f32', M * N);
  // β as a resident one-group array (a number β is marshalled as a 4-byte scratch copy by design).
  const beta = ctx.arena.alloc('f32', 1).fill(2);
  const copies = ctx.scratchCopies;
  W.matmulTernaryI8(ctx, out, xq, xs, w, M, K, N, beta);
  assert.equal(ctx.scratchCopies, copies, 'resident operands are passed by pointer, never copied into scratch');
  const want = new Float32Array(M * N);
  R.matmulTernaryI8(want, xq, xs, w, M, K, N, 2);
  assertBitIdentical(out, want, 'resident');
  // The counter sees a fallback: the same call on heap copies marshals all five arrays (out, xq, xs, w, β).
  const heapOut = new Float32Array(M * N);
  W.matmulTernaryI8(ctx, heapOut, xq.slice(), xs.slice(), w.slice(), M, K, N, beta.slice());
  assert.equal(ctx.scratchCopies, copies + 5, 'heap arrays go through scratch');
  assertBitIdentical(heapOut, want, 'heap');
});

test('wasm packed matmuls raise typed errors', () => {
  const ctx = C.s128;
  const K = 10, N = 2, M = 1;
  const w = new Uint8Array(rowBytesI2(K) * N), xq = new Int8Array(M * K), xs = new Float32Array(M), out = new Float32Array(M * N);
  assert.throws(() => W.matmulTernaryI8(ctx, out, xq, xs, w.subarray(1), M, K, N, 1), ShapeError);
  assert.throws(() => W.matmulTernaryI8(ctx, new Float64Array(2), xq, xs, w, M, K, N, 1), DTypeError);
  assert.throws(() => W.matmulTernaryI8(ctx, out, xq, new Float64Array(1), w, M, K, N, 1), DTypeError);
  assert.throws(() => W.matmulTernaryI8(ctx, out, xq, xs, w, M, K, N, new Float64Array(1)), DTypeError);
  assert.throws(() => W.matmulTernaryI8(ctx, out, xq, xs, w, M, K, N, new Float32Array(3)), ArgumentError);
  xq[0] = -9;
  assert.throws(() => W.matmulTernaryI4(ctx, out, xq, xs, w, M, K, N, 1), ArgumentError);
  assert.throws(() => W.matmulBinaryI8Acc(ctx, new Int32Array(1), xq, new Uint8Array(32), M, K, N), ShapeError);
});

function checkR4(ctxs: Record<string, WasmContext>): void {
  const rng = new Rng(32);
  const shapes: Array<[number, number, number]> = [];
  for (const K of [1, 63, 64, 65, 129, 2560]) for (const N of [1, 3, 4, 5, 17]) for (const M of [1, 2, 5]) shapes.push([M, K, N]);
  shapes.push([1, 2560, 514], [3, 1000, 101], [40, 130, 70]); // thread splits, several N-chunks, partial last group
  for (const act of [{ r4: 'matmulTernaryR4I8', i2: 'matmulTernaryI8', lo: -128, hi: 127 }, { r4: 'matmulTernaryR4I4', i2: 'matmulTernaryI4', lo: -8, hi: 7 }] as const) {
    for (const [M, K, N] of shapes) {
      const what = `${act.r4} M=${M} K=${K} N=${N}`;
      const wq = new Int8Array(N * K).map(() => rng.int(3) - 1);
      const xq = new Int8Array(M * K);
      rng.fillInt(xq, act.lo, act.hi);
      if (K === 2560 && N === 3) { xq.fill(act.lo); wq.fill(1); } // extremes: i16 headroom
      const rows = new Uint8Array(FORMAT_TRAITS.i2.bytes(N, K));
      FORMAT_TRAITS.i2.pack(rows, wq, N, K);
      const inter = new Uint8Array(FORMAT_TRAITS.i2r4.bytes(N, K));
      FORMAT_TRAITS.i2r4.pack(inter, wq, N, K);
      const back = new Int8Array(N * K);
      FORMAT_TRAITS.i2r4.unpack(back, inter, N, K);
      assertExact(back, wq, `${what} unpack(pack)`);
      const xs = new Float32Array(M).map(() => f32(0.5 + rng.uniform() * 200));
      const beta = N % 3 === 0 ? new Float32Array([0.25, 1.5, 3]) : 0.8;
      const want = new Float32Array(M * N);
      R[act.i2](want, xq, xs, rows, M, K, N, beta);
      const ref = new Float32Array(M * N);
      R[act.r4](ref, xq, xs, inter, M, K, N, beta);
      assertBitIdentical(ref, want, `${what} ref`);
      for (const [name, ctx] of Object.entries(ctxs)) {
        const out = new Float32Array(M * N).fill(NaN);
        W[act.r4](ctx, out, xq, xs, inter, M, K, N, beta);
        assertBitIdentical(out, want, `${what} ${name}`);
      }
    }
  }
}

test("'i2r4' (rows interleaved by four): ref and wasm SIMD128 equal the row-by-row 'i2' kernels bit for bit", () => {
  checkR4(simd128());
  // the padded length is checked: a row-by-row buffer is too short when N % 4 != 0
  const N = 5, K = 64;
  assert.throws(() => W.matmulTernaryR4I8(C.s128, new Float32Array(N), new Int8Array(K), new Float32Array(1), new Uint8Array(FORMAT_TRAITS.i2.bytes(N, K)), 1, K, N, 1), ShapeError);
  assert.throws(() => R.matmulTernaryR4I8(new Float32Array(N), new Int8Array(K), new Float32Array(1), new Uint8Array(FORMAT_TRAITS.i2.bytes(N, K)), 1, K, N, 1), ShapeError);
});

test("'i2r4' (rows interleaved by four): wasm relaxed SIMD equals the row-by-row 'i2' kernels bit for bit", { skip: SKIP_RELAXED }, () => checkR4(relaxed()));
