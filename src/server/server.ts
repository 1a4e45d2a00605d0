/**
 * An OpenAI-compatible HTTP server over the packed inference engine (node:http, no framework).
 *
 *   GET  /health                 liveness + slot/queue state (no auth)
 *   GET  /metrics                JSON counters: requests, statuses, tokens, tokens/s, queue depth
 *   GET  /v1/models[/ID]         the one model served
 *   POST /v1/completions         text completion  (stream: true → server-sent events)
 *   POST /v1/chat/completions    chat completion  (stream: true → server-sent events)
 *
 * Concurrency: continuous batching (src/server/batcher.ts). `slots` sequences of one InferenceBatch
 * (a KV cache each) share the model's weights and the one backend; every tick is one batch step
 * that advances all generating requests by a token (each packed matrix streamed once for all of
 * them) and prefills a chunk of joining prompts, then yields to the event loop (kernel calls never
 * overlap; the backend's worker threads parallelise inside each call). A new request takes the free
 * slot whose cache shares the longest prefix with its prompt and prefills only the rest. Requests
 * beyond the slots wait in a bounded FIFO queue; beyond that they get 429 with Retry-After.
 *
 * Cancellation: a client that disconnects (request or response socket closed before the answer
 * ended) aborts its generation through its AbortSignal; it leaves the batch at the next tick and
 * the slot is released and reused by the next request. Shutdown (close()) stops accepting,
 * answers queued requests 503, lets running generations finish for a grace period, then aborts them.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArgumentError } from '../errors.js';
import { defaultChatTemplate, renderChat, type ChatTemplateName, type GenerateOptions, type GenerateResult } from '../infer/generate.js';
import type { PackedModel } from '../infer/packed_model.js';
import { checkDraftVocab } from '../infer/speculative.js';
import type { KvCacheType } from '../infer/session.js';
import { Rng } from '../tensor/rng.js';
import type { Tokenizer } from '../tokenizer/types.js';
import {
  ApiError,
  apiFinish,
  chatChunk,
  chatResponse,
  completionChunk,
  completionResponse,
  invalid,
  parseChatRequest,
  parseCompletionRequest,
  sse,
  usage,
  usageChunk,
  type ChatRequest,
  type CompletionRequest,
  type Ids,
} from './openai.js';
import { Batcher } from './batcher.js';
import { Overloaded, QueueClosed, SlotPool } from './slots.js';

export interface ServerOptions {
  model: PackedModel;
  tokenizer: Tokenizer;
  /** The id clients send as `model` (and /v1/models lists). */
  modelId: string;
  /** Concurrent generations (one KV cache each, batched together). Default 1. */
  slots?: number;
  /** Requests that may wait for a slot; more get 429. Default 8. */
  maxQueue?: number;
  /** Context per slot (KV cache positions). Default: the model's maxSeqLen. */
  ctx?: number;
  /** KV cache storage per slot: 'f16' (default) or 'f32'. */
  kv?: KvCacheType;
  /** Prompt tokens prefilled per batch step (all joining requests together). Default 64. */
  prefillChunk?: number;
  /** Speculative decoding for requests that give no `speculative` field: prompt lookup, the draft model, or off (default). */
  speculative?: { mode: 'lookup' | 'draft' | 'off'; k?: number; ngram?: number };
  /**
   * A draft model with the served model's tokenizer (checked: same vocabulary, ids and BOS/EOS) and a context of at
   * least `ctx`: requests may draft with it (`speculative: "draft"`); each slot holds a KV cache of it.
   */
  draft?: { model: PackedModel; tokenizer: Tokenizer };
  /** Most draft tokens a request may have verified per step (the batch is sized for it). Default 4. */
  specK?: number;
  /** Bearer token required on /v1/* and /metrics when set. */
  apiKey?: string;
  /** Largest request body in bytes (413 beyond). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Chat template (default: what the tokenizer suggests). */
  chatTemplate?: ChatTemplateName;
  /** Seeds requests that give none (each such request draws the next seed). Default 0. */
  seed?: number;
  /** max_tokens when a completion request gives none (OpenAI's default is 16). Chat requests default to the rest of the context. */
  defaultMaxTokens?: number;
  /** Grace period for running generations on close() (ms). Default 10 s. */
  shutdownGraceMs?: number;
  /** One line per notable event (errors, shutdown). */
  log?: (line: string) => void;
}

