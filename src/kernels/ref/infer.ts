/**
 * Inference-only kernels (the packed decode engine, src/infer/), reference twins.
 *
 * attentionCached: causal GQA attention of M new queries at positions pos0 … pos0+M−1 against a
 *   key/value cache whose rows [0, pos0+M) are filled (the new keys already appended):
 *     out[m,h] = Σ_{s ≤ pos0+m} softmax_s(q[m,h]·kc[s,g]/√HS) · vc[s,g],   g = ⌊h/(H/KVH)⌋
 *   Prefill (M = prompt chunk) and decode (M = 1) are the same kernel.
 *
 * attentionCachedF16: the same over a cache of IEEE half bits (Uint16Array): every cached value is
 *   widened exactly (halfToFloat, src/tensor/half.ts), then the math is attentionCached's. `finite`: the
 *   caller's promise that rows [0, pos0+M) hold no inf/NaN half, which lets a fast kernel widen more
 *   cheaply (wasm/assembly/f16.ts scaled4) with the same result; the definition does not need it.
 * f32ToF16 / f16ToF32: elementwise conversions (round to nearest even / exact), how new K/V rows
 *   enter an f16 cache (src/infer/session.ts).
 *
 * matmulI7: 7-bit weight codes w ∈ [-63, 63] with one scale per output row × int8 per-token
 *   activations (the 8-bit-storage LM head / tied embedding), exact int32 accumulation, scales
 *   applied once per output:
 *     out[m,n] = f32( f32( f32(Σ_k w[n,k]·xq[m,k]) / xs[m] ) · ws[n] )       W[n,:] ≈ ws[n]·w[n,:]
 *   Storage ('i7r4', one byte per weight, built by packI7R4):
 *   - offset codes u = w + 64 ∈ [1, 127]: a valid 7-bit operand of the relaxed-SIMD dot product
 *     i16x8.relaxed_dot_i8x16_i7x16_s, which is then exact on every engine (Σ x·w = Σ x·u − 64·Σ x);
 *   - rows interleaved by four in 16-byte steps, so the four rows of a 4-row dot are one sequential
 *     stream (as 'i2r4', src/quant/pack.ts): with KP = 16·⌈K/16⌉, weight (n, k) is at byte
 *       (n >> 2)·4·KP + 64·⌊k/16⌋ + 16·(n & 3) + (k & 15);
 *     N is padded to a multiple of 4 and K to KP with u = 64 (w = 0). Bytes = 4·⌈N/4⌉·KP.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { checkDType, checkDims, checkLen } from '../../tensor/shape.js';
import { floatToHalf, halfToFloat } from '../../tensor/half.js';
import { checkFloats, checkLens } from './nn_checks.js';
import { roundHalfEven } from '../../tensor/round.js';

const f32 = Math.fround;

function checkAttentionCachedDims(where: string, M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkDims(where, { M, pos0, S, H, KVH, HS });
  if (H < 1 || KVH < 1 || HS < 1 || H % KVH !== 0) throw new ArgumentError(`${where}: need H (${H}) a positive multiple of KVH (${KVH}) and HS ≥ 1 (${HS})`);
  if (pos0 + M > S) throw new ArgumentError(`${where}: positions up to ${pos0 + M} exceed the cache length S=${S}`);
}

export function checkAttentionCached(where: string, f32only: boolean, out: FloatArray, q: FloatArray, kc: FloatArray, vc: FloatArray,
                                     M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkAttentionCachedDims(where, M, pos0, S, H, KVH, HS);
  checkFloats(where, f32only, { out, q, kc, vc });
  checkLens(where, [['out', out, M * H * HS], ['q', q, M * H * HS], ['kc', kc, S * KVH * HS], ['vc', vc, S * KVH * HS]]);
}

export function checkAttentionCachedF16(where: string, f32only: boolean, out: FloatArray, q: FloatArray, kc: Uint16Array, vc: Uint16Array,
                                        M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkAttentionCachedDims(where, M, pos0, S, H, KVH, HS);
  checkFloats(where, f32only, { out, q });
  checkDType(where, 'kc', kc, 'u16');
  checkDType(where, 'vc', vc, 'u16');
  checkLens(where, [['out', out, M * H * HS], ['q', q, M * H * HS], ['kc', kc, S * KVH * HS], ['vc', vc, S * KVH * HS]]);
}

/**
 * out: (M, H, HS)  q: (M, H, HS)  kc, vc: (S, KVH, HS), rows [0, pos0+M) valid.
 * Scores, softmax and the weighted sum accumulate in f64 (the WASM twin in f32: parity within tolerance).
 */
