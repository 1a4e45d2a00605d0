/**
 * Continuous batching: `slots` sequences over one PackedModel, each with its own KV cache and
 * position, advanced together. One step runs every layer once for all the rows of its entries, so
 * each packed matrix (and the head) is streamed once per step however many sequences take part:
 *
 *   step([{ slot: 0, tokens: [t] }, { slot: 2, tokens: [u] }, { slot: 3, tokens: prompt.slice(0, 64) }])
 *
 * An entry is one token of a decoding sequence or a chunk of a joining sequence's prompt; its rows
 * attend over its own slot's cache at its own positions (src/infer/forward.ts). Every row's logits
 * equal what a lone InferenceSession gives for the same sequence (test/infer/batch.test.ts checks
 * them bit for bit on the WASM backend, where a session's decode also equals its chunked prefill).
 *
 * Memory: `slots` caches of `ctx` positions, activations for `rows` rows (default slots + chunk: every
 * slot decoding plus one prompt chunk), logits for up to `logitsRows` rows (default slots; speculative
 * verification takes one per draft token: an entry with `logits: 'all'`); one buffer list (batchBytes)
 * for the estimate and the allocation, as sessions.
 */
import { ArgumentError, ShapeError } from '../errors.js';
import { OutOfMemoryError } from '../tensor/arena.js';
import type { ModelConfig } from '../model/config.js';
import { allocBuffers, buffersBytes, cacheBuffers, Forward, forwardBuffers, kvCacheFrom, KV_CACHE_TYPES, mib, ropeBuffers, type BufferSpec, type KvCache, type KvCacheType, type Segment } from './forward.js';
import type { PackedModel } from './packed_model.js';

export interface BatchOptions {
  /** Sequences (each with its own KV cache). */
  slots: number;
  /** Context length per sequence. Default: the model's maxSeqLen. */
  ctx?: number;
  /** Largest prompt chunk of one entry (prefill). Default 64. */
  chunk?: number;
  /** Rows (tokens) per step, all entries together. Default slots + chunk. */
  rows?: number;
  /** KV cache element type: 'f16' (default) or 'f32'. */
  kv?: KvCacheType;
  /**
   * Logits rows per step, all entries together (an entry with `logits: 'all'` takes one per token:
   * speculative verification). Default slots.
   */
  logitsRows?: number;
}

/** One sequence's part of a step: its next token(s), appended at its position. */
export interface BatchEntry {
  slot: number;
  tokens: ArrayLike<number>;
  /**
   * Compute the logits of the last token (default true; false for a prompt chunk that is not the last),
   * or of every token ('all': speculative verification of a draft, n·V).
   */
  logits?: boolean | 'all';
}

function batchBuffers(c: ModelConfig, slots: number, ctx: number, rows: number, kv: KvCacheType, logitsRows: number): BufferSpec[] {
  const caches: BufferSpec[] = [];
  for (let s = 0; s < slots; s++) caches.push(...cacheBuffers(c, ctx, kv, `s${s}.`));
  return [...caches, ...ropeBuffers(c, ctx), ...forwardBuffers(c, rows, logitsRows, kv)];
}

interface Resolved {
  slots: number;
  ctx: number;
  chunk: number;
  rows: number;
  kv: KvCacheType;
  logitsRows: number;
}

function resolve(c: ModelConfig, o: BatchOptions): Resolved {
  const { slots } = o;
  const ctx = o.ctx ?? c.maxSeqLen;
  const chunk = Math.min(o.chunk ?? 64, ctx);
  const rows = o.rows ?? slots + chunk;
  const kv = o.kv ?? 'f16';
  const logitsRows = o.logitsRows ?? slots;
  if (!Number.isInteger(slots) || slots < 1) throw new ArgumentError(`slots must be a positive integer, got ${slots}`);
  if (!Number.isInteger(ctx) || ctx < 1 || ctx > c.maxSeqLen) throw new ArgumentError(`ctx must be an integer in [1, ${c.maxSeqLen}] (the model's maxSeqLen), got ${ctx}`);
  if (!Number.isInteger(chunk) || chunk < 1) throw new ArgumentError(`chunk must be a positive integer, got ${o.chunk}`);
  if (!Number.isInteger(rows) || rows < Math.max(slots, chunk)) throw new ArgumentError(`rows must be an integer ≥ max(slots, chunk) = ${Math.max(slots, chunk)}, got ${o.rows}`);
  if (!KV_CACHE_TYPES.includes(kv)) throw new ArgumentError(`kv must be one of ${KV_CACHE_TYPES.join(', ')}, got ${String(kv)}`);
  if (!Number.isInteger(logitsRows) || logitsRows < slots || logitsRows > rows) throw new ArgumentError(`logitsRows must be an integer in [slots ${slots}, rows ${rows}], got ${o.logitsRows}`);
  return { slots, ctx, chunk, rows, kv, logitsRows };
}

/** Bytes an InferenceBatch will allocate (all caches; activations and logits). */
export function batchBytes(model: Pick<PackedModel, 'config'>, opts: BatchOptions): { kv: number; activations: number } {
  const r = resolve(model.config, opts);
  return buffersBytes(batchBuffers(model.config, r.slots, r.ctx, r.rows, r.kv, r.logitsRows));
}

export class InferenceBatch {
  readonly slots: number;
  readonly ctx: number;
  readonly chunk: number;
  readonly rows: number;
  readonly kv: KvCacheType;
  readonly logitsRows: number;
  /** What this batch allocated (batchBytes of its options). */
  readonly bytes: { kv: number; activations: number };
  private readonly positions: number[];
  private readonly caches: KvCache[];
  private readonly fwd: Forward;

