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
 *
 * Buffers (sessionBuffers): KV cache L × (ctx, KVH·HS) keys + values · RoPE cos, sin (ctx, HS/2) ·
 * activations for M ≤ chunk rows and logits (V) (shapes in forwardBuffers, src/infer/forward.ts).
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { OutOfMemoryError } from '../tensor/arena.js';
import type { ModelConfig } from '../model/config.js';
import { allocBuffers, buffersBytes, cacheBuffers, Forward, forwardBuffers, kvCacheFrom, KV_CACHE_TYPES, mib, ropeBuffers, type BufferSpec, type KvCache, type KvCacheType } from './forward.js';
import type { PackedModel } from './packed_model.js';

export { KV_CACHE_TYPES, type KvCacheType };

/** Default prefill chunk of a session (SessionOptions.chunk). */
export const DEFAULT_PREFILL_CHUNK = 128;

export interface SessionOptions {
  /** Context length (KV cache positions). Default: the model's maxSeqLen. */
  ctx?: number;
  /**
   * Largest prefill chunk (tokens per batched pass). Default 128 (DEFAULT_PREFILL_CHUNK): measured against 64,
   * prefill of 128 tokens ran 3–6 % faster (b1.58-large and 2B4T, one thread) for +10–16 MiB of activations.
   */
  chunk?: number;
  /** KV cache element type: 'f16' (default: IEEE halves, half the memory) or 'f32'. */
  kv?: KvCacheType;
  /**
   * Most rows one `verify` step returns logits for (speculative decoding: the last token and k draft
   * tokens, k + 1 rows). Default 1 (no verify steps); at most `chunk`.
   */
  verifyRows?: number;
}

/** Every buffer a session allocates: the one list behind both the estimate and the constructor. */
function sessionBuffers(c: ModelConfig, ctx: number, chunk: number, kv: KvCacheType, verifyRows = 1): BufferSpec[] {
  return [...cacheBuffers(c, ctx, kv), ...ropeBuffers(c, ctx), ...forwardBuffers(c, chunk, verifyRows, kv)];
}

/**
 * Bytes a session will allocate (KV cache + activations, each buffer rounded up to the arena alignment),
 * for an estimate before allocating. kv: the cache type (default 'f16', as SessionOptions).
 */
export function sessionBytes(model: Pick<PackedModel, 'config'>, ctx: number, chunk: number, kv: KvCacheType = 'f16', verifyRows = 1): { kv: number; activations: number } {
  return buffersBytes(sessionBuffers(model.config, ctx, chunk, kv, verifyRows));
}

export class InferenceSession {
  readonly ctx: number;
  readonly chunk: number;
  /** KV cache element type. */
  readonly kv: KvCacheType;
  /** Most rows of one verify step (SessionOptions.verifyRows). */
  readonly verifyRows: number;
  /** What this session allocated (sessionBytes of its ctx, chunk and kv). */
  readonly bytes: { kv: number; activations: number };
  /** Positions filled so far. */
  pos = 0;
  /** This sequence's KV cache: L × (ctx, KVH·HS) keys and values. */
  private readonly cache: KvCache;
  /** Activations for steps of M ≤ chunk rows; logits of one row (V). */
  private readonly fwd: Forward;

  constructor(readonly model: PackedModel, opts: SessionOptions = {}) {
    const c = model.config;
    const ctx = opts.ctx ?? c.maxSeqLen;
    const chunk = Math.min(opts.chunk ?? DEFAULT_PREFILL_CHUNK, ctx);
    const kv = opts.kv ?? 'f16';
    if (!Number.isInteger(ctx) || ctx < 1 || ctx > c.maxSeqLen) throw new ArgumentError(`ctx must be an integer in [1, ${c.maxSeqLen}] (the model's maxSeqLen), got ${ctx}`);
    if (!Number.isInteger(chunk) || chunk < 1) throw new ArgumentError(`chunk must be a positive integer, got ${opts.chunk}`);
    if (!KV_CACHE_TYPES.includes(kv)) throw new ArgumentError(`kv must be one of ${KV_CACHE_TYPES.join(', ')}, got ${String(kv)}`);
    const verifyRows = opts.verifyRows ?? 1;
    if (!Number.isInteger(verifyRows) || verifyRows < 1 || verifyRows > chunk) throw new ArgumentError(`verifyRows must be an integer in [1, chunk ${chunk}], got ${opts.verifyRows}`);
    this.ctx = ctx;
    this.chunk = chunk;
    this.kv = kv;
    this.verifyRows = verifyRows;
    const ar = model.be.arena;
    const list = sessionBuffers(c, ctx, chunk, kv, verifyRows);
    const est = buffersBytes(list);
    this.bytes = est;
    try {
      ar.reserve(est.kv + est.activations + (1 << 20));
    } catch (e) {
      if (e instanceof OutOfMemoryError) throw new OutOfMemoryError(`session: the ${kv} KV cache (${mib(est.kv)} for ctx ${ctx}) and activations (${mib(est.activations)}) do not fit: ${e.message}; use a smaller ctx${kv === 'f32' ? " or kv: 'f16'" : ''}`);
      throw e;
    }
    const bufs = allocBuffers(ar, list);
    this.cache = kvCacheFrom(bufs, ctx);
    this.fwd = new Forward(model, bufs, ctx, chunk, verifyRows, kv);
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
   * Speculative verification: `tokens` (the last token and the draft, at most verifyRows) as one
   * segment of consecutive rows, and the logits of every row (n·V: row i predicts the token after
   * tokens[i]; a view, valid until the next call). Rows equal what decoding the tokens one by one
   * gives (the forward is row by row; src/infer/forward.ts). Reject draft tokens with `truncate`.
   */
  verify(tokens: ArrayLike<number>): Float32Array {
    const n = tokens.length;
    if (n < 1 || n > this.verifyRows) throw new ArgumentError(`verify: ${n} tokens, 1 … verifyRows ${this.verifyRows}`);
    this.checkRoom(n);
    this.step(tokens, 0, n, false);
    return this.fwd.head(Array.from({ length: n }, (_, i) => i));
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
      for (let m = 0; m < M; m++) out.set(this.fwd.head([m]), (i + m) * V);
    }
    return out;
  }

  private checkRoom(n: number): void {
    if (this.pos + n > this.ctx) throw new ShapeError(`context full: ${this.pos} positions used + ${n} new > ctx ${this.ctx}`);
  }

  /** M tokens from tokens[i0 …] at positions pos …; returns logits (V) of the last row when `logits`. */
  private step(tokens: ArrayLike<number>, i0: number, M: number, logits: boolean): Float32Array | undefined {
    for (let m = 0; m < M; m++) this.fwd.embed(m, tokens[i0 + m]!, () => `at position ${i0 + m}`);
    this.fwd.layers(M, [{ cache: this.cache, pos: this.pos, row: 0, n: M }]);
    this.pos += M;
    if (!logits) return undefined;
    return this.fwd.head([M - 1]);
  }
}
