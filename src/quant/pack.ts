/**
 * Packed weight formats: byte layouts, pack and unpack. The format table
 * (FORMAT_TRAITS, src/quant/formats.ts) points here; the packed GEMV/GEMM
 * kernels (src/kernels/ref/ternary.ts, wasm/assembly/ternary*.ts) read these
 * layouts directly.
 *
 * Every format stores a weight matrix W (N, K) = (out, in) **row by row**: row n
 * occupies bytes [n·rowBytes(K), (n+1)·rowBytes(K)), and each row is padded to a
 * whole number of blocks. Scales are not part of the packed bytes (one β per
 * tensor, or per group of rows, passed to the kernels separately).
 *
 * ── 'i2' (2 bits/weight, ternary; docs/platform.md §4.2) ────────────────────────────────
 *   code c = w + 1 ∈ {0, 1, 2} (3 is invalid: unpack rejects it, kernels would read it as +2).
 *   Block = 64 weights in 16 bytes. Byte j (0..15) of block b holds weights
 *     k = 64b + j + 16l  in bits 2l..2l+1, l = 0..3   (bits 0-1: j, 2-3: j+16, 4-5: j+32, 6-7: j+48).
 *   So `(byte >> 2l) & 3` over the 16 bytes of a block gives the codes of 16
 *   consecutive weights 64b+16l .. 64b+16l+15 (one v128 of activations).
 *   Row padding: K is rounded up to a multiple of 64 with code 1 (weight 0).
 *   rowBytes = 16·⌈K/64⌉.
 *
 * ── 'i1.6' (1.6 bits/weight, ternary, base 3, "TQ1-style") ──────────────────────
 *   Block = 80 weights in 16 bytes. Byte j (0..15) of block b holds the 5 trits
 *     t_n = w(k) + 1 of weights k = 80b + j + 16n, n = 0..4,
 *   as v = Σ_n t_n·3^(4−n) ∈ [0, 242] (t_0 most significant), stored in ggml's
 *   fixed-point form (docs/spec.md §6.1) with the sign bit flipped:
 *     byte = ⌈256·v / 243⌉ XOR 0x80.
 *   Decode trit n (no division): u = byte XOR 0x80;  q = (u·3^n) mod 256;  t_n = (3q) >> 8.
 *   Why the XOR: multiplication by 3 commutes with adding 128 mod 256 (3·128 ≡ 128), so a SIMD
 *   kernel can iterate q ← 3q with wrapping i8x16.add on the stored bytes and test
 *   t ≥ 1 ⟺ q ≥ 86 ⟺ (i8)byte' > −43 and t = 2 ⟺ q ≥ 171 ⟺ (i8)byte' > 42 with signed
 *   compares (i8x16.gt_s), which SSE/NEON have natively (unsigned compares are emulated).
 *   Row padding: K rounded up to a multiple of 80 with trit 1 (weight 0). rowBytes = 16·⌈K/80⌉.
 *   Every one of the 256 byte values decodes to valid trits; the 243 encodings round-trip.
 *
 * ── 'b1' (1 bit/weight, binary ±1, BitNet v1) ───────────────────────────────────
 *   Block = 128 weights in 16 bytes. Byte j (0..15) of block b holds weight
 *     k = 128b + j + 16i  in bit i, i = 0..7;  bit 1 = +1, bit 0 = −1.
 *   Row padding: K rounded up to a multiple of 128 with bit 0. rowBytes = 16·⌈K/128⌉.
 *
 * ── 'i2r4' ('i2' with rows interleaved by four; the decode layout) ───────────────
 *   The same 16-byte 'i2' blocks, ordered so that one group of four consecutive rows is one
 *   sequential stream: block b of row n sits at byte
 *     (n >> 2)·4·rowBytesI2(K) + 64·b + 16·(n & 3).
 *   A kernel computing rows 4g..4g+3 together (they share each activation load) then reads
 *   64 contiguous bytes per step instead of four streams one row apart; measured cold
 *   (weights from DRAM, 1 thread, 6912×2560) that is 33 vs 15 GMAC/s (docs/kernels.md).
 *   N is padded to a multiple of 4 with rows of code 1 (weight 0). Bytes = 4·⌈N/4⌉·rowBytesI2(K).
 *
 * Unpacked weights are Int8Array (N, K) with values in {-1, 0, 1} (ternary) or {-1, 1} (binary).
 */
