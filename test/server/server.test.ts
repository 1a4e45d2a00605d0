/**
 * The OpenAI-compatible server on a real loopback socket (127.0.0.1, port 0): routes, completions
 * and chat (buffered and SSE-streamed) equal to the engine's own output, OpenAI's stream format
 * and usage counts, validation errors, auth, body limit, overload → 429 + Retry-After, client
 * disconnect → cancellation (slot freed, no work continues), graceful shutdown, an official-client
 * request shape.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { generate, renderChat } from '../../src/infer/generate.js';
import { InferenceSession } from '../../src/infer/session.js';
import { BitnetServer, type ServerOptions } from '../../src/server/server.js';
import { tinyModel, tok } from './fixture.js';

const model = tinyModel(1024);
const ID = 'tiny-b158';

async function start(o: Partial<ServerOptions> = {}): Promise<{ server: BitnetServer; url: string }> {
  const server = new BitnetServer({ model, tokenizer: tok, modelId: ID, ...o });
  const { url } = await server.listen(0);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  return { server, url };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), ...(signal ? { signal } : {}) });

/** Parse a whole SSE body into the `data:` payloads. */
function events(text: string): string[] {
  assert.ok(text.endsWith('\n\n'), 'events end with a blank line');
  return text.split('\n\n').filter((e) => e.length > 0).map((e) => {
    assert.ok(e.startsWith('data: ') && !e.includes('\n'), `one data line per event: ${JSON.stringify(e)}`);
    return e.slice(6);
  });
}

async function errorOf(r: Response, status: number): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  assert.equal(r.status, status);
  assert.match(r.headers.get('content-type') ?? '', /application\/json/);
  const b = (await r.json()) as { error: { message: string; type: string; param: string | null; code: string | null } };
  assert.deepEqual(Object.keys(b.error).sort(), ['code', 'message', 'param', 'type']);
  assert.ok(b.error.message.length > 0);
  return b.error;
}

const metrics = async (url: string) => (await (await fetch(`${url}/metrics`)).json()) as ReturnType<BitnetServer['metrics']>;

