/**
 * Speculative decoding in the server (prompt lookup verified inside the batch step, src/server/batcher.ts):
 *  - concurrent greedy requests with and without speculation answer exactly what plain greedy decoding
 *    gives alone; seeded sampled requests answer what generate() with the same speculation gives;
 *    /metrics counts proposed and accepted draft tokens;
 *  - a client that disconnects mid-speculation frees its slot for the next request;
 *  - a draft model: greedy = plain greedy, seeded sampling = generate() with the same draft model;
 *  - a malformed `speculative` field (or 'draft' on a server without a draft model) is a 400; a short prompt does not wait behind a long prefill.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generate } from '../../src/infer/generate.js';
import { InferenceSession } from '../../src/infer/session.js';
import { Batcher } from '../../src/server/batcher.js';
import { BitnetServer, type ServerOptions } from '../../src/server/server.js';
import { tinyModel, tinySource, tok } from './fixture.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { refBackend } from '../../src/kernels/backend.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';

const ID = 'tiny';
const greedy = tinyModel(512);
const flat = tinyModel(512, 1);

async function start(o: Partial<ServerOptions> & Pick<ServerOptions, 'model'>): Promise<{ server: BitnetServer; url: string }> {
  const server = new BitnetServer({ tokenizer: tok, modelId: ID, ...o });
  return { server, url: (await server.listen(0)).url };
}
const post = (url: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ model: ID, ...(body as object) }), ...(signal ? { signal } : {}) });
const metrics = async (url: string) => (await (await fetch(`${url}/metrics`)).json()) as ReturnType<BitnetServer['metrics']>;

describe('server: speculative decoding', () => {
  test('greedy answers with prompt lookup = plain greedy alone; seeded sampling = generate() with the same speculation; /metrics counts drafts', async () => {
    const { server, url } = await start({ model: greedy, slots: 3, specK: 4 });
    try {
      const reqs = [
        { prompt: 'The State of the Union', max_tokens: 60, temperature: 0, speculative: 'lookup' },
        { prompt: 'abc abc abc abc', max_tokens: 50, temperature: 0, speculative: { mode: 'lookup', k: 3, ngram: 2 } },
        { prompt: 'Once upon a time', max_tokens: 40, temperature: 0 },
      ];
      const want = await Promise.all(reqs.map((q) => generate(new InferenceSession(greedy, { ctx: 512 }), tok, q.prompt, { maxTokens: q.max_tokens, temperature: 0 })));
      const got = await Promise.all(reqs.map(async (q) => ((await (await post(url, q)).json()) as any).choices[0].text as string));
      got.forEach((t, i) => assert.equal(t, want[i]!.text, `request ${i}`));
      const m = await metrics(url);
      assert.ok(m.draft_tokens_proposed_total > 0 && m.draft_tokens_accepted_total > 0, JSON.stringify(m));
      assert.ok(m.draft_tokens_accepted_total <= m.draft_tokens_proposed_total);
      assert.equal(m.draft_acceptance, m.draft_tokens_accepted_total / m.draft_tokens_proposed_total);
    } finally {
      await server.close();
    }
    const s2 = await start({ model: flat, slots: 2, speculative: { mode: 'lookup', k: 4, ngram: 1 } });
    try {
      const q = { prompt: 'aaaa', max_tokens: 40, temperature: 0.7, seed: 3 };
      const want = await generate(new InferenceSession(flat, { ctx: 512, verifyRows: 5 }), tok, q.prompt, {
        maxTokens: 40, temperature: 0.7, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, seed: 3, speculative: { mode: 'lookup', k: 4, ngram: 1 },
      });
      assert.ok(want.draft!.proposed > 0);
      const [a, b] = await Promise.all([post(s2.url, q), post(s2.url, q)]);
      for (const r of [a, b]) assert.equal(((await r.json()) as any).choices[0].text, want.text);
    } finally {
      await s2.server.close();
    }
  });

  test('a draft model: greedy answers = plain greedy; seeded sampling = generate() with the same draft model; a request may pick it or lookup', async () => {
    const draft = PackedModel.load(refBackend(), tinySource(512, 9, 40), { head: 'f32' });
    const { server, url } = await start({ model: greedy, slots: 2, specK: 4, draft: { model: draft, tokenizer: tok }, speculative: { mode: 'draft', k: 3 } });
    try {
      const reqs = [
        { prompt: 'The State of the Union', max_tokens: 40, temperature: 0 },
        { prompt: 'abc abc abc abc', max_tokens: 30, temperature: 0, speculative: 'lookup' },
      ];
      const want = await Promise.all(reqs.map((q) => generate(new InferenceSession(greedy, { ctx: 512 }), tok, q.prompt, { maxTokens: q.max_tokens, temperature: 0 })));
      const got = await Promise.all(reqs.map(async (q) => ((await (await post(url, q)).json()) as any).choices[0].text as string));
      got.forEach((t, i) => assert.equal(t, want[i]!.text, `request ${i}`));
      assert.ok((await metrics(url)).draft_tokens_proposed_total > 0);
      const q = { prompt: 'Once upon', max_tokens: 24, temperature: 0.8, seed: 11 };
      const sampled = await generate(new InferenceSession(greedy, { ctx: 512, verifyRows: 4 }), tok, q.prompt, {
        maxTokens: 24, temperature: 0.8, topP: 1, topK: 0, minP: 0, repetitionPenalty: 1, seed: 11, speculative: { mode: 'draft', k: 3, draft: new InferenceSession(draft, { ctx: 512 }) },
      });
      assert.ok(sampled.draft!.proposed > 0);
      assert.equal(((await (await post(url, q)).json()) as any).choices[0].text, sampled.text);
    } finally {
      await server.close();
    }
    // a draft model with another tokenizer is refused when the server starts
    const other = byteTokenizer(['<|begin_of_text|>', '<|end_of_text|>', '<|x|>']);
    const d2 = PackedModel.load(refBackend(), tinySource(512, 9, 40), { head: 'f32' });
    assert.throws(() => new BitnetServer({ model: greedy, tokenizer: tok, modelId: ID, draft: { model: d2, tokenizer: other } }), /draft model: token \d+ is "<\|x\|>"/);
  });

  test('a client that disconnects mid-speculation frees its slot', async () => {
    const { server, url } = await start({ model: greedy, slots: 1, maxQueue: 2 });
    try {
      const ac = new AbortController();
      const r = await post(url, { prompt: 'abc abc abc', max_tokens: 400, temperature: 0, stream: true, speculative: 'lookup' }, ac.signal);
      const reader = r.body!.getReader();
      for (let i = 0; i < 5; i++) await reader.read();
      for (let i = 0; i < 200 && (await metrics(url)).draft_verify_steps_total === 0; i++) await reader.read();
      assert.ok((await metrics(url)).draft_verify_steps_total > 0, 'speculation ran before the disconnect');
      ac.abort();
      await reader.read().catch(() => {});
      const next = await post(url, { prompt: 'xyz', max_tokens: 5, temperature: 0, speculative: 'lookup' });
      assert.equal(next.status, 200);
      await next.json();
      const m = await metrics(url);
      assert.equal(m.cancelled_total, 1);
      assert.equal(m.slots_busy, 0);
    } finally {
      await server.close();
    }
  });

  test('a malformed speculative field is a 400; a k beyond the server\'s is a 400', async () => {
    const { server, url } = await start({ model: greedy, slots: 1, specK: 2 });
    try {
      for (const speculative of ['draft', { mode: 'lookup', k: 0 }, { mode: 'lookup', k: 1.5 }, { mode: 'on' }, { mode: 'lookup', extra: 1 }, 3, { k: 3 }]) {
        const r = await post(url, { prompt: 'a', max_tokens: 2, speculative });
        assert.equal(r.status, 400, JSON.stringify(speculative));
        assert.equal(((await r.json()) as any).error.param, 'speculative');
      }
    } finally {
      await server.close();
    }
  });

  test('scheduler: a short prompt that arrives during a long prefill gets its first token first', async () => {
    const b = new Batcher(greedy, tok, { slots: 2, ctx: 512, kv: 'f16', chunk: 16 });
    const long = Array.from({ length: 300 }, (_, i) => 32 + (i % 90));
    const order: string[] = [];
    const first = async (slot: number, ids: number[], name: string) => {
      const it = b.generate(slot, ids, { maxTokens: 2, temperature: 0 });
      let seen = false;
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        if (!seen) order.push(name);
        seen = true;
      }
    };
    const a = first(0, long, 'long');
    await new Promise((r) => setImmediate(r));
    const s = first(1, [256, 72, 105], 'short');
    await Promise.all([a, s]);
    assert.deepEqual(order, ['short', 'long']);
  });
});