import { ArgumentError } from '../errors.js';
import { checkDType, checkDims, checkLen } from '../tensor/shape.js';

/** Weights per 16-byte block of each format. */
export const I2_BLOCK = 64;
export const I1P6_BLOCK = 80;
export const B1_BLOCK = 128;
/** Bytes per block (all formats: one v128). */
export const BLOCK_BYTES = 16;

/** Bytes of one packed 'i2' row of K weights: 16·⌈K/64⌉. */
export function rowBytesI2(K: number): number {
  return Math.ceil(K / I2_BLOCK) * BLOCK_BYTES;
}
/** Bytes of one packed 'i1.6' row of K weights: 16·⌈K/80⌉. */
export function rowBytesI1p6(K: number): number {
  return Math.ceil(K / I1P6_BLOCK) * BLOCK_BYTES;
}
/** Bytes of one packed 'b1' row of K weights: 16·⌈K/128⌉. */
export function rowBytesB1(K: number): number {
  return Math.ceil(K / B1_BLOCK) * BLOCK_BYTES;
}

/** Rows per interleaved group of the '*r4' layouts. */
export const ROW_GROUP = 4;

/** Bytes of a packed 'i2r4' matrix (N, K): N padded to a multiple of 4. */
export function bytesI2R4(N: number, K: number): number {
  return Math.ceil(N / ROW_GROUP) * ROW_GROUP * rowBytesI2(K);
}

function checkPack(where: string, packed: Uint8Array, q: Int8Array, N: number, K: number, rowBytes: number, bytes = N * rowBytes): void {
  checkDims(where, { N, K });
  checkDType(where, 'packed', packed, 'u8');
  checkDType(where, 'q', q, 'i8');
  checkLen(where, 'packed', packed, bytes);
  checkLen(where, 'q', q, N * K);
}

// ---- i2 --------------------------------------------------------------------------------------

/**
 * Pack ternary weights into 'i2' rows (layout in the module doc). Values outside {-1,0,1}
 * raise ArgumentError.
 *
 * dst: Uint8Array // (N, rowBytesI2(K))    q: Int8Array // (N, K)
 */
export function packI2(dst: Uint8Array, q: Int8Array, N: number, K: number): void {
  const rb = rowBytesI2(K);
  checkPack('packI2', dst, q, N, K, rb);
  for (let n = 0; n < N; n++) packI2Row(dst, q, n * K, K, n * rb, 16, 'packI2');
}

/**
 * One row of K ternary weights q[src …] into 'i2' blocks, block b at byte at + stride·b (16 for 'i2',
 * 64 for 'i2r4'); the tail block is padded with code 1 (weight 0). Values outside {-1,0,1} raise ArgumentError.
 */
function packI2Row(dst: Uint8Array, q: Int8Array, src: number, K: number, at: number, stride: number, where: string): void {
  const full = K >> 6; // whole 64-weight blocks: one byte from four weights at once
  for (let b = 0; b < full; b++) {
    const s = src + b * 64, d = at + b * stride;
    for (let j = 0; j < 16; j++) {
      const c0 = q[s + j]! + 1, c1 = q[s + 16 + j]! + 1, c2 = q[s + 32 + j]! + 1, c3 = q[s + 48 + j]! + 1;
      if ((c0 | c1 | c2 | c3) >>> 0 > 3 || c0 === 3 || c1 === 3 || c2 === 3 || c3 === 3) {
        const bad = [c0, c1, c2, c3].findIndex((c) => c < 0 || c > 2);
        throw new ArgumentError(`${where}: q[${s + 16 * bad + j}]=${q[s + 16 * bad + j]} is not ternary (-1, 0, 1)`);
      }
      dst[d + j] = c0 | (c1 << 2) | (c2 << 4) | (c3 << 6);
    }
  }
  if (full * 64 === K) return;
  const d = at + full * stride;
  dst.fill(0x55, d, d + 16); // code 1 everywhere in the tail block (pads = weight 0)
  for (let k = full * 64; k < K; k++) {
    const w = q[src + k]!;
    if (w < -1 || w > 1) throw new ArgumentError(`${where}: q[${src + k}]=${w} is not ternary (-1, 0, 1)`);
    const r = k & 63, l = r >> 4;
    dst[d + (r & 15)] = (dst[d + (r & 15)]! & ~(3 << (2 * l))) | ((w + 1) << (2 * l));
  }
}

