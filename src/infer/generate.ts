/**
 * Text generation over an InferenceSession: prompt → prefill → sample → decode, streamed as an
 * AsyncIterable of text pieces. Stop on EOS (and extra stop ids), on stop strings (never emitted;
 * text that could still become a stop string is held back), on maxTokens, or on an AbortSignal.
 * Chat templates render a message list into the prompt.
 */
import { ArgumentError } from '../errors.js';
import type { Tokenizer } from '../tokenizer/types.js';
import { DEFAULT_SAMPLER, Sampler, type SamplerOptions } from './sampler.js';
import type { InferenceSession } from './session.js';
import { acceptDraft, defaultRowCost, DraftPolicy, lookupDraft, ModelDrafter, resolveSpec, type Draft, type SpeculativeOptions } from './speculative.js';

export interface GenerateOptions extends Partial<SamplerOptions> {
  /** New tokens at most (default 128). */
  maxTokens?: number;
  /** Strings that end generation; the text before the first match is returned without it. */
  stop?: string[];
  /** Token ids that end generation besides the tokenizer's EOS. */
  stopIds?: number[];
  /** Prepend the tokenizer's BOS to a text prompt (default true). */
  addBos?: boolean;
  /** Cancels generation between tokens. */
  signal?: AbortSignal;
  /** Yield to the event loop every n tokens so servers stay responsive (default 1). */
  yieldEvery?: number;
  /**
   * Speculative decoding (src/infer/speculative.ts): prompt-lookup or draft-model guesses verified k+1
   * rows at a time. Greedy output is plain greedy's; sampled output follows the same distribution.
   */
  speculative?: SpeculativeOptions;
}

export type FinishReason = 'stop' | 'length' | 'abort';

export interface GenerateChunk {
  /** New text since the previous chunk (may be empty while text is held back). */
  text: string;
  /** The token this chunk comes from. */
  token: number;
}

export interface GenerateResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  finishReason: FinishReason;
  /** Prefill and decode wall times (ms). */
  prefillMs: number;
  decodeMs: number;
  /** Speculative decoding: draft tokens proposed and accepted (absent when it was off). */
  draft?: { proposed: number; accepted: number; steps: number };
}

/** Let other tasks run (setImmediate in Node; a MessageChannel hop in browsers, which setTimeout would clamp to ≥ 4 ms). */
function yieldToEventLoop(): Promise<void> {
  const g = globalThis as { setImmediate?: (f: () => void) => void };
  if (typeof g.setImmediate === 'function') return new Promise((r) => g.setImmediate!(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      r();
    };
    ch.port2.postMessage(0);
  });
}

/** The sampler settings of generation options (defaults where absent). */
export function samplerOptions(o: GenerateOptions): SamplerOptions {
  const s: SamplerOptions = { ...DEFAULT_SAMPLER };
  for (const k of Object.keys(DEFAULT_SAMPLER) as Array<keyof SamplerOptions>) if (o[k] !== undefined) s[k] = o[k]!;
  return s;
}

/** Earliest index of any stop string in text (or -1), and how much of the tail could start one. */
function scanStops(text: string, stops: string[]): { at: number; hold: number } {
  let at = -1;
  for (const s of stops) {
    const i = text.indexOf(s);
    if (i >= 0 && (at < 0 || i < at)) at = i;
  }
  let hold = 0;
  for (const s of stops) {
    for (let n = Math.min(s.length - 1, text.length); n > hold; n--) {
      if (text.endsWith(s.slice(0, n))) {
        hold = n;
        break;
      }
    }
  }
  return { at, hold };
}

/**
 * One generation's token-by-token logic, whatever computes the logits (an InferenceSession, a slot of an
 * InferenceBatch): the prompt ids, the sampler, stop ids, stop strings (never emitted; text that could
 * still become one is held back), incomplete UTF-8 held back, maxTokens. Feed it the logits of the last
 * position with `push`; while not `done`, decode `last` and push again.
 */
export class TokenStepper {
  /** The prompt's token ids. */
  readonly ids: number[];
  readonly maxTokens: number;
  /** Generated tokens (stop ids excluded). */
  readonly tokens: number[] = [];
  /** The text so far (cut before a stop string once one appeared). */
  text = '';
  /** Set when generation has ended. */
  finishReason: FinishReason | undefined;
  private readonly smp: Sampler;
  private readonly stops: string[];
  private readonly stopIds: Set<number>;
  private readonly history: number[];
  /** Characters of `text` already emitted. */
  private emitted = 0;
  /** The target's distribution at one row (speculative verification; allocated on first use). */
  private dist: Float64Array | undefined;
  private readonly V: number;

