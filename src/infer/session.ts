/**
 * One generation stream over a PackedModel: the KV cache and every activation buffer, allocated
 * once (sized for `ctx` positions and prefill chunks of up to `chunk` tokens).
 *
 *   prefill(tokens)  the prompt in chunks of ≤ chunk tokens (packed GEMMs, M = chunk)
 *   decode(token)    one token (packed GEMVs, M = 1)
 * Both append to the cache and return the logits (V) of the last position. The same code path
 * runs every M, so decoding token by token equals the full-sequence forward at every position.
 *
 * Per layer (M tokens at positions pos … pos+M−1):
 *   a = RMSNorm(x) → prep (LN? → int8) → [q|k|v] = packed(a)        k, v → cache rows
 *   RoPE(q), RoPE(k rows)   o = attentionCached(q, cache)   o = SubLN?(o) → prep (Hadamard? → int8/int4)
 *   x += packed_o(o)
 *   a = RMSNorm(x) → prep → [gate|up] = packed(a)   h = act(gate) ⊙ up   h = SubLN?(h) → prep → x += packed_down(h)
 * prep = LN (v1) / Hadamard (v2), then int8 absmax, int4 absmean, or (v1 with v1ShiftedActs 'ffn-down',
 * down_proj) zero-point codes q ∈ [0,127], η per token: y = β·(W̃·q)/s + η·(β·rowsum W̃).
 * logits = head(RMSNorm(x_last))        (f32 GEMM, or int8 per-token × 7-bit rows for a q7 head)
 * KV cache (option `kv`): 'f16' (default) stores IEEE halves, rounded to nearest even from the f32 rows
 * (the new keys are rotated in an f32 buffer, then converted: f32ToF16) and read by attentionCachedF16,
 * which widens them exactly; 'f32' stores the rows as computed (RoPE in place) for attentionCached. f16
 * halves the cache (2B4T at ctx 4096: 300 MiB instead of 600) at a cost in the logits measured in
 * test/infer/session_kv.test.ts.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import type { Backend } from '../kernels/backend.js';
import { ALIGN, OutOfMemoryError } from '../tensor/arena.js';
import { DTYPE_BYTES, type DType, type FloatArray, type TypedArray } from '../tensor/dtype.js';
import { isGatedFfn, type ModelConfig } from '../model/config.js';
import { ffnActivationForward } from '../nn/ffn.js';
import { FORMAT_TRAITS } from '../quant/formats.js';
import { I7_OFFSET, offsetI7R4 } from '../kernels/ref/infer.js';
import { dequantRowQ4G } from '../kernels/ref/head4.js';
import type { PackedLinear, PackedModel } from './packed_model.js';

export interface SessionOptions {
  /** Context length (KV cache positions). Default: the model's maxSeqLen. */
  ctx?: number;
  /** Largest prefill chunk (tokens per batched pass). Default 64. */
  chunk?: number;
  /** KV cache element type: 'f16' (default: IEEE halves, half the memory) or 'f32'. */
  kv?: KvCacheType;
}

export type KvCacheType = 'f16' | 'f32';
export const KV_CACHE_TYPES: readonly KvCacheType[] = ['f16', 'f32'];

/** One buffer (or `count` equal buffers) of a session, in allocation order. */
interface SessionBuffer {
  name: string;
  dtype: DType;
  n: number;
  count: number;
  kv: boolean;
}

/** Every buffer a session allocates: the one list behind both the estimate and the constructor. */
function sessionBuffers(c: ModelConfig, ctx: number, chunk: number, kv: KvCacheType): SessionBuffer[] {
  const C = c.dim, F = c.ffnDim, H = c.nHeads, HS = C / H, KV = c.nKvHeads * HS;
  const wide = Math.max(C, F);
  const b = (name: string, n: number, dtype: DType = 'f32', count = 1, isKv = false): SessionBuffer => ({ name, dtype, n, count, kv: isKv });
  const cache: DType = kv === 'f16' ? 'u16' : 'f32';
  return [
    b('kc', ctx * KV, cache, c.nLayers, true), b('vc', ctx * KV, cache, c.nLayers, true),
    b('cos', ctx * (HS / 2)), b('sin', ctx * (HS / 2)),
    b('x', chunk * C), b('xn', chunk * C), b('ln', chunk * wide), b('rstd', chunk), b('mean', chunk),
    b('xq', chunk * wide, 'i8'), b('xs', chunk), b('eta', chunk),
    b('qkv', chunk * (C + 2 * KV)), b('q', chunk * C), b('att', chunk * C), b('sub', chunk * wide), b('tmp', chunk * C),
    b('gu', chunk * 2 * F), b('h', chunk * F), b('hs', chunk * wide), b('had', chunk * wide), b('logits', c.vocabSize),
    // f16 cache: the new K/V rows in f32 (K rotated here) before conversion
    ...(kv === 'f16' ? [b('kvNew', chunk * KV)] : []),
  ];
}

