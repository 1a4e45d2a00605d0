/**
 * ggml tensor types and their block codecs (pure: bytes in, bytes out; no I/O).
 *
 * Layouts (docs/spec.md §6.1, §6.4, §5.2; ggml-common.h / ggml-quants.c semantics, little-endian):
 *   F32 / F16 / BF16   plain arrays (F16 and BF16 written with round-to-nearest-even, like ggml)
 *   Q8_0   32 weights / 34 bytes: f16 d, i8 qs[32];  d = amax/127, q = roundf(x/d)   (round half away)
 *   TQ2_0  256 weights / 66 bytes: u8 qs[64], f16 d @64;  d = amax (absmax, not absmean),
 *          trit t = lroundf(x/d)+1 ∈ {0,1,2};  for each 32-byte chunk j (128 weights) and m ∈ 0..31:
 *          qs[j+m] = Σ_{n<4} t(x[4j + m + 32n]) << 2n     (decode: weight 4j + 32l + m = (qs[j+m] >> 2l) & 3)
 *   TQ1_0  256 weights / 54 bytes: u8 qs[48] @0, u8 qh[4] @48, f16 d @52; 5 trits per byte, base 3,
 *          first trit most significant, stored as ⌈256·v/243⌉ so that decoding needs no division:
 *            qs[m]      (m < 32)  trits of weights m + 32n,        n = 0..4   (weights 0..159)
 *            qs[32+m]   (m < 16)  trits of weights 160 + m + 16n,  n = 0..4   (weights 160..239)
 *            qh[j]      (j < 4)   trits of weights 240 + j + 4n,   n = 0..3, times 3 (a 5th, zero trit)
 *          decode trit n of byte b: q = (b·3ⁿ) mod 256;  t = (3q) >> 8.
 *   I2_S   (bitnet.cpp fork, id 36, read only): the whole tensor flattened row-major into 128-weight
 *          blocks of 32 bytes; byte k holds weights k, 32+k, 64+k, 96+k in bits 7-6, 5-4, 3-2, 1-0;
 *          code 0 → −1, 1 → 0, 2 → +1; one f32 scale at byte n/4 (total n/4 + 32 bytes). docs/spec.md §5.2.
 *
 * `lroundf`/`roundf` round half away from zero (docs/spec.md §0.2 "Rounding"); products are formed in f32 (Math.fround)
 * as the C reference does, so the bytes are identical to ggml's for the same input floats.
 */
import { FormatError } from '../errors.js';
import { floatToHalf, halfToFloat } from '../tensor/half.js';

export { floatToHalf, halfToFloat };

export interface GgmlType {
  id: number;
  name: string;
  /** Weights per block. */
  block: number;
  /** Bytes per block (for 'I2_S': bytes per 4 weights; see ggmlTensorBytes). */
  bytes: number;
  /** Whether this library can decode it to f32. */
  decodable: boolean;
}

const T = (id: number, name: string, block: number, bytes: number, decodable = false): GgmlType => ({ id, name, block, bytes, decodable });

/** ggml type ids (docs/spec.md §6.4; block sizes from ggml-common.h). 36 is bitnet.cpp's I2_S (never emitted). */
export const GGML_TYPES: readonly GgmlType[] = [
  T(0, 'F32', 1, 4, true), T(1, 'F16', 1, 2, true), T(2, 'Q4_0', 32, 18), T(3, 'Q4_1', 32, 20),
  T(6, 'Q5_0', 32, 22), T(7, 'Q5_1', 32, 24), T(8, 'Q8_0', 32, 34, true), T(9, 'Q8_1', 32, 36),
  T(10, 'Q2_K', 256, 84), T(11, 'Q3_K', 256, 110), T(12, 'Q4_K', 256, 144), T(13, 'Q5_K', 256, 176),
  T(14, 'Q6_K', 256, 210), T(15, 'Q8_K', 256, 292), T(24, 'I8', 1, 1), T(25, 'I16', 1, 2), T(26, 'I32', 1, 4),
  T(27, 'I64', 1, 8), T(28, 'F64', 1, 8), T(30, 'BF16', 1, 2, true), T(34, 'TQ1_0', 256, 54, true),
  T(35, 'TQ2_0', 256, 66, true), T(36, 'I2_S', 4, 1, true),
];
const BY_ID = new Map(GGML_TYPES.map((t) => [t.id, t]));
const BY_NAME = new Map(GGML_TYPES.map((t) => [t.name, t]));

export function ggmlType(idOrName: number | string): GgmlType | undefined {
  return typeof idOrName === 'number' ? BY_ID.get(idOrName) : BY_NAME.get(idOrName.toUpperCase());
}

