/**
 * Stored ternary codes of other formats → the engine's 'i2r4' layout (src/quant/pack.ts), byte to byte:
 * the loaders' hot loops. Every format here stores code c = w + 1 ∈ {0, 1, 2} in two bits, only the
 * order of the weights inside the bytes differs, so each output byte is assembled from two (or four)
 * input bytes with shifts and a 16-entry table, never through one int8 per weight. The reference for
 * each is "decode to int8 codes (src/io/gguf_quant.ts decodeTernary, src/interop/hf_pack.ts) then
 * packI2R4Rows"; test/quant/repack.test.ts holds them byte-identical. Code 3 raises FormatError.
 *
 * Output address of i2 byte j (0..15) of 64-weight block b of row n (K columns, rb = 16·⌈K/64⌉):
 *   (n >> 2)·4·rb + 64·b + 16·(n & 3) + j   holding weights 64b + j + 16t in bits 2t, t = 0..3.
 *
 * TQ2_0 (ggml; 256 weights / 66 bytes, qs[64] then f16 d): byte 32h' + m of the block holds weights
 *   128h' + m + 32l in bits 2l. For i2 block b = 4·blk + 2h' + h: weights 64h + j + 16t of chunk h'
 *   sit in A = qs[32h' + j] (t even) and B = qs[32h' + j + 16] (t odd), bits 4h + 2(t >> 1).
 *   So out = f(A >> 4h) | f(B >> 4h) << 2 with f(x) = (x & 3) | (x & 0xC) << 2.
 * I2_S (bitnet.cpp; 128-weight blocks of 32 bytes): byte k holds weights k + 32g in bits 6 − 2g.
 *   For i2 block 2·blk + h: A = I[j], B = I[j + 16], nibble x = (A >> (4 − 4h)) & 15 holds the codes of
 *   groups 2h (bits 2-3) and 2h + 1 (bits 0-1): out = g(xA) | g(xB) << 2 with g(x) = (x >> 2) | (x & 3) << 4.
 * TQ1_0 (ggml; 256 weights / 54 bytes, qs[48], qh[4], f16 d; 5 base-3 trits per byte, decoded without
 *   division as t_n(x) = ((x·3ⁿ mod 256)·3) >> 8): qs[m] (m < 32) holds weights m + 32n, qs[32 + m] (m < 16)
 *   weights 160 + m + 16n, qh[j] weights 240 + j + 4n. Each i2 byte j of the four 64-weight blocks is then
 *   A = qs[j], B = qs[j + 16], C = qs[32 + j], D = qh[j & 3]:
 *     block 0: t0(A) | t0(B)<<2 | t1(A)<<4 | t1(B)<<6      block 1: the same with trits 2 and 3
 *     block 2: t4(A) | t4(B)<<2 | t0(C)<<4 | t1(C)<<6      block 3: t2(C) | t3(C)<<2 | t4(C)<<4 | t_{j>>2}(D)<<6
 *   each term a 256-entry table of the byte (trits are always valid: no code 3).
 * HF packed (transformers; (R/4, C) uint8): output row i·(R/4) + p is bits 2i of byte P[p][c]. The four
 *   rows of one p come out of the same four input bytes (a 4 × 4 transpose of 2-bit fields).
 */
import { FormatError } from '../errors.js';
import { halfToFloat } from '../tensor/half.js';
import { bytesI2R4, rowBytesI2 } from './pack.js';

/** f(x) = (x & 3) | (x & 0xC) << 2 for x < 16. */
const TQ2_NIB = Uint8Array.from({ length: 16 }, (_, x) => (x & 3) | ((x & 0xc) << 2));
/** g(x) = (x >> 2) | (x & 3) << 4 for x < 16. */
const I2S_NIB = Uint8Array.from({ length: 16 }, (_, x) => (x >> 2) | ((x & 3) << 4));

/** Trit n (0..2) of a TQ1_0 byte x (ggml's fixed-point base 3). */
const trit = (x: number, n: number): number => ((((x * [1, 3, 9, 27, 81][n]!) & 0xff) * 3) >> 8);
/** Per byte x: the i2 code fields a TQ1_0 block's bytes contribute (see the module doc). */
const TQ1_LO = Array.from({ length: 5 }, (_, n) => Uint8Array.from({ length: 256 }, (_, x) => trit(x, n)));
const TQ1_P01 = Uint8Array.from({ length: 256 }, (_, x) => trit(x, 0) | (trit(x, 1) << 4));
const TQ1_P23 = Uint8Array.from({ length: 256 }, (_, x) => trit(x, 2) | (trit(x, 3) << 4));
const TQ1_C01 = Uint8Array.from({ length: 256 }, (_, x) => (trit(x, 0) << 4) | (trit(x, 1) << 6));
const TQ1_C234 = Uint8Array.from({ length: 256 }, (_, x) => trit(x, 2) | (trit(x, 3) << 2) | (trit(x, 4) << 4));

