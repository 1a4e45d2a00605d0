/**
 * Reference packed-weight matmuls (the BitLinear inference hot path): the
 * definition the WASM kernels (wasm/assembly/ternary*.ts) are checked against.
 *
 * Weights W (N, K) = (out, in) are packed row by row in one of the formats of
 * src/quant/pack.ts ('i2', 'i1.6', 'b1'); activations are integer codes
 * xq (M, K) from a per-token quantizer with multipliers xs (M) (x ≈ xq / xs).
 * Accumulation is exact int32:
 *
 *   acc[m,n] = Σ_k W[n,k] · xq[m,k]                       (the *Acc kernels return this)
 *   out[m,n] = f32( f32( f32(acc[m,n]) / xs[m] ) · β(n) )  (scales applied once per output)
 *
 * β(n) is the weight scale: `beta` as a number (one per tensor, docs/spec.md §0.1: β = mean|W|), or a
 * float array of G values, one per group of N/G consecutive output rows (docs/spec.md §1.2 Eq.13;
 * N % G must be 0). For BitNet v1 ('b1'), W = Sign(W_latent − α) ∈ {±1} and β = mean|W_latent|:
 * α only chose the signs and does not enter the product (y = β·(W̃·x̃)/s, docs/spec.md §1.1 Eq.11).
 *
 * |acc| ≤ 128·2·K stays far inside int32 and is exact in f32 for K < 65536.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { checkDType, checkDims, checkLen } from '../../tensor/shape.js';
import { bytesI2R4, decodeTrit, r4BlockOffset, rowBytesB1, rowBytesI1p6, rowBytesI2 } from '../../quant/pack.js';

const f32 = Math.fround;

/** Weight scale: β per tensor (number) or one β per group of N/G consecutive output rows. */
export type WeightScale = number | FloatArray;

/**
 * Argument checks shared by both twins. `out` is the f32 output (M,N) or the int32 accumulators;
 * `xs`/`beta` are null for the *Acc kernels. `actRange` is the allowed activation range
 * (checked elementwise, O(M·K)) when the kernel relies on it, e.g. [-8, 7] for int4.
 */
export function checkPackedMatmul(where: string, out: FloatArray | Int32Array, xq: Int8Array, xs: FloatArray | null, w: Uint8Array, M: number, K: number, N: number, wBytes: number, beta: WeightScale | null, f32only: boolean, actRange?: readonly [number, number]): void {
  checkDims(where, { M, K, N });
  if (xs === null) checkDType(where, 'acc', out, 'i32');
  else checkDType(where, 'out', out, ...(f32only ? (['f32'] as const) : (['f32', 'f64'] as const)));
  checkDType(where, 'xq', xq, 'i8');
  checkDType(where, 'w', w, 'u8');
  checkLen(where, xs === null ? 'acc' : 'out', out, M * N);
  checkLen(where, 'xq', xq, M * K);
  checkLen(where, 'w', w, wBytes);
  if (xs !== null) {
    checkDType(where, 'xs', xs, ...(f32only ? (['f32'] as const) : (['f32', 'f64'] as const)));
    checkLen(where, 'xs', xs, M);
  }
  if (beta !== null) {
    if (typeof beta === 'number') {
      if (!Number.isFinite(beta)) throw new ArgumentError(`${where}: beta=${beta} must be finite`);
    } else {
      checkDType(where, 'beta', beta, ...(f32only ? (['f32'] as const) : (['f32', 'f64'] as const)));
      const G = beta.length;
      if (G < 1 || N % G !== 0) throw new ArgumentError(`${where}: beta has ${G} group scales; N=${N} must be a positive multiple of it`);
    }
  }
  if (actRange) {
    const [lo, hi] = actRange;
    for (let i = 0; i < M * K; i++) {
      const v = xq[i]!;
      if (v < lo || v > hi) throw new ArgumentError(`${where}: xq[${i}]=${v} is outside the activation range [${lo}, ${hi}]`);
    }
  }
}

/** β for output row n (f32). */
function betaAt(beta: WeightScale, n: number, N: number): number {
  if (typeof beta === 'number') return f32(beta);
  return f32(beta[Math.floor(n / (N / beta.length))]!);
}

