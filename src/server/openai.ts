/**
 * The OpenAI wire format, checked and built without any I/O: request validation for
 * /v1/completions and /v1/chat/completions (→ typed requests or an ApiError carrying the HTTP
 * status and the `{"error":{message,type,param,code}}` body), and the response / stream-chunk
 * objects. Field names, defaults and error shapes follow the public OpenAI API reference
 * (Completions and Chat Completions); what this engine cannot do (n > 1, logprobs, tools, …) is
 * rejected with a 400 naming the parameter rather than silently ignored.
 */
import type { ChatMessage, FinishReason } from '../infer/generate.js';

/** An error answered as OpenAI-style JSON with an HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Extra response headers (e.g. Retry-After, WWW-Authenticate). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const invalid = (message: string, param: string | null = null, code: string | null = null): ApiError => new ApiError(400, message, 'invalid_request_error', param, code);

/** What both endpoints share once validated. */
export interface SamplingRequest {
  model: string;
  /** undefined = endpoint default (completions 16, chat: up to the context end). */
  maxTokens: number | undefined;
  temperature: number;
  topP: number;
  stop: string[];
  /** undefined = drawn by the server. */
  seed: number | undefined;
  presencePenalty: number;
  stream: boolean;
  includeUsage: boolean;
  /**
   * Speculative decoding (an extension of this server): "lookup" | "off" | {"mode", "k", "ngram"};
   * undefined = the server's default.
   */
  speculative: { mode: 'lookup' | 'draft' | 'off'; k?: number; ngram?: number } | undefined;
}

export interface CompletionRequest extends SamplingRequest {
  kind: 'completion';
  /** Text, or token ids used as is. */
  prompt: string | number[];
  echo: boolean;
}

export interface ChatRequest extends SamplingRequest {
  kind: 'chat';
  messages: ChatMessage[];
}

type Json = Record<string, unknown>;

const COMMON = ['speculative', 'model', 'max_tokens', 'temperature', 'top_p', 'stop', 'seed', 'stream', 'stream_options', 'n', 'presence_penalty', 'frequency_penalty', 'logprobs', 'logit_bias', 'user', 'metadata', 'store', 'service_tier'];
const COMPLETION_KEYS = new Set([...COMMON, 'prompt', 'echo', 'suffix', 'best_of']);
const CHAT_KEYS = new Set([...COMMON, 'messages', 'max_completion_tokens', 'top_logprobs', 'tools', 'tool_choice', 'parallel_tool_calls', 'response_format', 'functions', 'function_call', 'modalities']);

function isObj(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function num(b: Json, k: string, lo: number, hi: number, dflt: number): number {
  const v = b[k];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`'${k}' must be a number, got ${JSON.stringify(v)}`, k, 'invalid_type');
  if (v < lo || v > hi) throw invalid(`'${k}' must be in [${lo}, ${hi}], got ${v}`, k, 'invalid_value');
  return v;
}