export interface ServerMetrics {
  model: string;
  uptime_s: number;
  slots: number;
  slots_busy: number;
  queue_depth: number;
  queue_limit: number;
  requests_total: number;
  /** Requests in flight (queued or generating), not counting the /metrics request asking. */
  requests_active: number;
  responses_by_status: Record<string, number>;
  cancelled_total: number;
  rejected_overload_total: number;
  prompt_tokens_total: number;
  completion_tokens_total: number;
  /** Completion tokens over the last `window_s` seconds, per second (all slots together). */
  tokens_per_second: number;
  window_s: number;
  /** Completion tokens per second of decoding, averaged over all finished requests (per slot). */
  decode_tokens_per_second: number;
  /** Mean time to first token (ms) over finished streaming and non-streaming requests. */
  mean_ttft_ms: number;
  /** Batch steps run (each advances every generating request by one token). */
  batch_steps_total: number;
  /** Requests decoding per batch step, on average (batch occupancy; at most `slots`). */
  batch_occupancy: number;
  /** Prompt tokens prefilled (positions reused from a slot's cache not counted). */
  prefill_tokens_total: number;
  /** Requests whose prompt started with tokens already in their slot's cache, and the positions reused. */
  prefix_cache_hits_total: number;
  prefix_cache_tokens_total: number;
  /** Speculative decoding: draft tokens proposed and accepted, their ratio, and verify steps (one per request and batch step). */
  draft_tokens_proposed_total: number;
  draft_tokens_accepted_total: number;
  draft_acceptance: number;
  draft_verify_steps_total: number;
  rss_bytes: number;
  heap_used_bytes: number;
}

const WINDOW_S = 10;

/** Per-second buckets of generated tokens for a sliding-window rate. */
class RateWindow {
  private readonly buckets = new Float64Array(WINDOW_S + 1);
  private readonly stamps = new Float64Array(WINDOW_S + 1).fill(-1);
  add(n: number, now = Date.now()): void {
    const s = Math.floor(now / 1000), i = s % this.buckets.length;
    if (this.stamps[i] !== s) {
      this.stamps[i] = s;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += n;
  }
  /** Tokens per second over the last WINDOW_S whole seconds (the current partial second excluded). */
  rate(now = Date.now()): number {
    const s = Math.floor(now / 1000);
    let sum = 0;
    for (let i = 0; i < this.buckets.length; i++) if (this.stamps[i]! >= s - WINDOW_S && this.stamps[i]! < s) sum += this.buckets[i]!;
    return sum / WINDOW_S;
  }
}

type AbortCause = 'client' | 'shutdown';


export class BitnetServer {
  readonly http: Server;
  readonly modelId: string;
  private readonly model: PackedModel;
  private readonly tok: Tokenizer;
  private readonly pool: SlotPool<number>;
  private readonly batcher: Batcher;
  private readonly speculative: { mode: 'lookup' | 'draft' | 'off'; k?: number; ngram?: number };
  private readonly apiKey: Buffer | undefined;
  private readonly maxBody: number;
  private readonly template: ChatTemplateName;
  private readonly rng: Rng;
  private readonly defaultMaxTokens: number;
  private readonly graceMs: number;
  private readonly log: (line: string) => void;
  readonly ctx: number;
  private readonly started = Date.now();
  private closing: Promise<void> | undefined;
  private readonly shutdown = new AbortController();
  private readonly active = new Set<Promise<void>>();
  private readonly m = {
    requests: 0,
    statuses: {} as Record<string, number>,
    cancelled: 0,
    overload: 0,
    promptTokens: 0,
    completionTokens: 0,
    decodeTokens: 0,
    decodeMs: 0,
    ttftSum: 0,
    ttftN: 0,
    genMs: 0,
    genN: 0,
  };
  private readonly rate = new RateWindow();
  private seq = 0;