/** Bytes of a tensor of `n` elements whose innermost dimension is `ne0`; undefined when ne0 is not a whole number of blocks. */
export function ggmlTensorBytes(t: GgmlType, n: number, ne0: number): number | undefined {
  if (t.name === 'I2_S') return n % 128 === 0 ? n / 4 + 32 : undefined;
  if (ne0 % t.block !== 0) return undefined;
  return (n / t.block) * t.bytes;
}

/** Bits per weight as stored. */
export function ggmlBpw(t: GgmlType): number {
  return t.name === 'I2_S' ? 2 : (8 * t.bytes) / t.block;
}

// ---- scalar conversions (f16: src/tensor/half.ts) -----------------------------------------------

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** f32 → bfloat16 bits, round to nearest even (NaN → quiet NaN). */
export function floatToBf16(v: number): number {
  F32[0] = v;
  const x = U32[0]!;
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) & 0x8000) | 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToFloat(h: number): number {
  U32[0] = (h & 0xffff) << 16;
  return F32[0]!;
}

/** C roundf / lroundf: round half away from zero. */
function roundAway(v: number): number {
  return v < 0 ? -Math.round(-v) : Math.round(v);
}

const f32 = Math.fround;

// ---- encode ------------------------------------------------------------------------------------

function absmax(x: ArrayLike<number>, off: number, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(f32(x[off + i]!)));
  return m;
}

function checkBlocks(where: string, n: number, block: number): void {
  if (n % block !== 0) throw new FormatError(`${where}: ${n} values is not a whole number of ${block}-value blocks`);
}

/** Encode f32 values as ggml type `t` (F32, F16, BF16, Q8_0, TQ1_0, TQ2_0). */
export function encodeGgml(t: GgmlType, x: ArrayLike<number>): Uint8Array {
  const n = x.length;
  switch (t.name) {
    case 'F32': {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = x[i]!;
      return new Uint8Array(out.buffer);
    }
    case 'F16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = floatToHalf(x[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'BF16': {
      const out = new Uint16Array(n);
      for (let i = 0; i < n; i++) out[i] = floatToBf16(x[i]!);
      return new Uint8Array(out.buffer);
    }
    case 'Q8_0':
      return encodeQ8_0(x);
    case 'TQ2_0':
      return encodeTQ2_0(x);
    case 'TQ1_0':
      return encodeTQ1_0(x);
    default:
      throw new FormatError(`gguf: writing ggml type ${t.name} is not supported (choose F32, F16, BF16, Q8_0, TQ1_0 or TQ2_0)`);
  }
}

/** Q8_0 (ggml quantize_row_q8_0_ref). */
export function encodeQ8_0(x: ArrayLike<number>): Uint8Array {
  checkBlocks('Q8_0', x.length, 32);
  const nb = x.length / 32;
  const out = new Uint8Array(nb * 34);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const amax = absmax(x, b * 32, 32);
    const d = f32(amax / 127);
    const id = d ? f32(1 / d) : 0;
    dv.setUint16(b * 34, floatToHalf(d), true);
    for (let j = 0; j < 32; j++) dv.setInt8(b * 34 + 2 + j, roundAway(f32(f32(x[b * 32 + j]!) * id)));
  }
  return out;
}

/** Trits t = lroundf(x/d)+1 of one 256-block (ggml TQ quantizers), and d = absmax. */
function tritsOf(x: ArrayLike<number>, off: number, t: Uint8Array): number {
  const d = absmax(x, off, 256);
  const id = d ? f32(1 / d) : 0;
  for (let i = 0; i < 256; i++) {
    const v = roundAway(f32(f32(x[off + i]!) * id)) + 1;
    t[i] = v < 0 ? 0 : v > 2 ? 2 : v; // |x·id| ≤ 1 in exact arithmetic; clamp guards f32 rounding
  }
  return d;
}

/** TQ2_0 bytes of one block given its trits and scale bits. */
function packTQ2(t: Uint8Array, dBits: number, out: Uint8Array, o: number): void {
  for (let j = 0; j < 64; j += 32) {
    for (let m = 0; m < 32; m++) {
      let q = 0;
      for (let n = 0; n < 4; n++) q |= (t[4 * j + m + 32 * n]! & 3) << (2 * n);
      out[o + j + m] = q;
    }
  }
  out[o + 64] = dBits & 0xff;
  out[o + 65] = dBits >>> 8;
}

/** ⌈256·v/243⌉: the fixed-point form of a 5-trit base-3 number v ∈ [0, 242]. */
function tq1Byte(v: number): number {
  return Math.floor((v * 256 + 242) / 243);
}