/** True when some 2-bit field of byte x is 3. */
const HAS3 = Uint8Array.from({ length: 256 }, (_, x) => (x & (x >> 1) & 0x55 ? 1 : 0));

function checkDst(where: string, dst: Uint8Array, r0: number, n: number, K: number): void {
  if (dst.length < bytesI2R4(r0 + n, K)) throw new FormatError(`${where}: destination has ${dst.length} bytes; rows up to ${r0 + n} need ${bytesI2R4(r0 + n, K)}`);
}

/** Offset of 64-weight block b of row n in an 'i2r4' matrix with row bytes rb. */
function r4(n: number, b: number, rb: number): number {
  return (n >> 2) * 4 * rb + 64 * b + 16 * (n & 3);
}

/** 'i2' rows (n, rowBytesI2(K)) → rows [r0, r0 + n) of an 'i2r4' matrix (16-byte block copies; codes checked). */
export function i2RowsToI2R4(dst: Uint8Array, src: Uint8Array, r0: number, n: number, K: number, where = 'i2'): void {
  const rb = rowBytesI2(K);
  if (src.length !== n * rb) throw new FormatError(`${where}: 'i2' rows need ${n * rb} bytes, got ${src.length}`);
  checkDst(where, dst, r0, n, K);
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < rb / 16; b++) {
      const s = r * rb + 16 * b, d = r4(r0 + r, b, rb);
      for (let j = 0; j < 16; j++) {
        const x = src[s + j]!;
        if (HAS3[x]) throw new FormatError(`${where}: invalid 'i2' code 3 at byte ${s + j}`);
        dst[d + j] = x;
      }
    }
  }
}

/**
 * TQ2_0 tensor bytes of n rows × K (K % 256 == 0) → rows [r0, r0 + n) of an 'i2r4' matrix, with
 * β[r0 + r] = the row's block scale d. Lossless when every block of a row that holds a non-zero weight
 * has the same d (blocks with d = 0 become zero weights); returns false otherwise (nothing else to do
 * but re-quantize).
 */
export function tq2ToI2R4(dst: Uint8Array, src: Uint8Array, r0: number, n: number, K: number, beta: Float32Array, where = 'TQ2_0'): boolean {
  if (K % 256 !== 0) return false;
  const nb = K / 256, rb = rowBytesI2(K);
  if (src.length !== n * nb * 66) throw new FormatError(`${where}: TQ2_0 needs ${n * nb * 66} bytes for ${n}×${K}, got ${src.length}`);
  checkDst(where, dst, r0, n, K);
  const zeroBlock = new Uint8Array(nb);
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength), dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const allCode1 = (o: number) => {
    for (let i = 0; i < 64; i++) if (src[o + i] !== 0x55) return false;
    return true;
  };
  for (let r = 0; r < n; r++) {
    const row = r * nb * 66;
    const dBits = rowScale(src, row, nb, 66, 64, zeroBlock, allCode1);
    if (dBits < 0) return false;
    const n4 = r0 + r;
    beta[n4] = halfToFloat(dBits);
    for (let b = 0; b < nb; b++) {
      const o = row + b * 66;
      let bad = 0;
      for (let i = 0; i < 64; i += 4) {
        const w = sv.getUint32(o + i, true);
        bad |= w & (w >>> 1) & 0x55555555;
      }
      if (bad !== 0) {
        const i = src.subarray(o, o + 64).findIndex((x) => HAS3[x] === 1);
        throw new FormatError(`${where}: invalid TQ2_0 code 3 in row ${r}, block ${b} (byte ${o + i})`);
      }
      for (let q = 0; q < 4; q++) {
        const d = r4(n4, 4 * b + q, rb);
        if (zeroBlock[b]) {
          dst.fill(0x55, d, d + 16);
          continue;
        }
        const a = o + 32 * (q >> 1), s = 4 * (q & 1);
        for (let j = 0; j < 16; j += 4) {
          const x = (sv.getUint32(a + j, true) >>> s) & 0x0f0f0f0f, y = (sv.getUint32(a + j + 16, true) >>> s) & 0x0f0f0f0f;
          dv.setUint32(d + j, (x & 0x03030303) | ((x & 0x0c0c0c0c) << 2) | ((y & 0x03030303) << 2) | ((y & 0x0c0c0c0c) << 4), true);
        }
      }
    }
  }
  return true;
}

