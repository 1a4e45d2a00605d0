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
 * C (gm × gn) (=|+=) A (gm × gk) · B (gk × gn), A(i, k) = a[i·rsA + k·csA], B(k, j) = b[k·rsB + j·csB]: the
 * layout of the kernel's `gemm` (wasm/assembly/matmul.ts), which `name` applies to (M, K, N).
 */
interface GemmShape { gm: number; gn: number; gk: number; rsA: number; csA: number; rsB: number; csB: number }

function gemm(ctx: WasmContext, name: string, c: FloatArray, a: FloatArray, b: FloatArray, M: number, K: number, N: number, accumulate: boolean, g: GemmShape): void {
  const macs = M * K * N;
  const threads = macs < MIN_PARALLEL_MACS ? 1 : ctx.threads;
  const outRows = g.gm, outCols = g.gn;
  // Split the larger output dimension: each chunk of rows needs all of B (reduction × outCols floats), each chunk
  // of columns all of A (outRows × reduction). With threads, that shared operand is packed once, by all threads
  // (gemm_pack_f32), into the panels every chunk reads; before, each chunk packed all of it again (dW of a
  // 256 × 688 weight at M = 2048 repacked the 2048 × 688 input once per chunk). Too few rows for whole
  // micro-tiles per thread (decode-time GEMV) also splits columns. Either way every output element is reduced
  // in the same order from the same packed values, so the bits do not change.
  const splitN = outCols >= threads * NR && (outRows < threads * MR * 2 || outCols > outRows);
  ctx.scope((s) => {
    const pc = accumulate ? s.inout(c) : s.out(c);
    const pa = s.in(a), pb = s.in(b);
    let pre = 0;
    if (threads > 1) {
      // the operand of the dimension the threads do not split: A (P = MR) for column splits, B (P = NR) for row splits
      const [src, rs, cs, n, P] = splitN ? [pa, g.csA, g.rsA, g.gm, MR] : [pb, g.rsB, g.csB, g.gn, NR];
      const panels = Math.ceil(n / P);
      pre = s.temp(panels * P * g.gk * 4);
      ctx.parallel('gemm_pack_f32', [pre, src, rs, cs, g.gk, n, P], panels, 1, Math.max(1, Math.ceil((1 << 15) / (P * g.gk))));
    }
    const args = [pc, pa, pb, M, K, N, accumulate ? 1 : 0, ctx.scratchBase, ctx.scratchStride, splitN ? 1 : 0, pre];
    if (threads === 1) ctx.call(name, ...args, 0, splitN ? outCols : outRows, 0);
    else ctx.parallel(name, args, splitN ? outCols : outRows, splitN ? NR : MR);
  });
}

/** out(M,N) = x(M,K) · w(N,K)ᵀ */
export function matmul(ctx: WasmContext, out: FloatArray, x: FloatArray, w: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmul', { out, x, w }, { out: M * N, x: M * K, w: N * K }, M, K, N);
  f32Only('matmul', { out, x, w });
  gemm(ctx, 'matmul_f32', out, x, w, M, K, N, false, { gm: M, gn: N, gk: K, rsA: K, csA: 1, rsB: 1, csB: K });
}

/** dx(M,K) += dy(M,N) · w(N,K); with accumulate false, dx = dy · w (dx's old values are not read). */
export function matmulBackwardInput(ctx: WasmContext, dx: FloatArray, dy: FloatArray, w: FloatArray, M: number, K: number, N: number, accumulate = true): void {
  checkMatmul('matmulBackwardInput', { dx, dy, w }, { dx: M * K, dy: M * N, w: N * K }, M, K, N);
  f32Only('matmulBackwardInput', { dx, dy, w });
  gemm(ctx, 'matmul_bwd_input_f32', dx, dy, w, M, K, N, accumulate, { gm: M, gn: K, gk: N, rsA: N, csA: 1, rsB: K, csB: 1 });
}

/** dw(N,K) += dy(M,N)ᵀ · x(M,K) */
export function matmulBackwardWeight(ctx: WasmContext, dw: FloatArray, dy: FloatArray, x: FloatArray, M: number, K: number, N: number): void {
  checkMatmul('matmulBackwardWeight', { dw, dy, x }, { dw: N * K, dy: M * N, x: M * K }, M, K, N);
  f32Only('matmulBackwardWeight', { dw, dy, x });
  gemm(ctx, 'matmul_bwd_weight_f32', dw, dy, x, M, K, N, true, { gm: N, gn: K, gk: M, rsA: 1, csA: N, rsB: K, csB: 1 });
}
