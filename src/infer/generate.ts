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

function sampler(V: number, o: GenerateOptions): Sampler {
  const s: SamplerOptions = { ...DEFAULT_SAMPLER };
  for (const k of Object.keys(DEFAULT_SAMPLER) as Array<keyof SamplerOptions>) if (o[k] !== undefined) s[k] = o[k]!;
  return new Sampler(V, s);
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
 * Generate from `prompt` (text, or token ids used as is). The session is reset first.
 * Iterate for streaming; the generator's return value is the GenerateResult.
 */
export async function* generateStream(session: InferenceSession, tok: Tokenizer, prompt: string | number[], opts: GenerateOptions = {}): AsyncGenerator<GenerateChunk, GenerateResult> {
  const c = session.model.config;
  const maxTokens = opts.maxTokens ?? 128;
  if (!Number.isInteger(maxTokens) || maxTokens < 0) throw new ArgumentError(`maxTokens must be a non-negative integer, got ${maxTokens}`);
  const stops = (opts.stop ?? []).filter((s) => s.length > 0);
  const stopIds = new Set([tok.eosId, ...(opts.stopIds ?? [])]);
  const ids = typeof prompt === 'string' ? [...(opts.addBos === false ? [] : [tok.bosId]), ...tok.encode(prompt)] : [...prompt];
  if (ids.length === 0) throw new ArgumentError('empty prompt: give text or at least one token id');
  if (ids.length >= session.ctx) throw new ArgumentError(`prompt of ${ids.length} tokens does not fit the context of ${session.ctx} tokens (model maxSeqLen ${c.maxSeqLen}); generation stops at the context end otherwise`);
  const smp = sampler(c.vocabSize, opts);
  const yieldEvery = Math.max(1, opts.yieldEvery ?? 1);
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
  const out: number[] = [];
  const history = ids.slice();
  let emitted = 0; // characters of `text` already yielded
  let text = '';
  let finish: FinishReason = 'length';
  const t1 = performance.now();
  for (let i = 0; i < maxTokens; i++) {
    if (opts.signal?.aborted) {
      finish = 'abort';
      break;
    }
    const next = smp.sample(logits, history);
    if (stopIds.has(next)) {
      finish = 'stop';
      break;
    }
    out.push(next);
    history.push(next);
    text = tok.decode(out);
    // Hold back an incomplete UTF-8 sequence (decoded as U+FFFD at the end) and possible stop-string prefixes.
    let safe = text.length;
    while (safe > emitted && text.charCodeAt(safe - 1) === 0xfffd) safe--;
    if (stops.length > 0) {
      const { at, hold } = scanStops(text, stops);
      if (at >= 0) {
        text = text.slice(0, at);
        if (at > emitted) yield { text: text.slice(emitted, at), token: next };
        emitted = at;
        finish = 'stop';
        break;
      }
      safe = Math.min(safe, text.length - hold);
    }
    if (safe > emitted) {
      yield { text: text.slice(emitted, safe), token: next };
      emitted = safe;
    } else yield { text: '', token: next };
    if (i + 1 === maxTokens || session.pos >= session.ctx) {
      finish = 'length';
      break;
    }
    logits = session.decode(next);
    if ((i + 1) % yieldEvery === 0) await yieldToEventLoop();
  }
  // Held-back text that never became a stop string (or a trailing incomplete character) goes out last.
  if (text.length > emitted) yield { text: text.slice(emitted), token: out[out.length - 1] ?? -1 };
  return { text, tokens: out, promptTokens: ids.length, finishReason: finish, prefillMs, decodeMs: performance.now() - t1 };
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