type Decode = (w: Uint8Array, rowOff: number, k: number) => number;
/** Byte offset of row n's first block; blocks of a row are 16 bytes apart unless the decoder says otherwise. */
type RowOffset = (n: number) => number;

/** 'i2' codes of a row whose 16-byte blocks lie `blockStride` bytes apart (pack.ts layout). */
const decI2At = (blockStride: number): Decode => (w, off, k) => {
  const r = k & 63;
  return ((w[off + (k >> 6) * blockStride + (r & 15)]! >> (2 * (r >> 4))) & 3) - 1;
};
/** 'i2': weight k of the row at byte rowOff. */
const decI2 = decI2At(16);
/** 'i1.6': weight k of the row at byte rowOff. */
const decI1p6: Decode = (w, off, k) => {
  const b = Math.floor(k / 80), r = k - b * 80;
  return decodeTrit(w[off + b * 16 + (r & 15)]!, r >> 4) - 1;
};
/** 'i2r4': weight k of the row whose first block is at byte rowOff (blocks 64 bytes apart: pack.ts). */
const decI2R4 = decI2At(64);
/** 'b1': weight k of the row at byte rowOff. */
const decB1: Decode = (w, off, k) => {
  const r = k & 127;
  return ((w[off + (k >> 7) * 16 + (r & 15)]! >> (r >> 4)) & 1) * 2 - 1;
};

function accumulate(dec: Decode, rowOff: RowOffset, acc: Int32Array | null, out: FloatArray | null, xq: Int8Array, xs: FloatArray | null, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale | null): void {
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let a = 0;
      const off = rowOff(n);
      for (let k = 0; k < K; k++) a += dec(w, off, k) * xq[m * K + k]!;
      if (acc) acc[m * N + n] = a;
      if (out) out[m * N + n] = f32(f32(f32(a) / f32(xs![m]!)) * betaAt(beta!, n, N));
    }
  }
}

/** Row offsets of a row-by-row layout. */
const rows = (rb: number): RowOffset => (n) => n * rb;
/** Row offsets of the 'i2r4' layout: group n >> 2, then 16 bytes per row inside a block step. */
const rowsR4 = (rb: number): RowOffset => (n) => r4BlockOffset(n, 0, rb);

// ---- 'i2' × int8 ------------------------------------------------------------------------------

/**
 * Ternary 'i2' weights × int8 activations (b1.58 BitLinear; GEMV for M = 1, GEMM for M > 1):
 *   out[m,n] = f32(f32(f32(Σ_k W[n,k]·xq[m,k]) / xs[m]) · β(n)).
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (N, rowBytesI2(K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulTernaryI8(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulTernaryI8', out, xq, xs, w, M, K, N, N * rowBytesI2(K), beta, false);
  accumulate(decI2, rows(rowBytesI2(K)), null, out, xq, xs, w, M, K, N, beta);
}

/**
 * Raw int32 accumulators of matmulTernaryI8: acc[m,n] = Σ_k W[n,k]·xq[m,k] (exact).
 *
 * acc: Int32Array // (M, N)    xq: Int8Array // (M, K)    w: Uint8Array // (N, rowBytesI2(K))
 */
export function matmulTernaryI8Acc(acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernaryI8Acc', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null, false);
  accumulate(decI2, rows(rowBytesI2(K)), acc, null, xq, null, w, M, K, N, null);
}

// ---- 'i2' × int4 ------------------------------------------------------------------------------

/** Activation range of the int4 kernels (BitNet v2 Eq.6 codes in int8 lanes). */
export const I4_RANGE = [-8, 7] as const;

/**
 * Ternary 'i2' weights × int4 activations (BitNet v2 H-BitLinear; codes in [-8, 7] held in
 * int8 lanes, from quantizeAbsmeanI4PerToken). Same formula as matmulTernaryI8; codes outside
 * [-8, 7] raise ArgumentError (the fast kernel's longer i16 accumulation relies on the range).
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (N, rowBytesI2(K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulTernaryI4(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulTernaryI4', out, xq, xs, w, M, K, N, N * rowBytesI2(K), beta, false, I4_RANGE);
  accumulate(decI2, rows(rowBytesI2(K)), null, out, xq, xs, w, M, K, N, beta);
}

/**
 * Raw int32 accumulators of matmulTernaryI4 (activations in [-8, 7]).
 *
 * acc: Int32Array // (M, N)    xq: Int8Array // (M, K)    w: Uint8Array // (N, rowBytesI2(K))
 */
