/**
 * WASM binding of the 4-bit per-group head kernel (wasm/assembly/head4*.ts); same name and arguments as
 * src/kernels/ref/head4.ts with a leading context. Threads split the output rows N on whole 4-row groups
 * ('q4g' interleaves rows by four), each streaming its own slice of codes and scales once for all tokens;
 * every output is reduced in the reference's fixed order, so results do not depend on the thread count.
 */
import type { FloatArray } from '../../tensor/dtype.js';
import { bytesQ4G, checkMatmulQ4G, groupsQ4G, Q4G_GROUP, scalesQ4G } from '../ref/head4.js';
import type { WasmContext } from './context.js';

/** Below this much work (multiply-adds) a job stays on one thread. */
const MIN_PARALLEL_MACS = 1 << 17;

/**
 * matmulQ4G at group size G (32, 64, 96 or 128): the twin of matmulQ4GGroup (tests and group-size
 * measurements; the Kernels entry is matmulQ4G, G = Q4G_GROUP).
 */
export function matmulQ4GGroupWasm(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, ws: FloatArray,
                                   M: number, K: number, N: number, G: number): void {
  checkMatmulQ4G('matmulQ4G', true, out, xq, xs, w, ws, M, K, N, G);
  if (M === 0 || N === 0) return;
  // The kernel keeps M × ⌈K/G⌉ int32 offset corrections in each thread's scratch: tokens in chunks that fit.
  const ng = groupsQ4G(K, G);
  const chunk = Math.max(1, Math.floor(ctx.scratchStride / (4 * Math.max(1, ng))));
  ctx.scope((s) => {
    const pOut = s.out(out.subarray(0, M * N)), pX = s.in(xq.subarray(0, M * K)), pXs = s.in(xs.subarray(0, M));
    const pW = s.in(w.subarray(0, bytesQ4G(N, K))), pWs = s.in(ws.subarray(0, scalesQ4G(N, K, G)));
    const name = ctx.relaxed ? 'matmul_q4g_i8_relaxed' : 'matmul_q4g_i8';
    for (let m0 = 0; m0 < M; m0 += chunk) {
      const Mc = Math.min(chunk, M - m0);
      const args = [pOut + 4 * m0 * N, pX + m0 * K, pXs + 4 * m0, pW, pWs, Mc, K, N, G, ctx.scratchBase, ctx.scratchStride];
      ctx.parallel(name, args, N, 4, Math.max(4, Math.ceil(MIN_PARALLEL_MACS / Math.max(1, Mc * K))));
    }
  });
}

export function matmulQ4G(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Uint8Array, ws: FloatArray, M: number, K: number, N: number): void {
  matmulQ4GGroupWasm(ctx, out, xq, xs, w, ws, M, K, N, Q4G_GROUP);
}
