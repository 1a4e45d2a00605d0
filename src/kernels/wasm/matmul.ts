/**
 * WASM bindings of the f32 GEMM (wasm/assembly/matmul.ts). Same names and
 * arguments as src/kernels/ref/matmul.ts, with a leading context.
 *
 * Threads split the larger dimension of the output (rows or columns), or its columns when it has too
 * few rows to give every thread a full micro-tile (decode-time f32 GEMV).
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { checkMatmul, f32Only } from '../checks.js';
import type { WasmContext } from './context.js';

/** Micro-tile height/width of the AS kernel: row splits are aligned to these. */
const MR = 4;
const NR = 8;
/** Below this many multiply-adds a job stays on one thread (a hand-off costs ~1–10 µs). */
const MIN_PARALLEL_MACS = 1 << 16;
/**
 * One chunk per thread, not the pool's default four: every chunk packs the whole operand of the dimension it does
 * not split (the comment in gemm), so more chunks repeat that packing. At 2 threads dW of 2048 × 256 × 256 went from
 * 78–85 to 95 GFLOP/s, and the b1.58 training step from 897 to 865 ms (medians of six alternated rounds in one
 * process): more than the dynamic chunks' load balance gave back (docs/kernels.md).
 */
const GEMM_CHUNKS_PER_THREAD = 1;

function gemm(ctx: WasmContext, name: string, c: FloatArray, a: FloatArray, b: FloatArray, M: number, K: number, N: number, accumulate: boolean, outRows: number, outCols: number): void {
  const macs = M * K * N;
  const threads = macs < MIN_PARALLEL_MACS ? 1 : ctx.threads;
  // Split the larger output dimension: each chunk of rows packs all of B (reduction × outCols floats), each chunk
  // of columns all of A (outRows × reduction), so splitting the larger side repacks the smaller operand. (dW of a
  // 256 × 688 weight at M = 2048 repacked the 2048 × 688 input once per chunk when split by rows.) Too few rows
  // for whole micro-tiles per thread (decode-time GEMV) also splits columns. Either way every output element
  // is reduced in the same order, so the bits do not change.
  const splitN = outCols >= threads * NR && (outRows < threads * MR * 2 || outCols > outRows);
  ctx.scope((s) => {
    const pc = accumulate ? s.inout(c) : s.out(c);
    const args = [pc, s.in(a), s.in(b), M, K, N, accumulate ? 1 : 0, ctx.scratchBase, ctx.scratchStride, splitN ? 1 : 0];
    if (threads === 1) ctx.call(name, ...args, 0, splitN ? outCols : outRows, 0);
    else ctx.parallel(name, args, splitN ? outCols : outRows, splitN ? NR : MR, 1, GEMM_CHUNKS_PER_THREAD);
  });
}

/** out(M,N) = x(M,K) · w(N,K)ᵀ */
export function matmul(ctx: WasmContext, out: FloatArray, x: FloatArray, w: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmul', { out, x, w }, { out: M * N, x: M * K, w: N * K }, M, K, N);
  f32Only('matmul', { out, x, w });
  gemm(ctx, 'matmul_f32', out, x, w, M, K, N, false, M, N);
}

/** dx(M,K) += dy(M,N) · w(N,K); with accumulate false, dx = dy · w (dx's old values are not read). */
export function matmulBackwardInput(ctx: WasmContext, dx: FloatArray, dy: FloatArray, w: FloatArray, M: number, K: number, N: number, accumulate = true): void {
  checkMatmul('matmulBackwardInput', { dx, dy, w }, { dx: M * K, dy: M * N, w: N * K }, M, K, N);
  f32Only('matmulBackwardInput', { dx, dy, w });
  gemm(ctx, 'matmul_bwd_input_f32', dx, dy, w, M, K, N, accumulate, M, K);
}

/** dw(N,K) += dy(M,N)ᵀ · x(M,K) */
export function matmulBackwardWeight(ctx: WasmContext, dw: FloatArray, dy: FloatArray, x: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmulBackwardWeight', { dw, dy, x }, { dw: N * K, dy: M * N, x: M * K }, M, K, N);
  f32Only('matmulBackwardWeight', { dw, dy, x });
  gemm(ctx, 'matmul_bwd_weight_f32', dw, dy, x, M, K, N, true, N, K);
}