  /** ctx: the context the prompt must fit (with room for one token). */
  constructor(private readonly tok: Tokenizer, vocabSize: number, ctx: number, prompt: string | number[], opts: GenerateOptions = {}, maxSeqLen = ctx) {
    const maxTokens = opts.maxTokens ?? 128;
    if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new ArgumentError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
    this.maxTokens = maxTokens;
    this.stops = (opts.stop ?? []).filter((s) => s.length > 0);
    this.stopIds = new Set([tok.eosId, ...(opts.stopIds ?? [])]);
    const ids = typeof prompt === 'string' ? [...(opts.addBos === false ? [] : [tok.bosId]), ...tok.encode(prompt)] : [...prompt];
    if (ids.length === 0) throw new ArgumentError('empty prompt: give text or at least one token id');
    if (ids.length >= ctx) throw new ArgumentError(`prompt of ${ids.length} tokens does not fit the context of ${ctx} tokens (model maxSeqLen ${maxSeqLen}); generation stops at the context end otherwise`);
    this.ids = ids;
    this.history = ids.slice();
    this.V = vocabSize;
    this.smp = new Sampler(vocabSize, samplerOptions(opts));
    if (maxTokens === 0) this.finishReason = 'length';
  }

  get done(): boolean {
    return this.finishReason !== undefined;
  }

  /** The last generated token (the one to decode next while not done). */
  get last(): number {
    return this.tokens[this.tokens.length - 1] ?? -1;
  }

  /** Prompt and generated tokens so far (what the sampler's penalties see; prompt lookup searches it). */
  get sequence(): readonly number[] {
    return this.history;
  }

  /** Tokens still allowed by maxTokens. */
  get remaining(): number {
    return this.maxTokens - this.tokens.length;
  }

  /**
   * Sample the next token from `logits` (the last position's). Returns the chunk to emit (its text may be
   * empty while text is held back), or undefined when the token ended generation without one (a stop id,
   * or a stop string at the start of the new text). `full`: the cache has no room for another token.
   */
  push(logits: Float32Array, full: boolean): GenerateChunk | undefined {
    if (this.done) throw new ArgumentError('TokenStepper: generation has ended');
    return this.emit(this.smp.sample(logits, this.history), full);
  }

  /**
   * Speculative verification: `logits` holds the target's rows for [last, draft[0], …, draft[k−1]]
   * (k+1 rows, row i predicts the token after draft[i−1]); `pos` is the position of row 0's token.
   * Draft tokens are kept while the acceptance rule (src/infer/speculative.ts) keeps them, then one
   * token of the target's own (the resampled one, or one drawn from the last row when all were kept);
   * every token goes through the same stop/emit logic as `push`. Returns the chunks to emit and how
   * many draft tokens were kept: the cache is valid up to pos + 1 + accepted.
   */
  pushVerified(logits: Float32Array, draft: Draft, pos: number, ctx: number): { chunks: GenerateChunk[]; accepted: number } {
    if (this.done) throw new ArgumentError('TokenStepper: generation has ended');
    const V = this.V, k = draft.tokens.length;
    if (logits.length < (k + 1) * V) throw new ArgumentError(`pushVerified: ${logits.length / V} logits rows for ${k} draft tokens`);
    const greedy = this.smp.opts.temperature === 0;
    const chunks: GenerateChunk[] = [];
    let accepted = 0;
    for (let i = 0; i <= k; i++) {
      const row = logits.subarray(i * V, (i + 1) * V);
      let next: number, kept = false;
      if (i === k) next = this.smp.sample(row, this.history);
      else if (greedy) {
        next = this.smp.sample(row, this.history);
        kept = next === draft.tokens[i];
      } else {
        this.dist ??= new Float64Array(V);
        this.smp.distribution(row, this.history, this.dist);
        const r = acceptDraft(this.dist, draft.tokens[i]!, draft.q?.[i], () => this.smp.uniform());
        next = r.token;
        kept = r.accepted;
      }
      const piece = this.emit(next, pos + 1 + i >= ctx);
      if (piece !== undefined) chunks.push(piece);
      if (!kept || this.done) break;
      accepted++;
    }
    return { chunks, accepted };
  }