function int(b: Json, k: string, lo: number): number | undefined {
  const v = b[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw invalid(`'${k}' must be an integer, got ${JSON.stringify(v)}`, k, 'invalid_type');
  if (v < lo) throw invalid(`'${k}' must be ≥ ${lo}, got ${v}`, k, 'invalid_value');
  return v;
}

function bool(b: Json, k: string): boolean {
  const v = b[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`'${k}' must be a boolean, got ${JSON.stringify(v)}`, k, 'invalid_type');
  return v;
}

/** A parameter this engine does not implement: accepted only at its neutral value. */
function neutral(b: Json, k: string, ok: (v: unknown) => boolean, why: string): void {
  const v = b[k];
  if (v === undefined || v === null) return;
  if (!ok(v)) throw invalid(`'${k}' is not supported by this server (${why}), got ${JSON.stringify(v)}`, k, 'unsupported_parameter');
}

function common(b: Json, allowed: Set<string>): SamplingRequest {
  for (const k of Object.keys(b)) if (!allowed.has(k)) throw invalid(`Unrecognized request argument supplied: ${k}`, k, 'unknown_parameter');
  if (typeof b.model !== 'string' || b.model.length === 0) throw invalid(`'model' is required and must be a non-empty string`, 'model', b.model === undefined ? 'missing_required_parameter' : 'invalid_type');
  const temperature = num(b, 'temperature', 0, 2, 1);
  const topP = num(b, 'top_p', 0, 1, 1);
  if (topP === 0) throw invalid(`'top_p' must be > 0`, 'top_p', 'invalid_value');
  const presencePenalty = num(b, 'presence_penalty', -2, 2, 0);
  num(b, 'frequency_penalty', -2, 2, 0);
  neutral(b, 'frequency_penalty', (v) => v === 0, 'only presence_penalty is implemented');
  neutral(b, 'n', (v) => v === 1, 'one choice per request');
  neutral(b, 'logit_bias', (v) => isObj(v) && Object.keys(v).length === 0, 'no logit bias');
  neutral(b, 'store', (v) => v === false, 'nothing is stored');
  let stop: string[] = [];
  const s = b.stop;
  if (typeof s === 'string') stop = [s];
  else if (Array.isArray(s)) {
    if (s.length > 4) throw invalid(`'stop' takes at most 4 sequences, got ${s.length}`, 'stop', 'invalid_value');
    for (const x of s) if (typeof x !== 'string') throw invalid(`'stop' must be a string or an array of strings`, 'stop', 'invalid_type');
    stop = s as string[];
  } else if (s !== undefined && s !== null) throw invalid(`'stop' must be a string or an array of strings`, 'stop', 'invalid_type');
  const seed = int(b, 'seed', -(2 ** 63));
  const stream = bool(b, 'stream');
  let includeUsage = false;
  const so = b.stream_options;
  if (so !== undefined && so !== null) {
    if (!stream) throw invalid(`'stream_options' is only allowed when 'stream' is true`, 'stream_options', 'invalid_value');
    if (!isObj(so)) throw invalid(`'stream_options' must be an object`, 'stream_options', 'invalid_type');
    includeUsage = bool(so, 'include_usage');
  }
  if (b.user !== undefined && typeof b.user !== 'string') throw invalid(`'user' must be a string`, 'user', 'invalid_type');
  return { model: b.model, maxTokens: int(b, 'max_tokens', 0), temperature, topP, stop, seed, presencePenalty, stream, includeUsage, speculative: speculative(b.speculative) };
}

/** The `speculative` extension: a mode name, or {mode, k, ngram} (k and ngram integers in 1..16); 'draft' needs a server started with a draft model. */
function speculative(v: unknown): SamplingRequest['speculative'] {
  if (v === undefined || v === null) return undefined;
  const modes = ['lookup', 'draft', 'off'];
  const bad = () => invalid(`'speculative' must be "lookup", "draft", "off" or {"mode": "lookup"|"draft"|"off", "k": 1…16, "ngram": 1…16}, got ${JSON.stringify(v)}`, 'speculative', 'invalid_value');
  if (typeof v === 'string') {
    if (!modes.includes(v)) throw bad();
    return { mode: v as 'lookup' | 'draft' | 'off' };
  }
  if (!isObj(v)) throw bad();
  for (const k of Object.keys(v)) if (!['mode', 'k', 'ngram'].includes(k)) throw bad();
  const mode = v.mode ?? 'lookup';
  if (typeof mode !== 'string' || !modes.includes(mode)) throw bad();
  const out: NonNullable<SamplingRequest['speculative']> = { mode: mode as 'lookup' | 'draft' | 'off' };
  for (const k of ['k', 'ngram'] as const) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 16) throw bad();
    out[k] = x;
  }
  return out;
}

/** Validate a /v1/completions body. `vocabSize` bounds token-id prompts. */
export function parseCompletionRequest(body: unknown, vocabSize: number): CompletionRequest {
  if (!isObj(body)) throw invalid('the request body must be a JSON object');
  const c = common(body, COMPLETION_KEYS);
  neutral(body, 'logprobs', (v) => v === 0 || v === false, 'no logprobs');
  neutral(body, 'best_of', (v) => v === 1, 'one candidate per request');
  neutral(body, 'suffix', (v) => v === '', 'no insertion');
  let p = body.prompt;
  if (p === undefined || p === null) throw invalid(`'prompt' is required`, 'prompt', 'missing_required_parameter');
  // A one-element batch is the same as its element.
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === 'string' || Array.isArray(p[0]))) p = p[0];
  let prompt: string | number[];
  if (typeof p === 'string') {
    if (p.length === 0) throw invalid(`'prompt' must not be empty`, 'prompt', 'invalid_value');
    prompt = p;
  } else if (Array.isArray(p) && p.length > 0 && p.every((t) => typeof t === 'number')) {
    for (const t of p as number[]) if (!Number.isInteger(t) || t < 0 || t >= vocabSize) throw invalid(`'prompt' token id ${t} is outside the vocabulary [0, ${vocabSize})`, 'prompt', 'invalid_value');
    prompt = p as number[];
  } else if (Array.isArray(p) && p.length > 1) throw invalid(`'prompt' batches (several prompts) are not supported; send one prompt per request`, 'prompt', 'unsupported_value');
  else throw invalid(`'prompt' must be a non-empty string or an array of token ids`, 'prompt', 'invalid_type');
  return { ...c, kind: 'completion', prompt, echo: bool(body, 'echo') };
}