/**
 * Unpack 'i2' rows into ternary weights (padding dropped). Code 3 raises ArgumentError.
 *
 * q: Int8Array // (N, K)    src: Uint8Array // (N, rowBytesI2(K))
 */
export function unpackI2(q: Int8Array, src: Uint8Array, N: number, K: number): void {
  const rb = rowBytesI2(K);
  checkPack('unpackI2', src, q, N, K, rb);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const r = k & 63;
      const c = (src[n * rb + (k >> 6) * 16 + (r & 15)]! >> (2 * (r >> 4))) & 3;
      if (c === 3) throw new ArgumentError(`unpackI2: row ${n} weight ${k} has the invalid code 3 (corrupt data?)`);
      q[n * K + k] = c - 1;
    }
  }
}

// ---- i2r4 ------------------------------------------------------------------------------------

/** Byte offset of block b of row n in an interleaved matrix of row size rb. */
export function r4BlockOffset(n: number, b: number, rb: number): number {
  return (n >> 2) * ROW_GROUP * rb + b * 4 * BLOCK_BYTES + (n & 3) * BLOCK_BYTES;
}

/**
 * Pack ternary weights into the 'i2r4' layout (module doc): 'i2' rows, interleaved by four.
 *
 * dst: Uint8Array // (bytesI2R4(N, K))    q: Int8Array // (N, K)
 */
export function packI2R4(dst: Uint8Array, q: Int8Array, N: number, K: number): void {
  checkPack('packI2R4', dst, q, N, K, rowBytesI2(K), bytesI2R4(N, K));
  dst.fill(0x55); // padding rows: code 1 (weight 0)
  packI2R4Rows(dst, q, 0, N, K);
}

/**
 * Pack rows [n0, n0 + n) of an 'i2r4' matrix from q (n, K), leaving the other rows as they are (a
 * fused matrix is packed part by part without a copy of the whole). Padding rows are the caller's
 * (fill dst with 0x55 once).
 *
 * dst: Uint8Array // (≥ bytesI2R4(n0 + n, K))    q: Int8Array // (n, K)
 */
export function packI2R4Rows(dst: Uint8Array, q: Int8Array, n0: number, n: number, K: number): void {
  const rb = rowBytesI2(K);
  checkDims('packI2R4Rows', { n0, n, K });
  checkLen('packI2R4Rows', 'q', q, n * K);
  if (dst.length < bytesI2R4(n0 + n, K)) throw new ArgumentError(`packI2R4Rows: dst has ${dst.length} bytes; rows up to ${n0 + n} need ${bytesI2R4(n0 + n, K)}`);
  for (let r = 0; r < n; r++) {
    const n4 = n0 + r;
    packI2Row(dst, q, r * K, K, (n4 >> 2) * 4 * rb + 16 * (n4 & 3), 64, 'packI2R4Rows');
  }
}

/**
 * Unpack 'i2r4' into ternary weights (row and column padding dropped). Code 3 raises ArgumentError.
 *
 * q: Int8Array // (N, K)    src: Uint8Array // (bytesI2R4(N, K))
 */
export function unpackI2R4(q: Int8Array, src: Uint8Array, N: number, K: number): void {
  const rb = rowBytesI2(K);
  checkPack('unpackI2R4', src, q, N, K, rb, bytesI2R4(N, K));
  const rows = new Uint8Array(N * rb);
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < rb / BLOCK_BYTES; b++) {
      const at = r4BlockOffset(n, b, rb);
      rows.set(src.subarray(at, at + BLOCK_BYTES), n * rb + b * BLOCK_BYTES);
    }
  }
  unpackI2(q, rows, N, K);
}

// ---- i1.6 ------------------------------------------------------------------------------------

/** Powers of three used by the base-3 decoders. */
const POW3 = [1, 3, 9, 27, 81] as const;