  constructor(opts: ServerOptions) {
    const slots = opts.slots ?? 1;
    if (!Number.isInteger(slots) || slots < 1) throw new ArgumentError(`slots must be a positive integer, got ${slots}`);
    const maxQueue = opts.maxQueue ?? 8;
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new ArgumentError(`maxQueue must be a non-negative integer, got ${maxQueue}`);
    this.maxBody = opts.maxBodyBytes ?? 1 << 20;
    if (!Number.isInteger(this.maxBody) || this.maxBody < 1) throw new ArgumentError(`maxBodyBytes must be a positive integer, got ${opts.maxBodyBytes}`);
    if (opts.apiKey !== undefined && opts.apiKey.length === 0) throw new ArgumentError('apiKey must not be empty (leave it out to serve without auth)');
    this.model = opts.model;
    this.tok = opts.tokenizer;
    this.modelId = opts.modelId;
    this.ctx = opts.ctx ?? opts.model.config.maxSeqLen;
    // Every slot's KV cache and the batch's activations, allocated now: the arena never grows while serving.
    const specK = opts.specK ?? Math.max(4, opts.speculative?.k ?? 0);
    this.speculative = opts.speculative ?? { mode: 'off' };
    if (!['off', 'lookup', 'draft'].includes(this.speculative.mode)) throw new ArgumentError(`speculative mode must be 'lookup', 'draft' or 'off', got ${String(this.speculative.mode)}`);
    if (this.speculative.mode === 'draft' && opts.draft === undefined) throw new ArgumentError("speculative mode 'draft' needs a draft model (ServerOptions.draft)");
    if (opts.draft !== undefined) {
      checkDraftVocab(opts.tokenizer, opts.model.config.vocabSize, opts.draft.tokenizer, opts.draft.model.config.vocabSize);
      if (opts.draft.model.config.maxSeqLen < this.ctx) throw new ArgumentError(`draft model: its context (maxSeqLen ${opts.draft.model.config.maxSeqLen}) is shorter than the server's ${this.ctx}`);
    }
    this.batcher = new Batcher(opts.model, opts.tokenizer, { slots, ctx: this.ctx, kv: opts.kv ?? 'f16', specK, ...(opts.prefillChunk !== undefined ? { chunk: opts.prefillChunk } : {}), ...(opts.draft !== undefined ? { draft: opts.draft.model } : {}) });
    this.pool = new SlotPool(Array.from({ length: slots }, (_, i) => i), maxQueue);
    this.apiKey = opts.apiKey === undefined ? undefined : Buffer.from(opts.apiKey);
    this.template = opts.chatTemplate ?? defaultChatTemplate(opts.tokenizer);
    this.rng = new Rng(opts.seed ?? 0);
    this.defaultMaxTokens = opts.defaultMaxTokens ?? 16;
    this.graceMs = opts.shutdownGraceMs ?? 10_000;
    this.log = opts.log ?? (() => {});
    this.http = createServer({ noDelay: true, keepAlive: true }, (req, res) => {
      const p = this.handle(req, res).catch((e: unknown) => this.fail(res, e));
      this.active.add(p);
      void p.finally(() => this.active.delete(p));
    });
    // The request (headers + body) must arrive in reasonable time (slow-body clients hold no slot but a
    // socket); these timeouts cover receiving only, so long streamed answers are unaffected (checked).
    this.http.headersTimeout = 30_000;
    this.http.requestTimeout = 60_000;
  }

