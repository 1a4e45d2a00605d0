import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ArgumentError, ShapeError } from '../src/errors.js';
import { createBackend } from '../src/kernels/backend.js';
import { WasmContext } from '../src/kernels/wasm/context.js';
import * as wasm from '../src/kernels/wasm/matmul.js';
import * as ref from '../src/kernels/ref/matmul.js';
import { Arena, ALIGN } from '../src/tensor/arena.js';
import { Rng } from '../src/tensor/rng.js';
import { clamp, roundHalfAway, roundHalfEven } from '../src/tensor/round.js';
import { numel, strides } from '../src/tensor/shape.js';
import { reshape, row, tensor, zeros } from '../src/tensor/tensor.js';
import { assertAllClose, assertBitIdentical } from './helpers/check.js';

describe('round', () => {
  test('half to even at ties, like torch.round and f32.nearest', () => {
    const cases: Array<[number, number]> = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, -0], [-1.5, -2], [-2.5, -2], [3.5, 4], [126.5, 126], [127.5, 128], [-127.5, -128], [0.49999997, 0], [2.6, 3], [-2.6, -3], [7, 7]];
    for (const [x, want] of cases) assert.ok(Object.is(roundHalfEven(x), want) || roundHalfEven(x) === want, `roundHalfEven(${x}) = ${roundHalfEven(x)}, want ${want}`);
    // Math.fround values agree with WebAssembly f32.nearest semantics for every half-integer in range.
    for (let k = -300; k <= 300; k++) {
      const x = k + 0.5;
      const want = k % 2 === 0 ? k : k + 1;
      assert.ok(roundHalfEven(x) === want, `roundHalfEven(${x}) = ${roundHalfEven(x)}, want ${want}`);
    }
  });
  test('half away from zero (lroundf) and clamp', () => {
    assert.equal(roundHalfAway(2.5), 3);
    assert.equal(roundHalfAway(-2.5), -3);
    assert.equal(roundHalfAway(-0.4), -0);
    assert.equal(clamp(5, -1, 1), 1);
    assert.equal(clamp(-5, -1, 1), -1);
  });
});

describe('rng', () => {
  test('same seed, same stream; different seeds differ', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xa = Array.from({ length: 100 }, () => a.nextU32());
    const xb = Array.from({ length: 100 }, () => b.nextU32());
    const xc = Array.from({ length: 100 }, () => c.nextU32());
    assert.deepEqual(xa, xb);
    assert.notDeepEqual(xa, xc);
  });
  test('uniform in [0,1) with the right mean; normal with the right moments', () => {
    const r = new Rng(7);
    const n = 200_000;
    let su = 0, lo = 1, hi = 0, s1 = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const u = r.uniform();
      su += u; lo = Math.min(lo, u); hi = Math.max(hi, u);
      const z = r.normal();
      s1 += z; s2 += z * z;
    }
    assert.ok(lo >= 0 && hi < 1);
    // 5-sigma bounds for the sample mean/variance of n draws.
    assert.ok(Math.abs(su / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
    assert.ok(Math.abs(s1 / n) < 5 / Math.sqrt(n));
    assert.ok(Math.abs(s2 / n - 1) < 5 * Math.sqrt(2 / n));
  });
  test('fork is deterministic, independent of the parent position, and distinct per salt', () => {
    const p = new Rng(5);
    const f1 = p.fork('layer.0').nextU32();
    p.nextU32();
    assert.equal(p.fork('layer.0').nextU32(), f1);
    assert.notEqual(p.fork('layer.1').nextU32(), f1);
    assert.notEqual(p.fork(1).nextU32(), p.fork(2).nextU32());
  });
  test('int() covers its range and rejects bad n', () => {
    const r = new Rng(9);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(r.int(5));
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
    assert.throws(() => r.int(0), ArgumentError);
    assert.throws(() => new Rng(NaN), ArgumentError);
  });
});