export function attentionCached(out: FloatArray, q: FloatArray, kc: FloatArray, vc: FloatArray,
                                M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkAttentionCached('attentionCached', false, out, q, kc, vc, M, pos0, S, H, KVH, HS);
  const scale = 1 / Math.sqrt(HS);
  const G = H / KVH;
  const row = new Float64Array(pos0 + M);
  const acc = new Float64Array(HS);
  for (let m = 0; m < M; m++) {
    const n = pos0 + m + 1;
    for (let h = 0; h < H; h++) {
      const g = Math.floor(h / G);
      const qo = (m * H + h) * HS;
      let mx = -Infinity;
      for (let s = 0; s < n; s++) {
        const ko = (s * KVH + g) * HS;
        let d = 0;
        for (let i = 0; i < HS; i++) d += q[qo + i]! * kc[ko + i]!;
        row[s] = d * scale;
        if (row[s]! > mx) mx = row[s]!;
      }
      let sum = 0;
      for (let s = 0; s < n; s++) sum += row[s] = Math.exp(row[s]! - mx);
      acc.fill(0);
      for (let s = 0; s < n; s++) {
        const p = row[s]! / sum;
        const vo = (s * KVH + g) * HS;
        for (let i = 0; i < HS; i++) acc[i] = acc[i]! + p * vc[vo + i]!;
      }
      for (let i = 0; i < HS; i++) out[qo + i] = acc[i]!;
    }
  }
}

/**
 * attentionCached over an f16 cache. out: (M, H, HS)  q: (M, H, HS)  kc, vc: Uint16Array (S, KVH, HS) of
 * IEEE half bits, rows [0, pos0+M) valid. Each half is widened exactly; f64 accumulation as attentionCached.
 */
export function attentionCachedF16(out: FloatArray, q: FloatArray, kc: Uint16Array, vc: Uint16Array,
                                   M: number, pos0: number, S: number, H: number, KVH: number, HS: number, _finite = false): void {
  checkAttentionCachedF16('attentionCachedF16', false, out, q, kc, vc, M, pos0, S, H, KVH, HS);
  const n = (pos0 + M) * KVH * HS;
  const k = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    k[i] = halfToFloat(kc[i]!);
    v[i] = halfToFloat(vc[i]!);
  }
  // The f32 definition on the widened rows (it reads rows [0, pos0+M) only).
  const o = new Float64Array(M * H * HS);
  attentionCached(o, Float64Array.from(q.subarray(0, M * H * HS)), k, v, M, pos0, pos0 + M, H, KVH, HS);
  for (let i = 0; i < o.length; i++) out[i] = o[i]!;
}

export function checkHalfConvert(where: string, f32only: boolean, f: FloatArray, fName: string, h: Uint16Array, hName: string, n: number): void {
  checkDims(where, { n });
  checkFloats(where, f32only, { [fName]: f });
  checkDType(where, hName, h, 'u16');
  checkLens(where, [[fName, f, n], [hName, h, n]]);
}

/**
 * dst[i] = half bits of src[i], round to nearest even: |x| ≥ 65520 → ±inf, subnormal halves below 2⁻¹⁴,
 * below 2⁻²⁵ → ±0, NaN → 0x7e00 | sign (src/tensor/half.ts floatToHalf; an f64 src is rounded to f32 first).
 * dst: Uint16Array (n)  src: (n)
 */
export function f32ToF16(dst: Uint16Array, src: FloatArray, n: number): void {
  checkHalfConvert('f32ToF16', false, src, 'src', dst, 'dst', n);
  for (let i = 0; i < n; i++) dst[i] = floatToHalf(src[i]!);
}

/** dst[i] = the value of half bits src[i] (exact for all 65536 patterns).  dst: (n)  src: Uint16Array (n) */
export function f16ToF32(dst: FloatArray, src: Uint16Array, n: number): void {
  checkHalfConvert('f16ToF32', false, dst, 'dst', src, 'src', n);
  for (let i = 0; i < n; i++) dst[i] = halfToFloat(src[i]!);
}

export function checkMatmulI7(where: string, f32only: boolean, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Int8Array, ws: FloatArray, M: number, K: number, N: number): void {
  checkDims(where, { M, K, N });
  checkDType(where, 'xq', xq, 'i8');
  checkDType(where, 'w', w, 'i8');
  checkFloats(where, f32only, { out, xs, ws });
  checkLen(where, 'out', out, M * N);
  checkLen(where, 'xq', xq, M * K);
  checkLen(where, 'xs', xs, M);
  checkLen(where, 'w', w, bytesI7R4(N, K));
  checkLen(where, 'ws', ws, N);
}

