/**
 * 'q4g': the 4-bit per-group LM head / tied embedding (reference twin; WASM in wasm/assembly/head4*.ts).
 *
 * Quantizer (quantizeQ4G): groups of G = Q4G_GROUP = 64 consecutive weights along K (the last group of a
 *   row may be shorter when G ∤ K), one f32 scale per (row, group):
 *     s[n,g] = f32(absmax_g / 7);   w[n,k] = clamp(roundHalfEven(f32(W[n,k] / s[n,g])), −7, 7)   (0 if s = 0)
 *   Symmetric codes in [−7, 7] (15 levels, 0 exact, W and −W quantize to opposite codes); reconstruction
 *   W ≈ s·w is within s/2 of W per element (and the group absmax is hit exactly up to f32 rounding).
 *   [−8, 7] with s = absmax/8 would clip the positive extreme by s, and s = absmax/7 never reaches −8,
 *   so the quantizer does not use −8. The storage and the kernels accept any nibble (w ∈ [−8, 7]).
 *
 * Kernel (matmulQ4G): int8 per-token activations xq with multipliers xs (x ≈ xq / xs), exact int32 dot per
 *   group, then an f32 combination in this order (the WASM twins do exactly these IEEE f32 operations):
 *     d[g]   = Σ_{k ∈ group g, k < K} w[n,k]·xq[m,k]                        exact integer (|d| ≤ 2^17: exact in f32)
 *     acc    = 0;  for g = 0 … ng−1:  acc = f32(acc + f32(f32(d[g]) · s[n,g]))
 *     out[m,n] = f32(acc / xs[m])                                            ng = ⌈K / G⌉
 *
 * Byte layout of the codes (packQ4G; bytesQ4G(N, K) = 64·⌈N/4⌉·⌈K/32⌉ bytes, Uint8Array):
 *   stored nibble u = w + 8 ∈ [0, 15] (padding u = 8, weight 0; a byte of two padding nibbles is 0x88);
 *   K is padded to KP = 32·⌈K/32⌉ and N to a multiple of 4; rows are interleaved by four in 16-byte steps
 *   (as 'i7r4', src/kernels/ref/infer.ts), one 16-byte step holding 32 weights of one row:
 *     byte(n, k)   = (n >> 2)·2·KP + 64·⌊k/32⌋ + 16·(n & 3) + (k & 15)
 *     nibble(n, k) = low 4 bits if (k & 16) = 0, high 4 bits otherwise
 *   so one 16-byte load v of row n gives k = 32b … 32b+15 as v & 0x0F and k = 32b+16 … 32b+31 as v >> 4
 *   (two SIMD ops unpack 32 codes, each half lined up with one 16-byte activation load), and the four rows
 *   of a 4-row dot are one sequential stream of 64 bytes per 32 weights. Nibbles u ∈ [0, 15] are valid
 *   7-bit operands of i16x8.relaxed_dot_i8x16_i7x16_s (exact on every engine); Σ x·w = Σ x·u − 8·Σ x.
 *
 * Scales (Float32Array, scalesQ4G(N, K) = 4·⌈N/4⌉·ng floats), interleaved by four rows so the four scales
 *   of a group are one 16-byte load, in the same order as the codes stream:
 *     scale index(n, g) = (n >> 2)·4·ng + 4·g + (n & 3)          (padding rows: 0)
 *
 * Bytes per weight at G = 64: 0.5 (codes) + 4/64 (f32 scales) = 4.5 bits, like ggml's Q4_0 (G = 32 with
 * f16 scales); 'i7r4' is 8 bits + one scale per row. Group size: docs/kernels.md ('q4g') has the measurements.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { roundHalfEven } from '../../tensor/round.js';
import { checkDType, checkDims, checkLen } from '../../tensor/shape.js';
import { checkFloats } from './nn_checks.js';

const f32 = Math.fround;

/** Weights per scale group along K (the format's group size; the kernels are built for it). */
export const Q4G_GROUP = 64;
/** Largest |code| the quantizer produces (scale = absmax / 7). */
export const Q4G_MAX = 7;
/** Stored nibble u = w + Q4G_OFFSET; storable codes w ∈ [−8, 7]. */
export const Q4G_OFFSET = 8;
/** Fill byte of a fresh code buffer: two nibbles of weight 0. */
export const Q4G_PAD_BYTE = 0x88;

function checkGroup(where: string, G: number): void {
  if (!Number.isInteger(G) || G < 32 || G > 128 || G % 32 !== 0) throw new ArgumentError(`${where}: group size G=${G} must be 32, 64, 96 or 128 (a multiple of 32, ≤ 128: the kernels' i16 partial sums)`);
}

/** Scale groups per row: ⌈K / G⌉. */
export function groupsQ4G(K: number, G = Q4G_GROUP): number {
  return Math.ceil(K / G);
}