  constructor(readonly model: PackedModel, opts: BatchOptions) {
    const c = model.config;
    const r = resolve(c, opts);
    this.slots = r.slots;
    this.ctx = r.ctx;
    this.chunk = r.chunk;
    this.rows = r.rows;
    this.kv = r.kv;
    this.logitsRows = r.logitsRows;
    const list = batchBuffers(c, r.slots, r.ctx, r.rows, r.kv, r.logitsRows);
    const est = buffersBytes(list);
    this.bytes = est;
    const ar = model.be.arena;
    try {
      ar.reserve(est.kv + est.activations + (1 << 20));
    } catch (e) {
      if (e instanceof OutOfMemoryError) throw new OutOfMemoryError(`batch: ${r.slots} ${r.kv} KV caches (${mib(est.kv)} for ctx ${r.ctx}) and activations (${mib(est.activations)}) do not fit: ${e.message}; use fewer slots or a smaller ctx`);
      throw e;
    }
    const bufs = allocBuffers(ar, list);
    this.caches = Array.from({ length: r.slots }, (_, s) => kvCacheFrom(bufs, r.ctx, `s${s}.`));
    this.positions = new Array<number>(r.slots).fill(0);
    this.fwd = new Forward(model, bufs, r.ctx, r.rows, r.logitsRows, r.kv);
  }

  /** Positions of `slot` filled so far. */
  pos(slot: number): number {
    return this.positions[this.check(slot)]!;
  }

  /** Forget a slot's cache (start a new sequence there). */
  reset(slot: number): void {
    this.positions[this.check(slot)] = 0;
  }

  /** Roll a slot back to `pos` positions (reuse of a shared prompt prefix). */
  truncate(slot: number, pos: number): void {
    const p = this.positions[this.check(slot)]!;
    if (!Number.isInteger(pos) || pos < 0 || pos > p) throw new ArgumentError(`truncate: pos must be in [0, ${p}], got ${pos}`);
    this.positions[slot] = pos;
  }

  /**
   * Advance every entry's sequence together (each slot at most once; all tokens together ≤ rows, an
   * entry's ≤ chunk). Returns per entry the logits of its last token (views into one buffer, valid
   * until the next call), of all its tokens (n·V) where `logits` was 'all', or undefined where it was false.
   */
  step(entries: readonly BatchEntry[]): Array<Float32Array | undefined> {
    if (entries.length === 0) throw new ArgumentError('step: no entries');
    const seen = new Set<number>();
    let M = 0, H = 0;
    for (const e of entries) {
      const s = this.check(e.slot);
      if (seen.has(s)) throw new ArgumentError(`step: slot ${s} appears twice`);
      seen.add(s);
      const n = e.tokens.length;
      if (n < 1 || n > this.chunk) throw new ArgumentError(`step: slot ${s} has ${n} tokens (1 … chunk ${this.chunk})`);
      if (this.positions[s]! + n > this.ctx) throw new ShapeError(`context full: slot ${s} has ${this.positions[s]} positions used + ${n} new > ctx ${this.ctx}`);
      M += n;
      H += e.logits === 'all' ? n : e.logits === false ? 0 : 1;
    }
    if (M > this.rows) throw new ArgumentError(`step: ${M} tokens, at most ${this.rows} per step`);
    if (H > this.logitsRows) throw new ArgumentError(`step: logits of ${H} rows, at most logitsRows ${this.logitsRows} per step`);
    const segments: Segment[] = [];
    const heads: number[] = [];
    let row = 0;
    for (const e of entries) {
      const n = e.tokens.length, p = this.positions[e.slot]!;
      for (let i = 0; i < n; i++) this.fwd.embed(row + i, e.tokens[i]!, () => `at position ${p + i} of slot ${e.slot}`);
      segments.push({ cache: this.caches[e.slot]!, pos: p, row, n });
      if (e.logits === 'all') for (let i = 0; i < n; i++) heads.push(row + i);
      else if (e.logits !== false) heads.push(row + n - 1);
      row += n;
    }
    this.fwd.layers(M, segments);
    for (const e of entries) this.positions[e.slot]! += e.tokens.length;
    const V = this.model.config.vocabSize;
    const logits = heads.length > 0 ? this.fwd.head(heads) : undefined;
    let h = 0;
    return entries.map((e) => {
      if (e.logits === false) return undefined;
      const n = e.logits === 'all' ? e.tokens.length : 1;
      return logits!.subarray(V * h, V * (h += n));
    });
  }

  /** A slot's prompt alone, in chunks; the logits of its last token (a view, valid until the next call). */
  prefill(slot: number, tokens: ArrayLike<number>): Float32Array {
    if (tokens.length === 0) throw new ArgumentError('prefill: no tokens');
    const s = this.check(slot);
    if (this.positions[s]! + tokens.length > this.ctx) throw new ShapeError(`context full: slot ${s} has ${this.positions[s]} positions used + ${tokens.length} new > ctx ${this.ctx}`);
    let out: Float32Array | undefined;
    for (let i = 0; i < tokens.length; i += this.chunk) {
      const n = Math.min(this.chunk, tokens.length - i);
      const last = i + n === tokens.length;
      out = this.step([{ slot: s, tokens: Array.prototype.slice.call(tokens, i, i + n) as number[], logits: last }])[0];
    }
    return out!;
  }

  private check(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots) throw new ArgumentError(`slot must be an integer in [0, ${this.slots}), got ${slot}`);
    return slot;
  }
}
