/**
 * The f16 KV cache kernels (attentionCachedF16, f32ToF16, f16ToF32):
 *  - conversions: every one of the 65536 halves widens exactly and round-trips f16 → f32 → f16; every
 *    rounding tie between neighbouring halves (subnormals and the overflow to inf included) rounds to even,
 *    against an oracle built from the two neighbours (not from floatToHalf); reference ≡ WASM bit for bit;
 *  - attention: reference ≡ the f32 reference on the widened cache (exactly), WASM = reference within
 *    the f32 kernel's tolerance at awkward shapes, 1 ≡ 2 ≡ 3 threads bit for bit; the relaxed module's build of
 *    the (SIMD128) kernel ≡ the core module's (reported "skipped" on an engine without relaxed SIMD);
 *  - typed errors.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import * as R from '../../src/kernels/ref/index.js';
import { WasmContext, probeFeatures } from '../../src/kernels/wasm/context.js';
import * as W from '../../src/kernels/wasm/infer.js';
import { halfToFloat } from '../../src/tensor/half.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertAllClose, assertBitIdentical } from '../helpers/check.js';

const features = await probeFeatures();
let c1: WasmContext, c2: WasmContext, c3: WasmContext, s128: WasmContext;
before(async () => {
  c1 = await WasmContext.create({ threads: 1 });
  c2 = await WasmContext.create({ threads: 2 });
  c3 = await WasmContext.create({ threads: 3 });
  s128 = await WasmContext.create({ threads: 1, relaxed: false });
});
after(async () => {
  await c1.dispose();
  await c2.dispose();
  await c3.dispose();
  await s128.dispose();
});

const ALL = () => Uint16Array.from({ length: 65536 }, (_, i) => i);
const isNanHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Float32 neighbour of a positive finite f32 x: +1 or −1 ulp (through the bits). */
function nextF32(x: number, dir: 1 | -1): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = u[0]! + dir;
  return f[0]!;
}

test('f16ToF32: all 65536 halves exact (ref = halfToFloat; WASM bit-identical incl. ±0, ±inf; NaN stays NaN)', () => {
  const h = ALL();
  const want = new Float32Array(65536);
  R.f16ToF32(want, h, 65536);
  for (let i = 0; i < 65536; i++) {
    if (isNanHalf(i)) assert.ok(Number.isNaN(want[i]), `ref 0x${i.toString(16)}`);
    else assert.ok(Object.is(want[i], halfToFloat(i)), `ref 0x${i.toString(16)}`);
  }
  for (const c of [c1, c2, s128]) {
    const got = new Float32Array(65536);
    W.f16ToF32(c, got, h, 65536);
    const gb = bitsOf(got), wb = bitsOf(want);
    for (let i = 0; i < 65536; i++) {
      if (isNanHalf(i)) assert.ok(Number.isNaN(got[i]) && (gb[i]! >>> 31) === i >>> 15, `wasm NaN 0x${i.toString(16)}`);
      else assert.equal(gb[i], wb[i], `wasm 0x${i.toString(16)} threads=${c.threads} relaxed=${c.relaxed}: ${got[i]} vs ${want[i]}`);
    }
  }
  // Odd lengths and offsets: the 8-, 4- and 1-element paths.
  for (const n of [1, 3, 4, 7, 12, 13, 100]) {
    const a = new Float32Array(n), b = new Float32Array(n);
    R.f16ToF32(a, h.subarray(0x3bf0, 0x3bf0 + n), n);
    W.f16ToF32(c1, b, h.subarray(0x3bf0, 0x3bf0 + n), n);
    assertBitIdentical(b, a, `n=${n}`);
  }
});

test('f32ToF16: every finite half round-trips f16 → f32 → f16 (ref and WASM); NaN → quiet NaN 0x7e00 (±)', () => {
  const h = ALL();
  const f = new Float32Array(65536);
  R.f16ToF32(f, h, 65536);
  for (const run of [(d: Uint16Array) => R.f32ToF16(d, f, 65536), ...[c1, c2, s128].map((c) => (d: Uint16Array) => W.f32ToF16(c, d, f, 65536))]) {
    const back = new Uint16Array(65536);
    run(back);
    // (halfToFloat drops a NaN's sign, so the sign of a NaN is not part of the contract)
    for (let i = 0; i < 65536; i++) assert.equal(isNanHalf(i) ? back[i]! & 0x7fff : back[i], isNanHalf(i) ? 0x7e00 : i, `0x${i.toString(16)}`);
  }
});