  /** Listen (default 127.0.0.1, port 0 = any free port); resolves with the bound address. */
  listen(port = 0, host = '127.0.0.1'): Promise<{ host: string; port: number; url: string }> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        const a = this.http.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        resolve({ host: a.address, port: a.port, url: `http://${h}:${a.port}` });
      });
    });
  }

  /**
   * Graceful shutdown: stop accepting connections, answer queued requests 503, let running
   * generations finish for `graceMs`, then abort them (streams end with an error event), close
   * every connection. Idempotent.
   */
  close(graceMs = this.graceMs): Promise<void> {
    this.closing ??= (async () => {
      this.log('shutting down: no new requests');
      const closed = new Promise<void>((r) => this.http.close(() => r()));
      this.http.closeIdleConnections();
      this.pool.close();
      const all = () => Promise.allSettled([...this.active]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([all().then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs)))]);
      clearTimeout(timer);
      if (timedOut) {
        this.log(`grace period of ${graceMs} ms over: cancelling ${this.active.size} running requests`);
        this.shutdown.abort();
        await all();
      }
      this.http.closeAllConnections();
      await closed;
    })();
    return this.closing;
  }

  /** Cancel every running generation now (e.g. on a second SIGTERM during close()). */
  abortRunning(): void {
    this.shutdown.abort();
  }

  get isClosing(): boolean {
    return this.closing !== undefined;
  }

  metrics(): ServerMetrics {
    const m = this.m, b = this.batcher.stats;
    return {
      model: this.modelId,
      uptime_s: (Date.now() - this.started) / 1000,
      slots: this.pool.slots.length,
      slots_busy: this.pool.busy,
      queue_depth: this.pool.queued,
      queue_limit: this.pool.maxQueue,
      requests_total: m.requests,
      requests_active: this.active.size,
      responses_by_status: { ...m.statuses },
      cancelled_total: m.cancelled,
      rejected_overload_total: m.overload,
      prompt_tokens_total: m.promptTokens,
      completion_tokens_total: m.completionTokens,
      tokens_per_second: this.rate.rate(),
      window_s: WINDOW_S,
      decode_tokens_per_second: m.decodeMs > 0 ? (m.decodeTokens * 1000) / m.decodeMs : 0,
      mean_ttft_ms: m.ttftN > 0 ? m.ttftSum / m.ttftN : 0,
      batch_steps_total: b.steps,
      batch_occupancy: b.steps > 0 ? b.decodeRows / b.steps : 0,
      prefill_tokens_total: b.prefillTokens,
      prefix_cache_hits_total: b.prefixHits,
      prefix_cache_tokens_total: b.prefixTokens,
      draft_tokens_proposed_total: b.draftProposed,
      draft_tokens_accepted_total: b.draftAccepted,
      draft_acceptance: b.draftProposed > 0 ? b.draftAccepted / b.draftProposed : 0,
      draft_verify_steps_total: b.draftSteps,
      rss_bytes: process.memoryUsage().rss,
      heap_used_bytes: process.memoryUsage().heapUsed,
    };
  }

  // ---- request handling ---------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.m.requests++;
    res.on('finish', () => {
      const k = String(res.statusCode);
      this.m.statuses[k] = (this.m.statuses[k] ?? 0) + 1;
    });
    const url = requestUrl(req);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (this.closing) throw new ApiError(503, 'server is shutting down', 'server_error', null, 'shutting_down', { Connection: 'close' });
    if (path === '/health') {
      allow(method, ['GET', 'HEAD']);
      return json(res, 200, { status: 'ok', model: this.modelId, slots: this.pool.slots.length, slots_busy: this.pool.busy, queue_depth: this.pool.queued });
    }
    const routes: Record<string, string> = { '/metrics': 'GET', '/v1/models': 'GET', '/v1/completions': 'POST', '/v1/chat/completions': 'POST' };
    const modelRoute = path.startsWith('/v1/models/');
    if (!(path in routes) && !modelRoute) throw new ApiError(404, `Unknown route: ${method} ${url.pathname}`, 'invalid_request_error', null, 'unknown_url');
    this.authorize(req);
    if (path === '/metrics') {
      allow(method, ['GET']);
      return json(res, 200, this.metrics());
    }
    if (path === '/v1/models' || modelRoute) {
      allow(method, ['GET']);
      const card = { id: this.modelId, object: 'model', created: Math.floor(this.started / 1000), owned_by: 'bitnet-ts' };
      if (!modelRoute) return json(res, 200, { object: 'list', data: [card] });
      const id = decodePath(path.slice('/v1/models/'.length));
      if (id !== this.modelId) throw this.noModel(id);
      return json(res, 200, card);
    }
    allow(method, ['POST']);
    const body = await this.readJson(req);
    const r = path === '/v1/completions' ? parseCompletionRequest(body, this.model.config.vocabSize) : parseChatRequest(body);
    if (r.model !== this.modelId) throw this.noModel(r.model);
    await this.complete(req, res, r);
  }

  private noModel(id: string): ApiError {
    return new ApiError(404, `The model '${id}' does not exist (this server serves '${this.modelId}')`, 'invalid_request_error', 'model', 'model_not_found');
  }

  private authorize(req: IncomingMessage): void {
    if (this.apiKey === undefined) return;
    const h = req.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(h);
    const given = m ? Buffer.from(m[1]!.trim()) : Buffer.alloc(0);
    const ok = given.length === this.apiKey.length && timingSafeEqual(given, this.apiKey);
    if (!ok) throw new ApiError(401, m ? 'Incorrect API key provided.' : "You didn't provide an API key. Send it as 'Authorization: Bearer KEY'.", 'invalid_request_error', null, 'invalid_api_key', { 'WWW-Authenticate': 'Bearer' });
  }

  private async readJson(req: IncomingMessage): Promise<unknown> {
    const tooLarge = () => new ApiError(413, `Request body too large: the limit is ${this.maxBody} bytes`, 'invalid_request_error', null, 'request_too_large', { Connection: 'close' });
    const len = Number(req.headers['content-length']);
    if (Number.isFinite(len) && len > this.maxBody) throw tooLarge();
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > this.maxBody) throw tooLarge();
      chunks.push(c);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      throw invalid('We could not parse the JSON body of your request. (The request body must be JSON.)', null, 'invalid_json');
    }
  }

  /** Prompt token ids as generateStream would build them, and the sampling options. */
  private prepare(r: CompletionRequest | ChatRequest): { ids: number[]; opts: GenerateOptions; echo: string } {
    const tok = this.tok;
    let ids: number[];
    let stop = r.stop;
    let stopIds: number[] = [];
    let echo = '';
    if (r.kind === 'completion') {
      ids = typeof r.prompt === 'string' ? [tok.bosId, ...tok.encode(r.prompt)] : r.prompt;
      if (r.echo) echo = typeof r.prompt === 'string' ? r.prompt : tok.decode(r.prompt);
    } else {
      const chat = renderChat(r.messages, this.template, tok);
      ids = [...(chat.addBos ? [tok.bosId] : []), ...tok.encode(chat.prompt)];
      stop = [...stop, ...chat.stop];
      stopIds = chat.stopIds;
    }
    if (ids.length >= this.ctx) throw invalid(`This model's maximum context length is ${this.ctx} tokens. However, your prompt is ${ids.length} tokens, leaving no room for a completion.`, r.kind === 'chat' ? 'messages' : 'prompt', 'context_length_exceeded');
    const room = this.ctx - ids.length;
    const maxTokens = Math.min(r.maxTokens ?? (r.kind === 'chat' ? room : this.defaultMaxTokens), room);
    const seed = r.seed ?? this.rng.nextU32();
    // OpenAI sampling: temperature and nucleus only (no top-k / min-p / repetition penalty).
    const spec = r.speculative ?? this.speculative;
    if (spec.mode !== 'off' && this.batcher.specK === 0) throw invalid(`speculative decoding is off on this server (specK 0)`, 'speculative', 'unsupported_value');
    if (spec.mode === 'draft' && !this.batcher.hasDraftModel) throw invalid(`speculative mode 'draft' needs a server started with a draft model (bitnet serve --draft MODEL)`, 'speculative', 'unsupported_value');
    if (spec.k !== undefined && spec.k > this.batcher.specK) throw invalid(`'speculative.k' must be ≤ ${this.batcher.specK} on this server, got ${spec.k}`, 'speculative', 'invalid_value');
    const opts: GenerateOptions = { maxTokens, temperature: r.temperature, topP: r.topP, topK: 0, minP: 0, repetitionPenalty: 1, presencePenalty: r.presencePenalty, seed, stop, stopIds, ...(spec.mode !== 'off' ? { speculative: { ...spec, k: Math.min(spec.k ?? 4, this.batcher.specK) } } : {}) };
    return { ids, opts, echo };
  }

  private async complete(req: IncomingMessage, res: ServerResponse, r: CompletionRequest | ChatRequest): Promise<void> {
    const { ids, opts, echo } = this.prepare(r);
    const ac = new AbortController();
    let cause: AbortCause | undefined;
    const abort = (c: AbortCause) => {
      if (cause === undefined) {
        cause = c;
        ac.abort(new Error(c === 'client' ? 'client disconnected' : 'server shutting down'));
      }
    };
    // The client went away before the answer ended (works for queued, streaming and buffered requests).
    const onClose = () => {
      if (!res.writableFinished) abort('client');
    };
    res.on('close', onClose);
    const onShutdown = () => abort('shutdown');
    this.shutdown.signal.addEventListener('abort', onShutdown, { once: true });
    let slot: number | undefined;
    try {
      try {
        slot = await this.pool.acquire(ac.signal, (free) => this.batcher.choose(free, ids));
      } catch (e) {
        if (e instanceof Overloaded) {
          this.m.overload++;
          // Expected wait: the queue ahead, served `slots` at a time, at the mean generation time so far.
          const meanMs = this.m.genN > 0 ? this.m.genMs / this.m.genN : 1000;
          const retry = Math.max(1, Math.ceil(((this.pool.queued / this.pool.slots.length + 1) * meanMs) / 1000));
          throw new ApiError(429, `The server is overloaded (${this.pool.slots.length} slots busy, ${this.pool.queued} requests queued). Retry after ${retry} s.`, 'rate_limit_exceeded', null, 'overloaded', { 'Retry-After': String(retry) });
        }
        if (e instanceof QueueClosed) throw new ApiError(503, 'server is shutting down', 'server_error', null, 'shutting_down', { Connection: 'close' });
        if (cause === 'client') {
          this.m.cancelled++;
          return;
        }
        throw e;
      }
      await this.generate(res, r, slot, ids, { ...opts, signal: ac.signal }, echo, () => cause);
    } finally {
      if (slot !== undefined) this.pool.release(slot);
      res.off('close', onClose);
      this.shutdown.signal.removeEventListener('abort', onShutdown);
    }
  }

  private async generate(res: ServerResponse, r: CompletionRequest | ChatRequest, slot: number, ids: number[], opts: GenerateOptions, echo: string, cause: () => AbortCause | undefined): Promise<void> {
    const ids0: Ids = { id: `${r.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${Date.now().toString(36)}${(this.seq++).toString(36).padStart(4, '0')}`, created: Math.floor(Date.now() / 1000), model: this.modelId };
    const t0 = performance.now();
    let first = true;
    const it = this.batcher.generate(slot, ids, opts);
    const chunk = (text: string) => (r.kind === 'chat' ? chatChunk(ids0, { content: text }, null) : completionChunk(ids0, text, null));
    if (r.stream) {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
      res.flushHeaders();
      if (r.kind === 'chat') await write(res, sse(chatChunk(ids0, { role: 'assistant', content: '' }, null)));
      else if (echo) await write(res, sse(completionChunk(ids0, echo, null)));
    }
    let text = '';
    let result: GenerateResult;
    for (;;) {
      const step = await it.next();
      if (step.done) {
        result = step.value;
        break;
      }
      this.rate.add(1);
      if (first) {
        first = false;
        this.m.ttftSum += performance.now() - t0;
        this.m.ttftN++;
      }
      if (r.stream && step.value.text && !res.destroyed) await write(res, sse(chunk(step.value.text)));
      else text += step.value.text;
    }
    // Tokens that produced no chunk (EOS/stop-id) are not counted; the result's tokens are the truth.
    this.m.genMs += performance.now() - t0;
    this.m.genN++;
    this.m.promptTokens += result.promptTokens;
    this.m.completionTokens += result.tokens.length;
    if (result.tokens.length > 1) {
      this.m.decodeTokens += result.tokens.length - 1;
      this.m.decodeMs += result.decodeMs;
    }
    const u = usage(result.promptTokens, result.tokens.length);
    if (result.finishReason === 'abort') {
      if (cause() === 'client' || res.destroyed) {
        this.m.cancelled++;
        return;
      }
      // Shutdown cancelled a running request.
      this.m.cancelled++;
      const e = new ApiError(503, 'The server is shutting down; generation was cancelled.', 'server_error', null, 'shutting_down');
      if (r.stream) {
        await write(res, sse(e.body()));
        res.end();
      } else send(res, e);
      return;
    }
    const finish = apiFinish(result.finishReason);
    if (r.stream) {
      await write(res, sse(r.kind === 'chat' ? chatChunk(ids0, {}, finish) : completionChunk(ids0, '', finish)));
      if (r.includeUsage) await write(res, sse(usageChunk(ids0, r.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', u)));
      await write(res, sse('[DONE]'));
      res.end();
    } else {
      json(res, 200, r.kind === 'chat' ? chatResponse(ids0, result.text, finish, u) : completionResponse(ids0, echo + result.text, finish, u));
    }
  }

  /** Anything thrown by a handler: ApiError as is, engine argument errors as 400, the rest 500. */
  private fail(res: ServerResponse, e: unknown): void {
    let err: ApiError;
    if (e instanceof ApiError) err = e;
    else if (e instanceof ArgumentError) err = invalid(e.message);
    else {
      this.log(`internal error: ${(e as Error)?.stack ?? String(e)}`);
      err = new ApiError(500, 'The server had an error while processing your request.', 'server_error', null, 'internal_error');
    }
    if (res.headersSent) {
      // Mid-stream: report in the stream and end it.
      if (!res.destroyed) res.end(sse(err.body()));
      return;
    }
    send(res, err);
    // After a 413 (or any error before the body was read) the rest of the body is not read: drop the connection.
    if (err.headers.Connection === 'close') res.once('finish', () => res.req.destroy());
  }
}

/** The request target as a URL; a malformed one (`GET http://[::1 HTTP/1.1`) is the client's error: 400. */
function requestUrl(req: IncomingMessage): URL {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    throw invalid(`Malformed request URL: ${JSON.stringify((req.url ?? '').slice(0, 200))}`, null, 'invalid_url');
  }
}

/** A percent-decoded path segment; bad %-encoding (`%E0%A4%A`) is the client's error: 400. */
function decodePath(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw invalid(`Malformed percent-encoding in the request path: ${JSON.stringify(s.slice(0, 200))}`, null, 'invalid_url');
  }
}

function allow(method: string, ok: string[]): void {
  if (!ok.includes(method)) throw new ApiError(405, `Method ${method} not allowed here (allowed: ${ok.join(', ')})`, 'invalid_request_error', null, 'method_not_allowed', { Allow: ok.join(', ') });
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(s), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : s);
}

function send(res: ServerResponse, e: ApiError): void {
  json(res, e.status, e.body(), e.headers);
}

/** Write with backpressure: wait for 'drain' when the socket buffer is full (or give up when it closes). */
function write(res: ServerResponse, s: string): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  if (res.write(s)) return Promise.resolve();
  return new Promise((r) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      r();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