async function until(f: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!(await f())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** What the engine itself generates (fresh session), for comparison. */
async function engine(prompt: string | number[], opts: Parameters<typeof generate>[3]) {
  return generate(new InferenceSession(model, { ctx: 1024 }), tok, prompt, opts);
}

describe('server: routes and generation', () => {
  let server: BitnetServer, url: string;
  before(async () => ({ server, url } = await start({ slots: 2 })));
  after(() => server.close(0));

  test('health, models, unknown route / model / method', async () => {
    const h = await fetch(`${url}/health`);
    assert.equal(h.status, 200);
    assert.deepEqual(await h.json(), { status: 'ok', model: ID, slots: 2, slots_busy: 0, queue_depth: 0 });
    const ms = (await (await fetch(`${url}/v1/models`)).json()) as { object: string; data: Array<{ id: string; object: string }> };
    assert.equal(ms.object, 'list');
    assert.deepEqual(ms.data.map((d) => [d.id, d.object]), [[ID, 'model']]);
    assert.equal((await fetch(`${url}/v1/models/${ID}`)).status, 200);
    assert.equal((await errorOf(await fetch(`${url}/v1/models/gpt-4`), 404)).code, 'model_not_found');
    assert.equal((await errorOf(await fetch(`${url}/v1/nothing`), 404)).code, 'unknown_url');
    assert.equal((await errorOf(await post(`${url}/v1/completions`, { model: 'gpt-4', prompt: 'x' }), 404)).code, 'model_not_found');
    const m = await fetch(`${url}/v1/completions`);
    assert.equal((await errorOf(m, 405)).code, 'method_not_allowed');
  });

  test('completion (buffered): the engine greedy text, usage counts, OpenAI shape', async () => {
    const want = await engine('The State of', { maxTokens: 24, temperature: 0 });
    const r = await post(`${url}/v1/completions`, { model: ID, prompt: 'The State of', max_tokens: 24, temperature: 0 });
    assert.equal(r.status, 200);
    const b = (await r.json()) as any;
    assert.equal(b.object, 'text_completion');
    assert.match(b.id, /^cmpl-/);
    assert.equal(b.model, ID);
    assert.ok(Number.isInteger(b.created));
    assert.deepEqual(b.choices, [{ text: want.text, index: 0, logprobs: null, finish_reason: 'length' }]);
    assert.deepEqual(b.usage, { prompt_tokens: want.promptTokens, completion_tokens: 24, total_tokens: want.promptTokens + 24 });
    assert.equal(want.promptTokens, 1 + 'The State of'.length, 'BOS + one byte token each');
    // Default max_tokens is OpenAI's 16; token-id prompts are accepted; echo prepends the prompt.
    const d = (await (await post(`${url}/v1/completions`, { model: ID, prompt: 'The State of', temperature: 0, echo: true })).json()) as any;
    assert.equal(d.usage.completion_tokens, 16);
    assert.equal(d.choices[0].text, 'The State of' + want.text.slice(0, d.choices[0].text.length - 12));
    const ids = [tok.bosId, ...tok.encode('The State of')];
    const t = (await (await post(`${url}/v1/completions`, { model: ID, prompt: ids, max_tokens: 24, temperature: 0 })).json()) as any;
    assert.equal(t.choices[0].text, want.text);
  });

  test('completion (stream): SSE chunks concatenate to the buffered text, finish chunk, usage chunk, [DONE]', async () => {
    const body = { model: ID, prompt: 'The State of', max_tokens: 30, temperature: 0, stop: ['o o'] };
    const full = (await (await post(`${url}/v1/completions`, body)).json()) as any;
    const r = await post(`${url}/v1/completions`, { ...body, stream: true, stream_options: { include_usage: true } });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/event-stream/);
    const ev = events(await r.text());
    assert.equal(ev.at(-1), '[DONE]');
    const chunks = ev.slice(0, -1).map((e) => JSON.parse(e));
    const id = chunks[0].id;
    for (const c of chunks) {
      assert.equal(c.object, 'text_completion');
      assert.equal(c.id, id, 'one id per stream');
    }
    const u = chunks.at(-1);
    assert.deepEqual(u.choices, []);
    assert.deepEqual(u.usage, full.usage);
    const fin = chunks.at(-2);
    assert.equal(fin.choices[0].finish_reason, full.choices[0].finish_reason);
    const text = chunks.slice(0, -1).map((c) => c.choices[0].text).join('');
    assert.equal(text, full.choices[0].text);
    for (const c of chunks.slice(0, -2)) assert.equal(c.choices[0].finish_reason, null);
    assert.ok(chunks.length > 4, 'streamed in pieces');
  });

  test('chat (buffered + stream): the rendered chat prompt through the engine; role delta first', async () => {
    const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Hello there' }];
    const chat = renderChat(messages, 'bitnet', tok);
    const want = await engine(chat.prompt, { maxTokens: 20, temperature: 0, addBos: chat.addBos, stop: chat.stop, stopIds: chat.stopIds });
    const b = (await (await post(`${url}/v1/chat/completions`, { model: ID, messages, max_tokens: 20, temperature: 0 })).json()) as any;
    assert.equal(b.object, 'chat.completion');
    assert.match(b.id, /^chatcmpl-/);
    assert.deepEqual(b.choices[0].message, { role: 'assistant', content: want.text, refusal: null });
    assert.equal(b.choices[0].finish_reason, 'length');
    assert.deepEqual(b.usage, { prompt_tokens: want.promptTokens, completion_tokens: 20, total_tokens: want.promptTokens + 20 });
    const ev = events(await (await post(`${url}/v1/chat/completions`, { model: ID, messages, max_tokens: 20, temperature: 0, stream: true })).text());
    assert.equal(ev.at(-1), '[DONE]');
    const chunks = ev.slice(0, -1).map((e) => JSON.parse(e));
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks.at(-1).choices[0].delta, {});
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'length');
    assert.ok(!('usage' in chunks.at(-1)), 'no usage chunk unless stream_options.include_usage');
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), want.text);
  });

  test('seed: same seed → same sample at temperature 1; the engine with that seed agrees; stop strings end the text', async () => {
    const flat = tinyModel(256, 1);
    const srv = new BitnetServer({ model: flat, tokenizer: tok, modelId: ID });
    const u = (await srv.listen(0)).url;
    try {
      const body = { model: ID, prompt: 'abc', max_tokens: 20, temperature: 1, top_p: 0.9, seed: 1234 };
      const a = (await (await post(`${u}/v1/completions`, body)).json()) as any;
      const b = (await (await post(`${u}/v1/completions`, body)).json()) as any;
      const c = (await (await post(`${u}/v1/completions`, { ...body, seed: 99 })).json()) as any;
      assert.equal(a.choices[0].text, b.choices[0].text);
      assert.notEqual(a.choices[0].text, c.choices[0].text);
      const want = await generate(new InferenceSession(flat), tok, 'abc', { maxTokens: 20, temperature: 1, topP: 0.9, topK: 0, minP: 0, seed: 1234 });
      assert.equal(a.choices[0].text, want.text);
      // A stop string taken from inside the greedy text: the answer is the text before it.
      const g = await generate(new InferenceSession(flat), tok, 'abc', { maxTokens: 20, temperature: 0 });
      assert.ok(g.text.length >= 8, JSON.stringify(g.text));
      const stop = g.text.slice(5, 7);
      const at = g.text.indexOf(stop);
      for (const stream of [false, true]) {
        const r = await post(`${u}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 20, temperature: 0, stop, stream });
        const text = stream ? events(await r.text()).slice(0, -1).map((e) => JSON.parse(e).choices[0].text).join('') : ((await r.json()) as any).choices[0].text;
        assert.equal(text, g.text.slice(0, at), `stream ${stream}`);
      }
    } finally {
      await srv.close(0);
    }
  });

  test('validation errors: OpenAI error JSON with param and code', async () => {
    const C = `${url}/v1/completions`, H = `${url}/v1/chat/completions`;
    const cases: Array<[string, unknown, string | null, string]> = [
      [C, '{"model": ', null, 'invalid_json'],
      [C, [1, 2], null, ''],
      [C, { prompt: 'x' }, 'model', 'missing_required_parameter'],
      [C, { model: ID }, 'prompt', 'missing_required_parameter'],
      [C, { model: ID, prompt: 'x', temperature: 3 }, 'temperature', 'invalid_value'],
      [C, { model: ID, prompt: 'x', temperature: 'hot' }, 'temperature', 'invalid_type'],
      [C, { model: ID, prompt: 'x', max_tokens: -1 }, 'max_tokens', 'invalid_value'],
      [C, { model: ID, prompt: 'x', max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
      [C, { model: ID, prompt: 'x', n: 2 }, 'n', 'unsupported_parameter'],
      [C, { model: ID, prompt: 'x', stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop', 'invalid_value'],
      [C, { model: ID, prompt: 'x', bogus: 1 }, 'bogus', 'unknown_parameter'],
      [C, { model: ID, prompt: [1, 99999] }, 'prompt', 'invalid_value'],
      [C, { model: ID, prompt: 'x'.repeat(1100) }, 'prompt', 'context_length_exceeded'],
      [C, { model: ID, prompt: 'x', stream_options: { include_usage: true } }, 'stream_options', 'invalid_value'],
      [H, { model: ID, messages: [] }, 'messages', 'invalid_value'],
      [H, { model: ID, messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
      [H, { model: ID, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0]', 'invalid_value'],
      [H, { model: ID, messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] }, 'tools', 'unsupported_parameter'],
    ];
    for (const [u, body, param, code] of cases) {
      const e = await errorOf(await post(u, body), 400);
      assert.equal(e.type, 'invalid_request_error', JSON.stringify(body));
      assert.equal(e.param, param, JSON.stringify(body));
      if (code) assert.equal(e.code, code, JSON.stringify(body));
    }
    // The server is still healthy and idle after all that.
    const m = await metrics(url);
    assert.equal(m.slots_busy, 0);
    assert.ok(m.responses_by_status['400']! >= cases.length);
  });

  test('official-client request shape (openai-node headers, stream_options, content parts, developer role)', async () => {
    const r = await post(`${url}/v1/chat/completions`, {
      model: ID,
      messages: [{ role: 'developer', content: 'You are terse.' }, { role: 'user', content: [{ type: 'text', text: 'Say ' }, { type: 'text', text: 'hi' }] }],
      max_completion_tokens: 8, temperature: 0, top_p: 1, n: 1, stream: true, stream_options: { include_usage: true },
      presence_penalty: 0, frequency_penalty: 0, logprobs: false, user: 'u-1', tools: [], parallel_tool_calls: true, response_format: { type: 'text' },
    }, { Accept: 'application/json', 'User-Agent': 'OpenAI/JS 4.77.0', 'X-Stainless-Lang': 'js', 'X-Stainless-Package-Version': '4.77.0', 'X-Stainless-Retry-Count': '0', Authorization: 'Bearer sk-anything' });
    assert.equal(r.status, 200);
    const ev = events(await r.text());
    const last = JSON.parse(ev.at(-2)!);
    assert.equal(last.usage.completion_tokens, 8);
    const want = renderChat([{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hi' }], 'bitnet', tok);
    assert.equal(last.usage.prompt_tokens, tok.encode(want.prompt).length);
  });
});

describe('server: auth and body limit', () => {
  let server: BitnetServer, url: string;
  before(async () => ({ server, url } = await start({ apiKey: 'sk-test-123', maxBodyBytes: 1000 })));
  after(() => server.close(0));

  test('bearer key required on /v1 and /metrics, not on /health', async () => {
    const body = { model: ID, prompt: 'x', max_tokens: 2 };
    const none = await post(`${url}/v1/completions`, body);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await errorOf(none, 401)).code, 'invalid_api_key');
    assert.equal((await errorOf(await post(`${url}/v1/completions`, body, { Authorization: 'Bearer sk-test-124' }), 401)).code, 'invalid_api_key');
    assert.equal((await errorOf(await post(`${url}/v1/completions`, body, { Authorization: 'Bearer sk-test-1234' }), 401)).code, 'invalid_api_key');
    assert.equal((await errorOf(await fetch(`${url}/v1/models`), 401)).code, 'invalid_api_key');
    assert.equal((await errorOf(await fetch(`${url}/metrics`), 401)).code, 'invalid_api_key');
    assert.equal((await post(`${url}/v1/completions`, body, { Authorization: 'Bearer sk-test-123' })).status, 200);
    assert.equal((await fetch(`${url}/health`)).status, 200);
  });

  test('body over the limit → 413 (declared length, and chunked without a length)', async () => {
    const big = { model: ID, prompt: 'x'.repeat(2000) };
    const auth = { Authorization: 'Bearer sk-test-123' };
    assert.equal((await errorOf(await post(`${url}/v1/completions`, big, auth), 413)).code, 'request_too_large');
    // Chunked transfer: no Content-Length, the limit is enforced while reading.
    const status = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${url}/v1/completions`);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { ...auth, 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('x'.repeat(200));
      req.end();
    });
    assert.equal(status, 413);
  });
});