export function matmulTernaryI4Acc(acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernaryI4Acc', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null, false, I4_RANGE);
  accumulate(decI2, rows(rowBytesI2(K)), acc, null, xq, null, w, M, K, N, null);
}

// ---- 'i2r4' (rows interleaved by four: the decode layout) ---------------------------------------

/**
 * matmulTernaryI8 on the 'i2r4' layout (pack.ts): same formula, same results bit for bit.
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (bytesI2R4(N, K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulTernaryR4I8(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulTernaryR4I8', out, xq, xs, w, M, K, N, bytesI2R4(N, K), beta, false);
  accumulate(decI2R4, rowsR4(rowBytesI2(K)), null, out, xq, xs, w, M, K, N, beta);
}

/**
 * matmulTernaryI4 (int4 activation codes in [-8, 7]) on the 'i2r4' layout.
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (bytesI2R4(N, K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulTernaryR4I4(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulTernaryR4I4', out, xq, xs, w, M, K, N, bytesI2R4(N, K), beta, false, I4_RANGE);
  accumulate(decI2R4, rowsR4(rowBytesI2(K)), null, out, xq, xs, w, M, K, N, beta);
}

// ---- 'i1.6' × int8 ----------------------------------------------------------------------------

/**
 * Ternary 'i1.6' (base-3, 5 weights per byte) weights × int8 activations; same formula as
 * matmulTernaryI8.
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (N, rowBytesI1p6(K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulTernary1p6I8(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulTernary1p6I8', out, xq, xs, w, M, K, N, N * rowBytesI1p6(K), beta, false);
  accumulate(decI1p6, rows(rowBytesI1p6(K)), null, out, xq, xs, w, M, K, N, beta);
}

/**
 * Raw int32 accumulators of matmulTernary1p6I8.
 *
 * acc: Int32Array // (M, N)    xq: Int8Array // (M, K)    w: Uint8Array // (N, rowBytesI1p6(K))
 */
export function matmulTernary1p6I8Acc(acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernary1p6I8Acc', acc, xq, null, w, M, K, N, N * rowBytesI1p6(K), null, false);
  accumulate(decI1p6, rows(rowBytesI1p6(K)), acc, null, xq, null, w, M, K, N, null);
}

// ---- 'b1' × int8 ------------------------------------------------------------------------------

/**
 * Binary 'b1' (±1, BitNet v1) weights × int8 activations:
 *   out[m,n] = f32(f32(f32(Σ_k Sign[n,k]·xq[m,k]) / xs[m]) · β(n)),  β = mean|W_latent| (α folded
 *   into the signs, see the module doc).
 *
 * out: FloatArray // (M, N)    xq: Int8Array // (M, K)    xs: FloatArray // (M)
 * w: Uint8Array // (N, rowBytesB1(K))    beta: number | FloatArray // per tensor | (G)
 */
export function matmulBinaryI8(out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  checkPackedMatmul('matmulBinaryI8', out, xq, xs, w, M, K, N, N * rowBytesB1(K), beta, false);
  accumulate(decB1, rows(rowBytesB1(K)), null, out, xq, xs, w, M, K, N, beta);
}

/**
 * Raw int32 accumulators of matmulBinaryI8: acc[m,n] = Σ_k Sign[n,k]·xq[m,k].
 *
 * acc: Int32Array // (M, N)    xq: Int8Array // (M, K)    w: Uint8Array // (N, rowBytesB1(K))
 */
export function matmulBinaryI8Acc(acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulBinaryI8Acc', acc, xq, null, w, M, K, N, N * rowBytesB1(K), null, false);
  accumulate(decB1, rows(rowBytesB1(K)), acc, null, xq, null, w, M, K, N, null);
}
