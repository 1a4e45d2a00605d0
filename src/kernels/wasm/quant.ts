/**
 * WASM bindings of the quantizers (wasm/assembly/quant.ts). Same names and arguments as
 * src/kernels/ref/quant.ts with a leading context; bit-identical results (f32 math, round
 * half to even, fixed f64 summation order for means). f32 only: f64 arrays raise DTypeError.
 *
 * Per-token quantizers run threaded over rows; weight quantizers over groups (one group =
 * per tensor, single thread: the fixed summation order spans the whole group).
 */
import { DTypeError } from '../../errors.js';
import type { FloatArray } from '../../tensor/dtype.js';
import { checkDType, checkLen } from '../../tensor/shape.js';
import { checkFakeRows, checkGroups, checkPackSigns, checkQuantFakeRows, checkQuantRows, type ShiftedScales, type SignScales } from '../ref/quant.js';
import type { WasmContext } from './context.js';

/** Below this many elements a row-parallel job stays on one thread. */
const MIN_PARALLEL_ELEMS = 1 << 15;

function rowsPerThread(K: number): number {
  return Math.max(1, Math.ceil(MIN_PARALLEL_ELEMS / Math.max(K, 1)));
}

function f32(where: string, name: string, a: FloatArray): Float32Array {
  if (!(a instanceof Float32Array)) throw new DTypeError(`${where}: wasm kernels take Float32Array; ${name} is ${a.constructor.name}`);
  return a;
}

function perToken(ctx: WasmContext, name: string, dst: Int8Array | Uint8Array | Float32Array, scales: Float32Array[], x: Float32Array, M: number, K: number): void {
  if (M === 0) return;
  ctx.scope((s) => {
    const args = [s.out(dst.subarray(0, M * K)), ...scales.map((a) => s.out(a.subarray(0, M))), s.in(x.subarray(0, M * K)), K];
    ctx.parallel(name, args, M, 1, rowsPerThread(K));
  });
}

/** See ref quantizeAbsmaxI8PerToken. q: Int8Array // (M, K)  scale: Float32Array // (M)  x: Float32Array // (M, K) */
export function quantizeAbsmaxI8PerToken(ctx: WasmContext, q: Int8Array, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'quantizeAbsmaxI8PerToken';
  checkQuantRows(where, q, 'i8', { scale }, x, M, K, true);
  perToken(ctx, 'quant_absmax_i8_token_f32', q, [f32(where, 'scale', scale)], f32(where, 'x', x), M, K);
}

/** See ref quantizeAbsmaxI8PerTensor (returns s). */
export function quantizeAbsmaxI8PerTensor(ctx: WasmContext, q: Int8Array, x: FloatArray, n: number): number {
  const where = 'quantizeAbsmaxI8PerTensor';
  checkQuantRows(where, q, 'i8', {}, x, 1, n, true);
  const s = new Float32Array(1);
  perToken(ctx, 'quant_absmax_i8_token_f32', q, [s], f32(where, 'x', x), 1, n);
  return s[0]!;
}

/** See ref fakeQuantAbsmaxI8PerToken. out, x: Float32Array // (M, K) */
export function fakeQuantAbsmaxI8PerToken(ctx: WasmContext, out: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'fakeQuantAbsmaxI8PerToken';
  checkFakeRows(where, out, x, M, K, true);
  perToken(ctx, 'fakequant_absmax_i8_token_f32', f32(where, 'out', out), [new Float32Array(M)], f32(where, 'x', x), M, K);
}

/** See ref fakeQuantAbsmaxI8PerTensor (returns s). */
export function fakeQuantAbsmaxI8PerTensor(ctx: WasmContext, out: FloatArray, x: FloatArray, n: number): number {
  const where = 'fakeQuantAbsmaxI8PerTensor';
  checkFakeRows(where, out, x, 1, n, true);
  const s = new Float32Array(1);
  perToken(ctx, 'fakequant_absmax_i8_token_f32', f32(where, 'out', out), [s], f32(where, 'x', x), 1, n);
  return s[0]!;
}

