/**
 * The server's scheduler: continuous batching over one InferenceBatch (one KV cache per slot).
 *
 * Every tick is one batch step: one token of every decoding stream (or, with speculative decoding, the
 * token and its draft — prompt lookup, or the slot's session of a draft model — verified in the same step:
 * src/infer/speculative.ts), plus prompt
 * chunks of joining streams (at most `chunk` prompt tokens per tick, shortest remaining prompt first,
 * at most one stream starting its prefill per tick), so running streams keep
 * flowing while a new prompt is prefilled and every packed matrix is streamed once per tick for all
 * of them. Between ticks the loop yields to the event loop (new requests, socket writes, aborts).
 * Each stream keeps its own TokenStepper (sampler and seed, stop strings and ids, max_tokens); a stream
 * whose AbortSignal fired leaves the batch at the next tick. The tokens whose keys and values are in a
 * slot's cache stay recorded after its stream ends, and a new prompt goes to the free slot sharing the
 * longest prefix with it (prefix cache): those positions are kept, only the rest is prefilled. On the
 * WASM backend every row equals a lone session's, however streams are batched and prompts split
 * (test/infer/batch.test.ts), so answers do not depend on the load.
 */
import { samplerOptions, TokenStepper, type GenerateChunk, type GenerateOptions, type GenerateResult } from '../infer/generate.js';
import { InferenceBatch, type BatchEntry } from '../infer/batch.js';
import { defaultRowCost, DraftPolicy, lookupDraft, ModelDrafter, resolveSpec, type Draft } from '../infer/speculative.js';
import { InferenceSession } from '../infer/session.js';
import { ArgumentError } from '../errors.js';
import type { KvCacheType } from '../infer/session.js';
import type { PackedModel } from '../infer/packed_model.js';
import type { Tokenizer } from '../tokenizer/types.js';

/** Shared tokens that make a slot's cache worth reusing over the least recently used slot. */
export const PREFIX_MIN = 8;

const NO_DRAFT: Draft = { tokens: [], q: undefined };

export interface BatcherOptions {
  slots: number;
  ctx: number;
  kv: KvCacheType;
  /** Prompt tokens per tick (all joining streams together). Default 64. */
  chunk?: number;
  /**
   * Most draft tokens a stream may have verified per tick (speculative decoding, prompt lookup; 0 = none).
   * The batch is sized for every slot verifying specK + 1 rows. Default 4.
   */
  specK?: number;
  /**
   * A draft model with the target's tokenizer (the caller checks it: checkDraftVocab): each slot gets a
   * session of it (a KV cache of `ctx` positions), used by requests whose speculative mode is 'draft'.
   */
  draft?: PackedModel;
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
  /** Speculative decoding: draft tokens proposed and accepted, verify entries run. */
  draftProposed: number;
  draftAccepted: number;
  draftSteps: number;
}

interface Stream {
  slot: number;
  st: TokenStepper;
  /** Prompt tokens in the cache (the reused prefix, then what was prefilled). */
  fed: number;
  /** Prefill has begun (a chunk of the prompt has been in a step). */
  started: boolean;
  /** Speculative decoding: the draft policy and n-gram length (prompt lookup), the draft model's drafter (mode 'draft'). */
  policy: DraftPolicy | undefined;
  ngram: number;
  drafter: ModelDrafter | undefined;
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
  readonly stats: BatcherStats = { steps: 0, decodeRows: 0, prefillTokens: 0, prefixHits: 0, prefixTokens: 0, draftProposed: 0, draftAccepted: 0, draftSteps: 0 };
  /** Most draft tokens per stream and tick (BatcherOptions.specK). */
  readonly specK: number;
  /** Per slot: the tokens whose keys and values its cache holds (positions 0 … pos−1). */
  private readonly history: number[][];
  /** Per slot: when it was last given out (least recently used first among equal prefixes). */
  private readonly lastUsed: number[];
  private readonly streams: Stream[] = [];
  private running = false;
  private uses = 0;
  private readonly chunk: number;
  /** Per slot: a session of the draft model (BatcherOptions.draft). */
  private readonly draftSessions: InferenceSession[] | undefined;

  constructor(readonly model: PackedModel, private readonly tok: Tokenizer, opts: BatcherOptions) {
    const specK = opts.specK ?? 4;
    if (!Number.isInteger(specK) || specK < 0) throw new ArgumentError(`specK must be a non-negative integer, got ${specK}`);
    this.specK = specK;
    // Every slot may verify specK + 1 rows (all with logits) while prompts take a chunk.
    const chunk = Math.max(opts.chunk ?? 64, specK + 1);
    this.batch = new InferenceBatch(model, { slots: opts.slots, ctx: opts.ctx, kv: opts.kv, chunk, rows: opts.slots * (specK + 1) + chunk, logitsRows: opts.slots * (specK + 1) });
    // The batch caps its chunk at ctx: the budget per tick is what it accepts (rows = slots + chunk).
    this.chunk = this.batch.chunk;
    this.history = Array.from({ length: opts.slots }, () => []);
    this.lastUsed = new Array<number>(opts.slots).fill(-1);
    const draft = opts.draft;
    this.draftSessions = draft === undefined ? undefined : Array.from({ length: opts.slots }, () => new InferenceSession(draft, { ctx: opts.ctx, kv: opts.kv }));
  }