/**
 * TQ1_0 tensor bytes of n rows × K (K % 256 == 0) → rows [r0, r0 + n) of an 'i2r4' matrix, β per row as
 * tq2ToI2R4 (lossless when a row's blocks with non-zero weights share one d; false otherwise).
 */
export function tq1ToI2R4(dst: Uint8Array, src: Uint8Array, r0: number, n: number, K: number, beta: Float32Array, where = 'TQ1_0'): boolean {
  if (K % 256 !== 0) return false;
  const nb = K / 256, rb = rowBytesI2(K), BB = 54;
  if (src.length !== n * nb * BB) throw new FormatError(`${where}: TQ1_0 needs ${n * nb * BB} bytes for ${n}×${K}, got ${src.length}`);
  checkDst(where, dst, r0, n, K);
  const zero = new Uint8Array(nb);
  for (let r = 0; r < n; r++) {
    const row = r * nb * BB;
    const dBits = rowScale(src, row, nb, BB, 52, zero, (o) => tq1AllZero(src, o));
    if (dBits < 0) return false;
    const n4 = r0 + r;
    beta[n4] = halfToFloat(dBits);
    for (let b = 0; b < nb; b++) {
      const o = row + b * BB;
      const d0 = r4(n4, 4 * b, rb), d1 = d0 + 64, d2 = d0 + 128, d3 = d0 + 192;
      if (zero[b]) {
        for (const d of [d0, d1, d2, d3]) dst.fill(0x55, d, d + 16);
        continue;
      }
      for (let j = 0; j < 16; j++) {
        const A = src[o + j]!, B = src[o + j + 16]!, C = src[o + 32 + j]!, D = src[o + 48 + (j & 3)]!;
        dst[d0 + j] = (TQ1_P01[A]! & 3) | ((TQ1_P01[B]! & 3) << 2) | (TQ1_P01[A]! & 0x30) | ((TQ1_P01[B]! & 0x30) << 2);
        dst[d1 + j] = (TQ1_P23[A]! & 3) | ((TQ1_P23[B]! & 3) << 2) | (TQ1_P23[A]! & 0x30) | ((TQ1_P23[B]! & 0x30) << 2);
        dst[d2 + j] = TQ1_LO[4]![A]! | (TQ1_LO[4]![B]! << 2) | TQ1_C01[C]!;
        dst[d3 + j] = TQ1_C234[C]! | (TQ1_LO[j >> 2]![D]! << 6);
      }
    }
  }
  return true;
}

/** A TQ1_0 block whose 256 weights are all 0 (every trit 1). */
function tq1AllZero(src: Uint8Array, o: number): boolean {
  for (let i = 0; i < 48; i++) for (let t = 0; t < 5; t++) if (TQ1_LO[t]![src[o + i]!] !== 1) return false;
  for (let j = 0; j < 4; j++) for (let t = 0; t < 4; t++) if (TQ1_LO[t]![src[o + 48 + j]!] !== 1) return false;
  return true;
}

/**
 * The f16 bits of a row's common block scale (d at byte `dAt` of each `BB`-byte block), marking blocks of
 * zero weights in `zero` (they may carry any d; d = 0 blocks count as zero); −1 when two blocks with
 * non-zero weights disagree.
 */
function rowScale(src: Uint8Array, row: number, nb: number, BB: number, dAt: number, zero: Uint8Array, allZero: (o: number) => boolean): number {
  zero.fill(0);
  const d0 = src[row + dAt]! | (src[row + dAt + 1]! << 8);
  let same = true;
  for (let b = 1; b < nb && same; b++) same = (src[row + b * BB + dAt]! | (src[row + b * BB + dAt + 1]! << 8)) === d0;
  if (same) return d0;
  let found = -1;
  for (let b = 0; b < nb; b++) {
    const o = row + b * BB;
    const d = src[o + dAt]! | (src[o + dAt + 1]! << 8);
    if ((d & 0x7fff) === 0 || allZero(o)) zero[b] = 1;
    else if (found === -1) found = d;
    else if (d !== found) return -1;
  }
  return found === -1 ? 0 : found;
}