/** See ref quantizeAbsmeanI4PerToken. q: Int8Array // (M, K)  scale: Float32Array // (M)  x: Float32Array // (M, K) */
export function quantizeAbsmeanI4PerToken(ctx: WasmContext, q: Int8Array, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'quantizeAbsmeanI4PerToken';
  checkQuantRows(where, q, 'i8', { scale }, x, M, K, true);
  perToken(ctx, 'quant_absmean_i4_token_f32', q, [f32(where, 'scale', scale)], f32(where, 'x', x), M, K);
}

/** See ref fakeQuantAbsmeanI4PerToken. out, x: Float32Array // (M, K) */
export function fakeQuantAbsmeanI4PerToken(ctx: WasmContext, out: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'fakeQuantAbsmeanI4PerToken';
  checkFakeRows(where, out, x, M, K, true);
  perToken(ctx, 'fakequant_absmean_i4_token_f32', f32(where, 'out', out), [new Float32Array(M)], f32(where, 'x', x), M, K);
}

/** See ref quantizeShiftedU7PerToken. q: Uint8Array // (M, K)  eta, scale: Float32Array // (M)  x: Float32Array // (M, K) */
export function quantizeShiftedU7PerToken(ctx: WasmContext, q: Uint8Array, eta: FloatArray, scale: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'quantizeShiftedU7PerToken';
  checkQuantRows(where, q, 'u8', { eta, scale }, x, M, K, true);
  perToken(ctx, 'quant_shifted_u7_token_f32', q, [f32(where, 'eta', eta), f32(where, 'scale', scale)], f32(where, 'x', x), M, K);
}

/** See ref fakeQuantShiftedU7PerToken. out, x: Float32Array // (M, K) */
export function fakeQuantShiftedU7PerToken(ctx: WasmContext, out: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'fakeQuantShiftedU7PerToken';
  checkFakeRows(where, out, x, M, K, true);
  perToken(ctx, 'fakequant_shifted_u7_token_f32', f32(where, 'out', out), [new Float32Array(M), new Float32Array(M)], f32(where, 'x', x), M, K);
}

/** See ref fakeQuantShiftedU7PerTensor (returns {eta, scale}). out, x: Float32Array // (n) */
export function fakeQuantShiftedU7PerTensor(ctx: WasmContext, out: FloatArray, x: FloatArray, n: number): ShiftedScales {
  const where = 'fakeQuantShiftedU7PerTensor';
  checkFakeRows(where, out, x, 1, n, true);
  const eta = new Float32Array(1), s = new Float32Array(1);
  perToken(ctx, 'fakequant_shifted_u7_token_f32', f32(where, 'out', out), [eta, s], f32(where, 'x', x), 1, n);
  return { eta: eta[0]!, scale: s[0]! };
}

function groups(ctx: WasmContext, name: string, dst: Int8Array | Float32Array, scales: Float32Array[], w: Float32Array, G: number, gsize: number): void {
  if (G === 0) return;
  ctx.scope((s) => {
    const args = [s.out(dst.subarray(0, G * gsize)), ...scales.map((a) => s.out(a.subarray(0, G))), s.in(w.subarray(0, G * gsize)), gsize];
    ctx.parallel(name, args, G, 1, rowsPerThread(gsize));
  });
}

/** See ref quantizeTernaryAbsmean (returns β). q: Int8Array // (n)  w: Float32Array // (n) */
export function quantizeTernaryAbsmean(ctx: WasmContext, q: Int8Array, w: FloatArray, n: number): number {
  const where = 'quantizeTernaryAbsmean';
  checkQuantRows(where, q, 'i8', {}, w, 1, n, true);
  const b = new Float32Array(1);
  groups(ctx, 'quant_ternary_absmean_f32', q, [b], f32(where, 'w', w), 1, n);
  return b[0]!;
}

/** See ref quantizeTernaryAbsmeanGrouped. q: Int8Array // (N, K)  beta: Float32Array // (G)  w: Float32Array // (N, K) */
export function quantizeTernaryAbsmeanGrouped(ctx: WasmContext, q: Int8Array, beta: FloatArray, w: FloatArray, N: number, K: number, G: number): void {
  const where = 'quantizeTernaryAbsmeanGrouped';
  checkGroups(where, N, K, G);
  checkQuantRows(where, q, 'i8', {}, w, N, K, true);
  checkDType(where, 'beta', beta, 'f32');
  checkLen(where, 'beta', beta, G);
  groups(ctx, 'quant_ternary_absmean_f32', q, [f32(where, 'beta', beta)], f32(where, 'w', w), G, (N / G) * K);
}