/** Bytes of a packed 'i7r4' matrix (N, K) (see the module doc). */
export function bytesI7R4(N: number, K: number): number {
  return Math.ceil(N / 4) * 4 * Math.ceil(K / 16) * 16;
}

/** Byte offset of weight (n, k) in an 'i7r4' matrix with K columns. */
export function offsetI7R4(n: number, k: number, K: number): number {
  return (n >> 2) * 64 * Math.ceil(K / 16) + 64 * (k >> 4) + 16 * (n & 3) + (k & 15);
}

/** Offset code of the 7-bit weight 0 (padding). */
export const I7_OFFSET = 64;

/**
 * Write rows [n0, n0 + n) of 7-bit codes w (n, K) ∈ [-63, 63] into the 'i7r4' matrix dst. Fill dst
 * with I7_OFFSET once before the first call (padding rows and columns are weight 0).
 *
 * dst: Int8Array // (bytesI7R4(N, K))    w: Int8Array // (n, K)
 */
export function packI7R4(dst: Int8Array, w: Int8Array, n0: number, n: number, K: number): void {
  checkDims('packI7R4', { n0, n, K });
  checkLen('packI7R4', 'w', w, n * K);
  if (dst.length < bytesI7R4(n0 + n, K)) throw new ArgumentError(`packI7R4: dst has ${dst.length} bytes; rows up to ${n0 + n} need ${bytesI7R4(n0 + n, K)}`);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < K; k++) {
      const v = w[r * K + k]!;
      if (v < -I7_MAX || v > I7_MAX) throw new ArgumentError(`packI7R4: w[${r * K + k}]=${v} is outside the 7-bit code range [-${I7_MAX}, ${I7_MAX}]`);
      dst[offsetI7R4(n0 + r, k, K)] = v + I7_OFFSET;
    }
  }
}

/** Row n of an 'i7r4' matrix dequantized: out[k] = (u − 64)·ws[n] (the embedding lookup of a 7-bit tied head). */
export function dequantRowI7R4(out: Float32Array, w: Int8Array, ws: Float32Array, n: number, K: number): void {
  const s = ws[n]!, row = offsetI7R4(n, 0, K); // 16-byte steps of a row are 64 bytes apart
  for (let k = 0; k < K; k++) out[k] = (w[row + 64 * (k >> 4) + (k & 15)]! - I7_OFFSET) * s;
}

/** Weight (n, k) of an 'i7r4' matrix (u − 64). */
export function weightI7R4(w: Int8Array, n: number, k: number, K: number): number {
  return w[offsetI7R4(n, k, K)]! - I7_OFFSET;
}

/** Weight codes of matmulI7. */
export const I7_MAX = 63;

/**
 * out: (M, N)  xq: Int8Array (M, K)  xs: (M) quantizer multipliers  w: Int8Array (bytesI7R4(N, K)) 'i7r4'
 * offset codes in [1, 127] (packI7R4)  ws: (N) row scales. The reference checks the code range
 * (padding included); the WASM twin relies on it (O(N·K) per call).
 */
export function matmulI7(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Int8Array, ws: FloatArray, M: number, K: number, N: number): void {
  checkMatmulI7('matmulI7', false, out, xq, xs, w, ws, M, K, N);
  for (let i = 0; i < w.length; i++) if (w[i]! < I7_OFFSET - I7_MAX || w[i]! > I7_OFFSET + I7_MAX) throw new ArgumentError(`matmulI7: stored code w[${i}]=${w[i]} is outside [${I7_OFFSET - I7_MAX}, ${I7_OFFSET + I7_MAX}] (7-bit weights offset by ${I7_OFFSET})`);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let a = 0;
      for (let k = 0; k < K; k++) a += weightI7R4(w, n, k, K) * xq[m * K + k]!;
      out[m * N + n] = f32(f32(f32(a) / f32(xs[m]!)) * f32(ws[n]!));
    }
  }
}

/**
 * Row-wise absmax 7-bit codes (the definition; quantizeRowsI7R4 below packs the same codes in one pass):
 *   w[n,k] = round_half_even(W·63/max|W[n,:]|) ∈ [-63, 63], ws[n] = max|W[n,:]|/63, the product and the
 *   rounding in f64.
 */