test('f32ToF16: round to nearest even at every tie between neighbouring halves (subnormals, overflow to inf), ±1 ulp around it', () => {
  // For each positive half a < 0x7c00 and its successor b = a + 1 (b = 0x7c00 continues the grid at 65536):
  // the midpoint is exact in f32; it goes to whichever of a, b has an even mantissa, one f32 ulp below to a,
  // one above to b. Both signs.
  const xs: number[] = [], want: number[] = [];
  for (let a = 0; a < 0x7c00; a++) {
    const va = halfToFloat(a), vb = a === 0x7bff ? 65536 : halfToFloat(a + 1);
    const mid = (va + vb) / 2;
    assert.equal(Math.fround(mid), mid);
    const even = (a & 1) === 0 ? a : a + 1;
    for (const [x, w] of [[mid, even], [nextF32(mid, -1), a], [nextF32(mid, 1), a + 1]] as const) {
      xs.push(x, -x);
      want.push(w, w | 0x8000);
    }
  }
  // Overflow, infinities, NaN, f32 subnormals, exact values.
  const extra: Array<[number, number]> = [[65504, 0x7bff], [65519.99609375, 0x7bff], [65520, 0x7c00], [65536, 0x7c00], [1e10, 0x7c00],
    [3.4028234663852886e38, 0x7c00], [Infinity, 0x7c00], [-Infinity, 0xfc00], [-65520, 0xfc00], [NaN, 0x7e00], [1e-45, 0], [-1e-45, 0x8000],
    [0, 0], [-0, 0x8000], [1, 0x3c00], [2 ** -24, 1], [2 ** -25, 0], [3 * 2 ** -26, 1], [2 ** -14, 0x400]];
  for (const [x, w] of extra) {
    xs.push(x);
    want.push(w);
  }
  const src = Float32Array.from(xs), n = src.length;
  const ref = new Uint16Array(n);
  R.f32ToF16(ref, src, n);
  for (let i = 0; i < n; i++) assert.equal(ref[i], want[i], `ref x=${src[i]}: 0x${ref[i]!.toString(16)} vs 0x${want[i]!.toString(16)}`);
  for (const c of [c1, c2, s128]) {
    const got = new Uint16Array(n);
    W.f32ToF16(c, got, src, n);
    for (let i = 0; i < n; i++) assert.equal(got[i], want[i], `wasm x=${src[i]} threads=${c.threads}: 0x${got[i]!.toString(16)} vs 0x${want[i]!.toString(16)}`);
  }
});

test('f32ToF16: WASM ≡ ref on 2^20 random f32 bit patterns (every exponent, NaNs, subnormals) and odd lengths', () => {
  const rng = new Rng(5);
  const n = 1 << 20;
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) u[i] = (rng.int(1 << 16) << 16) | rng.int(1 << 16);
  const src = new Float32Array(u.buffer);
  const want = new Uint16Array(n);
  R.f32ToF16(want, src, n);
  for (const c of [c1, c2]) {
    const got = new Uint16Array(n);
    W.f32ToF16(c, got, src, n);
    for (let i = 0; i < n; i++) if (got[i] !== want[i]) assert.fail(`bits 0x${u[i]!.toString(16)}: wasm 0x${got[i]!.toString(16)} vs ref 0x${want[i]!.toString(16)} (threads ${c.threads})`);
  }
  for (const k of [1, 5, 9, 15]) {
    const a = new Uint16Array(k), b = new Uint16Array(k);
    R.f32ToF16(a, src.subarray(3, 3 + k), k);
    W.f32ToF16(c1, b, src.subarray(3, 3 + k), k);
    assert.deepEqual(b, a, `n=${k}`);
  }
});