/** Validate a /v1/chat/completions body. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObj(body)) throw invalid('the request body must be a JSON object');
  const c = common(body, CHAT_KEYS);
  neutral(body, 'logprobs', (v) => v === false, 'no logprobs');
  neutral(body, 'top_logprobs', (v) => v === 0, 'no logprobs');
  for (const k of ['tools', 'functions']) neutral(body, k, (v) => Array.isArray(v) && v.length === 0, 'no tool calls');
  for (const k of ['tool_choice', 'function_call']) neutral(body, k, (v) => v === 'none', 'no tool calls');
  neutral(body, 'parallel_tool_calls', () => true, '');
  neutral(body, 'response_format', (v) => isObj(v) && v.type === 'text', 'plain text only');
  neutral(body, 'modalities', (v) => Array.isArray(v) && v.length === 1 && v[0] === 'text', 'text only');
  const mct = int(body, 'max_completion_tokens', 0);
  if (mct !== undefined && c.maxTokens !== undefined && mct !== c.maxTokens) throw invalid(`give 'max_completion_tokens' or 'max_tokens', not both`, 'max_completion_tokens', 'invalid_value');
  const ms = body.messages;
  if (!Array.isArray(ms) || ms.length === 0) throw invalid(`'messages' must be a non-empty array`, 'messages', ms === undefined ? 'missing_required_parameter' : 'invalid_value');
  const messages: ChatMessage[] = ms.map((m, i) => {
    const param = `messages[${i}]`;
    if (!isObj(m)) throw invalid(`${param} must be an object`, param, 'invalid_type');
    let role = m.role;
    if (role === 'developer') role = 'system'; // the newer name for system instructions
    if (role !== 'system' && role !== 'user' && role !== 'assistant') throw invalid(`${param}.role must be one of system, developer, user, assistant; got ${JSON.stringify(m.role)}`, `${param}.role`, 'invalid_value');
    return { role, content: contentText(m.content, `${param}.content`) };
  });
  return { ...c, maxTokens: mct ?? c.maxTokens, kind: 'chat', messages };
}

/** Message content: a string, or an array of text parts (other part types are rejected). */
function contentText(x: unknown, param: string): string {
  if (typeof x === 'string') return x;
  if (Array.isArray(x)) {
    return x
      .map((p, j) => {
        if (!isObj(p) || p.type !== 'text' || typeof p.text !== 'string') throw invalid(`${param}[${j}] must be a text part {"type":"text","text":…} (this model reads text only)`, `${param}[${j}]`, 'invalid_value');
        return p.text;
      })
      .join('');
  }
  throw invalid(`${param} must be a string or an array of text parts`, param, 'invalid_type');
}

// ---- responses ------------------------------------------------------------------------------

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export const usage = (prompt: number, completion: number): Usage => ({ prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion });

/** OpenAI has no 'abort' finish reason; an aborted stream is never answered as finished. */
export type ApiFinish = 'stop' | 'length';
export const apiFinish = (f: FinishReason): ApiFinish => (f === 'length' ? 'length' : 'stop');

export interface Ids {
  id: string;
  created: number;
  model: string;
}

export function completionResponse(ids: Ids, text: string, finish: ApiFinish, u: Usage) {
  return { ...ids, object: 'text_completion', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }], usage: u };
}

export function completionChunk(ids: Ids, text: string, finish: ApiFinish | null) {
  return { ...ids, object: 'text_completion', choices: [{ text, index: 0, logprobs: null, finish_reason: finish }] };
}

export function chatResponse(ids: Ids, content: string, finish: ApiFinish, u: Usage) {
  return { ...ids, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finish }], usage: u };
}

export function chatChunk(ids: Ids, delta: { role?: 'assistant'; content?: string }, finish: ApiFinish | null) {
  return { ...ids, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

/** The last chunk of a stream with stream_options.include_usage: no choices, the usage. */
export function usageChunk(ids: Ids, object: 'text_completion' | 'chat.completion.chunk', u: Usage) {
  return { ...ids, object, choices: [], usage: u };
}

/** One server-sent event as OpenAI sends it. */
export const sse = (data: unknown): string => `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
