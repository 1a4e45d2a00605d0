/**
 * The server's scheduler: continuous batching over one InferenceBatch (one KV cache per slot).
 *
 * Every tick is one batch step: one token of every decoding stream, plus prompt chunks of joining
 * streams (at most `chunk` prompt tokens per tick, oldest stream first), so running streams keep
 * flowing while a new prompt is prefilled and every packed matrix is streamed once per tick for all
 * of them. Between ticks the loop yields to the event loop (new requests, socket writes, aborts).
 * Each stream keeps its own TokenStepper (sampler and seed, stop strings and ids, max_tokens); a stream
 * whose AbortSignal fired leaves the batch at the next tick. The tokens whose keys and values are in a
 * slot's cache stay recorded after its stream ends, and a new prompt goes to the free slot sharing the
 * longest prefix with it (prefix cache): those positions are kept, only the rest is prefilled. On the
 * WASM backend every row equals a lone session's, however streams are batched and prompts split
 * (test/infer/batch.test.ts), so answers do not depend on the load.
 */
import { TokenStepper, type GenerateChunk, type GenerateOptions, type GenerateResult } from '../infer/generate.js';
import { InferenceBatch, type BatchEntry } from '../infer/batch.js';
import type { KvCacheType } from '../infer/session.js';
import type { PackedModel } from '../infer/packed_model.js';
import type { Tokenizer } from '../tokenizer/types.js';

/** Shared tokens that make a slot's cache worth reusing over the least recently used slot. */
export const PREFIX_MIN = 8;

export interface BatcherOptions {
  slots: number;
  ctx: number;
  kv: KvCacheType;
  /** Prompt tokens per tick (all joining streams together). Default 64. */
  chunk?: number;
}

export interface BatcherStats {
  /** Batch steps run. */
  steps: number;
  /** Sum over steps of the streams decoding in that step (occupancy = decodeRows / steps). */
  decodeRows: number;
  /** Prompt tokens prefilled (not counting reused positions). */
  prefillTokens: number;
  /** Requests that reused a cached prefix, and the positions they reused. */
  prefixHits: number;
  prefixTokens: number;
}

interface Stream {
  slot: number;
  st: TokenStepper;
  /** Prompt tokens in the cache (the reused prefix, then what was prefilled). */
  fed: number;
  signal: AbortSignal | undefined;
  /** The consumer stopped listening: drop at the next tick. */
  dropped: boolean;
  queue: GenerateChunk[];
  wake: (() => void) | undefined;
  ended: boolean;
  error: unknown;
  result: GenerateResult | undefined;
  t0: number;
  prefillMs: number;
  t1: number;
}

export class Batcher {
  readonly batch: InferenceBatch;
  readonly stats: BatcherStats = { steps: 0, decodeRows: 0, prefillTokens: 0, prefixHits: 0, prefixTokens: 0 };
  /** Per slot: the tokens whose keys and values its cache holds (positions 0 … pos−1). */
  private readonly history: number[][];
  /** Per slot: when it was last given out (least recently used first among equal prefixes). */
  private readonly lastUsed: number[];
  private readonly streams: Stream[] = [];
  private running = false;
  private uses = 0;
  private readonly chunk: number;

  constructor(readonly model: PackedModel, private readonly tok: Tokenizer, opts: BatcherOptions) {
    this.batch = new InferenceBatch(model, { slots: opts.slots, ctx: opts.ctx, kv: opts.kv, chunk: opts.chunk ?? 64 });
    // The batch caps its chunk at ctx: the budget per tick is what it accepts (rows = slots + chunk).
    this.chunk = this.batch.chunk;
    this.history = Array.from({ length: opts.slots }, () => []);
    this.lastUsed = new Array<number>(opts.slots).fill(-1);
  }

  /** Streams in the batch (prefilling or decoding). */
  get active(): number {
    return this.streams.length;
  }

  /**
   * Of `free` slots, the one whose cached tokens share the longest prefix with `ids` when that prefix has at
   * least PREFIX_MIN tokens (ties: least recently used); otherwise the least recently used slot (an empty
   * one first), so a prompt that shares only a BOS or a template's first tokens does not evict a cached
   * conversation.
   */
  choose(free: readonly number[], ids: readonly number[]): number {
    let best = free[0]!, bestLen = -1, lru = free[0]!;
    for (const s of free) {
      const n = commonPrefix(this.history[s]!, ids);
      if (n > bestLen || (n === bestLen && this.lastUsed[s]! < this.lastUsed[best]!)) {
        best = s;
        bestLen = n;
      }
      if (this.lastUsed[s]! < this.lastUsed[lru]!) lru = s;
    }
    return bestLen >= PREFIX_MIN ? best : lru;
  }