  /** After a token is chosen: stop ids, the token list, text, stop strings, maxTokens. */
  private emit(next: number, full: boolean): GenerateChunk | undefined {
    if (this.stopIds.has(next)) {
      this.finishReason = 'stop';
      return undefined;
    }
    const out = this.tokens;
    out.push(next);
    this.history.push(next);
    let text = this.tok.decode(out);
    this.text = text;
    // Hold back an incomplete UTF-8 sequence (decoded as U+FFFD at the end) and possible stop-string prefixes.
    const emitted = this.emitted;
    let safe = text.length;
    while (safe > emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--;
    if (this.stops.length > 0) {
      const { at, hold } = scanStops(text, this.stops);
      if (at >= 0) {
        text = text.slice(0, at);
        this.text = text;
        this.finishReason = 'stop';
        if (at > emitted) {
          this.emitted = at;
          return { text: text.slice(emitted, at), token: next };
        }
        this.emitted = Math.max(emitted, at);
        return undefined;
      }
      safe = Math.min(safe, text.length - hold);
    }
    if (out.length === this.maxTokens || full) this.finishReason = 'length';
    if (safe > emitted) {
      this.emitted = safe;
      return { text: text.slice(emitted, safe), token: next };
    }
    return { text: '', token: next };
  }

  /** End generation as cancelled (between tokens). */
  abort(): void {
    this.finishReason ??= 'abort';
  }

  /** Held-back text that never became a stop string (or a trailing incomplete character), once done. */
  flush(): GenerateChunk | undefined {
    if (this.text.length <= this.emitted) return undefined;
    const piece = { text: this.text.slice(this.emitted), token: this.tokens[this.tokens.length - 1] ?? -1 };
    this.emitted = this.text.length;
    return piece;
  }

  result(prefillMs: number, decodeMs: number): GenerateResult {
    return { text: this.text, tokens: this.tokens, promptTokens: this.ids.length, finishReason: this.finishReason ?? 'length', prefillMs, decodeMs };
  }
}

/**
 * Generate from `prompt` (text, or token ids used as is). The session is reset first.
 * Iterate for streaming; the generator's return value is the GenerateResult.
 */
export async function* generateStream(session: InferenceSession, tok: Tokenizer, prompt: string | number[], opts: GenerateOptions = {}): AsyncGenerator<GenerateChunk, GenerateResult> {
  const c = session.model.config;
  const st = new TokenStepper(tok, c.vocabSize, session.ctx, prompt, opts, c.maxSeqLen);
  const ids = st.ids;
  const yieldEvery = Math.max(1, opts.yieldEvery ?? 1);
  const spec = opts.speculative !== undefined && opts.speculative.mode !== 'off' ? resolveSpec(opts.speculative) : undefined;
  if (spec !== undefined && session.verifyRows < 2) throw new ArgumentError(`speculative decoding needs a session with verifyRows ≥ 2 (k + 1), this one has ${session.verifyRows}`);
  if (spec?.mode === 'draft' && opts.speculative!.draft!.model.config.vocabSize !== c.vocabSize) throw new ArgumentError(`draft model: vocabulary of ${opts.speculative!.draft!.model.config.vocabSize} tokens, the target has ${c.vocabSize}`);
  session.reset();
  const t0 = performance.now();
  // The prompt goes in chunk by chunk, yielding in between so that other streams (server slots) keep moving.
  let logits!: Float32Array;
  for (let i = 0; i < ids.length; i += session.chunk) {
    if (i > 0) await yieldToEventLoop();
    if (opts.signal?.aborted) return { text: '', tokens: [], promptTokens: ids.length, finishReason: 'abort', prefillMs: performance.now() - t0, decodeMs: 0 };
    logits = session.prefill(ids.slice(i, i + session.chunk));
  }
  const prefillMs = performance.now() - t0;
  const t1 = performance.now();
  const policy = spec !== undefined ? new DraftPolicy(Math.min(spec.k, session.verifyRows - 1), opts.speculative!.rowCost ?? defaultRowCost(c)) : undefined;
  let drafter: ModelDrafter | undefined;
  if (spec?.mode === 'draft') {
    drafter = new ModelDrafter(opts.speculative!.draft!, samplerOptions(opts));
    drafter.reset();
  }
  // The first token comes from the prompt's logits; then each step feeds `st.last` (and a draft, if any).
  if (!opts.signal?.aborted) {
    const piece = st.push(logits, session.pos >= session.ctx);
    if (piece !== undefined) yield piece;
  } else st.abort();
  for (let i = 0; !st.done; i++) {
    if (opts.signal?.aborted) {
      st.abort();
      break;
    }
    // Draft tokens: at most remaining − 1 (the target adds one of its own) and what the context holds.
    const n = policy === undefined ? 0 : Math.min(policy.next(), st.remaining - 1, session.ctx - session.pos - 1);
    let draft: Draft = { tokens: [], q: undefined };
    if (n > 0) draft = drafter !== undefined ? drafter.propose(st.sequence, n) : { tokens: lookupDraft(st.sequence, spec!.ngram, n), q: undefined };
    if (draft.tokens.length === 0) {
      logits = session.decode(st.last);
      const piece = st.push(logits, session.pos >= session.ctx);
      if (piece !== undefined) yield piece;
    } else {
      const P = session.pos;
      const rows = session.verify([st.last, ...draft.tokens]);
      const { chunks, accepted } = st.pushVerified(rows, draft, P, session.ctx);
      // Roll back the rejected draft positions: later writes overwrite them.
      session.truncate(P + 1 + accepted);
      policy!.update(draft.tokens.length, accepted);
      for (const c of chunks) yield c;
    }
    if ((i + 1) % yieldEvery === 0) await yieldToEventLoop();
  }
  const tail = st.flush();
  if (tail !== undefined) yield tail;
  const r = st.result(prefillMs, performance.now() - t1);
  return policy === undefined ? r : { ...r, draft: { proposed: policy.proposed, accepted: policy.accepted, steps: policy.steps } };
}

/** Non-streaming convenience: runs generateStream to the end. */
export async function generate(session: InferenceSession, tok: Tokenizer, prompt: string | number[], opts: GenerateOptions = {}): Promise<GenerateResult> {
  const it = generateStream(session, tok, prompt, opts);
  for (;;) {
    const r = await it.next();
    if (r.done) return r.value;
  }
}

// ---- chat templates ----------------------------------------------------------------------------

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export type ChatTemplateName = 'bitnet' | 'plain';

/**
 * Render messages into a prompt ending where the assistant speaks next.
 *  bitnet  BitNet b1.58 2B4T (docs/spec.md §3.3): `<|begin_of_text|>System: …<|eot_id|>User: …<|eot_id|>Assistant: `
 *          (turns end with <|eot_id|>, which then stops generation)
 *  plain   a generic template for models without chat tokens: `System: …\n\nUser: …\n\nAssistant:`
 *          (generation stops at "\nUser:")
 * Returns the prompt, whether BOS is already in it, and the stops to use.
 */
export function renderChat(messages: ChatMessage[], template: ChatTemplateName, tok: Tokenizer): { prompt: string; addBos: boolean; stop: string[]; stopIds: number[] } {
  if (messages.length === 0) throw new ArgumentError('chat: no messages');
  for (const m of messages) {
    if (!['system', 'user', 'assistant'].includes(m.role)) throw new ArgumentError(`chat: unknown role '${String(m.role)}'`);
    if (typeof m.content !== 'string') throw new ArgumentError(`chat: message content must be a string`);
  }
  const cap = (r: string) => r[0]!.toUpperCase() + r.slice(1);
  if (template === 'bitnet') {
    const eot = tok.tokenToId('<|eot_id|>');
    const bos = tok.idToToken(tok.bosId) ?? '<|begin_of_text|>';
    const body = messages.map((m) => `${cap(m.role)}: ${m.content}<|eot_id|>`).join('');
    return { prompt: `${bos}${body}Assistant: `, addBos: false, stop: eot === undefined ? ['<|eot_id|>'] : [], stopIds: eot === undefined ? [] : [eot] };
  }
  if (template === 'plain') {
    const body = messages.map((m) => `${cap(m.role)}: ${m.content}\n\n`).join('');
    return { prompt: `${body}Assistant:`, addBos: true, stop: ['\nUser:', '\n\nUser:'], stopIds: [] };
  }
  throw new ArgumentError(`unknown chat template '${String(template)}' (bitnet, plain)`);
}

/** The template a tokenizer suggests: 'bitnet' when it has <|eot_id|>, else 'plain'. */
export function defaultChatTemplate(tok: Tokenizer): ChatTemplateName {
  return tok.tokenToId('<|eot_id|>') !== undefined ? 'bitnet' : 'plain';
}