  /** True when requests may draft with a model (BatcherOptions.draft). */
  get hasDraftModel(): boolean {
    return this.draftSessions !== undefined;
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
    if (opts.speculative?.mode === 'draft' && this.draftSessions === undefined) throw new ArgumentError("speculative mode 'draft' needs a draft model (BatcherOptions.draft)");
    // mode 'draft' drafts with this slot's session of the batcher's draft model
    const spec = opts.speculative !== undefined && opts.speculative.mode !== 'off'
      ? resolveSpec(opts.speculative.mode === 'draft' ? { ...opts.speculative, draft: this.draftSessions![slot]! } : opts.speculative) : undefined;
    if (spec !== undefined && spec.k > this.specK) throw new ArgumentError(`speculative k ${spec.k} exceeds this server's ${this.specK}`);
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
    const policy = spec !== undefined ? new DraftPolicy(spec.k, opts.speculative!.rowCost ?? defaultRowCost(this.model.config)) : undefined;
    let drafter: ModelDrafter | undefined;
    if (spec?.mode === 'draft') {
      drafter = new ModelDrafter(this.draftSessions![slot]!, samplerOptions(opts));
      drafter.reset();
    }
    const s: Stream = { slot, st, fed: reuse, started: false, policy, ngram: spec?.ngram ?? 0, drafter, signal: opts.signal, dropped: false, queue: [], wake: undefined, ended: false, error: undefined, result: undefined, t0: performance.now(), prefillMs: 0, t1: 0 };
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
    const drafts: Draft[] = [];
    let budget = this.chunk, decoding = 0;
    for (const s of this.streams) {
      if (s.fed < s.st.ids.length) continue;
      // Guesses (prompt lookup: where an n-gram matches; or the slot's draft model) while the policy wants some,
      // at most remaining − 1 and what the context holds.
      let draft: Draft = NO_DRAFT;
      if (s.policy !== undefined) {
        const n = Math.min(s.policy.next(), s.st.remaining - 1, b.ctx - b.pos(s.slot) - 1);
        if (n > 0) draft = s.drafter !== undefined ? s.drafter.propose(s.st.sequence, n) : { tokens: lookupDraft(s.st.sequence, s.ngram, n), q: undefined };
      }
      entries.push(draft.tokens.length > 0 ? { slot: s.slot, tokens: [s.st.last, ...draft.tokens], logits: 'all' } : { slot: s.slot, tokens: [s.st.last] });
      who.push(s);
      drafts.push(draft);
      decoding++;
    }
    // Prompt chunks, shortest remaining prompt first (a short new prompt does not wait behind long ones);
    // at most one stream starts its prefill per tick, so streams that arrive together start (and later
    // finish and come back) a tick apart instead of all in one long step.
    const joining = this.streams.filter((s) => s.fed < s.st.ids.length).sort((x, y) => x.st.ids.length - x.fed - (y.st.ids.length - y.fed));
    let starts = 0;
    for (const s of joining) {
      if (budget === 0) break;
      if (!s.started && starts++ > 0) continue;
      const rest = s.st.ids.length - s.fed;
      const n = Math.min(rest, budget);
      entries.push({ slot: s.slot, tokens: s.st.ids.slice(s.fed, s.fed + n), logits: n === rest });
      who.push(s);
      drafts.push(NO_DRAFT);
      s.started = true;
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
      const l = logits[k];
      const draft = drafts[k]!;
      if (draft.tokens.length > 0) {
        // Verify: keep the accepted guesses, roll the cache back over the rejected ones.
        const P = b.pos(s.slot) - e.tokens.length;
        const { chunks, accepted } = s.st.pushVerified(l!, draft, P, b.ctx);
        b.truncate(s.slot, P + 1 + accepted);
        for (let i = 0; i <= accepted; i++) h.push(e.tokens[i]!);
        s.policy!.update(draft.tokens.length, accepted);
        this.stats.draftProposed += draft.tokens.length;
        this.stats.draftAccepted += accepted;
        this.stats.draftSteps++;
        s.queue.push(...chunks);
        if (s.st.done) this.end(s);
        else s.wake?.();
        return;
      }
      for (let i = 0; i < e.tokens.length; i++) h.push(e.tokens[i]!);
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
      if (s.policy !== undefined) s.result.draft = { proposed: s.policy.proposed, accepted: s.policy.accepted, steps: s.policy.steps };
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