/** Bytes of the packed codes of an (N, K) 'q4g' matrix: 64·⌈N/4⌉·⌈K/32⌉. */
export function bytesQ4G(N: number, K: number): number {
  return 64 * Math.ceil(N / 4) * Math.ceil(K / 32);
}

/** Floats of the packed scales of an (N, K) 'q4g' matrix: 4·⌈N/4⌉·⌈K/G⌉. */
export function scalesQ4G(N: number, K: number, G = Q4G_GROUP): number {
  return 4 * Math.ceil(N / 4) * groupsQ4G(K, G);
}

/** Byte offset of weight (n, k) in a 'q4g' code buffer with K columns (its nibble: (k & 16) ? high : low). */
export function offsetQ4G(n: number, k: number, K: number): number {
  return (n >> 2) * 64 * Math.ceil(K / 32) + 64 * (k >> 5) + 16 * (n & 3) + (k & 15);
}

/** Index of the scale of (row n, group g) in a 'q4g' scale buffer. */
export function scaleIndexQ4G(n: number, g: number, K: number, G = Q4G_GROUP): number {
  return (n >> 2) * 4 * groupsQ4G(K, G) + 4 * g + (n & 3);
}

/** Weight code (n, k) ∈ [−8, 7] of a 'q4g' code buffer (u − 8). */
export function codeQ4G(w: Uint8Array, n: number, k: number, K: number): number {
  return ((w[offsetQ4G(n, k, K)]! >> (k & 16 ? 4 : 0)) & 15) - Q4G_OFFSET;
}

/**
 * Per-(row, group) absmax quantization to codes in [−7, 7] (module doc); all math in f32.
 *
 * codes: Int8Array // (N, K)    scales: FloatArray // (N, ⌈K/G⌉) row-major    W: FloatArray // (N, K)
 */
export function quantizeQ4G(codes: Int8Array, scales: FloatArray, W: FloatArray, N: number, K: number, G = Q4G_GROUP): void {
  checkDims('quantizeQ4G', { N, K });
  checkGroup('quantizeQ4G', G);
  checkDType('quantizeQ4G', 'codes', codes, 'i8');
  checkFloats('quantizeQ4G', false, { scales, W });
  const ng = groupsQ4G(K, G);
  checkLen('quantizeQ4G', 'codes', codes, N * K);
  checkLen('quantizeQ4G', 'scales', scales, N * ng);
  checkLen('quantizeQ4G', 'W', W, N * K);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < ng; g++) {
      const k0 = n * K + g * G, k1 = n * K + Math.min(K, (g + 1) * G);
      let amax = 0;
      for (let i = k0; i < k1; i++) amax = Math.max(amax, Math.abs(f32(W[i]!))); // NaN propagates
      if (!Number.isFinite(amax)) throw new ArgumentError(`quantizeQ4G: row ${n} group ${g} holds a non-finite weight`);
      const s = f32(amax / Q4G_MAX);
      scales[n * ng + g] = s;
      for (let i = k0; i < k1; i++) {
        const r = s === 0 ? 0 : roundHalfEven(f32(f32(W[i]!) / s));
        codes[i] = r < -Q4G_MAX ? -Q4G_MAX : r > Q4G_MAX ? Q4G_MAX : r;
      }
    }
  }
}

/**
 * Write rows [n0, n0 + n) of codes (n, K) ∈ [−8, 7] and their row-major scales (n, ⌈K/G⌉) into the 'q4g'
 * buffers dst / dstScales (module doc). Fill dst with Q4G_PAD_BYTE and dstScales with 0 before the first
 * call (padding rows and columns are weight 0).
 *
 * dst: Uint8Array // (bytesQ4G(N, K))    dstScales: Float32Array // (scalesQ4G(N, K, G))
 * codes: Int8Array // (n, K)             scales: FloatArray // (n, ⌈K/G⌉)
 */
