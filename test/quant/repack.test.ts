/**
 * The loaders' repack kernels (src/quant/repack.ts) against their references: decode the stored
 * codes to int8 (src/io/gguf_quant.ts decodeTernary, src/interop/hf_pack.ts) then packI2R4Rows.
 * Outputs must be byte-identical, fused parts placed at any row offset, code 3 rejected.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FormatError } from '../../src/errors.js';
import { decodeTernary, encodeTernaryTQ, floatToHalf, ggmlType, halfToFloat } from '../../src/io/gguf_quant.js';
import { packHfTernary } from '../../src/interop/hf_pack.js';
import { bytesI2R4, packI2, packI2R4Rows, rowBytesI2 } from '../../src/quant/pack.js';
import { hfToI2R4, i2RowsToI2R4, i2sToI2R4, tq1ToI2R4, tq2ToI2R4 } from '../../src/quant/repack.js';
import { Rng } from '../../src/tensor/rng.js';
import { encodeI2S } from '../helpers/i2s.js';

function ternary(n: number, seed: number): Int8Array {
  const r = new Rng(seed);
  const q = new Int8Array(n);
  for (let i = 0; i < n; i++) q[i] = (r.nextU32() % 3) - 1;
  return q;
}

/** Reference: rows [r0, r0+n) of a fused 'i2r4' matrix of N rows packed from int8 codes. */
function reference(q: Int8Array, r0: number, n: number, N: number, K: number): Uint8Array {
  const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
  packI2R4Rows(dst, q, r0, n, K);
  return dst;
}


