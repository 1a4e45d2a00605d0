/**
 * Speculative decoding (src/infer/speculative.ts):
 *  - greedy output with prompt-lookup and draft-model guesses equals plain greedy decoding: the golden
 *    fixture (its output falls into a cycle: many guesses accepted), a prompt that repeats its input,
 *    and a prompt whose first tokens have no n-gram match (nothing is proposed), on the reference and
 *    WASM backends;
 *  - the acceptance rule: over many seeded trials the first token (kept draft or resample) follows p,
 *    for point-mass guesses and for guesses drawn from a draft distribution q (chi-square bound), and a
 *    wrong rule fails the same bound;
 *  - a verify step's rows equal decoding the tokens one by one, and after a rejected draft the cache
 *    rolled back by `truncate` gives a cold session's logits;
 *  - the draft policy backs off when drafts keep failing; bad options are typed errors.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ArgumentError } from '../../src/errors.js';
import { createBackend, refBackend, type Backend } from '../../src/kernels/backend.js';
import { PackedModel } from '../../src/infer/packed_model.js';
import { InferenceSession } from '../../src/infer/session.js';
import { generate, type GenerateOptions } from '../../src/infer/generate.js';
import { acceptDraft, checkDraftVocab, DraftPolicy, drawFrom, lookupDraft } from '../../src/infer/speculative.js';
import { sourceFromTransformer } from '../../src/weights/source.js';
import { byteTokenizer } from '../../src/tokenizer/bpe.js';
import { Rng } from '../../src/tensor/rng.js';
import { goldenDecodeModel, type GoldenDecode } from '../../scripts/make_fixtures.js';
import { assertBitIdentical } from '../helpers/check.js';

const g = JSON.parse(readFileSync(new URL('../../../test/fixtures/golden_decode.json', import.meta.url), 'utf8')) as GoldenDecode;
// 256 byte tokens + BOS 256 / EOS 257: the 256-token golden model never produces EOS.
const tok = byteTokenizer();

function models(be: Backend): { target: PackedModel; other: PackedModel } {
  return {
    target: PackedModel.load(be, sourceFromTransformer(goldenDecodeModel(g.seed)), { head: 'f32' }),
    other: PackedModel.load(be, sourceFromTransformer(goldenDecodeModel(g.seed + 1)), { head: 'f32' }),
  };
}

async function run(pm: PackedModel, prompt: number[], n: number, opts: GenerateOptions) {
  const s = new InferenceSession(pm, { ctx: 64, verifyRows: 6 });
  return generate(s, tok, prompt, { maxTokens: n, temperature: 0, ...opts });
}

async function greedyChecks(be: Backend, where: string): Promise<void> {
  const { target, other } = models(be);
  const draftOf = (pm: PackedModel) => new InferenceSession(pm, { ctx: 64 });
  const modes: Array<[string, GenerateOptions['speculative']]> = [
    ['lookup', { mode: 'lookup', k: 5, ngram: 3 }],
    ['lookup k 2, 1-grams', { mode: 'lookup', k: 2, ngram: 1 }],
    ['draft = the target', { mode: 'draft', k: 5, draft: draftOf(target) }],
    ['draft = another model', { mode: 'draft', k: 3, draft: draftOf(other) }],
  ];
  // The golden prompt: output tokens 3 … 24 come back from token 25 on, which prompt lookup then predicts.
  for (const [name, spec] of modes) {
    const r = await run(target, g.prompt, g.tokens.length, { speculative: spec });
    assert.deepEqual(r.tokens, g.tokens, `${where}, ${name}: speculative greedy = the golden greedy decode`);
    assert.ok(r.draft !== undefined && r.draft.proposed > 0, `${where}, ${name}: something was proposed`);
    if (name !== 'draft = another model') assert.ok(r.draft.accepted >= 8, `${where}, ${name}: the repeat of the cycle is accepted (${r.draft.accepted} of ${r.draft.proposed})`);
    if (name === 'draft = the target') assert.equal(r.draft.accepted, r.draft.proposed, `${where}: a draft equal to the target is always right`);
  }
  // A prompt that repeats its input: the prompt holds the golden output twice, the continuation is checked against plain greedy.
  const rep = [...g.prompt, ...g.tokens.slice(0, 20), 1, ...g.tokens.slice(0, 20)];
  const plain = await run(target, rep, 16, {});
  for (const [name, spec] of modes) {
    const r = await run(target, rep, 16, { speculative: spec });
    assert.deepEqual(r.tokens, plain.tokens, `${where}, ${name}, repeating prompt: speculative greedy = plain greedy`);
  }
  // No n-gram match: the first 14 golden tokens are distinct and absent from the prompt.
  const none = await run(target, g.prompt, 14, { speculative: { mode: 'lookup', k: 4, ngram: 3 } });
  assert.deepEqual(none.tokens, g.tokens.slice(0, 14), `${where}: no-match prompt`);
  assert.equal(none.draft!.proposed, 0, `${where}: nothing to propose without a match`);
}

describe('speculative decoding', () => {
  test('greedy output equals plain greedy decoding (golden fixture, repeating prompt, no matches): lookup and draft model, reference backend', async () => {
    await greedyChecks(refBackend(), 'ref');
  });

  test('the same on WASM, 1 and 2 threads', async () => {
    for (const threads of [1, 2]) {
      const be = await createBackend({ backend: 'wasm', threads });
      try {
        await greedyChecks(be, `wasm ${threads} thread(s)`);
      } finally {
        await be.dispose();
      }
    }
  });

  test('seeded sampling with speculation is reproducible and stays in the vocabulary', async () => {
    const { target } = models(refBackend());
    const o: GenerateOptions = { temperature: 0.9, topK: 20, seed: 7, speculative: { mode: 'lookup', k: 4, ngram: 2 } };
    const a = await run(target, g.prompt, 30, o), b = await run(target, g.prompt, 30, o);
    assert.deepEqual(a.tokens, b.tokens);
    assert.equal(a.tokens.length, 30);
  });

  /** Chi-square statistic of counts against probabilities p over N draws (cells with p = 0 must be empty). */
  function chi2(counts: number[], p: number[], N: number): number {
    let x = 0;
    for (let i = 0; i < p.length; i++) {
      if (p[i] === 0) {
        if (counts[i]! > 0) return Infinity;
        continue;
      }
      x += (counts[i]! - N * p[i]!) ** 2 / (N * p[i]!);
    }
    return x;
  }
  // df ≤ 5: the 0.999 quantile of χ²(5) is 20.5.
  const BOUND = 20.5;
  const N = 20000;

  test('acceptance rule: the first token follows p, for point-mass guesses (prompt lookup)', () => {
    const pArr = [0.4, 0.25, 0.2, 0.1, 0.05, 0];
    const p = Float64Array.from(pArr);
    for (const x of [0, 3, 5]) {
      const rng = new Rng(11 + x);
      const counts = new Array<number>(p.length).fill(0);
      let kept = 0;
      for (let t = 0; t < N; t++) {
        const r = acceptDraft(p, x, undefined, () => rng.uniform());
        counts[r.token]!++;
        if (r.accepted) kept++;
      }
      assert.ok(chi2(counts, pArr, N) < BOUND, `guess ${x}: χ² ${chi2(counts, pArr, N).toFixed(1)}, counts ${counts}`);
      assert.ok(Math.abs(kept / N - pArr[x]!) < 0.02, `guess ${x} kept with probability p(x): ${kept / N}`);
    }
  });

  test('acceptance rule: the first token follows p for guesses drawn from a draft distribution q; a wrong rule fails the bound', () => {
    const pArr = [0.4, 0.25, 0.2, 0.1, 0.05, 0];
    const p = Float64Array.from(pArr);
    for (const qArr of [[0.1, 0.5, 0.1, 0.2, 0.05, 0.05], [0.4, 0.25, 0.2, 0.1, 0.05, 0], [0, 0, 0, 0.5, 0.5, 0]]) {
      const q = Float64Array.from(qArr);
      const rng = new Rng(5);
      const counts = new Array<number>(p.length).fill(0);
      const wrong = new Array<number>(p.length).fill(0);
      for (let t = 0; t < N; t++) {
        const x = drawFrom(q, rng.uniform());
        counts[acceptDraft(p, x, q, () => rng.uniform()).token]!++;
        // Wrong: on rejection draw from p itself instead of the residual max(0, p − q).
        const y = drawFrom(q, rng.uniform());
        wrong[rng.uniform() < p[y]! / q[y]! ? y : drawFrom(p, rng.uniform())]!++;
      }
      assert.ok(chi2(counts, pArr, N) < BOUND, `q ${qArr}: χ² ${chi2(counts, pArr, N).toFixed(1)}, counts ${counts}`);
      if (qArr[0] !== 0.4) assert.ok(chi2(wrong, pArr, N) > 5 * BOUND, `q ${qArr}: the wrong rule is detected (χ² ${chi2(wrong, pArr, N).toFixed(1)})`);
    }
  });

  test('a verify step equals decoding one by one; a rejected draft rolled back gives a cold session\'s logits', async () => {
    for (const be of [refBackend(), await createBackend({ backend: 'wasm', threads: 1 })]) {
      try {
        const { target } = models(be);
        const V = target.config.vocabSize;
        const prompt = g.prompt, last = g.tokens[0]!;
        const draft = [200, 201, 202, 203];
        const spec = new InferenceSession(target, { ctx: 64, verifyRows: 5 });
        spec.prefill(prompt);
        const P = spec.pos;
        const rows = spec.verify([last, ...draft]).slice();
        const seq = new InferenceSession(target, { ctx: 64 });
        seq.prefill(prompt);
        for (let i = 0; i < 5; i++) assertBitIdentical(rows.subarray(i * V, (i + 1) * V), seq.decode([last, ...draft][i]!), `${be.name}: verify row ${i} = decode`);
        // Reject after one kept guess: keep [last, 200], continue with 7.
        spec.truncate(P + 2);
        const after = spec.decode(7).slice();
        const cold = new InferenceSession(target, { ctx: 64 });
        cold.prefill(prompt);
        cold.decode(last);
        cold.decode(200);
        assertBitIdentical(after, cold.decode(7), `${be.name}: rolled back = cold`);
        assert.equal(spec.pos, cold.pos);
      } finally {
        await be.dispose();
      }
    }
  });

  test('prompt lookup proposes what followed the most recent match of the longest n-gram', () => {
    assert.deepEqual(lookupDraft([1, 2, 3, 4, 5, 9, 1, 2, 3], 3, 2), [4, 5]);
    assert.deepEqual(lookupDraft([1, 2, 3, 4, 5, 9, 1, 2, 3], 3, 10), [4, 5, 9, 1, 2, 3]);
    // 3-gram [7, 2, 3] absent; 2-gram [2, 3] most recently followed by 8.
    assert.deepEqual(lookupDraft([2, 3, 4, 2, 3, 8, 7, 2, 3], 3, 1), [8]);
    assert.deepEqual(lookupDraft([1, 2, 3], 3, 4), []);
    assert.deepEqual(lookupDraft([5], 3, 4), []);
  });

  test('draft policy: failing drafts back off to rare probes; always-right guesses reach kMax; costly rows need better odds', () => {
    const pol = new DraftPolicy(4, 0.5);
    let drafted = 0;
    for (let step = 0; step < 1000; step++) {
      const k = pol.next();
      if (k > 0) {
        drafted++;
        pol.update(k, 0);
      }
    }
    assert.ok(drafted <= 25, `drafted ${drafted} times in 1000 failing steps`);
    const ok = new DraftPolicy(6, 0.1);
    for (let i = 0; i < 10; i++) {
      const k = ok.next();
      ok.update(k, k);
    }
    assert.equal(ok.next(), 6, 'always-right guesses reach kMax');
    // At α ≈ 0.6, one-row steps that cost as much as a verify row make drafting pointless.
    const flat = new DraftPolicy(6, 1);
    for (let i = 0; i < 20; i++) flat.update(5, 3);
    assert.equal(flat.best(), 0);
    const cheap = new DraftPolicy(6, 0.05);
    for (let i = 0; i < 20; i++) cheap.update(5, 3);
    assert.ok(cheap.best() >= 2);
  });

  test('bad speculative options and a foreign draft vocabulary are typed errors', async () => {
    const { target } = models(refBackend());
    await assert.rejects(run(target, g.prompt, 4, { speculative: { mode: 'lookup', k: 0 } }), ArgumentError);
    await assert.rejects(run(target, g.prompt, 4, { speculative: { mode: 'lookup', ngram: 99 } }), ArgumentError);
    await assert.rejects(run(target, g.prompt, 4, { speculative: { mode: 'draft' } }), ArgumentError);
    await assert.rejects(generate(new InferenceSession(target, { ctx: 64 }), tok, g.prompt, { speculative: { mode: 'lookup' } }), ArgumentError, 'a session without verify rows');
    assert.throws(() => checkDraftVocab(tok, 258, byteTokenizer(['<|begin_of_text|>', '<|eot|>']), 258), ArgumentError);
    assert.throws(() => checkDraftVocab(tok, 258, tok, 300), ArgumentError);
    checkDraftVocab(tok, 258, byteTokenizer(), 258);
  });
});