/**
 * Bytes a session will allocate (KV cache + activations, each buffer rounded up to the arena alignment),
 * for an estimate before allocating. kv: the cache type (default 'f16', as SessionOptions).
 */
export function sessionBytes(model: Pick<PackedModel, 'config'>, ctx: number, chunk: number, kv: KvCacheType = 'f16'): { kv: number; activations: number } {
  let kvBytes = 0, activations = 0;
  for (const b of sessionBuffers(model.config, ctx, chunk, kv)) {
    const bytes = b.count * Math.ceil((b.n * DTYPE_BYTES[b.dtype]) / ALIGN) * ALIGN;
    if (b.kv) kvBytes += bytes;
    else activations += bytes;
  }
  return { kv: kvBytes, activations };
}

export class InferenceSession {
  readonly ctx: number;
  readonly chunk: number;
  /** KV cache element type. */
  readonly kv: KvCacheType;
  /** What this session allocated (sessionBytes of its ctx, chunk and kv). */
  readonly bytes: { kv: number; activations: number };
  /** Positions filled so far. */
  pos = 0;
  private readonly be: Backend;
  /** Per layer (ctx, KVH·HS): Float32Array for kv 'f32', Uint16Array of half bits for 'f16'. */
  private readonly kc: Array<Float32Array | Uint16Array>;
  private readonly vc: Array<Float32Array | Uint16Array>;
  /** f16 cache only: the new K/V rows (chunk, KVH·HS) in f32. */
  private readonly kvNew: Float32Array | undefined;
  private readonly cos: Float32Array;
  private readonly sin: Float32Array;
  // activations (chunk rows)
  private readonly x: Float32Array;
  private readonly xn: Float32Array;
  private readonly ln: Float32Array;
  private readonly rstd: Float32Array;
  private readonly mean: Float32Array;
  private readonly xq: Int8Array;
  private readonly xs: Float32Array;
  /** Zero points η (M) of the shifted quantizer, and the u7 codes: a Uint8 view of xq's memory. */
  private readonly eta: Float32Array;
  private readonly xu: Uint8Array;
  private readonly qkv: Float32Array;
  private readonly q: Float32Array;
  private readonly att: Float32Array;
  private readonly sub: Float32Array;
  private readonly tmp: Float32Array;
  private readonly gu: Float32Array;
  private readonly h: Float32Array;
  private readonly hs: Float32Array;
  private readonly had: Float32Array;
  private readonly logitsBuf: Float32Array;

  constructor(readonly model: PackedModel, opts: SessionOptions = {}) {
    const c = model.config;
    const ctx = opts.ctx ?? c.maxSeqLen;
    const chunk = Math.min(opts.chunk ?? 64, ctx);
    const kv = opts.kv ?? 'f16';
    if (!Number.isInteger(ctx) || ctx < 1 || ctx > c.maxSeqLen) throw new ArgumentError(`ctx must be an integer in [1, ${c.maxSeqLen}] (the model's maxSeqLen), got ${ctx}`);
    if (!Number.isInteger(chunk) || chunk < 1) throw new ArgumentError(`chunk must be a positive integer, got ${opts.chunk}`);
    if (!KV_CACHE_TYPES.includes(kv)) throw new ArgumentError(`kv must be one of ${KV_CACHE_TYPES.join(', ')}, got ${String(kv)}`);
    this.ctx = ctx;
    this.chunk = chunk;
    this.kv = kv;
    this.be = model.be;
    const ar = this.be.arena;
    const est = sessionBytes(model, ctx, chunk, kv);
    this.bytes = est;
    try {
      ar.reserve(est.kv + est.activations + (1 << 20));
    } catch (e) {
      if (e instanceof OutOfMemoryError) throw new OutOfMemoryError(`session: the ${kv} KV cache (${mib(est.kv)} for ctx ${ctx}) and activations (${mib(est.activations)}) do not fit: ${e.message}; use a smaller ctx${kv === 'f32' ? " or kv: 'f16'" : ''}`);
      throw e;
    }
    const bufs = new Map<string, TypedArray[]>();
    // KV caches are not zeroed: attention reads only positions already written, so pages are committed
    // (resident) as the context fills instead of all at once.
    for (const b of sessionBuffers(c, ctx, chunk, kv)) bufs.set(b.name, Array.from({ length: b.count }, () => ar.alloc(b.dtype, b.n, !b.kv)));
    const f = (name: string) => bufs.get(name)![0] as Float32Array;
    this.kc = bufs.get('kc') as Array<Float32Array | Uint16Array>;
    this.vc = bufs.get('vc') as Array<Float32Array | Uint16Array>;
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
    this.logitsBuf = f('logits');
  }

