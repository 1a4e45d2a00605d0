/**
 * The server's continuous batching and prefix cache (src/server/batcher.ts) on a loopback socket:
 *  - concurrent requests (greedy and seeded sampling, stop strings, different lengths, streamed and
 *    buffered) run in one batch (occupancy > 1, fewer steps than tokens) and each answer equals the
 *    engine's own for that request alone;
 *  - a client that disconnects leaves the batch; the others finish with exact answers;
 *  - a follow-up chat turn reuses its slot's cached prefix (counted in /metrics) with the same answer
 *    as a fresh session; an unrelated prompt takes another free slot, so the cached prefix survives.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate, renderChat, type ChatMessage, type GenerateChunk, type GenerateResult } from '../../src/infer/generate.js';
import { Batcher } from '../../src/server/batcher.js';
import { InferenceSession } from '../../src/infer/session.js';
import { BitnetServer, type ServerOptions } from '../../src/server/server.js';
import { tinyModel, tok } from './fixture.js';

const ID = 'tiny';
const greedy = tinyModel(512);
const flat = tinyModel(512, 1); // flat distribution: sampling differs from greedy

async function start(o: Partial<ServerOptions> & Pick<ServerOptions, 'model'>): Promise<{ server: BitnetServer; url: string }> {
  const server = new BitnetServer({ tokenizer: tok, modelId: ID, ...o });
  return { server, url: (await server.listen(0)).url };
}

const post = (url: string, path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

const metrics = async (url: string) => (await (await fetch(`${url}/metrics`)).json()) as ReturnType<BitnetServer['metrics']>;

/** The text of a completion answer, streamed (SSE) or buffered. */
async function completionText(r: Response, stream: boolean): Promise<string> {
  assert.equal(r.status, 200);
  if (!stream) return ((await r.json()) as any).choices[0].text;
  const ev = (await r.text()).split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(ev.at(-1), '[DONE]');
  return ev.slice(0, -1).map((e) => JSON.parse(e).choices[0]?.text ?? '').join('');
}

