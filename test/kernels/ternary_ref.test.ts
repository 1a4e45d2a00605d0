/**
 * Packed formats and reference packed matmuls: pack→unpack identity (all 243 base-3 bytes,
 * random rows, K not a multiple of the block), the format table, and every packed matmul
 * EXACT against a plain integer triple loop on the unpacked weights at awkward shapes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArgumentError, DTypeError, ShapeError } from '../../src/errors.js';
import {
  matmulBinaryI8, matmulBinaryI8Acc, matmulTernary1p6I8, matmulTernary1p6I8Acc,
  matmulTernaryI4, matmulTernaryI4Acc, matmulTernaryI8, matmulTernaryI8Acc,
} from '../../src/kernels/ref/ternary.js';
import { FORMAT_TRAITS, formatTraits, type FormatName } from '../../src/quant/formats.js';
import { decodeTrit, encodeTrits5, packI1p6, packI2, packI2R4Rows, rowBytesI1p6, rowBytesI2, unpackI1p6 } from '../../src/quant/pack.js';
import { Rng } from '../../src/tensor/rng.js';
import { assertExact } from '../helpers/check.js';

const f32 = Math.fround;

function randWeights(rng: Rng, n: number, binary: boolean): Int8Array {
  const q = new Int8Array(n);
  for (let i = 0; i < n; i++) q[i] = binary ? rng.int(2) * 2 - 1 : rng.int(3) - 1;
  return q;
}

function plainAcc(wq: Int8Array, xq: Int8Array, M: number, K: number, N: number): Int32Array {
  const acc = new Int32Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let a = 0;
    for (let k = 0; k < K; k++) a += wq[n * K + k]! * xq[m * K + k]!;
    acc[m * N + n] = a;
  }
  return acc;
}

test('i1.6: all 243 base-3 values round-trip through one byte; every byte decodes to trits', () => {
  const seen = new Set<number>();
  for (let v = 0; v < 243; v++) {
    const t = [Math.floor(v / 81) % 3, Math.floor(v / 27) % 3, Math.floor(v / 9) % 3, Math.floor(v / 3) % 3, v % 3];
    const b = encodeTrits5(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!);
    assert.ok(b >= 0 && b <= 255);
    seen.add(b);
    for (let n = 0; n < 5; n++) assert.equal(decodeTrit(b, n), t[n], `v=${v} trit ${n}`);
    // through pack/unpack: trits at weights 0, 16, 32, 48, 64 of one 80-weight block
    const q = new Int8Array(80);
    for (let n = 0; n < 5; n++) q[16 * n] = t[n]! - 1;
    const p = new Uint8Array(16);
    packI1p6(p, q, 1, 80);
    assert.equal(p[0], b);
    const u = new Int8Array(80);
    unpackI1p6(u, p, 1, 80);
    assertExact(u, q, `v=${v}`);
  }
  assert.equal(seen.size, 243, 'distinct encodings');
  for (let b = 0; b < 256; b++) for (let n = 0; n < 5; n++) assert.ok(decodeTrit(b, n) <= 2);
});

test('pack→unpack identity for every format, random rows, K not a multiple of the block', () => {
  const rng = new Rng(10);
  for (const name of Object.keys(FORMAT_TRAITS) as FormatName[]) {
    const t = formatTraits(name);
    for (const K of [1, 3, 5, 63, 64, 65, 79, 80, 81, 127, 128, 129, 257, 2560]) {
      const N = 3;
      const q = randWeights(rng, N * K, t.values === 'binary');
      const p = new Uint8Array(t.bytes(N, K));
      assert.equal(p.length, Math.ceil(N / t.rowGroup) * t.rowGroup * t.blockBytes * Math.ceil(K / t.blockWeights));
      t.pack(p, q, N, K);
      const u = new Int8Array(N * K);
      t.unpack(u, p, N, K);
      assertExact(u, q, `${name} K=${K}`);
    }
  }
  // i2 byte layout: byte j of a block holds weights j, j+16, j+32, j+48 in bits 0-1, 2-3, 4-5, 6-7
  const q = new Int8Array(64);
  q[0] = 1; q[16] = -1; q[32] = 1; q[48] = 0; q[5] = -1;
  const p = new Uint8Array(16);
  packI2(p, q, 1, 64);
  assert.equal(p[0], 2 | (0 << 2) | (2 << 4) | (1 << 6));
  assert.equal(p[5], 0 | (1 << 2) | (1 << 4) | (1 << 6));
  // padding is code 1 (weight 0)
  const p3 = new Uint8Array(16);
  packI2(p3, new Int8Array([1, 1, 1]), 1, 3);
  assert.equal(p3[0], 0x56);
  assert.equal(p3[3], 0x55);
  // i2r4: block b of row n at (n >> 2)·4·rowBytes + 64b + 16(n & 3); padding rows are code 1
  const q6 = new Int8Array(6 * 65).map((_, i) => ((i * 7) % 3) - 1);
  const rows6 = new Uint8Array(FORMAT_TRAITS.i2.bytes(6, 65)), inter6 = new Uint8Array(FORMAT_TRAITS.i2r4.bytes(6, 65));
  FORMAT_TRAITS.i2.pack(rows6, q6, 6, 65);
  FORMAT_TRAITS.i2r4.pack(inter6, q6, 6, 65);
  assert.equal(inter6.length, 8 * 32);
  for (let n = 0; n < 6; n++) for (let b = 0; b < 2; b++) for (let j = 0; j < 16; j++) {
    assert.equal(inter6[(n >> 2) * 128 + 64 * b + 16 * (n & 3) + j], rows6[n * 32 + 16 * b + j], `i2r4 n=${n} b=${b} j=${j}`);
  }
  assert.ok(inter6.subarray(128 + 32, 128 + 48).every((v) => v === 0x55) && inter6.subarray(128 + 112).every((v) => v === 0x55));
  // part by part (a fused matrix whose parts straddle a 4-row group) = the whole at once
  const q11 = new Int8Array(11 * 70).map((_, i) => ((i * 5) % 3) - 1);
  const whole = new Uint8Array(FORMAT_TRAITS.i2r4.bytes(11, 70)), parts = new Uint8Array(whole.length).fill(0x55);
  FORMAT_TRAITS.i2r4.pack(whole, q11, 11, 70);
  packI2R4Rows(parts, q11.subarray(0, 5 * 70), 0, 5, 70);
  packI2R4Rows(parts, q11.subarray(5 * 70), 5, 6, 70);
  assertExact(parts, whole, 'i2r4 packed in parts');
  assert.throws(() => packI2R4Rows(new Uint8Array(FORMAT_TRAITS.i2r4.bytes(4, 70)), q11.subarray(0, 70), 4, 1, 70), ArgumentError);
  assert.equal(rowBytesI2(2560), 640);
  assert.equal(rowBytesI1p6(2560), 512);
  assert.equal(FORMAT_TRAITS['i1.6'].bitsPerWeight, 1.6);
  assert.throws(() => formatTraits('q4_0'), ArgumentError);
  assert.throws(() => packI2(new Uint8Array(16), new Int8Array([2]), 1, 1), ArgumentError);
  assert.throws(() => FORMAT_TRAITS.b1.pack(new Uint8Array(16), new Int8Array([0]), 1, 1), ArgumentError);
  assert.throws(() => FORMAT_TRAITS.i2.unpack(new Int8Array(1), new Uint8Array([3]), 1, 1), ShapeError); // short packed
  assert.throws(() => FORMAT_TRAITS.i2.unpack(new Int8Array(1), new Uint8Array(16).fill(3), 1, 1), ArgumentError); // code 3
});

type Mm = typeof matmulTernaryI8;
type MmAcc = typeof matmulTernaryI8Acc;
const CASES: Array<{ name: string; fmt: FormatName; mm: Mm; acc: MmAcc; lo: number; hi: number }> = [
  { name: 'i2×i8', fmt: 'i2', mm: matmulTernaryI8, acc: matmulTernaryI8Acc, lo: -128, hi: 127 },
  { name: 'i2×i4', fmt: 'i2', mm: matmulTernaryI4, acc: matmulTernaryI4Acc, lo: -8, hi: 7 },
  { name: 'i1.6×i8', fmt: 'i1.6', mm: matmulTernary1p6I8, acc: matmulTernary1p6I8Acc, lo: -128, hi: 127 },
  { name: 'b1×i8', fmt: 'b1', mm: matmulBinaryI8, acc: matmulBinaryI8Acc, lo: -128, hi: 127 },
];

for (const c of CASES) {
  test(`ref ${c.name}: exact int32 accumulators vs a plain integer loop; f32 output formula`, () => {
    const rng = new Rng(20);
    const t = FORMAT_TRAITS[c.fmt];
    for (const K of [1, 3, 63, 64, 65, 127, 257, 2560]) {
      for (const N of [1, 3, 17]) {
        for (const M of K >= 2560 ? [1, 2] : [1, 2, 5]) {
          const wq = randWeights(rng, N * K, t.values === 'binary');
          const xq = new Int8Array(M * K);
          rng.fillInt(xq, c.lo, c.hi);
          if (K === 257 && N === 3) { xq.fill(c.lo); wq.fill(t.values === 'binary' ? -1 : 1); } // extremes
          const w = new Uint8Array(t.bytes(N, K));
          t.pack(w, wq, N, K);
          const acc = new Int32Array(M * N);
          c.acc(acc, xq, w, M, K, N);
          const want = plainAcc(wq, xq, M, K, N);
          assertExact(acc, want, `${c.name} M=${M} K=${K} N=${N}`);
          const xs = new Float32Array(M).map(() => f32(1 + rng.uniform() * 100));
          const out = new Float32Array(M * N);
          c.mm(out, xq, xs, w, M, K, N, 0.75);
          const outG = new Float64Array(M * N);
          const betaG = N % 3 === 0 ? new Float32Array([0.5, 1.5, 2.5]) : new Float32Array([1.25]);
          c.mm(outG, xq, Float64Array.from(xs), w, M, K, N, betaG);
          for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
            const i = m * N + n;
            assert.equal(out[i], f32(f32(f32(want[i]!) / xs[m]!) * 0.75));
            assert.equal(outG[i], f32(f32(f32(want[i]!) / xs[m]!) * betaG[Math.floor(n / (N / betaG.length))]!));
          }
        }
      }
    }
  });
}

test('ref packed matmuls raise typed errors', () => {
  const K = 10, N = 2, M = 1;
  const w = new Uint8Array(rowBytesI2(K) * N), xq = new Int8Array(M * K), xs = new Float32Array(M), out = new Float32Array(M * N);
  assert.throws(() => matmulTernaryI8(out, xq, xs, w.subarray(1), M, K, N, 1), ShapeError);
  assert.throws(() => matmulTernaryI8(out, xq.subarray(1), xs, w, M, K, N, 1), ShapeError);
  assert.throws(() => matmulTernaryI8(out.subarray(1), xq, xs, w, M, K, N, 1), ShapeError);
  assert.throws(() => matmulTernaryI8(out, xq, new Float32Array(0), w, M, K, N, 1), ShapeError);
  assert.throws(() => matmulTernaryI8(out, new Uint8Array(K) as unknown as Int8Array, xs, w, M, K, N, 1), DTypeError);
  assert.throws(() => matmulTernaryI8Acc(new Float32Array(2) as unknown as Int32Array, xq, w, M, K, N), DTypeError);
  assert.throws(() => matmulTernaryI8(out, xq, xs, w, M, K, N, new Float32Array(3)), ArgumentError);
  assert.throws(() => matmulTernaryI8(out, xq, xs, w, M, K, N, NaN), ArgumentError);
  assert.throws(() => matmulTernaryI8(out, xq, xs, w, M, -1, N, 1), ArgumentError);
  xq[3] = 8;
  assert.throws(() => matmulTernaryI4(out, xq, xs, w, M, K, N, 1), ArgumentError);
  assert.throws(() => matmulTernaryI4Acc(new Int32Array(2), xq, w, M, K, N), ArgumentError);
  assert.throws(() => matmulTernary1p6I8(out, xq, xs, new Uint8Array(15), M, K, N, 1), ShapeError);
  assert.throws(() => matmulBinaryI8(out, xq, xs, new Uint8Array(31), M, K, N, 1), ShapeError);
});