describe('tensor and arena', () => {
  test('shapes, strides, views', () => {
    assert.equal(numel([2, 3, 4]), 24);
    assert.deepEqual(strides([2, 3, 4]), [12, 4, 1]);
    const t = zeros('f32', [2, 3]);
    t.data.set([1, 2, 3, 4, 5, 6]);
    assert.deepEqual([...row(t, 1)], [4, 5, 6]);
    assert.deepEqual(reshape(t, [3, 2]).shape, [3, 2]);
    assert.throws(() => tensor(new Float32Array(5), [2, 3]), ShapeError);
    assert.throws(() => row(t, 2), ShapeError);
  });
  test('heap arena: named views, mark/release', () => {
    const a = Arena.heap();
    const w = a.tensor('f32', [4, 8], 'w');
    assert.equal(a.get('w'), w);
    assert.throws(() => a.tensor('f32', [1], 'w'), ArgumentError);
    assert.throws(() => a.alloc('f32', -1), ArgumentError);
  });
  test('memory arena: aligned, resident, survives growth, release frees', async () => {
    const ctx = await WasmContext.create({ threads: 1 });
    const a = ctx.arena;
    const m = a.mark();
    const x = a.alloc('f32', 3);
    const y = a.alloc('i8', 5);
    assert.equal(x.byteOffset % ALIGN, 0);
    assert.equal(y.byteOffset % ALIGN, 0);
    x[0] = 1.5;
    const big = a.alloc('u8', 64 << 20); // forces memory.grow
    big[big.length - 1] = 7;
    assert.equal(x[0], 1.5, 'old views stay valid after a shared memory grows');
    assert.ok(ctx.isResident(x) && ctx.isResident(big));
    assert.ok(!ctx.isResident(new Float32Array(3)));
    a.release(m);
    assert.equal(a.mark(), m);
    await ctx.dispose();
  });
});

describe('backend selection', () => {
  test('auto picks wasm here; disabling SIMD falls back to ref with one notice, never a throw', async () => {
    const be = await createBackend();
    assert.equal(be.name, 'wasm');
    await be.dispose();
    const notices: string[] = [];
    const fb = await createBackend({ disable: ['simd'], notice: (m) => notices.push(m) });
    assert.equal(fb.name, 'ref');
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /reference kernels/);
    await assert.rejects(createBackend({ backend: 'nope' as 'ref' }), ArgumentError);
  });
  test('unshared memory (no cross-origin isolation) gives the same GEMM bits; SIMD128-only is within rounding of relaxed and ref', async () => {
    // relaxed.wasm fuses the GEMM's multiply-add (f32x4.relaxed_madd), core.wasm rounds mul and add apart:
    // bit-identical within one module kind, shared or not, any thread count; the two kinds agree to rounding.
    const full = await WasmContext.create({ threads: 2 });
    const unshared = await WasmContext.create({ disable: ['shared'] });
    const plain = await WasmContext.create({ disable: ['shared', 'relaxed'] });
    const plainShared = await WasmContext.create({ threads: 2, disable: ['relaxed'] });
    assert.equal(plain.threads, 1);
    assert.equal(unshared.threads, 1);
    assert.equal(plain.relaxed, false);
    assert.equal(unshared.relaxed, full.relaxed);
    const rng = new Rng(11);
    const [M, K, N] = [19, 70, 33];
    const x = rng.fillNormal(new Float32Array(M * K)) as Float32Array;
    const w = rng.fillNormal(new Float32Array(N * K)) as Float32Array;
    const out = () => new Float32Array(M * N);
    const o1 = out(), o2 = out(), o3 = out(), o4 = out(), o5 = out();
    wasm.matmul(full, o1, x, w, M, K, N);
    wasm.matmul(unshared, o2, x, w, M, K, N);
    assertBitIdentical(o1, o2);
    wasm.matmul(plain, o3, x, w, M, K, N);
    wasm.matmul(plainShared, o4, x, w, M, K, N);
    assertBitIdentical(o3, o4);
    ref.matmul(o5, x, w, M, K, N);
    assertAllClose(o3, o5, { atol: 1e-4, rtol: 1e-5 });
    assertAllClose(o1, o3, { atol: 1e-4, rtol: 1e-5 });
    for (const c of [full, unshared, plain, plainShared]) await c.dispose();
  });
});