export function packQ4G(dst: Uint8Array, dstScales: Float32Array, codes: Int8Array, scales: FloatArray, n0: number, n: number, K: number, G = Q4G_GROUP): void {
  checkDims('packQ4G', { n0, n, K });
  checkGroup('packQ4G', G);
  checkDType('packQ4G', 'dst', dst, 'u8');
  checkDType('packQ4G', 'dstScales', dstScales, 'f32');
  checkDType('packQ4G', 'codes', codes, 'i8');
  checkFloats('packQ4G', false, { scales });
  const ng = groupsQ4G(K, G);
  checkLen('packQ4G', 'codes', codes, n * K);
  checkLen('packQ4G', 'scales', scales, n * ng);
  if (dst.length < bytesQ4G(n0 + n, K)) throw new ArgumentError(`packQ4G: dst has ${dst.length} bytes; rows up to ${n0 + n} need ${bytesQ4G(n0 + n, K)}`);
  if (dstScales.length < scalesQ4G(n0 + n, K, G)) throw new ArgumentError(`packQ4G: dstScales has ${dstScales.length} floats; rows up to ${n0 + n} need ${scalesQ4G(n0 + n, K, G)}`);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < K; k++) {
      const v = codes[r * K + k]!;
      if (v < -Q4G_OFFSET || v > Q4G_MAX) throw new ArgumentError(`packQ4G: codes[${r * K + k}]=${v} is outside the 4-bit code range [-${Q4G_OFFSET}, ${Q4G_MAX}]`);
      const o = offsetQ4G(n0 + r, k, K);
      dst[o] = k & 16 ? (dst[o]! & 0x0f) | ((v + Q4G_OFFSET) << 4) : (dst[o]! & 0xf0) | (v + Q4G_OFFSET);
    }
    for (let g = 0; g < ng; g++) dstScales[scaleIndexQ4G(n0 + r, g, K, G)] = scales[r * ng + g]!;
  }
}

/**
 * Row n of a packed 'q4g' matrix in f32: out[k] = f32(s[n, ⌊k/G⌋] · w[n,k]) (the tied-embedding lookup).
 *
 * out: FloatArray // (K)    w: Uint8Array // ('q4g' codes, ≥ bytesQ4G(n + 1, K))    ws: Float32Array // (≥ scalesQ4G(n + 1, K))
 */
export function dequantRowQ4G(out: FloatArray, w: Uint8Array, ws: Float32Array, n: number, K: number, G = Q4G_GROUP): void {
  checkDims('dequantRowQ4G', { n, K });
  checkGroup('dequantRowQ4G', G);
  checkDType('dequantRowQ4G', 'w', w, 'u8');
  checkFloats('dequantRowQ4G', false, { out });
  checkLen('dequantRowQ4G', 'out', out, K);
  checkLen('dequantRowQ4G', 'w', w, bytesQ4G(n + 1, K));
  checkLen('dequantRowQ4G', 'ws', ws, scalesQ4G(n + 1, K, G));
  const base = offsetQ4G(n, 0, K), sb = scaleIndexQ4G(n, 0, K, G);
  for (let k = 0; k < K; k++) {
    const u = (w[base + 64 * (k >> 5) + (k & 15)]! >> (k & 16 ? 4 : 0)) & 15;
    out[k] = f32(ws[sb + 4 * Math.floor(k / G)]! * (u - Q4G_OFFSET));
  }
}

export function checkMatmulQ4G(where: string, f32only: boolean, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, ws: FloatArray,
                               M: number, K: number, N: number, G = Q4G_GROUP): void {
  checkDims(where, { M, K, N });
  checkGroup(where, G);
  checkDType(where, 'xq', xq, 'i8');
  checkDType(where, 'w', w, 'u8');
  checkFloats(where, f32only, { out, xs, ws });
  checkLen(where, 'out', out, M * N);
  checkLen(where, 'xq', xq, M * K);
  checkLen(where, 'xs', xs, M);
  checkLen(where, 'w', w, bytesQ4G(N, K));
  checkLen(where, 'ws', ws, scalesQ4G(N, K, G));
}

/**
 * matmulQ4G at any supported group size G (32, 64, 96, 128): the definition, used by matmulQ4G (G = 64)
 * and by the tests / group-size measurements of the WASM export at other G.
 */
export function matmulQ4GGroup(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, ws: FloatArray, M: number, K: number, N: number, G: number): void {
  checkMatmulQ4G('matmulQ4G', false, out, xq, xs, w, ws, M, K, N, G);
  const ng = groupsQ4G(K, G);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let g = 0; g < ng; g++) {
        let d = 0;
        for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) d += codeQ4G(w, n, k, K) * xq[m * K + k]!;
        acc = f32(acc + f32(f32(d) * f32(ws[scaleIndexQ4G(n, g, K, G)]!)));
      }
      out[m * N + n] = f32(acc / f32(xs[m]!));
    }
  }
}

/**
 * 4-bit per-group weights × int8 per-token activations (module doc):
 *   out[m,n] = f32( (Σ_g in order f32(d[g]·s[n,g]), f32 accumulation) / xs[m] )
 *
 * out: (M, N)  xq: Int8Array (M, K)  xs: (M) quantizer multipliers  w: Uint8Array (bytesQ4G(N, K)) 'q4g'
 * codes (packQ4G)  ws: (scalesQ4G(N, K)) 'q4g' scales, G = Q4G_GROUP.
 */
export function matmulQ4G(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, ws: FloatArray, M: number, K: number, N: number): void {
  matmulQ4GGroup(out, xq, xs, w, ws, M, K, N, Q4G_GROUP);
}