export function quantizeRowsI7(w: Int8Array, ws: Float32Array, W: ArrayLike<number>, N: number, K: number): void {
  for (let n = 0; n < N; n++) {
    let amax = 0;
    for (let k = 0; k < K; k++) amax = Math.max(amax, Math.abs(W[n * K + k]!));
    ws[n] = amax / I7_MAX;
    const s = amax > 0 ? I7_MAX / amax : 0;
    for (let k = 0; k < K; k++) w[n * K + k] = roundHalfEven(W[n * K + k]! * s);
  }
}

export function checkHeadRows(where: string, q7: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, n0: number, n: number, K: number): void {
  checkDims(where, { n0, n, K });
  checkDType(where, 'q7', q7, 'i8');
  if (!(ws instanceof Float32Array)) throw new ArgumentError(`${where}: ws must be a Float32Array`);
  if (q7.length < bytesI7R4(n0 + n, K)) throw new ArgumentError(`${where}: q7 has ${q7.length} bytes; rows up to ${n0 + n} need ${bytesI7R4(n0 + n, K)}`);
  if (ws.length < n0 + n) throw new ArgumentError(`${where}: ws has ${ws.length} values; rows up to ${n0 + n} need ${n0 + n}`);
  checkLen(where, 'src', src, n * K);
}

/** 1.5·2^52: adding and subtracting it rounds an f64 of magnitude < 2^51 to the nearest integer, ties to even. */
const RNE_MAGIC = 6755399441055744;

/**
 * The loader's head quantizer, reference twin of wasm/assembly/headq.ts: quantizeRowsI7 + packI7R4 in one pass (328M values at 2B4T): rows
 * [n0, n0 + n) of W (n, K) quantized and written straight into the 'i7r4' matrix q7 (filled with
 * I7_OFFSET beforehand), their scales into ws[n0 …]. Same codes and scales as the two reference
 * functions (tested). Returns false when a row is not finite.
 */
export function quantizeRowsI7R4(q7: Int8Array, ws: Float32Array, W: Float32Array, n0: number, n: number, K: number): boolean {
  checkHeadRows('quantizeRowsI7R4', q7, ws, W, n0, n, K);
  const KP = Math.ceil(K / 16) * 16;
  for (let r = 0; r < n; r++) {
    const o = r * K;
    let amax = 0;
    for (let k = 0; k < K; k++) {
      const a = Math.abs(W[o + k]!);
      if (a > amax) amax = a;
      else if (a !== a) return false;
    }
    if (amax === Infinity) return false;
    const row = n0 + r;
    ws[row] = amax / I7_MAX;
    const s = amax > 0 ? I7_MAX / amax : 0;
    const base = (row >> 2) * 4 * KP + 16 * (row & 3);
    for (let k = 0; k < K; k++) q7[base + 64 * (k >> 4) + (k & 15)] = W[o + k]! * s + RNE_MAGIC - RNE_MAGIC + I7_OFFSET;
  }
  return true;
}

let HALF: Float32Array | undefined;

/**
 * quantizeRowsI7R4 from IEEE half bits (a GGUF F16 embedding): the same codes and scales as decoding the
 * halves to f32 first (tested), without the f32 copy. The row maximum comes from the bits (|half| orders
 * like its low 15 bits). Returns false when a row holds an inf or NaN.
 */
export function quantizeRowsI7R4F16(q7: Int8Array, ws: Float32Array, h: Uint16Array, n0: number, n: number, K: number): boolean {
  const t = (HALF ??= Float32Array.from({ length: 65536 }, (_, x) => halfToFloat(x)));
  checkHeadRows('quantizeRowsI7R4F16', q7, ws, h, n0, n, K);
  const KP = Math.ceil(K / 16) * 16;
  for (let r = 0; r < n; r++) {
    const o = r * K;
    let mb = 0;
    for (let k = 0; k < K; k++) {
      const a = h[o + k]! & 0x7fff;
      if (a > mb) mb = a;
    }
    if (mb >= 0x7c00) return false;
    const amax = t[mb]!;
    const row = n0 + r;
    ws[row] = amax / I7_MAX;
    const s = amax > 0 ? I7_MAX / amax : 0;
    const base = (row >> 2) * 4 * KP + 16 * (row & 3);
    for (let k = 0; k < K; k++) q7[base + 64 * (k >> 4) + (k & 15)] = t[h[o + k]!]! * s + RNE_MAGIC - RNE_MAGIC + I7_OFFSET;
  }
  return true;
}