  /**
   * Generate `ids` in `slot` (not in use by another stream): chunks as they come, the result at the end,
   * like generateStream. `opts.signal` cancels at the next tick.
   */
  async *generate(slot: number, ids: number[], opts: GenerateOptions): AsyncGenerator<GenerateChunk, GenerateResult> {
    const b = this.batch;
    const st = new TokenStepper(this.tok, this.model.config.vocabSize, b.ctx, ids, opts, this.model.config.maxSeqLen);
    if (this.streams.some((x) => x.slot === slot)) throw new RangeError(`Batcher: slot ${slot} is in use`);
    // Prefix cache: keep the positions this prompt shares with what the slot holds (at least one token is run, for its logits).
    const reuse = Math.min(commonPrefix(this.history[slot]!, st.ids), st.ids.length - 1);
    b.truncate(slot, Math.min(reuse, b.pos(slot)));
    this.history[slot]!.length = reuse;
    this.lastUsed[slot] = this.uses++;
    if (reuse > 0) {
      this.stats.prefixHits++;
      this.stats.prefixTokens += reuse;
    }
    const s: Stream = { slot, st, fed: reuse, signal: opts.signal, dropped: false, queue: [], wake: undefined, ended: false, error: undefined, result: undefined, t0: performance.now(), prefillMs: 0, t1: 0 };
    this.streams.push(s);
    this.start();
    try {
      for (;;) {
        while (s.queue.length > 0) yield s.queue.shift()!;
        if (s.error !== undefined) throw s.error;
        if (s.ended) return s.result!;
        await new Promise<void>((r) => (s.wake = r));
        s.wake = undefined;
      }
    } finally {
      if (!s.ended) s.dropped = true;
    }
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      while (this.streams.length > 0) {
        this.tick();
        await yieldToEventLoop();
      }
    } finally {
      this.running = false;
    }
  }

  /** One batch step (see the file comment). */
  private tick(): void {
    const b = this.batch;
    for (const s of [...this.streams]) {
      if (s.dropped || s.signal?.aborted) {
        s.st.abort();
        this.end(s);
      }
    }
    if (this.streams.length === 0) return;
    const entries: BatchEntry[] = [];
    const who: Stream[] = [];
    let budget = this.chunk, decoding = 0;
    for (const s of this.streams) {
      if (s.fed < s.st.ids.length) continue;
      entries.push({ slot: s.slot, tokens: [s.st.last] });
      who.push(s);
      decoding++;
    }
    for (const s of this.streams) {
      if (budget === 0) break;
      const rest = s.st.ids.length - s.fed;
      if (rest === 0) continue;
      const n = Math.min(rest, budget);
      entries.push({ slot: s.slot, tokens: s.st.ids.slice(s.fed, s.fed + n), logits: n === rest });
      who.push(s);
      budget -= n;
    }
    let logits: Array<Float32Array | undefined>;
    try {
      logits = b.step(entries);
    } catch (e) {
      // A refused or failed step: its streams end with the error, their caches are forgotten.
      for (const s of who) {
        s.error = e;
        this.history[s.slot]!.length = 0;
        b.reset(s.slot);
        this.end(s);
      }
      return;
    }
    this.stats.steps++;
    this.stats.decodeRows += decoding;
    entries.forEach((e, k) => {
      const s = who[k]!;
      const h = this.history[s.slot]!;
      for (let i = 0; i < e.tokens.length; i++) h.push(e.tokens[i]!);
      const l = logits[k];
      if (s.fed < s.st.ids.length) {
        s.fed += e.tokens.length;
        this.stats.prefillTokens += e.tokens.length;
        if (l === undefined) return;
        s.prefillMs = performance.now() - s.t0;
        s.t1 = performance.now();
        if (s.st.done) return this.end(s); // max_tokens 0
      }
      const piece = s.st.push(l!, b.pos(s.slot) >= b.ctx);
      if (piece !== undefined) s.queue.push(piece);
      if (s.st.done) this.end(s);
      else s.wake?.();
    });
  }

  /** Remove a stream from the batch, queue its held-back text and result, wake its consumer. */
  private end(s: Stream): void {
    const i = this.streams.indexOf(s);
    if (i >= 0) this.streams.splice(i, 1);
    if (s.error === undefined) {
      const tail = s.st.flush();
      if (tail !== undefined) s.queue.push(tail);
      const prefillMs = s.t1 > 0 ? s.prefillMs : performance.now() - s.t0;
      s.result = s.t1 > 0 ? s.st.result(prefillMs, performance.now() - s.t1) : { ...s.st.result(prefillMs, 0), text: '', tokens: [] };
    }
    s.ended = true;
    s.wake?.();
  }
}

function commonPrefix(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
