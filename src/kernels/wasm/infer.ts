/**
 * WASM bindings of the inference-only kernels (wasm/assembly/infer.ts); same names and arguments
 * as src/kernels/ref/infer.ts with a leading context.
 *  - attentionCached, attentionCachedF16: threads split the (m, h) query rows; every row is computed whole by one thread
 *    (the f16 kernel takes a thread's heads of one KV group four at a time, sharing the widened cache rows).
 *  - f32ToF16, f16ToF32: elementwise; threads split the elements in multiples of 8.
 *  - matmulI7: threads split the output rows N on whole 4-row groups ('i7r4'), each streaming its own weight slice.
 */
import { ArgumentError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { bytesI7R4, checkAttentionCached, checkAttentionCachedF16, checkHalfConvert, checkHeadRows, checkMatmulI7 } from '../ref/infer.js';
import type { WasmContext } from './context.js';

/** Below this much work (multiply-adds) a job stays on one thread. */
const MIN_PARALLEL_MACS = 1 << 17;

export function attentionCached(ctx: WasmContext, out: FloatArray, q: FloatArray, kc: FloatArray, vc: FloatArray,
                                M: number, pos0: number, S: number, H: number, KVH: number, HS: number): void {
  checkAttentionCached('attentionCached', true, out, q, kc, vc, M, pos0, S, H, KVH, HS);
  cached(ctx, 'attentionCached', 'attention_cached_f32', 1, out, q, kc, vc, M, pos0, H, KVH, HS);
}

export function attentionCachedF16(ctx: WasmContext, out: FloatArray, q: FloatArray, kc: Uint16Array, vc: Uint16Array,
                                   M: number, pos0: number, S: number, H: number, KVH: number, HS: number, finite = false): void {
  checkAttentionCachedF16('attentionCachedF16', true, out, q, kc, vc, M, pos0, S, H, KVH, HS);
  cached(ctx, 'attentionCachedF16', 'attention_cached_f16', 4, out, q, kc, vc, M, pos0, H, KVH, HS, finite);
}

/** `rowsAtOnce`: score rows a thread keeps in its scratch at once (n floats each). */
function cached(ctx: WasmContext, where: string, kernel: string, rowsAtOnce: number, out: FloatArray, q: FloatArray, kc: FloatArray | Uint16Array, vc: FloatArray | Uint16Array,
                M: number, pos0: number, H: number, KVH: number, HS: number, finite?: boolean): void {
  if (M === 0) return;
  const n = pos0 + M;
  // score rows, and for the f16 kernel the query rows scaled by 2^112 (its fast path) after them
  if (rowsAtOnce * (n + (finite === undefined ? 0 : HS)) * 4 > ctx.scratchStride) throw new ArgumentError(`${where}: ${n} positions exceed the per-thread scratch`);
  ctx.scope((s) => {
    const nkv = n * KVH * HS;
    const args = [s.out(out.subarray(0, M * H * HS)), s.in(q.subarray(0, M * H * HS)), s.in(kc.subarray(0, nkv)), s.in(vc.subarray(0, nkv)),
      M, pos0, H, KVH, HS, ...(finite === undefined ? [] : [finite ? 1 : 0]), ctx.scratchBase, ctx.scratchStride];
    const perRow = 2 * n * HS;
    ctx.parallel(kernel, args, M * H, 1, Math.max(1, Math.ceil(MIN_PARALLEL_MACS / perRow)));
  });
}

/** Below this many elements a conversion stays on one thread. */
const MIN_PARALLEL_CONVERT = 1 << 16;

export function f32ToF16(ctx: WasmContext, dst: Uint16Array, src: FloatArray, n: number): void {
  checkHalfConvert('f32ToF16', true, src, 'src', dst, 'dst', n);
  ctx.scope((s) => ctx.parallel('f32_to_f16', [s.out(dst.subarray(0, n)), s.in(src.subarray(0, n))], n, 8, MIN_PARALLEL_CONVERT));
}

export function f16ToF32(ctx: WasmContext, dst: FloatArray, src: Uint16Array, n: number): void {
  checkHalfConvert('f16ToF32', true, dst, 'dst', src, 'src', n);
  ctx.scope((s) => ctx.parallel('f16_to_f32', [s.out(dst.subarray(0, n)), s.in(src.subarray(0, n))], n, 8, MIN_PARALLEL_CONVERT));
}

export function matmulI7(ctx: WasmContext, out: FloatArray, xq: Int8Array, xs: FloatArray, w: Int8Array, ws: FloatArray, M: number, K: number, N: number): void {
  checkMatmulI7('matmulI7', true, out, xq, xs, w, ws, M, K, N);
  if (M === 0 || N === 0) return;
  ctx.scope((s) => {
    const args = [s.out(out.subarray(0, M * N)), s.in(xq.subarray(0, M * K)), s.in(xs.subarray(0, M)), s.in(w.subarray(0, bytesI7R4(N, K))), s.in(ws.subarray(0, N)), M, K, N];
    ctx.parallel(ctx.relaxed ? 'matmul_i7_i8_relaxed' : 'matmul_i7_i8', args, N, 4, Math.max(4, Math.ceil(MIN_PARALLEL_MACS / Math.max(1, M * K))));
  });
}

/** Rows [n0, n0+n) of the 7-bit head from f32 rows: threads split the rows (each row's bytes are its own). */
export function quantizeRowsI7R4(ctx: WasmContext, q7: Int8Array, ws: Float32Array, W: Float32Array, n0: number, n: number, K: number): boolean {
  checkHeadRows('quantizeRowsI7R4', q7, ws, W, n0, n, K);
  return headRows(ctx, 'quantize_rows_i7r4_f32', q7, ws, W, n0, n, K);
}

/** The same from IEEE half bits (a GGUF F16 embedding). */
export function quantizeRowsI7R4F16(ctx: WasmContext, q7: Int8Array, ws: Float32Array, h: Uint16Array, n0: number, n: number, K: number): boolean {
  checkHeadRows('quantizeRowsI7R4F16', q7, ws, h, n0, n, K);
  return headRows(ctx, 'quantize_rows_i7r4_f16', q7, ws, h, n0, n, K);
}

function headRows(ctx: WasmContext, name: string, q7: Int8Array, ws: Float32Array, src: Float32Array | Uint16Array, n0: number, n: number, K: number): boolean {
  if (n === 0) return true;
  ctx.scope((s) => ctx.parallel(name, [s.out(q7.subarray(0, bytesI7R4(n0 + n, K))), s.out(ws.subarray(0, n0 + n)), s.in(src.subarray(0, n * K)), n0, K], n, 1, Math.max(1, Math.ceil(65536 / Math.max(1, K)))));
  for (let r = n0; r < n0 + n; r++) if (!Number.isFinite(ws[r]!)) return false;
  return true;
}