describe('repack stored ternary codes into i2r4', () => {
  const shapes: Array<[number, number, number]> = [[6, 256, 1], [13, 512, 3], [8, 768, 0], [5, 1024, 2]]; // n, K, r0 (fused offset)
  for (const [n, K, r0] of shapes) {
    const N = r0 + n + 3; // rows after the part belong to the next fused part
    test(`TQ2_0 ${n}×${K} at row ${r0}: byte-identical to decode + packI2R4Rows, β per row`, () => {
      const q = ternary(n * K, n * K + r0);
      const beta = 0.0123;
      const tq = encodeTernaryTQ('TQ2_0', q, beta);
      const ref = decodeTernary(ggmlType('TQ2_0')!, tq, n * K);
      assert.deepEqual(ref.q, q, 'the reference decoder gives the codes back');
      const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
      const b = new Float32Array(N);
      assert.equal(tq2ToI2R4(dst, tq, r0, n, K, b), true);
      assert.deepEqual(dst, reference(q, r0, n, N, K));
      for (let r = 0; r < N; r++) assert.equal(b[r], r >= r0 && r < r0 + n ? halfToFloat(floatToHalf(beta)) : 0, `beta[${r}]`);
    });
    test(`TQ1_0 ${n}×${K} at row ${r0}: byte-identical to decode + packI2R4Rows, β per row`, () => {
      const q = ternary(n * K, 3 * n * K + r0);
      const tq = encodeTernaryTQ('TQ1_0', q, 0.0123);
      assert.deepEqual(decodeTernary(ggmlType('TQ1_0')!, tq, n * K).q, q, 'the reference decoder gives the codes back');
      const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
      const b = new Float32Array(N);
      assert.equal(tq1ToI2R4(dst, tq, r0, n, K, b), true);
      assert.deepEqual(dst, reference(q, r0, n, N, K));
      for (let r = r0; r < r0 + n; r++) assert.equal(b[r], halfToFloat(floatToHalf(0.0123)), `beta[${r}]`);
    });
    if (K % 128 === 0) {
      test(`I2_S ${n}×${K} at row ${r0}: byte-identical to decode + packI2R4Rows`, () => {
        const q = ternary(n * K, 7 * n + K);
        const i2s = encodeI2S(q, 0.5);
        assert.deepEqual(decodeTernary(ggmlType('I2_S')!, i2s, n * K).q, q, 'the reference decoder gives the codes back');
        const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
        assert.equal(i2sToI2R4(dst, i2s.subarray(0, (n * K) / 4), r0, n, K), true);
        assert.deepEqual(dst, reference(q, r0, n, N, K));
      });
    }
  }
  for (const [R, K, r0] of [[8, 64, 0], [12, 100, 4], [16, 320, 3], [4, 200, 1]] as const) {
    test(`HF packed ${R}×${K} at row ${r0} (K % 64 = ${K % 64}): byte-identical to unpack + packI2R4Rows`, () => {
      const q = ternary(R * K, R + K);
      const N = r0 + R + 2;
      const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
      hfToI2R4(dst, packHfTernary(q, R, K), r0, R, K);
      assert.deepEqual(dst, reference(q, r0, R, N, K));
    });
  }
  test("'i2' rows → i2r4 equals packing the codes directly", () => {
    const n = 7, K = 200, r0 = 2, N = 12;
    const q = ternary(n * K, 99);
    const rows = new Uint8Array(n * rowBytesI2(K));
    packI2(rows, q, n, K);
    const dst = new Uint8Array(bytesI2R4(N, K)).fill(0x55);
    i2RowsToI2R4(dst, rows, r0, n, K);
    assert.deepEqual(dst, reference(q, r0, n, N, K));
  });
  test('TQ2_0: zero blocks with another scale are lossless (weight 0); mixed non-zero scales are refused', () => {
    const n = 2, K = 512;
    const q = ternary(n * K, 5);
    q.fill(0, 256, 512); // row 0, block 1: all zero
    const a = encodeTernaryTQ('TQ2_0', q.subarray(0, 256), 0.25), z = encodeTernaryTQ('TQ2_0', q.subarray(256, 512), 0.25);
    const rest = encodeTernaryTQ('TQ2_0', q.subarray(512), 0.25);
    const zBlock = z.slice();
    zBlock[64] = 0; zBlock[65] = 0; // d = 0 on the zero block
    const tq = new Uint8Array([...a, ...zBlock, ...rest]);
    const dst = new Uint8Array(bytesI2R4(n, K)).fill(0x55), beta = new Float32Array(n);
    assert.equal(tq2ToI2R4(dst, tq, 0, n, K, beta), true);
    assert.deepEqual(dst, reference(q, 0, n, n, K));
    assert.deepEqual([...beta], [0.25, 0.25]);
    const mixed = new Uint8Array([...a, ...encodeTernaryTQ('TQ2_0', ternary(256, 8), 0.5), ...rest]);
    assert.equal(tq2ToI2R4(dst, mixed, 0, n, K, beta), false, 'two different non-zero scales in one row');
  });
  test('TQ1_0: every byte value decodes like the reference; zero blocks with another scale are weight 0; mixed scales refused', () => {
    // all 256 byte values in every position of one block: the reference decoder is the definition
    const K = 256, n = 1;
    const tq = new Uint8Array(54);
    for (let i = 0; i < 52; i++) tq[i] = (i * 37 + 11) & 0xff;
    tq[52] = 0x00; tq[53] = 0x3c; // d = 1
    for (let shift = 0; shift < 256; shift += 5) {
      for (let i = 0; i < 52; i++) tq[i] = (tq[i]! + shift) & 0xff;
      const q = decodeTernary(ggmlType('TQ1_0')!, tq, K).q;
      const dst = new Uint8Array(bytesI2R4(n, K)).fill(0x55);
      assert.equal(tq1ToI2R4(dst, tq, 0, n, K, new Float32Array(n)), true);
      assert.deepEqual(dst, reference(q, 0, n, n, K), `shift ${shift}`);
    }
    const q = ternary(512, 9);
    q.fill(0, 256, 512);
    const a = encodeTernaryTQ('TQ1_0', q.subarray(0, 256), 0.25), z = encodeTernaryTQ('TQ1_0', q.subarray(256), 0.25);
    z[52] = 0x00; z[53] = 0x40; // d = 2 on the all-zero block
    const dst = new Uint8Array(bytesI2R4(1, 512)).fill(0x55), beta = new Float32Array(1);
    assert.equal(tq1ToI2R4(dst, new Uint8Array([...a, ...z]), 0, 1, 512, beta), true);
    assert.deepEqual(dst, reference(q, 0, 1, 1, 512));
    assert.equal(beta[0], 0.25);
    assert.equal(tq1ToI2R4(dst, new Uint8Array([...a, ...encodeTernaryTQ('TQ1_0', ternary(256, 2), 0.5)]), 0, 1, 512, beta), false);
  });
  test('code 3 is a FormatError in every format', () => {
    const K = 256, n = 4;
    const q = ternary(n * K, 3);
    const tq = encodeTernaryTQ('TQ2_0', q, 1);
    tq[70] = 0xff;
    assert.throws(() => tq2ToI2R4(new Uint8Array(bytesI2R4(n, K)), tq, 0, n, K, new Float32Array(n)), FormatError);
    const i2s = encodeI2S(q, 1);
    i2s[9] = 0xc0;
    assert.throws(() => i2sToI2R4(new Uint8Array(bytesI2R4(n, K)), i2s.subarray(0, (n * K) / 4), 0, n, K), FormatError);
    const hf = packHfTernary(q, n, K);
    hf[11] = 0x30;
    assert.throws(() => hfToI2R4(new Uint8Array(bytesI2R4(n, K)), hf, 0, n, K), FormatError);
    const rows = new Uint8Array(n * rowBytesI2(K));
    packI2(rows, q, n, K);
    rows[5] = 0x03;
    assert.throws(() => i2RowsToI2R4(new Uint8Array(bytesI2R4(n, K)), rows, 0, n, K), FormatError);
  });
});