function halves(rng: Rng, n: number, s = 1): Uint16Array {
  const f = new Float32Array(n);
  rng.fillNormal(f, 0, s);
  const h = new Uint16Array(n);
  R.f32ToF16(h, f, n);
  return h;
}

// HS: 1 (tail only), 6 (4 + 2), 13 (8 + 4 + 1), 64, 128 (the 2B4T head), 21; groups G = H/KVH of 1, 2, 4 (runs of 4
// heads), 6 (4 + 2), 10 (MQA); 2 and 3 threads cut runs at different heads
const F16_ATTENTION_SHAPES = [[1, 0, 1, 1, 1], [1, 37, 4, 2, 6], [5, 3, 6, 3, 13], [17, 0, 20, 5, 8], [1, 300, 16, 16, 64], [1, 700, 20, 5, 128],
  [3, 61, 20, 5, 128], [1, 900, 12, 2, 24], [2, 500, 10, 1, 21],
  // MHA with several queries: runs of up to 4 queries of one head (9 = 4 + 4 + 1; 3 threads cut runs mid-way)
  [9, 5, 4, 4, 16], [6, 0, 3, 3, 24], [33, 2, 2, 2, 8]] as const;

test('attentionCachedF16 ref ≡ attentionCached ref on the widened cache (exactly); WASM = ref within 2e-6 + 2e-5·|x|; SIMD128 module = ref too; 1 ≡ 2 ≡ 3 threads', () => {
  const rng = new Rng(7);
  for (const [M, pos0, H, KVH, HS] of F16_ATTENTION_SHAPES) {
    const S = pos0 + M + 3;
    const q = new Float32Array(M * H * HS);
    rng.fillNormal(q, 0, 1);
    const kc = halves(rng, S * KVH * HS, 2), vc = halves(rng, S * KVH * HS);
    const want = new Float32Array(M * H * HS);
    R.attentionCachedF16(want, q, kc, vc, M, pos0, S, H, KVH, HS);
    const kf = new Float32Array(kc.length), vf = new Float32Array(vc.length);
    R.f16ToF32(kf, kc, kc.length);
    R.f16ToF32(vf, vc, vc.length);
    const viaF32 = new Float32Array(M * H * HS);
    R.attentionCached(viaF32, q, kf, vf, M, pos0, S, H, KVH, HS);
    assertBitIdentical(want, viaF32, `ref f16 vs f32 M=${M} pos0=${pos0}`);
    const a = new Float32Array(M * H * HS), b = new Float32Array(M * H * HS), r = new Float32Array(M * H * HS), f = new Float32Array(M * H * HS);
    const b3 = new Float32Array(M * H * HS);
    W.attentionCachedF16(c1, a, q, kc, vc, M, pos0, S, H, KVH, HS);
    W.attentionCachedF16(c2, b, q, kc, vc, M, pos0, S, H, KVH, HS);
    W.attentionCachedF16(c3, b3, q, kc, vc, M, pos0, S, H, KVH, HS);
    W.attentionCachedF16(s128, r, q, kc, vc, M, pos0, S, H, KVH, HS);
    assertAllClose(a, want, { atol: 2e-6, rtol: 2e-5 }, `M=${M} pos0=${pos0} HS=${HS}`);
    assertBitIdentical(b, a, `2 threads M=${M} pos0=${pos0}`);
    assertBitIdentical(b3, a, `3 threads M=${M} pos0=${pos0}`);
    assertAllClose(r, want, { atol: 2e-6, rtol: 2e-5 }, `SIMD128 module M=${M} pos0=${pos0} HS=${HS}`);
    // and the WASM f32 kernel on the widened cache (different accumulator split: within tolerance)
    W.attentionCached(c1, f, q, kf, vf, M, pos0, S, H, KVH, HS);
    assertAllClose(a, f, { atol: 2e-6, rtol: 2e-5 }, `wasm f16 vs wasm f32 M=${M}`);
  }
});