describe('server: overload, disconnect, shutdown', () => {
  const long = { model: ID, prompt: 'Once', max_tokens: 900, temperature: 0, stream: true };

  /** Start a streaming request and resolve once its first event arrived. */
  async function streaming(url: string, ac: AbortController): Promise<{ reader: ReadableStreamDefaultReader<Uint8Array>; rest: Promise<string> }> {
    const r = await post(`${url}/v1/completions`, long, {}, ac.signal);
    assert.equal(r.status, 200);
    const reader = r.body!.getReader();
    const first = await reader.read();
    assert.ok(!first.done);
    const rest = (async () => {
      let s = new TextDecoder().decode(first.value);
      for (;;) {
        const x = await reader.read();
        if (x.done) return s;
        s += new TextDecoder().decode(x.value);
      }
    })();
    return { reader, rest };
  }

  test('client disconnect cancels generation and frees the slot; the slot then gives exact results', async () => {
    const { server, url } = await start({ slots: 1, maxQueue: 0 });
    try {
      const ac = new AbortController();
      const s = await streaming(url, ac);
      ac.abort();
      await s.rest.catch(() => undefined);
      await until(async () => (await metrics(url)).slots_busy === 0, 'the slot to be released');
      const m = await metrics(url);
      assert.equal(m.cancelled_total, 1);
      assert.ok(m.completion_tokens_total < 900, `generation stopped early (${m.completion_tokens_total} tokens)`);
      // No work continues in the background: the token count stays put.
      await new Promise((r) => setTimeout(r, 100));
      assert.equal((await metrics(url)).completion_tokens_total, m.completion_tokens_total);
      // The reused slot (its KV cache) gives exactly what a fresh session gives.
      const want = await engine('The State of', { maxTokens: 24, temperature: 0 });
      const b = (await (await post(`${url}/v1/completions`, { model: ID, prompt: 'The State of', max_tokens: 24, temperature: 0 })).json()) as any;
      assert.equal(b.choices[0].text, want.text);
    } finally {
      await server.close(0);
    }
  });

  test('overload: 1 slot + queue of 1 → the third request gets 429 with Retry-After; the queued one runs after', async () => {
    const { server, url } = await start({ slots: 1, maxQueue: 1 });
    try {
      const ac = new AbortController();
      const a = await streaming(url, ac);
      const queued = post(`${url}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 4, temperature: 0 });
      await until(async () => (await metrics(url)).queue_depth === 1, 'the second request to queue');
      const c = await post(`${url}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 4 });
      const retry = Number(c.headers.get('retry-after'));
      assert.ok(Number.isInteger(retry) && retry >= 1, `Retry-After ${c.headers.get('retry-after')}`);
      const e = await errorOf(c, 429);
      assert.equal(e.type, 'rate_limit_exceeded');
      ac.abort();
      await a.rest.catch(() => undefined);
      const q = await queued;
      assert.equal(q.status, 200);
      assert.equal(((await q.json()) as any).usage.completion_tokens, 4);
      const m = await metrics(url);
      assert.equal(m.rejected_overload_total, 1);
      assert.equal(m.responses_by_status['429'], 1);
      assert.equal(m.queue_depth, 0);
    } finally {
      await server.close(0);
    }
  });

  test('a queued client that disconnects leaves the queue (counted as cancelled); metrics add up', async () => {
    const { server, url } = await start({ slots: 1, maxQueue: 2 });
    try {
      const ac = new AbortController();
      const a = await streaming(url, ac);
      const qac = new AbortController();
      const queued = post(`${url}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 4 }, {}, qac.signal);
      await until(async () => (await metrics(url)).queue_depth === 1, 'the second request to queue');
      qac.abort();
      await assert.rejects(queued);
      await until(async () => (await metrics(url)).queue_depth === 0, 'the queue to empty');
      ac.abort();
      await a.rest.catch(() => undefined);
      await until(async () => (await metrics(url)).slots_busy === 0, 'the slot to be released');
      const r = (await (await post(`${url}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 5, temperature: 0 })).json()) as any;
      const m = await metrics(url);
      assert.equal(m.cancelled_total, 2);
      assert.equal(m.completion_tokens_total >= 5 + 1, true);
      assert.equal(m.prompt_tokens_total, 1 + 'Once'.length + r.usage.prompt_tokens);
      assert.ok(m.decode_tokens_per_second > 0 && Number.isFinite(m.tokens_per_second) && m.mean_ttft_ms > 0);
      assert.equal(m.requests_active, 0, 'nothing else in flight (the /metrics request itself is not counted)');
      assert.ok(m.rss_bytes > 0 && m.heap_used_bytes > 0);
    } finally {
      await server.close(0);
    }
  });

  test('shutdown: queued → 503, running stream cancelled after the grace period (error event), then no connections', async () => {
    const { server, url } = await start({ slots: 1, maxQueue: 2 });
    const ac = new AbortController();
    const a = await streaming(url, ac);
    const queued = post(`${url}/v1/completions`, { model: ID, prompt: 'abc', max_tokens: 4 });
    await until(async () => (await metrics(url)).queue_depth === 1, 'the second request to queue');
    const closed = server.close(50);
    assert.equal((await errorOf(await queued, 503)).code, 'shutting_down');
    const text = await a.rest;
    const ev = events(text);
    const last = JSON.parse(ev.at(-1)!);
    assert.equal(last.error.code, 'shutting_down');
    assert.ok(!ev.includes('[DONE]'));
    await closed;
    await assert.rejects(fetch(`${url}/health`));
  });

  test('shutdown with grace: a running request finishes normally', async () => {
    const { server, url } = await start({ slots: 1 });
    const r = post(`${url}/v1/completions`, { model: ID, prompt: 'Once', max_tokens: 200, temperature: 0 });
    await until(async () => server.metrics().slots_busy === 1, 'the request to start');
    await server.close(30_000);
    const b = (await (await r).json()) as any;
    assert.equal(b.choices[0].finish_reason, 'length');
    assert.equal(b.usage.completion_tokens, 200);
  });
});
