/**
 * The engine's forward pass over M activation rows, shared by InferenceSession (the rows are
 * consecutive tokens of one sequence) and InferenceBatch (the rows belong to several sequences,
 * each with its own KV cache and position).
 *
 * The rows of a step are split into segments: rows [row, row+n) are n consecutive tokens of one
 * sequence at positions pos … pos+n−1, attending over that sequence's cache. Everything but the
 * attention (RMSNorm, per-token activation quantization, the packed linears, activations, SubLN,
 * the head) works row by row: each row's result does not depend on the other rows of the step (the
 * packed kernels accumulate exactly in int32 and quantize per token; the f32 GEMM reduces every
 * element in a fixed order). RoPE, the cache writes and attentionCached run per segment, with the
 * segment's own position and cache, exactly as a session with that one segment would run them.
 *
 * Buffers: every array comes from the lists below (cacheBuffers, ropeBuffers, forwardBuffers), the
 * one source for both the byte estimates (sessionBytes, batchBytes) and the allocations.
 */
import { ArgumentError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import type { Arena } from '../tensor/arena.js';
import { ALIGN } from '../tensor/arena.js';
import { DTYPE_BYTES, type DType, type FloatArray, type TypedArray } from '../tensor/dtype.js';
import { isGatedFfn, type ModelConfig } from '../model/config.js';
import { ffnActivationForward } from '../nn/ffn.js';
import { ACT_CODES, type ActQuantizerKernel } from '../quant/modes.js';
import { dequantRowI7R4 } from '../kernels/ref/infer.js';
import { dequantRowQ4G } from '../kernels/ref/head4.js';
import type { PackedLinear, PackedModel } from './packed_model.js';

export type KvCacheType = 'f16' | 'f32';
export const KV_CACHE_TYPES: readonly KvCacheType[] = ['f16', 'f32'];

/** One buffer (or `count` equal buffers) of a session or batch, in allocation order. */
export interface BufferSpec {
  name: string;
  dtype: DType;
  n: number;
  count: number;
  kv: boolean;
}

const spec = (name: string, n: number, dtype: DType = 'f32', count = 1, isKv = false): BufferSpec => ({ name, dtype, n, count, kv: isKv });

/** One sequence's KV cache: L × (ctx, KVH·HS) keys and L × (ctx, KVH·HS) values (u16 half bits for 'f16'). */
export function cacheBuffers(c: ModelConfig, ctx: number, kv: KvCacheType, prefix = ''): BufferSpec[] {
  const KV = c.nKvHeads * (c.dim / c.nHeads);
  const cache: DType = kv === 'f16' ? 'u16' : 'f32';
  return [spec(`${prefix}kc`, ctx * KV, cache, c.nLayers, true), spec(`${prefix}vc`, ctx * KV, cache, c.nLayers, true)];
}

/** RoPE tables for positions [0, ctx): cos, sin (ctx, HS/2). */
export function ropeBuffers(c: ModelConfig, ctx: number): BufferSpec[] {
  const HS = c.dim / c.nHeads;
  return [spec('cos', ctx * (HS / 2)), spec('sin', ctx * (HS / 2))];
}

/**
 * Activations for steps of up to `rows` rows (M ≤ rows below), and logits for up to `logitsRows` of them.
 * K is the input width of the linear being prepared (C, or F for down_proj); W = max(C, F).
 */
export function forwardBuffers(c: ModelConfig, rows: number, logitsRows: number, kv: KvCacheType): BufferSpec[] {
  const C = c.dim, F = c.ffnDim, H = c.nHeads, HS = C / H, KV = c.nKvHeads * HS;
  const wide = Math.max(C, F);
  const r = rows;
  return [
    spec('x', r * C), //            (M, C)  the residual stream
    spec('xn', r * C), //           (M, C)  RMSNorm(x) (also the head's normalised rows)
    spec('ln', r * wide), //        (M, K)  LayerNorm inside BitLinear (v1)
    spec('rstd', r), //             (M)
    spec('mean', r), //             (M)
    spec('xq', r * wide, 'i8'), //  (M, K)  activation codes (int8 / int4 / u7 as bytes)
    spec('xs', r), //               (M)     their per-token scales
    spec('eta', r), //              (M)     zero points η (u7 codes)
    spec('qkv', r * (C + 2 * KV)), // (M, C + 2·KV)  fused q|k|v rows
    spec('q', r * C), //            (M, C)  the q rows gathered (M > 1)
    spec('att', r * C), //          (M, C)  attention output
    spec('sub', r * wide), //       (M, C)  attn_sub_norm(att)
    spec('tmp', r * C), //          (M, C)  o_proj / down_proj output before the residual add
    spec('gu', r * 2 * F), //       (M, 2F) fused [gate|up] rows (plain MLPs: (M, F) up)
    spec('h', r * F), //            (M, F)  act(gate) ⊙ up
    spec('hs', r * wide), //        (M, F)  ffn_sub_norm(h)
    spec('had', r * wide), //       (M, K)  Hadamard-transformed input (v2)
    spec('logits', logitsRows * c.vocabSize), // (logitsRows, V)
    // f16 cache: the new K/V rows in f32 (K rotated here) before conversion
    ...(kv === 'f16' ? [spec('kvNew', r * KV)] : []), // (M, KV)
  ];
}

/** Bytes of a buffer list (each buffer rounded up to the arena alignment), KV caches apart. */
export function buffersBytes(list: BufferSpec[]): { kv: number; activations: number } {
  let kvBytes = 0, activations = 0;
  for (const b of list) {
    const bytes = b.count * Math.ceil((b.n * DTYPE_BYTES[b.dtype]) / ALIGN) * ALIGN;
    if (b.kv) kvBytes += bytes;
    else activations += bytes;
  }
  return { kv: kvBytes, activations };
}

/**
 * Allocate every buffer of `list` in the arena, in order. KV caches are not zeroed: attention reads
 * only positions already written, so pages are committed (resident) as the context fills.
 */
export function allocBuffers(ar: Arena, list: BufferSpec[]): Map<string, TypedArray[]> {
  const bufs = new Map<string, TypedArray[]>();
  for (const b of list) bufs.set(b.name, Array.from({ length: b.count }, () => ar.alloc(b.dtype, b.n, !b.kv)));
  return bufs;
}

/** One sequence's cache: Float32Array per layer for kv 'f32', Uint16Array of half bits for 'f16'. */
export interface KvCache {
  readonly ctx: number;
  readonly kc: Array<Float32Array | Uint16Array>;
  readonly vc: Array<Float32Array | Uint16Array>;
  /**
   * Per layer (f16 caches): the first position whose cached key or value is an inf/NaN half, Infinity when
   * none; kept by Forward's writes. Below it the f16 attention may take its fast widening (same results).
   */
  readonly specialFrom: number[];
}

export function kvCacheFrom(bufs: Map<string, TypedArray[]>, ctx: number, prefix = ''): KvCache {
  const kc = bufs.get(`${prefix}kc`) as Array<Float32Array | Uint16Array>;
  return { ctx, kc, vc: bufs.get(`${prefix}vc`) as Array<Float32Array | Uint16Array>, specialFrom: kc.map(() => Infinity) };
}

/** The first row (of `rowLen` halves) of k or v holding an inf/NaN half (exponent bits all ones), or −1. */
function firstSpecialRow(k: Uint16Array, v: Uint16Array, rowLen: number): number {
  for (let i = 0; i < k.length; i++) if ((k[i]! & 0x7c00) === 0x7c00 || (v[i]! & 0x7c00) === 0x7c00) return Math.floor(i / rowLen);
  return -1;
}

/** Rows [row, row+n) of a step: n consecutive tokens of one sequence at positions pos … pos+n−1. */
export interface Segment {
  cache: KvCache;
  pos: number;
  row: number;
  n: number;
}

/** The activation buffers and the per-layer code (see the file comment). */
export class Forward {
  readonly rows: number;
  readonly logitsRows: number;
  private readonly be: Backend;
  private readonly f16: boolean;
  // Shapes for a step of M rows (forwardBuffers; K = the prepared linear's input width, C or F).
  private readonly kvNew: Float32Array | undefined; // (M, KV) f16 caches only
  private readonly cos: Float32Array; // (ctx, HS/2)
  private readonly sin: Float32Array; // (ctx, HS/2)
  readonly x: Float32Array; // (M, C)
  private readonly xn: Float32Array; // (M, C)
  private readonly ln: Float32Array; // (M, K)
  private readonly rstd: Float32Array; // (M)
  private readonly mean: Float32Array; // (M)
  private readonly xq: Int8Array; // (M, K)
  private readonly xs: Float32Array; // (M)
  /** Zero points η (M) of the shifted quantizer, and the u7 codes (M, K): a Uint8 view of xq's memory. */
  private readonly eta: Float32Array;
  private readonly xu: Uint8Array;
  private readonly qkv: Float32Array; // (M, C + 2·KV)
  private readonly q: Float32Array; // (M, C)
  private readonly att: Float32Array; // (M, C)
  private readonly sub: Float32Array; // (M, C)
  private readonly tmp: Float32Array; // (M, C)
  private readonly gu: Float32Array; // (M, 2F) or (M, F)
  private readonly h: Float32Array; // (M, F)
  private readonly hs: Float32Array; // (M, F)
  private readonly had: Float32Array; // (M, K)
  private readonly logits: Float32Array; // (logitsRows, V)

  /** bufs: allocated from ropeBuffers(ctx) + forwardBuffers(rows, logitsRows, kv) (the RoPE tables are filled here). */
  constructor(readonly model: PackedModel, bufs: Map<string, TypedArray[]>, ctx: number, rows: number, logitsRows: number, kv: KvCacheType) {
    const c = model.config;
    this.be = model.be;
    this.rows = rows;
    this.logitsRows = logitsRows;
    this.f16 = kv === 'f16';
    const f = (name: string) => bufs.get(name)![0] as Float32Array;
    this.kvNew = kv === 'f16' ? f('kvNew') : undefined;
    this.cos = f('cos');
    this.sin = f('sin');
    this.be.ropeTables(this.cos, this.sin, ctx, c.dim / c.nHeads, c.ropeTheta);
    this.x = f('x');
    this.xn = f('xn');
    this.ln = f('ln');
    this.rstd = f('rstd');
    this.mean = f('mean');
    this.xq = bufs.get('xq')![0] as Int8Array;
    this.xs = f('xs');
    this.eta = f('eta');
    this.xu = new Uint8Array(this.xq.buffer, this.xq.byteOffset, this.xq.length);
    this.qkv = f('qkv');
    this.q = f('q');
    this.att = f('att');
    this.sub = f('sub');
    this.tmp = f('tmp');
    this.gu = f('gu');
    this.h = f('h');
    this.hs = f('hs');
    this.had = f('had');
    this.logits = f('logits');
  }

  /** Activation row m := the embedding of token t (checked against the vocabulary; `where` names it in the error). */
  embed(m: number, t: number, where: () => string): void {
    const e = this.model.embed;
    const C = this.model.config.dim, V = this.model.config.vocabSize;
    if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new ArgumentError(`token id ${t} ${where()} is outside the vocabulary [0, ${V})`);
    const dst = this.x.subarray(m * C, (m + 1) * C);
    if (e.type === 'f32') dst.set(e.f32!.subarray(t * C, (t + 1) * C));
    else if (e.type === 'q4g') dequantRowQ4G(dst, e.q4!, e.q4s!, t, C);
    else dequantRowI7R4(dst, e.q7!, e.scale!, t, C);
  }

  /**
   * Every layer over the M embedded rows; segments cover rows [0, M) (each row in exactly one) and
   * their caches receive the new keys and values. Positions are not advanced here.
   */
  layers(M: number, segments: readonly Segment[]): void {
    const { be, model } = this;
    const c = model.config;
    const C = c.dim, F = c.ffnDim, H = c.nHeads, KVH = c.nKvHeads, HS = C / H, KV = KVH * HS;
    if (M < 1 || M > this.rows) throw new ArgumentError(`forward: ${M} rows, capacity ${this.rows}`);
    const x = this.x;
    const gated = isGatedFfn(c);
    const NQKV = C + 2 * KV;
    for (let l = 0; l < c.nLayers; l++) {
      const L = model.layers[l]!;
      // attention
      be.rmsnormForward(this.xn, this.rstd, x, L.attnNorm, M, C, c.normEps);
      this.linear(this.qkv, this.xn, L.qkv, M);
      const q = M === 1 ? this.qkv.subarray(0, C) : this.q;
      if (M > 1) for (let m = 0; m < M; m++) q.set(this.qkv.subarray(m * NQKV, m * NQKV + C), m * C);
      for (const sg of segments) this.attend(l, q, sg);
      let o: Float32Array = this.att;
      if (L.attnSubNorm) {
        be.rmsnormForward(this.sub, this.rstd, o, L.attnSubNorm, M, C, c.normEps);
        o = this.sub;
      }
      this.linear(this.tmp, o, L.o, M);
      addInto(x, this.tmp, M * C);
      // FFN
      be.rmsnormForward(this.xn, this.rstd, x, L.ffnNorm, M, C, c.normEps);
      this.linear(this.gu, this.xn, L.gateUp, M);
      if (gated) {
        // Fused rows are [gate | up] per token.
        for (let m = 0; m < M; m++) {
          const gate = this.gu.subarray(2 * m * F, (2 * m + 1) * F), up = this.gu.subarray((2 * m + 1) * F, (2 * m + 2) * F);
          ffnActivationForward(be, c.ffn, this.h.subarray(m * F, (m + 1) * F), gate, up, F);
        }
      } else ffnActivationForward(be, c.ffn, this.h, this.gu, this.gu, M * F);
      let hh: Float32Array = this.h;
      if (L.ffnSubNorm) {
        be.rmsnormForward(this.hs, this.rstd, hh, L.ffnSubNorm, M, F, c.normEps);
        hh = this.hs;
      }
      this.linear(this.tmp, hh, L.down, M);
      addInto(x, this.tmp, M * C);
    }
  }

  /** RoPE, cache writes and attention of one segment in layer l (q: the step's query rows, M·C). */
  private attend(l: number, qAll: Float32Array, sg: Segment): void {
    const be = this.be;
    const c = this.model.config;
    const C = c.dim, H = c.nHeads, KVH = c.nKvHeads, HS = C / H, KV = KVH * HS;
    const NQKV = C + 2 * KV;
    const { pos: pos0, row, n: M, cache } = sg;
    const q = qAll.subarray(row * C, (row + M) * C), att = this.att.subarray(row * C, (row + M) * C);
    be.ropeForward(q, q, this.cos, this.sin, 1, M, H, HS, pos0);
    const rows = (dst: Float32Array, off: number, at: number) => {
      for (let m = 0; m < M; m++) dst.set(this.qkv.subarray((row + m) * NQKV + off, (row + m) * NQKV + off + KV), (at + m) * KV);
    };
    const kvNew = this.kvNew;
    if (!this.f16) {
      const kc = cache.kc[l] as Float32Array, vc = cache.vc[l] as Float32Array;
      rows(kc, C, pos0);
      rows(vc, C + KV, pos0);
      const kNew = kc.subarray(pos0 * KV, (pos0 + M) * KV);
      be.ropeForward(kNew, kNew, this.cos, this.sin, 1, M, KVH, HS, pos0);
      be.attentionCached(att, q, kc, vc, M, pos0, cache.ctx, H, KVH, HS);
    } else {
      // f16: rotate the new keys in f32, then round keys and values into the cache
      const kc = cache.kc[l] as Uint16Array, vc = cache.vc[l] as Uint16Array;
      const nw = kvNew!.subarray(0, M * KV);
      rows(kvNew!, C, 0);
      be.ropeForward(nw, nw, this.cos, this.sin, 1, M, KVH, HS, pos0);
      be.f32ToF16(kc.subarray(pos0 * KV, (pos0 + M) * KV), nw, M * KV);
      rows(kvNew!, C + KV, 0);
      be.f32ToF16(vc.subarray(pos0 * KV, (pos0 + M) * KV), nw, M * KV);
      // positions ≥ pos0 are rewritten now (later ones before they are read), so only earlier inf/NaN count
      const sf = cache.specialFrom;
      if (sf[l]! >= pos0) sf[l] = Infinity;
      const r = firstSpecialRow(kc.subarray(pos0 * KV, (pos0 + M) * KV), vc.subarray(pos0 * KV, (pos0 + M) * KV), KV);
      if (r >= 0) sf[l] = Math.min(sf[l]!, pos0 + r);
      be.attentionCachedF16(att, q, kc, vc, M, pos0, cache.ctx, H, KVH, HS, sf[l]! >= pos0 + M);
    }
  }

  /**
   * Final norm + LM head of activation rows `rows` of the last step, in one head pass: logits row i
   * (a view of rows.length·V, valid until the next call) belongs to rows[i].
   */
  head(rows: readonly number[]): Float32Array {
    const { be, model } = this;
    const c = model.config;
    const C = c.dim, V = c.vocabSize, M = rows.length;
    if (M < 1 || M > this.logitsRows) throw new ArgumentError(`head: ${M} rows, capacity ${this.logitsRows}`);
    const xl = this.xn.subarray(0, M * C);
    for (let i = 0; i < M; i++) {
      const m = rows[i]!;
      be.rmsnormForward(xl.subarray(i * C, (i + 1) * C), this.rstd.subarray(i, i + 1), this.x.subarray(m * C, (m + 1) * C), model.norm, 1, C, c.normEps);
    }
    const head = model.head;
    const out = this.logits.subarray(0, M * V);
    if (head.type === 'f32') be.matmul(out, xl, head.f32!, M, C, V);
    else {
      const xq = this.xq.subarray(0, M * C), xs = this.xs.subarray(0, M);
      be.quantizeAbsmaxI8PerToken(xq, xs, xl, M, C);
      if (head.type === 'q4g') be.matmulQ4G(out, xq, xs, head.q4!, head.q4s!, M, C, V);
      else be.matmulI7(out, xq, xs, head.q7!, head.scale!, M, C, V);
    }
    return out;
  }

  /** y (M, N) = prep(a) (M, K) · Wᵀ for one (fused) packed linear. */
  private linear(y: Float32Array, a: Float32Array, L: PackedLinear, M: number): void {
    const be = this.be;
    const K = L.K, N = L.N;
    let src: FloatArray = a;
    if (L.prep.lnInside) {
      be.layernormForward(this.ln, this.mean, this.rstd, src, null, null, M, K, this.model.config.normEps);
      src = this.ln;
    }
    if (L.prep.hadamard) {
      be.hadamardForward(this.had, src, M, K);
      src = this.had;
    }
    if (L.format === 'f32') {
      be.matmul(y, src, L.dense, M, K, N);
      return;
    }
    const xq = this.xq.subarray(0, M * K), xs = this.xs.subarray(0, M), out = y.subarray(0, M * N);
    // The site's codes and kernel come from the quantization table (src/quant/modes.ts ACT_CODES, via the layout).
    const codes = ACT_CODES[L.prep.act];
    // u7 codes ∈ [0, 127] are the same bytes as int8 codes: the int8 × packed kernels take them as they are.
    const eta = codes.zeroPoint ? this.eta.subarray(0, M) : undefined;
    if (eta !== undefined) be.quantizeShiftedU7PerToken(this.xu.subarray(0, M * K), eta, xs, src, M, K);
    else be[codes.quantizer as Exclude<ActQuantizerKernel, 'quantizeShiftedU7PerToken'>](xq, xs, src, M, K);
    be[L.kernel](out, xq, xs, L.packed, M, K, N, L.beta);
    if (eta !== undefined) {
      // x ≈ q/s + η: the zero point adds η[m]·β(n)·Σ_k W̃[n,k] to every output.
      const shift = L.shift!; // act 'u7' layers always carry it (src/infer/layout.ts)
      for (let m = 0; m < M; m++) {
        const e = eta[m]!;
        for (let n = 0; n < N; n++) out[m * N + n]! += e * shift[n]!;
      }
    }
  }
}

function addInto(dst: Float32Array, src: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) dst[i]! += src[i]!;
}

export function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}