describe('server: continuous batching', () => {
  test('four concurrent requests share batch steps; each answer = the engine alone', async () => {
    const { server, url } = await start({ model: flat, slots: 4, maxQueue: 4 });
    try {
      const reqs = [
        { prompt: 'The State of the Union', max_tokens: 40, temperature: 0, stream: true },
        { prompt: 'abc', max_tokens: 33, temperature: 1, top_p: 0.9, seed: 7, stream: false },
        { prompt: 'Once upon a time there was', max_tokens: 25, temperature: 0.8, seed: 1234, stream: true },
        { prompt: 'x', max_tokens: 45, temperature: 1, seed: 99, stream: false },
      ];
      const want = await Promise.all(reqs.map((q) => generate(new InferenceSession(flat, { ctx: 512 }), tok, q.prompt, {
        maxTokens: q.max_tokens, temperature: q.temperature, topP: q.top_p ?? 1, topK: 0, minP: 0, repetitionPenalty: 1, seed: q.seed ?? 0,
      })));
      const got = await Promise.all(reqs.map(async (q) => completionText(await post(url, '/v1/completions', { model: ID, ...q }), q.stream)));
      got.forEach((t, i) => assert.equal(t, want[i]!.text, `request ${i}`));
      assert.notEqual(want[1]!.text, want[3]!.text);
      const m = await metrics(url);
      const tokens = reqs.reduce((a, q) => a + q.max_tokens, 0);
      assert.equal(m.completion_tokens_total, tokens);
      assert.ok(m.batch_occupancy > 1.5, `occupancy ${m.batch_occupancy}`);
      assert.ok(m.batch_steps_total < tokens * 0.6, `${m.batch_steps_total} steps for ${tokens} tokens`);
      assert.equal(m.prefill_tokens_total, reqs.reduce((a, q) => a + 1 + q.prompt.length, 0));
    } finally {
      await server.close(0);
    }
  });

  test('Batcher, a context shorter than the prompt chunk: prompts joining in one tick share the budget the batch allows', async () => {
    const b = new Batcher(greedy, tok, { slots: 3, ctx: 40, kv: 'f16' });
    const prompts = ['The State of the Union is strong', 'Once upon a time in a land', 'abcdefghijklmnopqrstuvwxyz'];
    const ids = prompts.map((p) => [tok.bosId, ...tok.encode(p)]);
    const want = await Promise.all(prompts.map((p) => generate(new InferenceSession(greedy, { ctx: 40 }), tok, p, { maxTokens: 6, temperature: 0 })));
    const run = async (it: AsyncGenerator<GenerateChunk, GenerateResult>) => {
      let text = '';
      for (;;) {
        const r = await it.next();
        if (r.done) return { text, result: r.value };
        text += r.value.text;
      }
    };
    // All three start before the loop's second tick: the second and third prompts (27 + 27 tokens) join together.
    const got = await Promise.all(ids.map((x, i) => run(b.generate(i, x, { maxTokens: 6, temperature: 0 }))));
    got.forEach((g, i) => {
      assert.equal(g.text, want[i]!.text, `stream ${i}`);
      assert.equal(g.result.text, want[i]!.text);
      assert.equal(g.result.finishReason, 'length');
    });
    assert.equal(b.stats.prefillTokens, ids.reduce((a, x) => a + x.length, 0));
    assert.equal(b.active, 0);
  });

  test('a disconnecting client leaves the batch; the others finish exactly; stop strings per stream', async () => {
    const { server, url } = await start({ model: greedy, slots: 3 });
    try {
      const want = await generate(new InferenceSession(greedy, { ctx: 512 }), tok, 'The State of', { maxTokens: 60, temperature: 0 });
      assert.ok(want.text.length > 12, JSON.stringify(want.text));
      const stop = want.text.slice(10, 12);
      const ac = new AbortController();
      const long = await post(url, '/v1/completions', { model: ID, prompt: 'Once', max_tokens: 400, temperature: 0, stream: true }, ac.signal);
      const reader = long.body!.getReader();
      assert.ok(!(await reader.read()).done);
      const a = post(url, '/v1/completions', { model: ID, prompt: 'The State of', max_tokens: 60, temperature: 0, stream: true });
      const b = post(url, '/v1/completions', { model: ID, prompt: 'The State of', max_tokens: 60, temperature: 0, stop });
      ac.abort();
      assert.equal(await completionText(await a, true), want.text);
      assert.equal(await completionText(await b, false), want.text.slice(0, want.text.indexOf(stop)));
      const m = await metrics(url);
      assert.equal(m.cancelled_total, 1);
      assert.ok(m.completion_tokens_total < 400 + 120, `${m.completion_tokens_total}`);
      assert.equal(m.slots_busy, 0);
    } finally {
      await server.close(0);
    }
  });

  test('prefix cache: the next chat turn reuses the cached conversation; an unrelated prompt takes another slot', async () => {
    const { server, url } = await start({ model: greedy, slots: 2 });
    try {
      const sys = { role: 'system' as const, content: 'You are a helpful assistant who answers in short sentences.' };
      const turn1: ChatMessage[] = [sys, { role: 'user', content: 'Hello there' }];
      const chat = async (messages: ChatMessage[]) => ((await (await post(url, '/v1/chat/completions', { model: ID, messages, max_tokens: 12, temperature: 0 })).json()) as any);
      const a1 = await chat(turn1);
      let m = await metrics(url);
      assert.equal(m.prefix_cache_hits_total, 0);
      // Unrelated prompt: goes to the other (empty) slot, so turn 1 stays cached.
      const other = await post(url, '/v1/completions', { model: ID, prompt: 'zzz', max_tokens: 5, temperature: 0 });
      assert.equal(other.status, 200);
      await other.json();
      m = await metrics(url);
      assert.equal(m.prefix_cache_hits_total, 0);
      const turn2: ChatMessage[] = [...turn1, { role: 'assistant', content: a1.choices[0].message.content }, { role: 'user', content: 'And again?' }];
      const a2 = await chat(turn2);
      m = await metrics(url);
      assert.equal(m.prefix_cache_hits_total, 1);
      const p1 = a1.usage.prompt_tokens;
      assert.ok(m.prefix_cache_tokens_total >= p1, `reused ${m.prefix_cache_tokens_total} of turn 1's ${p1} prompt tokens`);
      assert.equal(m.prefill_tokens_total, p1 + 1 + 'zzz'.length + a2.usage.prompt_tokens - m.prefix_cache_tokens_total);
      const c = renderChat(turn2, 'bitnet', tok);
      const want = await generate(new InferenceSession(greedy, { ctx: 512 }), tok, c.prompt, { maxTokens: 12, temperature: 0, addBos: c.addBos, stop: c.stop, stopIds: c.stopIds });
      assert.equal(a2.choices[0].message.content, want.text);
    } finally {
      await server.close(0);
    }
  });
});
