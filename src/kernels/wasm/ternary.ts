/**
 * WASM bindings of the packed-weight matmuls (wasm/assembly/ternary.ts, SIMD128, and
 * wasm/assembly/ternary_relaxed.ts, relaxed SIMD, used when ctx.relaxed). Same names and
 * arguments as src/kernels/ref/ternary.ts with a leading context. Integer accumulators are
 * exact; the f32 outputs are bit-identical to the reference (same formula and rounding).
 *
 * Threads split the output features N (weight rows), aligned to the kernels' 4-row tiles,
 * so each thread streams only its own slice of the packed weights.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { bytesI2R4, rowBytesB1, rowBytesI1p6, rowBytesI2 } from '../../quant/pack.js';
import { checkPackedMatmul, I4_RANGE, type WeightScale } from '../ref/ternary.js';
import { f32Only } from '../checks.js';
import type { WasmContext } from './context.js';

/** Rows per kernel tile: thread splits are aligned to it. */
const ROW_TILE = 4;
/** Below this many weight·token products a thread is not worth waking. */
const MIN_PARALLEL_MACS = 1 << 18;

function packed(ctx: WasmContext, name: string, out: Float32Array | Int32Array, xq: Int8Array, xs: FloatArray | null, w: Uint8Array, M: number, K: number, N: number, wBytes: number, beta: WeightScale | null, scratch = false): void {
  if (M === 0 || N === 0) return;
  const kernel = ctx.relaxed ? `${name}_relaxed` : name;
  ctx.scope((s) => {
    let pXs = 0, pBeta = 0, rpg = N;
    if (xs !== null && beta !== null) {
      f32Only(name, { xs });
      pXs = s.in(xs.subarray(0, M));
      if (typeof beta === 'number') pBeta = s.in(Float32Array.of(beta));
      else {
        f32Only(name, { beta });
        pBeta = s.in(beta);
        rpg = N / beta.length;
      }
    }
    const args = [s.out(out.subarray(0, M * N)), xs === null ? 1 : 0, s.in(xq.subarray(0, M * K)), pXs, s.in(w.subarray(0, wBytes)), M, K, N, pBeta, rpg, 3];
    if (scratch) args.push(ctx.scratchBase, ctx.scratchStride); // the 'i2r4' prefill path unpacks a row group there
    const minRows = Math.max(ROW_TILE, Math.ceil(MIN_PARALLEL_MACS / Math.max(1, M * K)));
    ctx.parallel(kernel, args, N, ROW_TILE, minRows);
  });
}

function outF32(where: string, out: FloatArray): Float32Array {
  f32Only(where, { out });
  return out as Float32Array;
}

/** See ref matmulTernaryI8. out: (M, N)  xq: Int8Array (M, K)  xs: (M)  w: 'i2' (N, rowBytesI2(K)) */
export function matmulTernaryI8(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulTernaryI8';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, N * rowBytesI2(K), beta, true);
  packed(ctx, 'matmul_i2_i8', outF32(where, out), xq, xs, w, M, K, N, N * rowBytesI2(K), beta);
}

/** See ref matmulTernaryI8Acc. acc: Int32Array (M, N) */
export function matmulTernaryI8Acc(ctx: WasmContext, acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernaryI8Acc', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null, true);
  packed(ctx, 'matmul_i2_i8', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null);
}

/** See ref matmulTernaryI4 (activation codes in [-8, 7], checked). */
export function matmulTernaryI4(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulTernaryI4';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, N * rowBytesI2(K), beta, true, I4_RANGE);
  packed(ctx, 'matmul_i2_i4', outF32(where, out), xq, xs, w, M, K, N, N * rowBytesI2(K), beta);
}

/** See ref matmulTernaryI4Acc. */
export function matmulTernaryI4Acc(ctx: WasmContext, acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernaryI4Acc', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null, true, I4_RANGE);
  packed(ctx, 'matmul_i2_i4', acc, xq, null, w, M, K, N, N * rowBytesI2(K), null);
}

/** See ref matmulTernaryR4I8. w: 'i2r4' (bytesI2R4(N, K)); threads split on whole 4-row groups. */
export function matmulTernaryR4I8(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulTernaryR4I8';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, bytesI2R4(N, K), beta, true);
  packed(ctx, 'matmul_i2r4_i8', outF32(where, out), xq, xs, w, M, K, N, bytesI2R4(N, K), beta, true);
}

/** See ref matmulTernaryR4I4 (activation codes in [-8, 7], checked). */
export function matmulTernaryR4I4(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulTernaryR4I4';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, bytesI2R4(N, K), beta, true, I4_RANGE);
  packed(ctx, 'matmul_i2r4_i4', outF32(where, out), xq, xs, w, M, K, N, bytesI2R4(N, K), beta, true);
}

/** See ref matmulTernary1p6I8. w: 'i1.6' (N, rowBytesI1p6(K)) */
export function matmulTernary1p6I8(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulTernary1p6I8';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, N * rowBytesI1p6(K), beta, true);
  packed(ctx, 'matmul_i1p6_i8', outF32(where, out), xq, xs, w, M, K, N, N * rowBytesI1p6(K), beta);
}

/** See ref matmulTernary1p6I8Acc. */
export function matmulTernary1p6I8Acc(ctx: WasmContext, acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulTernary1p6I8Acc', acc, xq, null, w, M, K, N, N * rowBytesI1p6(K), null, true);
  packed(ctx, 'matmul_i1p6_i8', acc, xq, null, w, M, K, N, N * rowBytesI1p6(K), null);
}

/** See ref matmulBinaryI8. w: 'b1' (N, rowBytesB1(K)) */
export function matmulBinaryI8(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, M: number, K: number, N: number, beta: WeightScale): void {
  const where = 'matmulBinaryI8';
  checkPackedMatmul(where, out, xq, xs, w, M, K, N, N * rowBytesB1(K), beta, true);
  packed(ctx, 'matmul_b1_i8', outF32(where, out), xq, xs, w, M, K, N, N * rowBytesB1(K), beta);
}

/** See ref matmulBinaryI8Acc. */
export function matmulBinaryI8Acc(ctx: WasmContext, acc: Int32Array, xq: Int8Array, w: Uint8Array, M: number, K: number, N: number): void {
  checkPackedMatmul('matmulBinaryI8Acc', acc, xq, null, w, M, K, N, N * rowBytesB1(K), null, true);
  packed(ctx, 'matmul_b1_i8', acc, xq, null, w, M, K, N, N * rowBytesB1(K), null);
}