function packTQ1(t: Uint8Array, dBits: number, out: Uint8Array, o: number): void {
  for (let m = 0; m < 32; m++) {
    let v = 0;
    for (let n = 0; n < 5; n++) v = v * 3 + t[m + 32 * n]!;
    out[o + m] = tq1Byte(v);
  }
  for (let m = 0; m < 16; m++) {
    let v = 0;
    for (let n = 0; n < 5; n++) v = v * 3 + t[160 + m + 16 * n]!;
    out[o + 32 + m] = tq1Byte(v);
  }
  for (let j = 0; j < 4; j++) {
    let v = 0;
    for (let n = 0; n < 4; n++) v = v * 3 + t[240 + j + 4 * n]!;
    out[o + 48 + j] = tq1Byte(v * 3);
  }
  out[o + 52] = dBits & 0xff;
  out[o + 53] = dBits >>> 8;
}

/** TQ2_0 (ggml quantize_row_tq2_0_ref). */
export function encodeTQ2_0(x: ArrayLike<number>): Uint8Array {
  checkBlocks('TQ2_0', x.length, 256);
  const nb = x.length / 256;
  const out = new Uint8Array(nb * 66);
  const t = new Uint8Array(256);
  for (let b = 0; b < nb; b++) packTQ2(t, floatToHalf(tritsOf(x, b * 256, t)), out, b * 66);
  return out;
}

/** TQ1_0 (ggml quantize_row_tq1_0_ref). */
export function encodeTQ1_0(x: ArrayLike<number>): Uint8Array {
  checkBlocks('TQ1_0', x.length, 256);
  const nb = x.length / 256;
  const out = new Uint8Array(nb * 54);
  const t = new Uint8Array(256);
  for (let b = 0; b < nb; b++) packTQ1(t, floatToHalf(tritsOf(x, b * 256, t)), out, b * 54);
  return out;
}

/**
 * TQ1_0 / TQ2_0 directly from ternary q ∈ {-1,0,1} and one scale β: the same bytes as encoding the
 * floats q·β (a block's absmax is β unless the block is all zero, then d = 0), without forming them.
 * The ternary values are lossless; β is stored as f16 per block (relative error ≤ 2⁻¹¹).
 */
export function encodeTernaryTQ(kind: 'TQ1_0' | 'TQ2_0', q: Int8Array, beta: number): Uint8Array {
  checkBlocks(kind, q.length, 256);
  const nb = q.length / 256;
  const bytes = kind === 'TQ2_0' ? 66 : 54;
  const out = new Uint8Array(nb * bytes);
  const t = new Uint8Array(256);
  const dBits = floatToHalf(Math.abs(beta));
  for (let b = 0; b < nb; b++) {
    let any = false;
    for (let i = 0; i < 256; i++) {
      const v = q[b * 256 + i]!;
      if (v < -1 || v > 1) throw new FormatError(`${kind}: value ${v} at index ${b * 256 + i} is not ternary`);
      const s = beta < 0 ? -v : v;
      t[i] = s + 1;
      any ||= v !== 0;
    }
    (kind === 'TQ2_0' ? packTQ2 : packTQ1)(t, any ? dBits : 0, out, b * bytes);
  }
  return out;
}

// ---- decode ------------------------------------------------------------------------------------

const POW3 = [1, 3, 9, 27, 81, 243];

/** Trits (0..2) of one TQ1_0 block into t[0..256), in weight order. */
function unpackTQ1(src: Uint8Array, o: number, t: Uint8Array): void {
  const trit = (byte: number, n: number): number => (((byte * POW3[n]!) & 0xff) * 3) >> 8;
  for (let n = 0; n < 5; n++) for (let m = 0; m < 32; m++) t[m + 32 * n] = trit(src[o + m]!, n);
  for (let n = 0; n < 5; n++) for (let m = 0; m < 16; m++) t[160 + m + 16 * n] = trit(src[o + 32 + m]!, n);
  for (let n = 0; n < 4; n++) for (let j = 0; j < 4; j++) t[240 + j + 4 * n] = trit(src[o + 48 + j]!, n);
}

function unpackTQ2(src: Uint8Array, o: number, t: Uint8Array): void {
  for (let j = 0; j < 64; j += 32) {
    for (let l = 0; l < 4; l++) for (let m = 0; m < 32; m++) t[4 * j + 32 * l + m] = (src[o + j + m]! >> (2 * l)) & 3;
  }
}