/** I2_S codes of n rows × K (K % 128 == 0; the first n·K/4 bytes of the tensor) → rows [r0, r0 + n) of an 'i2r4' matrix. */
export function i2sToI2R4(dst: Uint8Array, src: Uint8Array, r0: number, n: number, K: number, where = 'I2_S'): boolean {
  if (K % 128 !== 0) return false;
  const rb = rowBytesI2(K), nb = K / 128;
  if (src.length < (n * K) / 4) throw new FormatError(`${where}: I2_S needs ${(n * K) / 4} code bytes for ${n}×${K}, got ${src.length}`);
  checkDst(where, dst, r0, n, K);
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength), dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < nb; b++) {
      const o = (r * nb + b) * 32;
      for (let i = 0; i < 32; i++) if (HAS3[src[o + i]!]) throw new FormatError(`${where}: invalid I2_S code 3 at byte ${o + i}`);
      for (let h = 0; h < 2; h++) {
        const d = r4(r0 + r, 2 * b + h, rb), s = 4 - 4 * h;
        for (let j = 0; j < 16; j += 4) {
          const x = (sv.getUint32(o + j, true) >>> s) & 0x0f0f0f0f, y = (sv.getUint32(o + j + 16, true) >>> s) & 0x0f0f0f0f;
          // g(x) = (x >> 2) | (x & 3) << 4 per byte lane; out = g(xA) | g(xB) << 2
          dv.setUint32(d + j, ((x >>> 2) & 0x03030303) | ((x & 0x03030303) << 4) | ((y & 0x0c0c0c0c)) | ((y & 0x03030303) << 6), true);
        }
      }
    }
  }
  return true;
}

/**
 * HF packed uint8 (R/4, C) → rows [r0, r0 + R) of an 'i2r4' matrix with K = C columns. Each output
 * byte gathers the 2-bit field 2i of four input bytes (columns 64b + j + 16t).
 */
export function hfToI2R4(dst: Uint8Array, src: Uint8Array, r0: number, R: number, K: number, where = 'HF packed'): void {
  if (R % 4 !== 0) throw new FormatError(`${where}: HF packing needs out_features % 4 == 0, got ${R}`);
  const P = R / 4, rb = rowBytesI2(K), full = K >> 6;
  if (src.length !== P * K) throw new FormatError(`${where}: packed tensor has ${src.length} bytes, (${P}, ${K}) needs ${P * K}`);
  checkDst(where, dst, r0, R, K);
  const sv = new DataView(src.buffer, src.byteOffset, src.byteLength), dv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  for (let p = 0; p < P; p++) {
    const row = p * K;
    for (let c = 0; c < K; c++) if (HAS3[src[row + c]!]) throw new FormatError(`${where}: invalid packed code 3 at byte ${row + c}`);
    const d0 = r4(r0 + p, 0, rb), d1 = r4(r0 + P + p, 0, rb), d2 = r4(r0 + 2 * P + p, 0, rb), d3 = r4(r0 + 3 * P + p, 0, rb);
    for (let b = 0; b < full; b++) {
      for (let j = 0; j < 16; j += 4) {
        const c = row + 64 * b + j;
        const x0 = sv.getUint32(c, true), x1 = sv.getUint32(c + 16, true), x2 = sv.getUint32(c + 32, true), x3 = sv.getUint32(c + 48, true);
        const o = 64 * b + j, m = 0x03030303;
        // field i of each input byte → output row i; input byte t → bits 2t of the output (per byte lane).
        dv.setUint32(d0 + o, (x0 & m) | ((x1 & m) << 2) | ((x2 & m) << 4) | ((x3 & m) << 6), true);
        dv.setUint32(d1 + o, ((x0 >>> 2) & m) | (x1 & (m << 2)) | ((x2 & (m << 2)) << 2) | ((x3 & (m << 2)) << 4), true);
        dv.setUint32(d2 + o, ((x0 >>> 4) & m) | ((x1 >>> 2) & (m << 2)) | (x2 & (m << 4)) | ((x3 & (m << 4)) << 2), true);
        dv.setUint32(d3 + o, ((x0 >>> 6) & m) | ((x1 >>> 4) & (m << 2)) | ((x2 >>> 2) & (m << 4)) | (x3 & (m << 6)), true);
      }
    }
    if (full * 64 === K) continue;
    for (let i = 0; i < 4; i++) {
      const d = r4(r0 + i * P + p, full, rb);
      dst.fill(0x55, d, d + 16);
      for (let k = full * 64; k < K; k++) {
        const code = (src[row + k]! >> (2 * i)) & 3, rr = k & 63;
        const at = d + (rr & 15), sh = 2 * (rr >> 4);
        dst[at] = (dst[at]! & ~(3 << sh)) | (code << sh);
      }
    }
  }
}