  /** Forget the cache (start a new sequence). */
  reset(): void {
    this.pos = 0;
  }

  /** Roll back to `pos` positions (e.g. to reuse a shared prompt prefix). */
  truncate(pos: number): void {
    if (!Number.isInteger(pos) || pos < 0 || pos > this.pos) throw new ArgumentError(`truncate: pos must be in [0, ${this.pos}], got ${pos}`);
    this.pos = pos;
  }

  /** Run the prompt tokens (in chunks); returns the logits of the last one (a view, valid until the next call). */
  prefill(tokens: ArrayLike<number>): Float32Array {
    if (tokens.length === 0) throw new ArgumentError('prefill: no tokens');
    this.checkRoom(tokens.length);
    let out: Float32Array | undefined;
    for (let i = 0; i < tokens.length; i += this.chunk) {
      const M = Math.min(this.chunk, tokens.length - i);
      out = this.step(tokens, i, M, i + M === tokens.length);
    }
    return out!;
  }

  /** One token; returns its logits (a view, valid until the next call). */
  decode(token: number): Float32Array {
    this.checkRoom(1);
    return this.step([token], 0, 1, true)!;
  }

  /**
   * Logits at every position of `tokens` (M·V), for tests and evaluation: the tokens are run
   * one chunk at a time and each chunk's rows are projected through the head.
   */
  forwardAll(tokens: ArrayLike<number>): Float32Array {
    const V = this.model.config.vocabSize;
    this.checkRoom(tokens.length);
    const out = new Float32Array(tokens.length * V);
    for (let i = 0; i < tokens.length; i += this.chunk) {
      const M = Math.min(this.chunk, tokens.length - i);
      this.step(tokens, i, M, false);
      for (let m = 0; m < M; m++) out.set(this.headRow(m), (i + m) * V);
    }
    return out;
  }

  private checkRoom(n: number): void {
    if (this.pos + n > this.ctx) throw new ShapeError(`context full: ${this.pos} positions used + ${n} new > ctx ${this.ctx}`);
  }