/**
 * Encode 5 trits (each ∈ {0,1,2}, t0 most significant) into one stored 'i1.6' byte:
 * ⌈256·v/243⌉ XOR 0x80 with v = Σ t_n·3^(4−n).
 */
export function encodeTrits5(t0: number, t1: number, t2: number, t3: number, t4: number): number {
  const v = (((t0 * 3 + t1) * 3 + t2) * 3 + t3) * 3 + t4;
  return (Math.floor((v * 256 + 242) / 243) ^ 0x80) & 0xff;
}

/** Trit n (0..4, 0 = most significant) of a stored 'i1.6' byte: q = ((b ^ 0x80)·3^n) mod 256, t = (3q) >> 8. */
export function decodeTrit(byte: number, n: number): number {
  const q = (((byte ^ 0x80) & 0xff) * POW3[n as 0]!) & 0xff;
  return (q * 3) >> 8;
}

/**
 * Pack ternary weights into 'i1.6' rows (layout in the module doc). Values outside {-1,0,1}
 * raise ArgumentError.
 *
 * dst: Uint8Array // (N, rowBytesI1p6(K))    q: Int8Array // (N, K)
 */
export function packI1p6(dst: Uint8Array, q: Int8Array, N: number, K: number): void {
  const rb = rowBytesI1p6(K);
  checkPack('packI1p6', dst, q, N, K, rb);
  const t = [1, 1, 1, 1, 1];
  for (let n = 0; n < N; n++) {
    for (let b = 0; b < rb / 16; b++) {
      for (let j = 0; j < 16; j++) {
        for (let i = 0; i < 5; i++) {
          const k = b * 80 + j + 16 * i;
          if (k < K) {
            const w = q[n * K + k]!;
            if (w < -1 || w > 1) throw new ArgumentError(`packI1p6: q[${n * K + k}]=${w} is not ternary (-1, 0, 1)`);
            t[i] = w + 1;
          } else t[i] = 1;
        }
        dst[n * rb + b * 16 + j] = encodeTrits5(t[0]!, t[1]!, t[2]!, t[3]!, t[4]!);
      }
    }
  }
}

/**
 * Unpack 'i1.6' rows into ternary weights (padding dropped).
 *
 * q: Int8Array // (N, K)    src: Uint8Array // (N, rowBytesI1p6(K))
 */
export function unpackI1p6(q: Int8Array, src: Uint8Array, N: number, K: number): void {
  const rb = rowBytesI1p6(K);
  checkPack('unpackI1p6', src, q, N, K, rb);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const b = Math.floor(k / 80), r = k - b * 80;
      q[n * K + k] = decodeTrit(src[n * rb + b * 16 + (r & 15)]!, r >> 4) - 1;
    }
  }
}

// ---- b1 --------------------------------------------------------------------------------------

/**
 * Pack binary ±1 weights into 'b1' rows (layout in the module doc). Values other than ±1
 * raise ArgumentError.
 *
 * dst: Uint8Array // (N, rowBytesB1(K))    q: Int8Array // (N, K)
 */
export function packB1(dst: Uint8Array, q: Int8Array, N: number, K: number): void {
  const rb = rowBytesB1(K);
  checkPack('packB1', dst, q, N, K, rb);
  for (let n = 0; n < N; n++) {
    const row = n * rb;
    dst.fill(0, row, row + rb);
    for (let k = 0; k < K; k++) {
      const w = q[n * K + k]!;
      if (w !== 1 && w !== -1) throw new ArgumentError(`packB1: q[${n * K + k}]=${w} is not binary (-1, +1)`);
      const r = k & 127;
      if (w === 1) dst[row + (k >> 7) * 16 + (r & 15)]! |= 1 << (r >> 4);
    }
  }
}

/**
 * Unpack 'b1' rows into ±1 weights (padding dropped).
 *
 * q: Int8Array // (N, K)    src: Uint8Array // (N, rowBytesB1(K))
 */
export function unpackB1(q: Int8Array, src: Uint8Array, N: number, K: number): void {
  const rb = rowBytesB1(K);
  checkPack('unpackB1', src, q, N, K, rb);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < K; k++) {
      const r = k & 127;
      q[n * K + k] = ((src[n * rb + (k >> 7) * 16 + (r & 15)]! >> (r >> 4)) & 1) * 2 - 1;
    }
  }
}