/** See ref fakeQuantTernary (returns β). out, w: Float32Array // (n) */
export function fakeQuantTernary(ctx: WasmContext, out: FloatArray, w: FloatArray, n: number): number {
  const where = 'fakeQuantTernary';
  checkFakeRows(where, out, w, 1, n, true);
  const b = new Float32Array(1);
  groups(ctx, 'fakequant_ternary_absmean_f32', f32(where, 'out', out), [b], f32(where, 'w', w), 1, n);
  return b[0]!;
}

/** See ref quantizeSign (returns {alpha, beta}). q: Int8Array // (n)  w: Float32Array // (n) */
export function quantizeSign(ctx: WasmContext, q: Int8Array, w: FloatArray, n: number): SignScales {
  const where = 'quantizeSign';
  checkQuantRows(where, q, 'i8', {}, w, 1, n, true);
  const a = new Float32Array(1), b = new Float32Array(1);
  groups(ctx, 'quant_sign_f32', q, [a, b], f32(where, 'w', w), 1, n);
  return { alpha: a[0]!, beta: b[0]! };
}

/** See ref quantizeSignGrouped. q: Int8Array // (N, K)  alpha, beta: Float32Array // (G)  w: Float32Array // (N, K) */
export function quantizeSignGrouped(ctx: WasmContext, q: Int8Array, alpha: FloatArray, beta: FloatArray, w: FloatArray, N: number, K: number, G: number): void {
  const where = 'quantizeSignGrouped';
  checkGroups(where, N, K, G);
  checkQuantRows(where, q, 'i8', {}, w, N, K, true);
  for (const [k, a] of [['alpha', alpha], ['beta', beta]] as const) {
    checkDType(where, k, a, 'f32');
    checkLen(where, k, a, G);
  }
  groups(ctx, 'quant_sign_f32', q, [f32(where, 'alpha', alpha), f32(where, 'beta', beta)], f32(where, 'w', w), G, (N / G) * K);
}

/** See ref fakeQuantSign (returns {alpha, beta}). out, w: Float32Array // (n) */
export function fakeQuantSign(ctx: WasmContext, out: FloatArray, w: FloatArray, n: number): SignScales {
  const where = 'fakeQuantSign';
  checkFakeRows(where, out, w, 1, n, true);
  const a = new Float32Array(1), b = new Float32Array(1);
  groups(ctx, 'fakequant_sign_f32', f32(where, 'out', out), [a, b], f32(where, 'w', w), 1, n);
  return { alpha: a[0]!, beta: b[0]! };
}

/** See ref packSignsI2R4; threaded over groups of four rows. dst: Uint8Array // (bytesI2R4(N, K))  w: Float32Array // (N, K) */
export function packSignsI2R4(ctx: WasmContext, dst: Uint8Array, w: FloatArray, N: number, K: number): void {
  checkPackSigns('packSignsI2R4', dst, w, N, K, true);
  const groups4 = Math.ceil(N / 4);
  if (groups4 === 0) return;
  ctx.scope((s) => ctx.parallel('pack_signs_i2r4_f32', [s.out(dst), s.in(w), N, K], groups4, 1, rowsPerThread(4 * K)));
}

/** See ref quantizeFakeAbsmaxI8PerToken; threaded over rows. q: Int8Array // (M, qK)  scale: (M)  out, x: Float32Array // (M, K) */
export function quantizeFakeAbsmaxI8PerToken(ctx: WasmContext, q: Int8Array, qK: number, scale: FloatArray, out: FloatArray, x: FloatArray, M: number, K: number): void {
  const where = 'quantizeFakeAbsmaxI8PerToken';
  checkQuantFakeRows(where, q, qK, scale, out, x, M, K, true);
  if (M === 0) return;
  ctx.scope((s) => {
    // q's padding columns are not written: inout keeps them when q has to be copied through scratch
    const args = [s.inout(q.subarray(0, M * qK)), qK, s.out(f32(where, 'scale', scale).subarray(0, M)), s.out(f32(where, 'out', out).subarray(0, M * K)), s.in(f32(where, 'x', x).subarray(0, M * K)), K];
    ctx.parallel('quant_fake_absmax_i8_token_f32', args, M, 1, rowsPerThread(K));
  });
}