  /** M tokens from tokens[i0 …] at positions pos …; returns logits of the last row when `logits`. */
  private step(tokens: ArrayLike<number>, i0: number, M: number, logits: boolean): Float32Array | undefined {
    const { be, model } = this;
    const c = model.config;
    const C = c.dim, F = c.ffnDim, V = c.vocabSize, H = c.nHeads, KVH = c.nKvHeads, HS = C / H, KV = KVH * HS;
    const pos0 = this.pos;
    const x = this.x;
    for (let m = 0; m < M; m++) {
      const t = tokens[i0 + m]!;
      if (!(Number.isInteger(t) && t >= 0 && t < V)) throw new ArgumentError(`token id ${t} at position ${i0 + m} is outside the vocabulary [0, ${V})`);
      this.embedRow(x.subarray(m * C, (m + 1) * C), t);
    }
    const gated = isGatedFfn(c);
    const NQKV = C + 2 * KV;
    for (let l = 0; l < c.nLayers; l++) {
      const L = model.layers[l]!;
      // attention
      be.rmsnormForward(this.xn, this.rstd, x, L.attnNorm, M, C, c.normEps);
      this.linear(this.qkv, this.xn, L.qkv, M);
      const q = M === 1 ? this.qkv.subarray(0, C) : this.q;
      if (M > 1) for (let m = 0; m < M; m++) q.set(this.qkv.subarray(m * NQKV, m * NQKV + C), m * C);
      be.ropeForward(q, q, this.cos, this.sin, 1, M, H, HS, pos0);
      const rows = (dst: Float32Array, off: number, at: number) => {
        for (let m = 0; m < M; m++) dst.set(this.qkv.subarray(m * NQKV + off, m * NQKV + off + KV), (at + m) * KV);
      };
      const kvNew = this.kvNew;
      if (kvNew === undefined) {
        const kc = this.kc[l] as Float32Array, vc = this.vc[l] as Float32Array;
        rows(kc, C, pos0);
        rows(vc, C + KV, pos0);
        const kNew = kc.subarray(pos0 * KV, (pos0 + M) * KV);
        be.ropeForward(kNew, kNew, this.cos, this.sin, 1, M, KVH, HS, pos0);
        be.attentionCached(this.att, q, kc, vc, M, pos0, this.ctx, H, KVH, HS);
      } else {
        // f16: rotate the new keys in f32, then round keys and values into the cache
        const kc = this.kc[l] as Uint16Array, vc = this.vc[l] as Uint16Array;
        const nw = kvNew.subarray(0, M * KV);
        rows(kvNew, C, 0);
        be.ropeForward(nw, nw, this.cos, this.sin, 1, M, KVH, HS, pos0);
        be.f32ToF16(kc.subarray(pos0 * KV, (pos0 + M) * KV), nw, M * KV);
        rows(kvNew, C + KV, 0);
        be.f32ToF16(vc.subarray(pos0 * KV, (pos0 + M) * KV), nw, M * KV);
        be.attentionCachedF16(this.att, q, kc, vc, M, pos0, this.ctx, H, KVH, HS);
      }
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
    this.pos += M;
    if (!logits) return undefined;
    return this.headRow(M - 1);
  }

  /** Final norm + LM head of activation row m of the last step. */
  private headRow(m: number): Float32Array {
    const { be, model } = this;
    const c = model.config;
    const C = c.dim, V = c.vocabSize;
    const xl = this.xn.subarray(0, C);
    be.rmsnormForward(xl, this.rstd.subarray(0, 1), this.x.subarray(m * C, (m + 1) * C), model.norm, 1, C, c.normEps);
    const head = model.head;
    if (head.type === 'f32') be.matmul(this.logitsBuf, xl, head.f32!, 1, C, V);
    else if (head.type === 'q4g') {
      be.quantizeAbsmaxI8PerToken(this.xq.subarray(0, C), this.xs.subarray(0, 1), xl, 1, C);
      be.matmulQ4G(this.logitsBuf, this.xq.subarray(0, C), this.xs.subarray(0, 1), head.q4!, head.q4s!, 1, C, V);
    } else {
      be.quantizeAbsmaxI8PerToken(this.xq.subarray(0, C), this.xs.subarray(0, 1), xl, 1, C);
      be.matmulI7(this.logitsBuf, this.xq.subarray(0, C), this.xs.subarray(0, 1), head.q7!, head.scale!, 1, C, V);
    }
    return this.logitsBuf;
  }

  private embedRow(dst: Float32Array, t: number): void {
    const e = this.model.embed;
    const C = this.model.config.dim;
    if (e.type === 'f32') dst.set(e.f32!.subarray(t * C, (t + 1) * C));
    else if (e.type === 'q4g') dequantRowQ4G(dst, e.q4!, e.q4s!, t, C);
    else {
      const s = e.scale![t]!;
      const q = e.q7!, row = offsetI7R4(t, 0, C); // 16-byte steps of this row are 64 bytes apart
      for (let j = 0; j < C; j++) dst[j] = (q[row + 64 * (j >> 4) + (j & 15)]! - I7_OFFSET) * s;
    }
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
      be.matmul(y, src, L.dense!, M, K, N);
      return;
    }
    const xq = this.xq.subarray(0, M * K), xs = this.xs.subarray(0, M), out = y.subarray(0, M * N);
    const ft = FORMAT_TRAITS[L.format];
    // u7 codes ∈ [0, 127] are the same bytes as int8 codes: the int8 × packed kernels take them as they are.
    const eta = L.prep.act === 'u7' ? this.eta.subarray(0, M) : undefined;
    if (L.prep.act === 'i4') be.quantizeAbsmeanI4PerToken(xq, xs, src, M, K);
    else if (eta !== undefined) be.quantizeShiftedU7PerToken(this.xu.subarray(0, M * K), eta, xs, src, M, K);
    else be.quantizeAbsmaxI8PerToken(xq, xs, src, M, K);
    const kernel = L.prep.act === 'i4' ? ft.matmulI4 : ft.matmul;
    if (kernel === undefined) throw new ArgumentError(`format '${L.format}' has no kernel for ${L.prep.act} activations`);
    be[kernel](out, xq, xs, L.packed!, M, K, N, L.beta!);
    if (eta !== undefined) {
      // x ≈ q/s + η: the zero point adds η[m]·β(n)·Σ_k W̃[n,k] to every output.
      const shift = L.shift!;
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

function mib(b: number): string {
  return `${(b / 2 ** 20).toFixed(1)} MiB`;
}