// One query (decode) walks the cache key by key over all of a thread's heads, in chunks that fit its scratch
// (wasm/assembly/infer.ts decode_f16); at pos0 = 100000 a 4 MiB scratch holds 10 score rows, so the 16-head
// shape runs in chunks of 10 and 6 and a run of four GQA heads is split between them.
test('attentionCached(F16) WASM: M queries in one call ≡ one query per call (prefill ≡ decode), bit for bit, MHA and GQA, f16 (exact and fast widening) and f32 caches', () => {
  const rng = new Rng(9);
  for (const [M, pos0, H, KVH, HS] of [[9, 5, 4, 4, 16], [7, 0, 6, 6, 40], [5, 3, 6, 3, 13], [6, 2, 16, 4, 24], [3, 100000, 16, 4, 8], [2, 100000, 12, 12, 8]] as const) {
    const S = pos0 + M;
    const q = new Float32Array(M * H * HS);
    rng.fillNormal(q, 0, 1);
    const kc = halves(rng, S * KVH * HS, 2), vc = halves(rng, S * KVH * HS);
    const kf = new Float32Array(kc.length), vf = new Float32Array(vc.length);
    R.f16ToF32(kf, kc, kc.length);
    R.f16ToF32(vf, vc, vc.length);
    const row = (m: number) => q.subarray(m * H * HS, (m + 1) * H * HS);
    for (const c of [c1, c2, c3]) {
      for (const cache of ['f16', 'f16 finite', 'f32'] as const) {
        const run = (out: Float32Array, qq: Float32Array, m: number, pos: number) => cache === 'f32'
          ? W.attentionCached(c, out, qq, kf, vf, m, pos, S, H, KVH, HS)
          : W.attentionCachedF16(c, out, qq, kc, vc, m, pos, S, H, KVH, HS, cache === 'f16 finite');
        const all = new Float32Array(M * H * HS), one = new Float32Array(M * H * HS);
        run(all, q, M, pos0);
        for (let m = 0; m < M; m++) {
          const o = new Float32Array(H * HS);
          run(o, row(m), 1, pos0 + m);
          one.set(o, m * H * HS);
        }
        assertBitIdentical(all, one, `${cache} M=${M} H=${H} KVH=${KVH} threads=${c.threads}`);
      }
    }
  }
});

test('attentionCachedF16: the relaxed module runs the same kernel as the SIMD128 module, bit for bit', { skip: features.relaxed ? false : 'this engine lacks relaxed SIMD' }, () => {
  assert.ok(c1.relaxed && !s128.relaxed, 'one context per module');
  const rng = new Rng(8);
  for (const [M, pos0, H, KVH, HS] of F16_ATTENTION_SHAPES) {
    const S = pos0 + M + 3;
    const q = new Float32Array(M * H * HS);
    rng.fillNormal(q, 0, 1);
    const kc = halves(rng, S * KVH * HS, 2), vc = halves(rng, S * KVH * HS);
    const a = new Float32Array(M * H * HS), r = new Float32Array(M * H * HS);
    W.attentionCachedF16(c1, a, q, kc, vc, M, pos0, S, H, KVH, HS);
    W.attentionCachedF16(s128, r, q, kc, vc, M, pos0, S, H, KVH, HS);
    assertBitIdentical(a, r, `relaxed vs SIMD128 module M=${M} pos0=${pos0} HS=${HS}`);
  }
});

test('attentionCachedF16 WASM: one position with p = 1 returns the V row widened exactly (every finite half, all SIMD paths)', () => {
  const finite = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
  for (const HS of [finite.length, finite.length - 1, finite.length - 5]) {
    const vc = finite.subarray(0, HS), kc = new Uint16Array(HS), q = new Float32Array(HS);
    const out = new Float32Array(HS);
    W.attentionCachedF16(c1, out, q, kc, vc, 1, 0, 1, 1, 1, HS);
    for (let i = 0; i < HS; i++) if (out[i] !== halfToFloat(vc[i]!)) assert.fail(`HS=${HS} half 0x${vc[i]!.toString(16)}: ${out[i]} vs ${halfToFloat(vc[i]!)}`);
  }
});