/** Ternary view of a TQ1_0/TQ2_0/I2_S tensor: q ∈ {-1,0,1} and per-block scales (one per tensor for I2_S). */
export function decodeTernary(t: GgmlType, src: Uint8Array, n: number, where = t.name): { q: Int8Array; scales: Float32Array; block: number } {
  const q = new Int8Array(n);
  if (t.name === 'I2_S') {
    if (n % 128 !== 0 || src.length < n / 4 + 4) throw new FormatError(`${where}: I2_S needs n % 128 == 0 and ${n / 4 + 32} bytes, got n=${n}, ${src.length} bytes`);
    for (let b = 0; b < n / 128; b++) {
      for (let k = 0; k < 32; k++) {
        const byte = src[b * 32 + k]!;
        for (let g = 0; g < 4; g++) {
          const c = (byte >> (6 - 2 * g)) & 3;
          if (c === 3) throw new FormatError(`${where}: invalid I2_S code 3 at byte ${b * 32 + k}`);
          q[b * 128 + 32 * g + k] = c - 1;
        }
      }
    }
    const dv = new DataView(src.buffer, src.byteOffset + n / 4, 4);
    return { q, scales: Float32Array.of(dv.getFloat32(0, true)), block: n };
  }
  if (t.name !== 'TQ1_0' && t.name !== 'TQ2_0') throw new FormatError(`${where}: ${t.name} is not a ternary type`);
  checkBlocks(where, n, 256);
  const nb = n / 256;
  if (src.length !== nb * t.bytes) throw new FormatError(`${where}: ${t.name} needs ${nb * t.bytes} bytes for ${n} values, got ${src.length}`);
  const scales = new Float32Array(nb);
  const tr = new Uint8Array(256);
  for (let b = 0; b < nb; b++) {
    const o = b * t.bytes;
    if (t.name === 'TQ2_0') {
      unpackTQ2(src, o, tr);
      scales[b] = halfToFloat(src[o + 64]! | (src[o + 65]! << 8));
      for (let i = 0; i < 256; i++) {
        if (tr[i] === 3) throw new FormatError(`${where}: invalid TQ2_0 code 3 in block ${b}`);
        q[b * 256 + i] = tr[i]! - 1;
      }
    } else {
      unpackTQ1(src, o, tr);
      scales[b] = halfToFloat(src[o + 52]! | (src[o + 53]! << 8));
      for (let i = 0; i < 256; i++) q[b * 256 + i] = tr[i]! - 1;
    }
  }
  return { q, scales, block: 256 };
}

let HALF_TABLE: Float32Array | undefined;

/** dst[i] = the f32 value of IEEE half bits src[i] (a 65536-entry table: one load per value). */
export function halvesToFloats(dst: Float32Array, src: Uint16Array): void {
  const t = (HALF_TABLE ??= Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h)));
  const n = src.length;
  for (let i = 0; i < n; i++) dst[i] = t[src[i]!]!;
}

/** Bytes of one row of K values of a row-wise ggml type (K a multiple of its block). */
export function ggmlRowBytes(t: GgmlType, K: number): number | undefined {
  if (t.name === 'I2_S' || K % t.block !== 0) return undefined;
  return (K / t.block) * t.bytes;
}

/** Decode `n` values of type `t` to f32. */
export function decodeGgml(t: GgmlType, src: Uint8Array, n: number, where = t.name): Float32Array {
  const out = new Float32Array(n);
  const need = t.name === 'I2_S' ? n / 4 + 32 : (n / t.block) * t.bytes;
  if (!Number.isInteger(need) || src.length < need) throw new FormatError(`${where}: ${t.name} needs ${need} bytes for ${n} values, got ${src.length}`);
  const dv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  switch (t.name) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      return out;
    case 'F16':
      halvesToFloats(out, src.byteOffset % 2 === 0 ? new Uint16Array(src.buffer, src.byteOffset, n) : new Uint16Array(src.slice(0, 2 * n).buffer));
      return out;
    case 'BF16':
      for (let i = 0; i < n; i++) out[i] = bf16ToFloat(dv.getUint16(2 * i, true));
      return out;
    case 'Q8_0':
      for (let b = 0; b < n / 32; b++) {
        const d = halfToFloat(dv.getUint16(b * 34, true));
        for (let j = 0; j < 32; j++) out[b * 32 + j] = dv.getInt8(b * 34 + 2 + j) * d;
      }
      return out;
    case 'TQ1_0':
    case 'TQ2_0':
    case 'I2_S': {
      const { q, scales, block } = decodeTernary(t, src.subarray(0, need), n, where);
      for (let i = 0; i < n; i++) out[i] = q[i]! * scales[Math.floor(i / block)]!;
      return out;
    }
    default:
      throw new FormatError(`${where}: decoding ggml type ${t.name} is not supported`);
  }
}
