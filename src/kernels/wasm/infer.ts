/**
 * WASM bindings of the inference-only kernels (wasm/assembly/infer.ts); same names and arguments
 * as src/kernels/ref/infer.ts with a leading context.
 *  - attentionCached: threads split the (m, h) query rows; every row is computed whole by one thread.
 *  - matmulI7: threads split the output rows N on whole 4-row groups ('i7r4'), each streaming its own weight slice.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { bytesI7R4, checkAttentionCached, checkMatmulI7 } from '../ref/infer.js';
import type { WasmContext } from './context.js';

/** Below this much work (multiply-adds) a job stays on one thread. */
const MIN_PARALLEL_MACS = 1 << 17;

export function attentionCached(ctx: WasmContext, out: FloatArray, q: FloatArray, kc: FloatArray, vc: FloatArray,
                                M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkAttentionCached('attentionCached', true, out, q, kc, vc, M, pos0, S, H, KVH, HS);
  if (M === 0) return;
  const n = pos0 + M;
  if (n * 4 > ctx.scratchStride) throw new ArgumentError(`attentionCached: ${n} positions exceed the per-thread scratch`);
  ctx.scope((s) => {
    const nkv = n * KVH * HS;
    const args = [s.out(out.subarray(0, M * H * HS)), s.in(q.subarray(0, M * H * HS)), s.in(kc.subarray(0, nkv)), s.in(vc.subarray(0, nkv)),
      M, pos0, H, KVH, HS, ctx.scratchBase, ctx.scratchStride];
    const perRow = 2 * n * HS;
    ctx.parallel('attention_cached_f32', args, M * H, 1, Math.max(1, Math.ceil(MIN_PARALLEL_MACS / perRow)));
  });
}

export function matmulI7(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Int8Array, ws: FloatArray, M: number, K: number, N: number): void {
  checkMatmulI7('matmulI7', true, out, xq, xs, w, ws, M, K, N);
  if (M === 0 || N === 0) return;
  ctx.scope((s) => {
    const args = [s.out(out.subarray(0, M * N)), s.in(xq.subarray(0, M * K)), s.in(xs.subarray(0, M)), s.in(w.subarray(0, bytesI7R4(N, K))), s.in(ws.subarray(0, N)), M, K, N];
    ctx.parallel(ctx.relaxed ? 'matmul_i7_i8_relaxed' : 'matmul_i7_i8', args, N, 4, Math.max(4, Math.ceil(MIN_PARALLEL_MACS / Math.max(1, M * K))));
  });
}