test('attentionCachedF16 WASM fast path (finite = true: scaled widening, q·2^112): bit-identical to the exact widening on finite caches (subnormals, ±65504), rows with |q| ≥ 2^16 fall back; both modules, 1 ≡ 2 ≡ 3 threads', () => {
  const rng = new Rng(9);
  const finite = Uint16Array.from({ length: 65536 }, (_, i) => i).filter((h) => (h & 0x7c00) !== 0x7c00);
  const mods = [['relaxed', c1], ['2 threads', c2], ['3 threads', c3], ['SIMD128', s128]] as const;
  for (const [M, pos0, H, KVH, HS] of [...F16_ATTENTION_SHAPES, [4, 9, 8, 8, 7], [2, 40, 16, 16, 96]] as const) {
    const S = pos0 + M + 3;
    const q = new Float32Array(M * H * HS);
    rng.fillNormal(q, 0, 1);
    if (q.length > 2 * HS) q[HS + 1] = 70000; // the second head row cannot take the scaled path
    const kc = halves(rng, S * KVH * HS, 2), vc = halves(rng, S * KVH * HS);
    // every kind of finite half somewhere: subnormals, the largest, negative zero
    for (let i = 0; i < kc.length; i += 7) kc[i] = finite[rng.int(finite.length)]!;
    for (let i = 3; i < vc.length; i += 5) vc[i] = finite[rng.int(finite.length)]!;
    const exact = new Float32Array(M * H * HS);
    W.attentionCachedF16(s128, exact, q, kc, vc, M, pos0, S, H, KVH, HS, false);
    for (const [name, ctx] of mods) {
      const fast = new Float32Array(M * H * HS).fill(NaN);
      W.attentionCachedF16(ctx, fast, q, kc, vc, M, pos0, S, H, KVH, HS, true);
      assertBitIdentical(fast, exact, `${name} M=${M} pos0=${pos0} H=${H} KVH=${KVH} HS=${HS}`);
    }
  }
});

test('attentionCachedF16 fast path needs the finiteness promise: with an inf key the exact kernel propagates it, the scaled widening would not (why src/infer/forward.ts tracks inf/NaN rows per layer)', () => {
  const H = 2, KVH = 1, HS = 8, S = 4;
  const q = new Float32Array(H * HS).fill(0.5);
  const kc = new Uint16Array(S * KVH * HS).fill(0x3c00), vc = new Uint16Array(S * KVH * HS).fill(0x3c00);
  kc[5] = 0x7c00; // +inf in row 0
  const exact = new Float32Array(H * HS), fastWrong = new Float32Array(H * HS);
  W.attentionCachedF16(c1, exact, q, kc, vc, 1, 1, S, H, KVH, HS, false);
  W.attentionCachedF16(c1, fastWrong, q, kc, vc, 1, 1, S, H, KVH, HS, true);
  assert.ok(exact.some((x) => !Number.isFinite(x)), 'the exact kernel propagates the inf');
  assert.ok(fastWrong.every((x) => Number.isFinite(x)), 'the fast path would not: so the caller must promise finiteness');
});

test('f16 kernels: typed errors', () => {
  const o = new Float32Array(8), h = new Uint16Array(8);
  assert.throws(() => R.attentionCachedF16(o, o, h, h, 1, 4, 4, 1, 1, 2), ArgumentError); // pos0 + M > S
  assert.throws(() => R.attentionCachedF16(o, o, h, h, 1, 0, 4, 3, 2, 2), ArgumentError); // H % KVH
  assert.throws(() => R.attentionCachedF16(o, o, o as unknown as Uint16Array, h, 1, 0, 4, 1, 1, 2), DTypeError); // f32 cache
  assert.throws(() => R.attentionCachedF16(o, o, h, h, 1, 0, 8, 1, 1, 2), ShapeError); // cache shorter than S·KVH·HS
  assert.throws(() => W.attentionCachedF16(c1, o, new Float64Array(8), h, h, 1, 0, 4, 1, 1, 2), DTypeError); // WASM: f32 only
  assert.throws(() => R.f32ToF16(new Uint16Array(3), o, 4), ShapeError);
  assert.throws(() => R.f32ToF16(new Int16Array(8) as unknown as Uint16Array, o, 4), DTypeError);
  assert.throws(() => W.f32ToF16(c1, h, new Float64Array(8), 8), DTypeError);
  assert.throws(() => W.f16ToF32(c1, o, h, -1), ArgumentError);
});
